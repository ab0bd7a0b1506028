"""
Kamaelia.Apps.Grey.GreylistVerdict: the greylist decision, without I/O
======================================================================

The pure core of Kamaelia Grey's greylisting: given what is remembered
about one (client, sender, recipient) triplet and the current time, decide
whether to let the message through or ask the client to come back later,
and say what to remember from now on. No database, no clock, no sockets:
the caller reads the record, passes ``now`` and stores the new record
(``GreylistStore`` does exactly that, in one transaction).

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA, decide, tripletKey

    key = tripletKey("192.0.2.7", "<alice@example.org>", "<bob@example.net>")
    v = decide(None, now=1000.0, profile=KAMAELIA)
    assert (v.action, v.reason) == ("defer", "new")
    v = decide(v.record, now=1000.0 + 3600, profile=KAMAELIA)
    assert (v.action, v.reason) == ("pass", "passed")

How does it work?
-----------------
A ``Record`` holds two times: ``first_seen``, when the current run of
delivery attempts started, and ``last_pass``, when the triplet last got
through (``None`` if it never has). ``decide()`` follows Kamaelia Grey's
original algorithm step by step, with the four limits of a
``TimingProfile``:

1. The triplet has passed before. If it was last used more than
   ``max_grey`` seconds ago it has expired: it is forgotten and treated as
   new below (reason "expired"). Otherwise it passes and ``last_pass`` is
   set to now, so a triplet in regular use never expires (reason
   "known (refreshed)").
2. Never seen: remember ``first_seen = now`` and defer (reason "new").
3. Seen ``d = now - first_seen`` seconds ago:

   - ``d < too_soon``: a client hammering us; defer and restart the clock
     (``first_seen = now``; reason "too soon, clock reset");
   - ``d < min_defer``: defer, the clock is kept (reason
     "early retry (N s to go)", N being the seconds left until
     ``min_defer``);
   - ``d > max_defer``: the retry came too late to belong to the first
     attempt; defer and restart the clock (reason "too late, restarted");
   - otherwise it passes: ``last_pass = now`` (reason "passed").

The boundaries are exactly the original's: a retry at exactly
``too_soon`` or ``min_defer`` seconds is not penalised, one at exactly
``max_defer`` seconds still passes, and a passed triplet expires only when
more than ``max_grey`` seconds have gone by.

Timing profiles
---------------
``KAMAELIA`` (the default) keeps the original's hard-coded values: 180 s,
3600 s, 25000 s (about 6.9 h) and 3,000,000 s (about 34.7 days).

``POSTGREY`` gives postgrey's defaults on the same state machine:

- ``--delay=300`` becomes ``min_defer=300``;
- postgrey never penalises an early retry, so ``too_soon=0`` (a difference
  can never be below 0 with a sane clock, so the reset never happens);
- ``--retry-window=2`` days becomes ``max_defer=172800``: postgrey, too,
  restarts the wait for a triplet that never passed and whose first attempt
  is older than the window;
- ``--max-age=35`` days becomes ``max_grey=3024000``: postgrey refreshes the
  last-seen time of a passed triplet on every use and drops it after
  max-age without use, as ``max_grey`` does.

postgrey's once-a-day cleanup schedule is not part of this module (expiry
is ``GreylistStore.expire``); its client auto-whitelist is, below.

Auto-whitelisting
-----------------
postgrey stops greylisting a client whose mail has passed greylisting often
enough; sqlgrey does the same for a sender domain seen from one client
network. The rules, with the limits of ``AwlParameters`` (``clients`` = N,
``maxAge``, ``interval`` = one hour), over an ``AwlRecord`` (``count``,
``last_seen``) kept per client network:

- a *count* is made when one of the client's triplets passes greylisting
  (reason "passed", not a known triplet being refreshed), at most one per
  ``interval``: ``countPass(record, now, params)`` returns the record to
  store, or ``None`` when nothing changes;
- the client is whitelisted (``isListed``) once ``count >= N``, until it is
  unseen for more than ``maxAge`` seconds; a stale record counts as none;
- while whitelisted, each message refreshes ``last_seen`` (and counts, for
  the statistics) at most once per ``interval``: ``seenListed``.

A clock that went backwards (a ``last_seen`` in the future) never blocks a
count or a refresh. The per-network sender-domain list (``DomainAwlRecord``,
``countDomainPass``) whitelists a (client network, sender domain) pair once
``DOMAIN_AWL_SENDERS`` (2, sqlgrey's ``group_domain_level``) different
senders of that domain have passed greylisting from the network, with the
same ``maxAge`` and hourly refresh.

``keyDigest(*fields)`` is the SHA-256 (hex) of key fields joined by NUL
characters, which the store keeps instead of the fields themselves when
asked for privacy.

Stores share the rest: ``KeyBuilder`` makes every key a store keeps
(triplet, client network, sender-domain pair, with or without privacy),
``decideMessage`` is a whole message's decision over a store's rows (the
auto-whitelists first, then each triplet, then the counts), and
``hourStart``, ``outcomeCounts``, ``lastDay`` and ``summaryOf`` define the
hourly outcome history and the summary every store reports.

Triplet keys
------------
``tripletKey(ip, sender, recipient, mode)`` turns the envelope into the key
the store uses.

Mode ``"kamaelia"`` (the default) is the original key: the client IP as
given and the MAIL FROM and RCPT TO tokens exactly as received, angle
brackets and case included, so ``<Alice@Example.org>`` and
``<alice@example.org>`` are two triplets.

Mode ``"normalized"`` follows postgrey and sqlgrey, so that senders who
retry from another host of the same network, or whose envelope sender
changes with every message, still match. Each rule, with an example:

- client IPv4 addresses become their /24: ``192.0.2.77`` ->
  ``192.0.2.0/24``; IPv6 addresses their /64: ``2001:db8:1:2:3::9`` ->
  ``2001:db8:1:2::/64``; an IPv4-mapped IPv6 address is treated as the IPv4
  address it carries (``::ffff:192.0.2.77`` -> ``192.0.2.0/24``). A client
  "address" that is not an IP address is kept, lower-cased;
- the recipient loses surrounding spaces and angle brackets and is
  lower-cased: ``<Bob@Example.NET>`` -> ``bob@example.net``;
- the sender loses spaces and angle brackets and is lower-cased the same
  way (the null sender ``<>`` becomes the empty string), then its local
  part (before the last ``@``; the domain is never changed) is rewritten:

  - SRS (sender rewriting by forwarders): the hash and the timestamp,
    which change from day to day, become ``#``:
    ``SRS0=HHH=TT=orig.example=alice@fwd.example`` ->
    ``srs0=#=#=orig.example=alice@fwd.example`` and
    ``SRS1=HHH=fwd1.example==HHH=TT=orig.example=alice@fwd2.example`` ->
    ``srs1=#=fwd1.example==#=#=orig.example=alice@fwd2.example``.
    No further rule applies to an SRS address;
  - BATV (signed bounce addresses): the tag is dropped:
    ``prvs=0123abcdef=alice@example.org`` -> ``alice@example.org``
    (also for the ``msprvs1=`` and ``btv1=`` prefixes);
  - an address extension is dropped:
    ``alice+lists@example.org`` -> ``alice@example.org``;
  - VERP: a recipient embedded in the sender becomes ``#rcpt#``:
    ``bounce-bob=example.net@lists.example.org`` (to ``bob@example.net``)
    -> ``bounce-#rcpt#@lists.example.org``;
  - VERP: every run of digits standing on its own between non-word
    characters (as postgrey's ``\\b\\d+\\b``) becomes ``#``:
    ``bounce-1234-5678@lists.example.org`` -> ``bounce-#-#@lists.example.org``,
    while ``user42@example.org`` stays as it is.

Configuration
-------------
``greylist_profile``, ``greylist_too_soon``, ``greylist_min_defer``,
``greylist_max_defer``, ``greylist_max_grey`` and ``greylist_key`` in
greylist.conf (see ``Kamaelia.Apps.Grey.Config``) select the profile, the
individual limits and the key mode.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple, Optional, Protocol

__all__ = [
    "TimingProfile", "KAMAELIA", "POSTGREY", "PROFILES", "Record", "Verdict",
    "decide", "tripletKey", "normaliseSender", "normaliseRecipient",
    "normaliseClient", "KEY_MODES", "PASS", "DEFER",
    "AwlParameters", "AwlRecord", "DomainAwlRecord", "DOMAIN_AWL_SENDERS",
    "isListed", "seenListed", "countPass", "isDomainListed", "seenDomainListed",
    "countDomainPass",
    "senderDomain", "keyDigest", "MessageVerdict", "CLIENT_AWL", "DOMAIN_AWL",
    "DEFAULT_AWL", "MessageKeys", "KeyBuilder", "storableText", "MAX_KEY_FIELD",
    "MessageAccess", "decideMessage", "wouldDeferMessage",
    "Expired", "OUTCOMES", "DEFERRED", "PASSED", "WHITELISTED", "REFUSED",
    "NEVER_RETRIED", "hourStart", "outcomeCounts", "lastDay", "summaryOf",
]

PASS = "pass"
DEFER = "defer"


@dataclass(frozen=True)
class TimingProfile:
    """The four limits of the greylist state machine, in seconds."""

    too_soon: float
    min_defer: float
    max_defer: float
    max_grey: float

    def __post_init__(self) -> None:
        for name in ("too_soon", "min_defer", "max_defer", "max_grey"):
            if getattr(self, name) < 0:
                raise ValueError("%s must not be negative" % name)
        if not self.too_soon <= self.min_defer <= self.max_defer:
            raise ValueError(
                "need too_soon <= min_defer <= max_defer, got %s, %s, %s"
                % (self.too_soon, self.min_defer, self.max_defer))


KAMAELIA = TimingProfile(too_soon=180, min_defer=3600, max_defer=25000,
                         max_grey=3000000)
POSTGREY = TimingProfile(too_soon=0, min_defer=300, max_defer=2 * 86400,
                         max_grey=35 * 86400)
PROFILES = {"kamaelia": KAMAELIA, "postgrey": POSTGREY}


@dataclass(frozen=True)
class Record:
    """What is remembered about one triplet (times in seconds)."""

    first_seen: Optional[float] = None
    last_pass: Optional[float] = None


@dataclass(frozen=True)
class Verdict:
    """The outcome of one greylist check.

    ``action`` is ``"pass"`` or ``"defer"``; ``reason`` says which rule
    applied; ``record`` is what to remember from now on; ``key`` is the
    triplet key when the verdict came from a store.
    """

    action: str
    reason: str
    record: Record
    key: Optional[tuple] = None

    @property
    def passed(self) -> bool:
        return self.action == PASS

    def withKey(self, key: tuple) -> "Verdict":
        return replace(self, key=key)


def decide(record: Optional[Record], now: float,
           profile: TimingProfile = KAMAELIA) -> Verdict:
    """Decide one delivery attempt of a triplet at time ``now``.

    ``record`` is ``None`` (or an empty ``Record``) for a triplet never
    seen. Returns a ``Verdict`` whose ``record`` replaces the old one.
    """
    first_seen = record.first_seen if record is not None else None
    last_pass = record.last_pass if record is not None else None
    expired = False

    if last_pass is not None:
        if now - last_pass > profile.max_grey:
            first_seen = last_pass = None
            expired = True
        else:
            return Verdict(PASS, "known (refreshed)", Record(first_seen, now))

    if first_seen is None:
        return Verdict(DEFER, "expired" if expired else "new", Record(now, None))

    waited = now - first_seen
    if waited < profile.too_soon:
        return Verdict(DEFER, "too soon, clock reset", Record(now, None))
    if waited < profile.min_defer:
        togo = profile.min_defer - waited
        return Verdict(DEFER, "early retry (%d s to go)" % _ceil(togo),
                       Record(first_seen, None))
    if waited > profile.max_defer:
        return Verdict(DEFER, "too late, restarted", Record(now, None))
    return Verdict(PASS, "passed", Record(first_seen, now))


def _ceil(x: float) -> int:
    whole = int(x)
    return whole + 1 if whole < x else whole


KEY_MODES = ("kamaelia", "normalized")


def tripletKey(ip: str, sender: str, recipient: str,
               mode: str = "kamaelia") -> tuple[str, str, str]:
    """Return the greylist key for an envelope (see the module docstring)."""
    if mode == "kamaelia":
        return (ip, sender, recipient)
    if mode == "normalized":
        rcpt = normaliseRecipient(recipient)
        return (normaliseClient(ip), normaliseSender(sender, rcpt), rcpt)
    raise ValueError("unknown key mode %r (expected one of %s)"
                     % (mode, ", ".join(KEY_MODES)))


_DOTTED_QUAD = re.compile(r"^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})"
                          r"\.(0|[1-9][0-9]{0,2})$")


def normaliseClient(ip: str) -> str:
    """The client's /24 (IPv4) or /64 (IPv6) network, as a string."""
    quad = _DOTTED_QUAD.match(ip)
    if quad is not None and all(int(octet) <= 255 for octet in quad.groups()):
        # The common case, without building ipaddress objects (a policy
        # server decides thousands of these a second).
        return "%s.%s.%s.0/24" % quad.groups()[:3]
    text = ip.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network((address, prefix), strict=False))


