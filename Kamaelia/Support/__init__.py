"""Kamaelia.Support: non-component support code."""
