"""
Kamaelia.Apps.Grey.Capabilities: what the proxy offers a client, given what the real server offers
===================================================================================================

The SMTP extensions the proxy announces in its EHLO reply, worked out from
those the real server announced to it, and a ``CapabilityCache`` that
remembers, per real server, what it offered last time, so a client's EHLO
can be answered well even while that server cannot be reached. Pure: no
Axon, no sockets, no clock.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.Capabilities import (CapabilityCache, offered_extensions,
    ...                                               size_limit)
    >>> server = {"SIZE": ("5000",), "8BITMIME": (), "CHUNKING": ()}
    >>> offered = offered_extensions(server, max_message_size=10000, tls_available=False)
    >>> offered
    ['PIPELINING', 'SIZE 5000', '8BITMIME', 'ENHANCEDSTATUSCODES']
    >>> size_limit(offered, 10000)
    5000
    >>> cache = CapabilityCache()
    >>> cache.remember(("127.0.0.1", 25), server)
    >>> cache.recall(("127.0.0.1", 25)) == server, cache.recall(("127.0.0.1", 26))
    (True, {})
    >>> cache.first_xclient_refusal(("127.0.0.1", 25)), cache.first_xclient_refusal(("127.0.0.1", 25))
    (True, False)

How does it work?
-----------------
``offered_extensions(capabilities, max_message_size, tls_available)`` takes
the real server's extensions as ``SMTPReplies.capabilities`` returns them
(keyword -> parameters) and returns the EHLO keywords for the client:

- PIPELINING and ENHANCEDSTATUSCODES always (the proxy implements them
  whatever the server does);
- SIZE: the smaller of ``max_message_size`` and the server's own limit (if
  it states one above zero);
- 8BITMIME, SMTPUTF8 and DSN only if the server offers them (the proxy
  relays the message and its parameters unchanged, so it can promise only
  what the server will honour);
- STARTTLS if ``tls_available``.

Anything else the server offers (CHUNKING, AUTH, XCLIENT ...) is not
passed on. ``size_limit(offered, default)`` reads the SIZE back.

A ``CapabilityCache`` belongs to the proxy, not to one conversation (the
handler class holds one that all its conversations share): ``remember``
after each successful EHLO, ``recall`` when the server is down (or not
connected yet), ``knows`` whether it has been reached at all.
``first_xclient_refusal(server)`` is true the first time it is asked about
a server, so a misconfiguration (the server offers XCLIENT but refuses it
from us) is warned about once, not once per connection.
"""

from __future__ import annotations

from typing import Dict, Hashable, List, Sequence, Set, Tuple

__all__ = ["CapabilityCache", "offered_extensions", "size_limit", "PASSED_ON"]

Capabilities = Dict[str, Tuple[str, ...]]

# Extensions offered to the client only if the real server offers them.
PASSED_ON = ("8BITMIME", "SMTPUTF8", "DSN")


def offered_extensions(capabilities: Capabilities, max_message_size: int,
                       tls_available: bool) -> List[str]:
    """The EHLO keywords to offer the client (see the module documentation)."""
    size = max_message_size
    server_size = capabilities.get("SIZE", ())
    if server_size and server_size[0].isdigit() and int(server_size[0]) > 0:
        size = min(size, int(server_size[0]))
    offered = ["PIPELINING", "SIZE %d" % size]
    offered.extend(keyword for keyword in PASSED_ON if keyword in capabilities)
    offered.append("ENHANCEDSTATUSCODES")
    if tls_available:
        offered.append("STARTTLS")
    return offered


def size_limit(offered: Sequence[str], default: int) -> int:
    """The SIZE among ``offered`` EHLO keywords, else ``default``."""
    for keyword in offered:
        if keyword.startswith("SIZE "):
            return int(keyword[5:])
    return default


class CapabilityCache(object):
    """What each real server offered at its last successful EHLO. See the module documentation."""

    def __init__(self) -> None:
        self._offered: Dict[Hashable, Capabilities] = {}
        self._xclient_refused: Set[Hashable] = set()

    def remember(self, server: Hashable, capabilities: Capabilities) -> None:
        self._offered[server] = dict(capabilities)

    def recall(self, server: Hashable) -> Capabilities:
        """What ``server`` offered last time (empty if never reached); not to be changed."""
        return self._offered.get(server, {})

    def knows(self, server: Hashable) -> bool:
        """True once ``server`` has been reached (its offer is remembered)."""
        return server in self._offered

    def first_xclient_refusal(self, server: Hashable) -> bool:
        """Note that ``server`` refused XCLIENT; True the first time."""
        if server in self._xclient_refused:
            return False
        self._xclient_refused.add(server)
        return True
