"""Kamaelia.Apps.Grey: Kamaelia Grey, a greylisting SMTP proxy and Postfix policy server."""

import importlib.metadata


def version():
    """The installed distribution's version (the source tree's if not installed)."""
    try:
        return importlib.metadata.version("Kamaelia")
    except importlib.metadata.PackageNotFoundError:
        return "2.0.0.dev0"
