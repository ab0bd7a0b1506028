"""
Kamaelia.Apps.Grey.ClientName: a client's verified host name, found as Postfix finds it
======================================================================================

Before the proxy tells a Postfix backend who the client really is (XCLIENT
``NAME=`` and ``REVERSE_NAME=``), it must work out the client's name the way
Postfix's own smtpd would: a reverse (PTR) lookup of the client address,
then a forward lookup of that name which has to lead back to the same
address. ``lookupClientName`` does both, with dnspython, within a bound on
the total time, and returns a frozen ``ClientName``.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.ClientName import lookupClientName, makeResolver

    resolver = makeResolver(["127.0.0.1"], port=5353, lifetime=5.0)
    client = lookupClientName("192.0.2.7", resolver, lifetime=5.0)
    client.xclientName          # "mail.example.org", "[UNAVAILABLE]" or "[TEMPUNAVAIL]"
    client.xclientReverseName   # the PTR name, verified or not, or a bracketed status
    client.verified             # True when the name was forward-confirmed

The call blocks for up to ``lifetime`` seconds: run it off the scheduler's
thread (``Kamaelia.Apps.Grey.ClientNameService`` does).

How does it work?
-----------------
The address is parsed with ``ipaddress``; an IPv4-mapped IPv6 address
(``::ffff:192.0.2.7``) is treated as the IPv4 address it carries, as the
kernel hands such peers to a dual-stack listener. Then:

1. PTR lookup of the reverse name (``in-addr.arpa`` or ``ip6.arpa``).
   NXDOMAIN or no PTR record: both names ``unknown``, status UNAVAILABLE.
   A failed lookup (timeout, SERVFAIL, no server reachable): both
   TEMPUNAVAIL.
2. Each PTR name that is a valid host name (see below), at most
   ``MAX_PTR_NAMES`` of them in the order the server gave, is looked up
   forward -- A for an IPv4 client, AAAA for IPv6 -- and the addresses are
   compared with the client's by value (``2001:db8::5`` equals
   ``2001:0db8:0:0::5``). The first name that leads back is the verified
   name: status OK.
3. Otherwise ``name`` is ``unknown`` and ``reverseName`` is the first valid
   PTR name (REVERSE_NAME is sent whether or not the name was verified);
   the status is TEMPUNAVAIL if any forward lookup failed temporarily (or
   the time ran out), else UNAVAILABLE -- Postfix's "hostname does not
   resolve to address".

NXDOMAIN and NoAnswer are permanent; Timeout, NoNameservers (which is how
dnspython reports SERVFAIL from every server) and any other DNS or socket
error are temporary. Nothing DNS can do makes it raise.

Host names are checked as Postfix's ``valid_hostname`` does: ASCII letters,
digits, hyphens and underscores (Postfix tolerates ``_``, common in real
PTR records, and so do we), labels of 1 to 63 characters that neither start
nor end with a hyphen, 255 characters in all, and not purely numeric (a PTR
name like ``192.0.2.7`` is refused). A PTR name that fails the check is
ignored; if none passes, the client is UNAVAILABLE with both names
``unknown``, so no odd bytes from the DNS ever reach an XCLIENT command.

Every dnspython call gets the time left of the total ``lifetime``, and the
search list is never used (the names are absolute), so the whole lookup
ends within ``lifetime`` seconds plus scheduling noise.

The hosts file comes first, as it does for Postfix through the system
resolver (glibc's ``files dns``): given a ``HostsFile`` (``loadHostsFile``),
an address listed there has the first valid name of its first line as its
verified name -- the file maps that name back to the address -- and DNS is
not asked. So a LAN client named only in ``/etc/hosts`` is as known to the
proxy as to Postfix.

Configuration
-------------
``makeResolver(nameservers, port, lifetime)`` builds the
``dns.resolver.Resolver``: the given servers, or the system's
``/etc/resolv.conf`` when none are given. A missing or serverless
resolv.conf is logged once and gives a resolver with no servers, whose
lookups answer TEMPUNAVAIL at once -- start-up never fails for it. One
resolver may be shared by many threads: every lookup keeps its state in
dnspython's per-call resolution object, and the resolver has no cache.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.resolver
import dns.reversename

__all__ = [
    "MAX_PTR_NAMES",
    "OK",
    "TEMPORARY",
    "TEMPUNAVAIL",
    "UNAVAILABLE",
    "UNKNOWN",
    "UNKNOWN_CLIENT",
    "ClientName",
    "HostsFile",
    "isValidHostName",
    "loadHostsFile",
    "lookupClientName",
    "makeResolver",
    "parseClientAddress",
]

_log = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
TEMPUNAVAIL = "tempunavail"
STATUSES = (OK, UNAVAILABLE, TEMPUNAVAIL)
UNKNOWN = "unknown"
MAX_PTR_NAMES = 4

_XCLIENT_PLACEHOLDER = {UNAVAILABLE: "[UNAVAILABLE]", TEMPUNAVAIL: "[TEMPUNAVAIL]"}
_HOSTNAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ClientName:
    """What is known of a client's name.

    ``name`` is the verified name or ``"unknown"``; ``reverseName`` the PTR
    name (verified or not) or ``"unknown"``. ``status`` says how ``name``
    was settled, ``reverseStatus`` how ``reverseName`` was; left out,
    ``reverseStatus`` is OK when a reverse name is given and ``status``
    otherwise.
    """

    name: str
    reverseName: str
    status: str
    reverseStatus: str = field(default="")

    def __post_init__(self) -> None:
        if not self.reverseStatus:
            default = OK if self.reverseName != UNKNOWN else (
                self.status if self.status != OK else UNAVAILABLE)
            object.__setattr__(self, "reverseStatus", default)
        for status in (self.status, self.reverseStatus):
            if status not in STATUSES:
                raise ValueError(f"unknown client name status {status!r}")

    @property
    def verified(self) -> bool:
        """True when ``name`` was forward-confirmed."""
        return self.status == OK

    @property
    def xclientName(self) -> str:
        """The value for XCLIENT ``NAME=``."""
        return self.name if self.status == OK else _XCLIENT_PLACEHOLDER[self.status]

    @property
    def xclientReverseName(self) -> str:
        """The value for XCLIENT ``REVERSE_NAME=``."""
        if self.reverseStatus == OK:
            return self.reverseName
        return _XCLIENT_PLACEHOLDER[self.reverseStatus]


UNKNOWN_CLIENT = ClientName(UNKNOWN, UNKNOWN, UNAVAILABLE)
"""No name, for good: no PTR, or lookups switched off."""

TEMPORARY = ClientName(UNKNOWN, UNKNOWN, TEMPUNAVAIL)
"""No name for now: the lookups failed or did not finish in time."""


def isValidHostName(name: str) -> bool:
    """True if ``name`` (no final dot) is a host name Postfix would accept."""
    if not name or len(name) > 255 or not _HOSTNAME_CHARACTERS.issuperset(name):
        return False
    labels = name.split(".")
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
    return not name.replace(".", "").isdigit()


def parseClientAddress(address: str) -> IPAddress | None:
    """The client address as an ``ipaddress`` object (IPv4-mapped -> IPv4), or None."""
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class _Budget:
    """dnspython queries sharing one deadline; each answer is (status, records)."""

    def __init__(self, resolver: dns.resolver.Resolver, lifetime: float,
                 clock: Callable[[], float]) -> None:
        self.resolver = resolver
        self.clock = clock
        self.deadline = clock() + lifetime

    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def query(self, qname: dns.name.Name, rdtype: str) -> tuple[str, Sequence[object]]:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            return TEMPUNAVAIL, ()
        try:
            answer = self.resolver.resolve(qname, rdtype, lifetime=remaining, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
            return UNAVAILABLE, ()
        except (dns.exception.DNSException, OSError) as e:
            _log.debug("%s %s lookup failed: %s: %s", qname, rdtype, type(e).__name__, e)
            return TEMPUNAVAIL, ()
        return OK, list(answer)


def _ptrNames(records: Iterable[object]) -> list[dns.name.Name]:
    names: list[dns.name.Name] = []
    for record in records:
        target = getattr(record, "target", None)
        if isinstance(target, dns.name.Name) and target not in names:
            names.append(target)
    return names


def _addressesOf(records: Iterable[object]) -> set[IPAddress]:
    addresses: set[IPAddress] = set()
    for record in records:
        try:
            addresses.add(ipaddress.ip_address(getattr(record, "address", "")))
        except ValueError:
            continue
    return addresses


class HostsFile:
    """The names of addresses in a hosts file (``/etc/hosts`` format), in file order."""

    def __init__(self, text: str = ""):
        self.names: dict[IPAddress, list[str]] = {}
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 2:
                continue
            ip = parseClientAddress(words[0].split("%", 1)[0])
            if ip is None:
                continue
            known = self.names.setdefault(ip, [])
            known.extend(w for w in words[1:] if isValidHostName(w) and w not in known)

    def nameOf(self, ip: IPAddress) -> str | None:
        """The first name listed for ``ip``, or None."""
        names = self.names.get(ip)
        return names[0] if names else None


def loadHostsFile(path: str = "/etc/hosts") -> HostsFile:
    """The hosts file at ``path`` (an empty table if it cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return HostsFile(handle.read())
    except OSError as e:
        _log.info("no hosts file read (%s): client names come from DNS only", e)
        return HostsFile()


def lookupClientName(address: str, resolver: dns.resolver.Resolver, lifetime: float,
                     clock: Callable[[], float] = time.monotonic,
                     hosts: HostsFile | None = None) -> ClientName:
    """The forward-confirmed name of ``address``, within ``lifetime`` seconds (blocking)."""
    ip = parseClientAddress(address)
    if ip is None:
        _log.debug("%r is not an IP address: no client name", address)
        return UNKNOWN_CLIENT
    listed = hosts.nameOf(ip) if hosts is not None else None
    if listed is not None:
        return ClientName(listed, listed, OK)
    budget = _Budget(resolver, lifetime, clock)
    status, records = budget.query(dns.reversename.from_address(str(ip)), "PTR")
    if status != OK:
        return ClientName(UNKNOWN, UNKNOWN, status)
    candidates = []
    for target in _ptrNames(records):
        text = target.to_text(omit_final_dot=True)
        if isValidHostName(text):
            candidates.append((target, text))
        else:
            _log.info("client %s: ignoring PTR name %r, not a valid host name", ip, text)
    if not candidates:
        return UNKNOWN_CLIENT
    candidates = candidates[:MAX_PTR_NAMES]
    rdtype = "A" if ip.version == 4 else "AAAA"
    temporary = False
    for target, text in candidates:
        status, records = budget.query(target, rdtype)
        if status == OK and ip in _addressesOf(records):
            return ClientName(text, text, OK)
        if status == TEMPUNAVAIL:
            temporary = True
        if budget.expired():
            temporary = True
            break
    if not temporary:
        _log.info("client %s: host name %s does not resolve to that address", ip, candidates[0][1])
    return ClientName(UNKNOWN, candidates[0][1], TEMPUNAVAIL if temporary else UNAVAILABLE, OK)


def makeResolver(nameservers: Sequence[str] | None = None, port: int = 53, lifetime: float = 5.0,
                 resolvConf: str = "/etc/resolv.conf") -> dns.resolver.Resolver:
    """A dnspython resolver for ``lookupClientName`` (see Configuration above).

    Raises ``ValueError`` for a name server that is not an IP address.
    """
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(nameservers)
    else:
        try:
            resolver = dns.resolver.Resolver(filename=resolvConf)
        except (dns.resolver.NoResolverConfiguration, OSError) as e:
            _log.warning("no DNS servers from %s (%s): client names will be [TEMPUNAVAIL]",
                         resolvConf, e)
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = []
    resolver.port = port
    resolver.lifetime = lifetime
    resolver.timeout = min(resolver.timeout, lifetime)
    resolver.cache = None
    return resolver