def _bare(address: str) -> str:
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text.lower()


def normaliseRecipient(recipient: str) -> str:
    """Strip spaces and angle brackets, lower-case."""
    return _bare(recipient)


_SRS0 = re.compile(r"^srs0[=+-][^=]*=[^=]*=(.*)$")
_SRS1 = re.compile(r"^srs1[=+-][^=]*=([^=]*)=[=+-][^=]*=[^=]*=(.*)$")
_BATV = re.compile(r"^(?:prvs|msprvs1|btv1)=[^=]+=(.+)$")
_DIGITS = re.compile(r"\b\d+\b")


def normaliseSender(sender: str, recipient: str = "") -> str:
    """Normalise an envelope sender like postgrey/sqlgrey do.

    ``recipient`` (already normalised) lets a recipient embedded in a VERP
    sender be recognised. See the module docstring for the rules.
    """
    address = _bare(sender)
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""

    match = _SRS1.match(local)
    if match:
        return "srs1=#=%s==#=#=%s%s%s" % (match.group(1), match.group(2),
                                         at, domain)
    match = _SRS0.match(local)
    if match:
        return "srs0=#=#=%s%s%s" % (match.group(1), at, domain)

    match = _BATV.match(local)
    if match:
        local = match.group(1)
    plus = local.find("+")
    if plus > 0:
        local = local[:plus]
    if recipient and "@" in recipient:
        embedded = recipient.replace("@", "=")
        if embedded in local:
            local = local.replace(embedded, "#rcpt#")
    local = _DIGITS.sub("#", local)
    return local + at + domain


