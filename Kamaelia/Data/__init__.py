"""Kamaelia.Data: the older home of Kamaelia's data helpers, kept so old imports work.

``Kamaelia.Data.MimeDict`` re-exports ``Kamaelia.Support.Data.MimeDict``;
new code should import from ``Kamaelia.Support.Data``.
"""
