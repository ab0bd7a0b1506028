"""Kamaelia.Support.Data: pure data helpers.

Escaping, rationals, MIME dictionaries and objects, request lines.
"""
