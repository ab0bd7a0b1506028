"""Kamaelia.Protocol: protocol handler components."""