# -- auto-whitelisting ----------------------------------------------------------

DOMAIN_AWL_SENDERS = 2


@dataclass(frozen=True)
class AwlParameters:
    """The auto-whitelist's limits (see the module docstring).

    ``clients`` is the number of counted passes after which a client
    network is whitelisted (0: no client auto-whitelist); ``maxAge`` the
    seconds an entry survives unseen; ``domains`` turns on the sender-domain
    list; ``interval`` the seconds between two counts or refreshes.
    """

    clients: int = 5
    maxAge: float = 35 * 86400
    domains: bool = False
    interval: float = 3600

    def __post_init__(self) -> None:
        if self.clients < 0:
            raise ValueError("clients must not be negative")
        if self.maxAge <= 0 or self.interval < 0:
            raise ValueError("maxAge must be positive and interval not negative")


DEFAULT_AWL = AwlParameters()


@dataclass(frozen=True)
class AwlRecord:
    """What is remembered about one client network."""

    count: int
    last_seen: float


@dataclass(frozen=True)
class DomainAwlRecord:
    """What is remembered about one (client network, sender domain) pair.

    ``first_sender`` is the first sender seen passing (kept until a second
    one makes the pair whitelisted); ``senders`` counts distinct senders,
    up to ``DOMAIN_AWL_SENDERS``.
    """

    first_sender: str
    senders: int
    last_seen: float


