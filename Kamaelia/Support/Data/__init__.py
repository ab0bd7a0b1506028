"""Kamaelia.Support.Data: pure data helpers (escaping, rationals, MIME dictionaries and objects, request lines)."""
