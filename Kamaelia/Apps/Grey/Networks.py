"""
Kamaelia.Apps.Grey.Networks: matching client addresses against the config
=========================================================================

Parses the address entries of greylist.conf (``allowed_senders``,
``allowed_sender_nets`` and the network field of
``whitelisted_nonstandard_triples``) with the ``ipaddress`` module and
answers "is this client address one of these?".

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Networks import AddressSet, NetworkList

    nets = NetworkList(["10", "192.168.2.", "172.16.0.0/12", "2001:db8::/32"])
    assert "10.9.8.7" in nets and "100.1.2.3" not in nets
    assert "192.168.2.44" in nets and "192.168.20.1" not in nets
    assert "::ffff:172.20.1.1" in nets

    senders = AddressSet(["127.0.0.1", "::1"])
    assert "::ffff:127.0.0.1" in senders
    assert "0:0:0:0:0:0:0:1" in senders

How does it work?
-----------------
``parseNetwork(entry)`` accepts three forms:

- CIDR, IPv4 or IPv6: ``10.0.0.0/8``, ``2001:db8::/32``. Host bits may be
  set (``10.1.2.3/8`` means ``10.0.0.0/8``), as postgrey allows;
- a single address, IPv4 or IPv6 (``192.0.2.1``, ``2001:db8::1``), which
  matches only itself;
- Kamaelia Grey's original IPv4 prefixes, now matched on whole octets: one
  to three dotted decimal octets, optionally with a trailing dot, so ``10``
  means ``10.0.0.0/8`` and ``192.168.2`` or ``192.168.2.`` mean
  ``192.168.2.0/24``. The original compared strings, so ``10`` also
  matched ``100.1.2.3`` and ``192.168.2`` matched ``192.168.20.1``; here
  they do not.

Anything else (an empty entry, an octet over 255 or with a leading zero, a
host name, an IPv6 prefix without a length) raises ``ValueError`` saying
what was wrong and which forms are accepted.

Client addresses are normalised before any comparison (``normaliseAddress``):
IPv6 addresses compare by value whatever their spelling, brackets are
removed, and an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``, which a dual
stack listener reports for IPv4 clients) is the IPv4 address it carries.
A client address that cannot be parsed is simply not in any list.

Configuration
-------------
``allowed_senders`` entries must be single addresses (``AddressSet``);
``allowed_sender_nets`` entries and the second field of
``whitelisted_nonstandard_triples`` take any of the three network forms
(``NetworkList``, ``addressInNetwork``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, Iterator, Optional, Union

__all__ = [
    "parseNetwork", "parseAddress", "normaliseAddress", "NetworkList",
    "AddressSet", "addressInNetwork", "sameAddress",
]

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

_OCTET_PREFIX = re.compile(r"^(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\.?$")

_FORMS = ("expected CIDR (10.0.0.0/8, 2001:db8::/32), a single address, "
          "or 1-3 leading IPv4 octets (10, 192.168.2)")


def _strip(text: str) -> str:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text


def _unmap(address: Address) -> Address:
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parseAddress(text: str) -> Address:
    """Parse one IP address (IPv4-mapped IPv6 becomes IPv4).

    Raises ``ValueError`` with a readable message for anything else.
    """
    try:
        return _unmap(ipaddress.ip_address(_strip(text)))
    except ValueError:
        raise ValueError("%r is not an IP address" % (text,)) from None


def normaliseAddress(text: str) -> Optional[Address]:
    """The address as an ``ipaddress`` object, or ``None`` if it is not one."""
    try:
        return parseAddress(text)
    except ValueError:
        return None


def parseNetwork(entry: str) -> Network:
    """Parse a network entry (CIDR, single address or octet prefix)."""
    text = _strip(entry)
    if not text:
        raise ValueError("empty network entry; " + _FORMS)
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as error:
            raise ValueError("%r is not a valid network (%s); %s"
                             % (entry, error, _FORMS)) from None
        if network.version == 6 and network.prefixlen >= 96 and \
                network.network_address.ipv4_mapped is not None:
            mapped = network.network_address.ipv4_mapped
            network = ipaddress.ip_network((mapped, network.prefixlen - 96))
        return network
    match = _OCTET_PREFIX.match(text)
    if match:
        octets = [o for o in match.groups() if o is not None]
        for octet in octets:
            if len(octet) > 1 and octet.startswith("0"):
                raise ValueError("%r: octet %r has a leading zero; %s"
                                 % (entry, octet, _FORMS))
            if int(octet) > 255:
                raise ValueError("%r: octet %s is over 255; %s"
                                 % (entry, octet, _FORMS))
        padded = octets + ["0"] * (4 - len(octets))
        return ipaddress.ip_network(("%s.%s.%s.%s" % tuple(padded),
                                     8 * len(octets)))
    try:
        address = parseAddress(text)
    except ValueError:
        raise ValueError("%r is not a network; %s" % (entry, _FORMS)) from None
    return ipaddress.ip_network(address)


def addressInNetwork(ip: str, entry: Union[str, Network]) -> bool:
    """True if client address ``ip`` lies in the network ``entry``."""
    network = parseNetwork(entry) if isinstance(entry, str) else entry
    address = normaliseAddress(ip)
    return (address is not None and address.version == network.version
            and address in network)


def sameAddress(a: str, b: str) -> bool:
    """True if two address strings denote the same IP address."""
    first, second = normaliseAddress(a), normaliseAddress(b)
    return first is not None and first == second


class NetworkList:
    """A list of networks (see ``parseNetwork``) with ``ip in networks``."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks: list[Network] = [parseNetwork(e) for e in entries]

    def __contains__(self, ip: object) -> bool:
        if not isinstance(ip, str):
            return False
        address = normaliseAddress(ip)
        if address is None:
            return False
        return any(address.version == net.version and address in net
                   for net in self.networks)

    def __iter__(self) -> Iterator[Network]:
        return iter(self.networks)

    def __len__(self) -> int:
        return len(self.networks)

    def __repr__(self) -> str:
        return "NetworkList(%r)" % ([str(n) for n in self.networks],)


class AddressSet:
    """A set of single IP addresses compared by value (``ip in addresses``)."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.addresses: frozenset = frozenset(parseAddress(e) for e in entries)

    def __contains__(self, ip: object) -> bool:
        if not isinstance(ip, str):
            return False
        return normaliseAddress(ip) in self.addresses

    def __iter__(self) -> Iterator[Address]:
        return iter(self.addresses)

    def __len__(self) -> int:
        return len(self.addresses)

    def __repr__(self) -> str:
        return "AddressSet(%r)" % (sorted(str(a) for a in self.addresses),)
