"""Kamaelia.Util: general purpose components."""
