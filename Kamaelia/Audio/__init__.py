"""Kamaelia.Audio: components that handle raw audio data."""
