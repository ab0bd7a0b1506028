"""Kamaelia.Apps: applications built from Kamaelia components."""