def _stale(last_seen: float, now: float, params: AwlParameters) -> bool:
    return now - last_seen > params.maxAge


def _due(last_seen: float, now: float, params: AwlParameters) -> bool:
    return now >= last_seen + params.interval or last_seen > now


def isListed(record: Optional[AwlRecord], now: float, params: AwlParameters) -> bool:
    """True if the client network is auto-whitelisted at ``now``."""
    return (params.clients > 0 and record is not None
            and record.count >= params.clients
            and not _stale(record.last_seen, now, params))


def seenListed(record: AwlRecord, now: float,
               params: AwlParameters) -> Optional[AwlRecord]:
    """The record to store when a whitelisted client sends again, or None."""
    if _due(record.last_seen, now, params):
        return AwlRecord(record.count + 1, now)
    return None


def countPass(record: Optional[AwlRecord], now: float,
              params: AwlParameters) -> Optional[AwlRecord]:
    """The record to store after one of the client's triplets passed, or None."""
    if record is None or _stale(record.last_seen, now, params):
        return AwlRecord(1, now)
    if _due(record.last_seen, now, params):
        return AwlRecord(record.count + 1, now)
    return None


def isDomainListed(record: Optional[DomainAwlRecord], now: float,
                   params: AwlParameters) -> bool:
    """True if the (client network, sender domain) pair is auto-whitelisted."""
    return (params.domains and record is not None
            and record.senders >= DOMAIN_AWL_SENDERS
            and not _stale(record.last_seen, now, params))


