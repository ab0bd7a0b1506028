"""Kamaelia.Internet: networking components."""
