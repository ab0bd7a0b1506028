"""Kamaelia.File: components that read and write files."""