def seenDomainListed(record: DomainAwlRecord, now: float,
                     params: AwlParameters) -> Optional[DomainAwlRecord]:
    """The record to store when a whitelisted pair sends again, or None."""
    if _due(record.last_seen, now, params):
        return replace(record, last_seen=now)
    return None


def countDomainPass(record: Optional[DomainAwlRecord], sender: str, now: float,
                    params: AwlParameters) -> Optional[DomainAwlRecord]:
    """The record to store after ``sender``'s triplet passed, or None."""
    if record is None or _stale(record.last_seen, now, params):
        return DomainAwlRecord(sender, 1, now)
    if record.senders < DOMAIN_AWL_SENDERS and sender != record.first_sender:
        return DomainAwlRecord(record.first_sender, record.senders + 1, now)
    if _due(record.last_seen, now, params):
        return replace(record, last_seen=now)
    return None


CLIENT_AWL = "client"
DOMAIN_AWL = "domain"


@dataclass(frozen=True)
class MessageVerdict:
    """The store's answer for one message (``GreylistStore.checkMessage``).

    ``autoWhitelisted`` is ``CLIENT_AWL`` or ``DOMAIN_AWL`` when an
    auto-whitelist let the whole message through (``verdicts`` is then
    empty), else ``None`` and ``verdicts`` holds one ``Verdict`` per
    recipient, in order. ``clientCount`` is the client network's count
    after this message (0 when the client auto-whitelist is off).
    """

    autoWhitelisted: Optional[str]
    verdicts: tuple[Verdict, ...] = ()
    clientCount: int = 0


def senderDomain(sender: str) -> str:
    """The domain of a sender, lower-cased ("" for the null sender or no domain)."""
    address = _bare(sender)
    local, at, domain = address.rpartition("@")
    return domain.rstrip(".") if at and local else ""


def keyDigest(*fields: str) -> str:
    """SHA-256 (hex) of the fields joined by NUL: a key that hides its fields."""
    data = "\x00".join(fields).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


# -- store keys, the message decision, expiry counts and outcome history ---------
# Shared by every store (SQLite, PostgreSQL): what a store keeps and how it
# decides a message, so that the stores only read and write rows.

