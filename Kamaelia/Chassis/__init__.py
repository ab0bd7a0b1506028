"""Kamaelia.Chassis: components that wire other components together."""
