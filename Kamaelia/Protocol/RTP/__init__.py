"""Kamaelia.Protocol.RTP: components for the Real-time Transport Protocol (RFC 3550)."""