@dataclass(frozen=True)
class MessageKeys:
    """The store keys one message touches (``KeyBuilder.message``).

    ``client`` is ``None`` when the client auto-whitelist is off, ``domain``
    when the sender-domain list is off or the sender has no domain.
    """

    triplets: tuple[tuple[str, str, str], ...]
    client: Optional[str]
    domain: Optional[tuple[str, str]]
    senderId: str


MAX_KEY_FIELD = 512


def storableText(text: str) -> str:
    """``text`` as every database keeps it (see ``KeyBuilder``)."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if len(text) > MAX_KEY_FIELD:
        text = "sha256:" + keyDigest(text)
    return text


@dataclass(frozen=True)
class KeyBuilder:
    """Turns an envelope into the keys a store keeps, in a key mode.

    With ``privacy`` every key is a ``keyDigest``: a triplet's digest goes
    in the first column (the other two are empty), a client network's
    digest replaces it, a (network, domain) pair's digest goes in the first
    column, and the first sender of a domain entry is kept as its digest.

    Hostile input still makes a key every store can keep (``storableText``,
    applied to each field first): a NUL and a lone surrogate (bytes that
    were not UTF-8) become U+FFFD, and a field longer than
    ``MAX_KEY_FIELD`` characters becomes ``"sha256:"`` and its digest.
    """

    keyMode: str = "kamaelia"
    privacy: bool = False

    def __post_init__(self) -> None:
        if self.keyMode not in KEY_MODES:
            raise ValueError("unknown key mode %r (expected one of %s)"
                             % (self.keyMode, ", ".join(KEY_MODES)))

    def triplet(self, ip: str, sender: str, recipient: str) -> tuple[str, str, str]:
        a, b, c = tripletKey(ip, sender, recipient, self.keyMode)
        key = (storableText(a), storableText(b), storableText(c))
        return (keyDigest(*key), "", "") if self.privacy else key

    def client(self, ip: str) -> str:
        network = storableText(normaliseClient(ip))
        return keyDigest(network) if self.privacy else network

    def domain(self, ip: str, domain: str) -> tuple[str, str]:
        network, name = storableText(normaliseClient(ip)), storableText(domain)
        return (keyDigest(network, name), "") if self.privacy else (network, name)

    def senderId(self, sender: str) -> str:
        normalised = storableText(normaliseSender(sender))
        return keyDigest(normalised) if self.privacy else normalised

    def message(self, ip: str, sender: str, recipients: Iterable[str],
                awl: AwlParameters) -> MessageKeys:
        domain = senderDomain(sender) if awl.domains else ""
        return MessageKeys(
            triplets=tuple(self.triplet(ip, sender, r) for r in recipients),
            client=self.client(ip) if awl.clients else None,
            domain=self.domain(ip, domain) if domain else None,
            senderId=self.senderId(sender) if domain else "")


class MessageAccess(Protocol):
    """The rows a store reads and writes for one message, inside its transaction."""

    def readClient(self, key: str) -> Optional[AwlRecord]: ...

    def writeClient(self, key: str, record: AwlRecord) -> None: ...

    def readDomain(self, key: tuple[str, str]) -> Optional[DomainAwlRecord]: ...

    def writeDomain(self, key: tuple[str, str], record: DomainAwlRecord) -> None: ...

    def checkKeys(self, keys: tuple[tuple[str, str, str], ...],
                  now: float) -> tuple[Verdict, ...]: ...


def decideMessage(access: MessageAccess, keys: MessageKeys, now: float,
                  awl: AwlParameters) -> MessageVerdict:
    """Decide a message over a store's rows (called inside one transaction).

    An auto-whitelisted client network, else an auto-whitelisted (network,
    sender domain) pair, passes the whole message and is refreshed at most
    once per ``awl.interval``; otherwise every triplet is decided
    (``access.checkKeys``) and, if one of them passed greylisting just now,
    the network's count and the sender-domain entry are updated.
    """
    client = access.readClient(keys.client) if keys.client is not None else None
    if keys.client is not None and client is not None and isListed(client, now, awl):
        refreshed = seenListed(client, now, awl)
        if refreshed is not None:
            access.writeClient(keys.client, refreshed)
            client = refreshed
        return MessageVerdict(CLIENT_AWL, (), client.count)
    pair = access.readDomain(keys.domain) if keys.domain is not None else None
    if keys.domain is not None and pair is not None and isDomainListed(pair, now, awl):
        refreshedPair = seenDomainListed(pair, now, awl)
        if refreshedPair is not None:
            access.writeDomain(keys.domain, refreshedPair)
        return MessageVerdict(DOMAIN_AWL, (), client.count if client else 0)
    verdicts = access.checkKeys(keys.triplets, now)
    if any(v.reason == "passed" for v in verdicts):
        if keys.client is not None:
            counted = countPass(client, now, awl)
            if counted is not None:
                access.writeClient(keys.client, counted)
                client = counted
        if keys.domain is not None:
            countedPair = countDomainPass(pair, keys.senderId, now, awl)
            if countedPair is not None:
                access.writeDomain(keys.domain, countedPair)
    count = client.count if client is not None and keys.client is not None else 0
    return MessageVerdict(None, verdicts, count)


def wouldDeferMessage(client: Optional[AwlRecord], pair: Optional[DomainAwlRecord],
                      records: Iterable[Optional[Record]], now: float,
                      awl: AwlParameters, profile: TimingProfile = KAMAELIA) -> bool:
    """``decideMessage`` read-only: True if it would now pass no auto-whitelist and defer.

    ``client`` and ``pair`` are the rows it would read (None when that
    auto-whitelist is off, or has no row), ``records`` the triplets' rows;
    they are consumed only if no auto-whitelist applies. Nothing is written
    or refreshed, so asking first and deciding later records one attempt.
    """
    if client is not None and isListed(client, now, awl):
        return False
    if pair is not None and isDomainListed(pair, now, awl):
        return False
    return any(not decide(record, now, profile).passed for record in records)


class Expired(NamedTuple):
    """How many rows a store's ``expire()`` removed.

    ``attempts`` are the triplets that never passed and whose first attempt
    is more than ``max_defer`` old: their sender never retried in time.
    """

    attempts: int
    passed: int
    clients: int = 0
    domains: int = 0


# Outcome history: a count per hour and outcome. The caller (policy, front
# end) says what it counts; a store's expire() adds NEVER_RETRIED itself.
DEFERRED = "deferred"
PASSED = "passed"
WHITELISTED = "whitelisted"
REFUSED = "refused"
NEVER_RETRIED = "never-retried"
OUTCOMES = (DEFERRED, PASSED, WHITELISTED, REFUSED, NEVER_RETRIED)
HOUR = 3600
DAY = 24 * HOUR


def hourStart(now: float) -> float:
    """The start of the hour bucket ``now`` falls in (seconds since the epoch)."""
    return float(math.floor(now / HOUR) * HOUR)


def outcomeCounts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The non-zero (outcome, count) pairs of ``counts``, sorted; ValueError if bad.

    Sorted, so that two hosts adding to the same buckets lock them in the
    same order.
    """
    pairs = []
    for outcome, count in counts.items():
        if outcome not in OUTCOMES:
            raise ValueError("unknown outcome %r (expected one of %s)"
                             % (outcome, ", ".join(OUTCOMES)))
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError("count of %s must be a whole number >= 0, not %r"
                             % (outcome, count))
        if count:
            pairs.append((outcome, count))
    return sorted(pairs)


def lastDay(now: float) -> tuple[float, float]:
    """``(since, until)`` for ``outcomeHistory``: the hour of ``now`` and the 23 before."""
    current = hourStart(now)
    return (current - DAY + HOUR, current + HOUR)


def summaryOf(pending: int, passed: int, clients: int, domains: int,
              history: Iterable[tuple[float, str, int]]) -> dict:
    """The ``summary()`` dict of a store from its counts and last day's history."""
    totals = dict.fromkeys(OUTCOMES, 0)
    for _hour, outcome, count in history:
        totals[outcome] = totals.get(outcome, 0) + count
    return {"pending": pending, "passed": passed, "whitelistedClients": clients,
            "whitelistedDomains": domains, "lastDay": totals}
