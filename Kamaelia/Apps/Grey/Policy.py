"""
Kamaelia.Apps.Grey.Policy: the greylisting decision, for both front ends
========================================================================

One object decides what happens to a message: an ``Envelope`` (client
address and verified name, HELO name, sender, recipients) goes in, a
``Decision`` (accept, defer or reject, with the SMTP reply, the reason for
each recipient and how long the sender waited) comes out. The SMTP proxy
asks it at RCPT (``relayCheck``) and at DATA (``decide``); the Postfix
policy server asks it for each request. Its settings are one frozen
``PolicySettings`` value, replaced whole on SIGHUP (``withSettings``).
No Axon, no sockets, no clock: ``now`` is passed in.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Config import loadConfig
    from Kamaelia.Apps.Grey.Policy import DEFER, Envelope, GreylistPolicy, PolicySettings

    config = loadConfig("greylist.conf")              # allowed_domains: example.org
    settings = PolicySettings.fromConfig(config)      # reads the whitelist files too
    policy = GreylistPolicy(settings, settings.openStore(config["greylist_db"]))

    envelope = Envelope(clientAddress="192.0.2.7", clientName="mx.example.net",
                        heloName="mx.example.net", sender="alice@example.net",
                        recipients=("bob@example.org",))
    decision = policy.decide(envelope, now=1700000000.0)
    if decision.action == DEFER:
        print(decision.reply)             # 451 4.7.1 Please try again later
    print(decision.reasons)               # (('bob@example.org', 'new'),)

    # on SIGHUP, in one step:
    policy = policy.withSettings(PolicySettings.fromConfig(loadConfig("greylist.conf")))

How does it work?
-----------------
``decide(envelope, now)`` follows the proxy's order (Kamaelia Grey 1.x's,
with its fixes) and adds postgrey's and sqlgrey's exemptions:

1. a client in ``allowed_senders`` or ``allowed_sender_nets`` may send
   anything to anyone: ACCEPT, every recipient "allowed-sender";
2. with relay control on, a recipient outside ``allowed_domains`` is
   REJECTed as "relay-denied" (550 5.7.1), and one of our domains whose
   local part routes onward (``user%elsewhere@ours``, ``a!b@ours``,
   ``"a@b"@ours``) as "routing-denied", unless ``allow_untrusted_routing``.
   ``<postmaster>`` (no domain) is always ours. Relay control is on in
   proxy mode, and in policy mode only when ``allowed_domains`` is set
   (Postfix's ``reject_unauth_destination`` usually does that job there);
3. a recipient passes without greylisting, with the first reason that
   applies: "postmaster" (postmaster at one of our domains, or
   ``<postmaster>``), "whitelisted" (a ``whitelisted_triples`` or
   ``whitelisted_nonstandard_triples`` entry), "client-whitelist" (the
   client in the ``whitelist_clients`` files, by verified name or address),
   "recipient-whitelist" (``whitelist_recipients``; postgrey's
   ``postmaster@`` and ``abuse@`` when no file is named), "opt-out"
   (``optout_recipients``);
4. the other recipients go to the store in one call
   (``GreylistStore.checkMessage``, one transaction): an auto-whitelisted
   client network or sender domain passes all of them ("auto-whitelisted");
   otherwise each triplet is decided: "passed" (now or before), "new",
   "early-retry" or "too-late".

The message's action: DEFER if any recipient is deferred (the proxy's
all-or-nothing rule: one retry carries every recipient), else REJECT if
every recipient is refused, else ACCEPT. ``perRecipient`` gives each
recipient's own action, for a front end that answers per recipient
(Postfix at RCPT asks about one recipient at a time).

``delay`` is set on an ACCEPT where a triplet passed greylisting just now:
the longest wait among them, for the ``X-Greylist`` header (and Postfix's
``PREPEND``); a triplet passing again later has no delay, as in postgrey.
``retryAfter`` on a greylisting DEFER is the seconds until the earliest
retry can pass.

Replies (``SMTPReplies``): ACCEPT ``OK``, greylisting ``GREYLISTED`` (451
4.7.1), relay or routing refusal ``RELAY_DENIED`` (550 5.7.1). If the store
fails -- or there is none -- every recipient it should have decided is
"store-error" and the message is DEFERred with ``LOCAL_ERROR`` (451 4.3.0),
logged with the envelope: never accepted by mistake.

Keys: the store is given the sender and recipients in angle brackets, as
the proxy has always written them, so greylist files of the original key
mode keep matching after an upgrade.

``relayCheck(envelope, recipient)`` is step 1-2 alone, for the proxy's RCPT
reply: ``None`` if the recipient may be accepted, else a REJECT
``Decision``. It does not use the store.

``wouldDefer(envelope, now)`` answers, reading the store but writing
nothing, whether ``decide`` would now defer the message for greylisting:
the proxy asks it at RCPT and, if so, need not involve the real server in a
transaction that is deferred whatever that server says. ``needsStore``
says whether a decision asks the store at all (an allowed client, or only
exempt recipients, do not).

Settings
--------
``PolicySettings.fromConfig(config)`` reads every policy-relevant key of
greylist.conf (missing keys take their defaults) and the whitelist files
they name, raising ``Config.ConfigError`` (``"file:line: key: problem"``)
for a bad file. ``openStore(location)`` opens the store (``Stores.openStore``:
SQLite for a path, PostgreSQL for a ``postgresql://`` URL) with the
settings' timing profile, key mode, privacy and auto-whitelist limits: the
store and the policy must agree on those, which need a restart to change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from Kamaelia.Apps.Grey import SMTPReplies
from Kamaelia.Apps.Grey.Config import DEFAULT_CONFIG, timingProfile
from Kamaelia.Apps.Grey.GreylistVerdict import (
    DEFAULT_AWL,
    KAMAELIA,
    AwlParameters,
    AwlRecord,
    DomainAwlRecord,
    MessageVerdict,
    Record,
    TimingProfile,
    wouldDeferMessage,
)
from Kamaelia.Apps.Grey.Networks import (
    AddressSet,
    NetworkList,
    addressInNetwork,
    normaliseAddress,
    parseNetwork,
    sameAddress,
)
from Kamaelia.Apps.Grey.SMTPProtocol import hasRoute
from Kamaelia.Apps.Grey.SMTPReplies import Reply
from Kamaelia.Apps.Grey.Stores import STORE_ERRORS, GreylistStoreInterface, openStore
from Kamaelia.Apps.Grey.Whitelists import ClientWhitelist, RecipientWhitelist

__all__ = [
    "ACCEPT", "DEFER", "REJECT", "REASONS", "GREYLISTING_REASONS",
    "Envelope", "Decision", "PolicySettings", "GreylistPolicy", "outcomesOf",
]

_log = logging.getLogger(__name__)

ACCEPT = "accept"
DEFER = "defer"
REJECT = "reject"

REASONS = frozenset({
    "allowed-sender", "relay-denied", "routing-denied", "postmaster", "whitelisted",
    "client-whitelist", "recipient-whitelist", "opt-out", "auto-whitelisted",
    "passed", "new", "early-retry", "too-late", "store-error",
})
GREYLISTING_REASONS = frozenset({"new", "early-retry", "too-late"})

# GreylistVerdict's words -> the reasons a Decision gives ("early retry"
# carries the seconds to go, so the start of the text is what counts).
_VERDICT_REASONS = (
    ("new", "new"), ("expired", "new"),
    ("too soon", "early-retry"), ("early retry", "early-retry"),
    ("too late", "too-late"),
    ("passed", "passed"), ("known", "passed"),
)


def _reasonOf(words: str, passed: bool) -> str:
    for start, reason in _VERDICT_REASONS:
        if words.startswith(start):
            return reason
    return "passed" if passed else "new"


@dataclass(frozen=True)
class Envelope:
    """What the policy decides on.

    ``clientName`` is the client's verified name, or "unknown";
    ``sender`` and ``recipients`` are addresses without angle brackets
    (``""`` is the null sender); ``instance`` identifies the message for
    a policy server (Postfix's ``instance`` attribute).
    """

    clientAddress: str
    clientName: str
    heloName: str
    sender: str
    recipients: tuple[str, ...]
    instance: str = ""


@dataclass(frozen=True)
class Decision:
    """What to do with a message (see the module docstring).

    ``reasons`` holds ``(recipient, reason)`` in recipient order, each
    reason one of ``REASONS``; ``details`` the store's own words for the
    recipients it decided (e.g. "early retry (300 s to go)"), for logs.
    """

    action: str
    reply: Reply
    reasons: tuple[tuple[str, str], ...] = ()
    delay: Optional[float] = None
    perRecipient: Mapping[str, str] = field(default_factory=dict, hash=False)
    details: tuple[tuple[str, str], ...] = ()
    retryAfter: Optional[float] = None

    def reasonFor(self, recipient: str) -> Optional[str]:
        """The reason given for ``recipient``, or None if it is not in the decision."""
        for address, reason in self.reasons:
            if address == recipient:
                return reason
        return None


_EXEMPTIONS = frozenset({"allowed-sender", "postmaster", "whitelisted", "client-whitelist",
                         "recipient-whitelist", "opt-out", "auto-whitelisted"})


def outcomesOf(decision: "Decision") -> dict[str, int]:
    """What a decision adds to the status page's history: outcome -> recipients.

    "deferred" (greylisted), "passed" (a triplet passing greylisting just
    now, after its wait), "whitelisted" (any exemption, auto-whitelists
    included) and "refused" (relay or routing refusals). A known triplet
    passing again and a store error add nothing.
    """
    details = dict(decision.details)
    counts: dict[str, int] = {}
    for recipient, reason in decision.reasons:
        if reason in GREYLISTING_REASONS:
            outcome = "deferred"
        elif reason == "passed":
            if not details.get(recipient, "passed").startswith("passed"):
                continue
            outcome = "passed"
        elif reason in _EXEMPTIONS:
            outcome = "whitelisted"
        elif reason in ("relay-denied", "routing-denied"):
            outcome = "refused"
        else:
            continue
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _emptyOptOut() -> RecipientWhitelist:
    return RecipientWhitelist((), "optout_recipients")


@dataclass(frozen=True)
class PolicySettings:
    """Every setting the policy uses, frozen; build it with ``fromConfig``."""

    allowedSenders: tuple[str, ...] = ("127.0.0.1",)
    allowedSenderNets: tuple[str, ...] = ()
    allowedDomains: tuple[str, ...] = ()
    relayControl: bool = True
    allowUntrustedRouting: bool = False
    whitelistedTriples: tuple[tuple[str, ...], ...] = ()
    whitelistedNonstandardTriples: tuple[tuple[str, ...], ...] = ()
    clientWhitelist: ClientWhitelist = field(default_factory=ClientWhitelist)
    recipientWhitelist: RecipientWhitelist = field(default_factory=RecipientWhitelist.defaults)
    optOut: RecipientWhitelist = field(default_factory=_emptyOptOut)
    awl: AwlParameters = DEFAULT_AWL
    profile: TimingProfile = KAMAELIA
    keyMode: str = "kamaelia"
    privacy: bool = False

    @classmethod
    def fromConfig(cls, config: Mapping[str, Any]) -> "PolicySettings":
        """The settings of a greylist.conf dict; reads the whitelist files it names."""
        def get(key: str) -> Any:
            return config.get(key, DEFAULT_CONFIG[key])

        domains = tuple(d.lower().rstrip(".") for d in get("allowed_domains"))
        recipientFiles = list(get("whitelist_recipients"))
        return cls(
            allowedSenders=tuple(get("allowed_senders")),
            allowedSenderNets=tuple(get("allowed_sender_nets")),
            allowedDomains=domains,
            relayControl=get("mode") != "policy" or bool(domains),
            allowUntrustedRouting=bool(get("allow_untrusted_routing")),
            whitelistedTriples=tuple(tuple(t) for t in get("whitelisted_triples")),
            whitelistedNonstandardTriples=tuple(
                tuple(t) for t in get("whitelisted_nonstandard_triples")),
            clientWhitelist=ClientWhitelist.fromFiles(get("whitelist_clients")),
            recipientWhitelist=(RecipientWhitelist.fromFiles(recipientFiles)
                                if recipientFiles else RecipientWhitelist.defaults()),
            optOut=RecipientWhitelist.fromEntries(get("optout_recipients"),
                                                  "optout_recipients"),
            awl=AwlParameters(clients=int(get("auto_whitelist_clients")),
                              maxAge=int(get("auto_whitelist_max_age")) * 86400,
                              domains=bool(get("auto_whitelist_domains"))),
            profile=timingProfile(config),
            keyMode=get("greylist_key"),
            privacy=bool(get("privacy")),
        )

    def openStore(self, location: str, timeout: float = 5.0) -> GreylistStoreInterface:
        """The store at ``location`` (a path or a ``postgresql://`` URL) for these settings."""
        return openStore(location, self.profile, self.keyMode, privacy=self.privacy,
                         awl=self.awl, timeout=timeout)


class Store(Protocol):
    """What the policy needs of a store (``GreylistStore`` is one)."""

    profile: TimingProfile

    awl: AwlParameters

    def checkMessage(self, ip: str, sender: str, recipients: Iterable[str],
                     now: float) -> MessageVerdict: ...

    def lookup(self, ip: str, sender: str, recipient: str) -> Optional[Record]: ...

    def lookupClient(self, ip: str) -> Optional[AwlRecord]: ...

    def lookupDomain(self, ip: str, sender: str) -> Optional[DomainAwlRecord]: ...


def _bare(address: str) -> str:
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return text


def _token(address: str) -> str:
    """The address as the proxy writes it in the greylist key: in angle brackets."""
    return "<%s>" % address


def _domainOf(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class GreylistPolicy:
    """The greylisting policy over a store (see the module docstring)."""

    def __init__(self, settings: PolicySettings, store: Optional[Store]) -> None:
        self.settings = settings
        self.store = store
        self._senders = AddressSet(settings.allowedSenders)
        self._nets = NetworkList(settings.allowedSenderNets)
        self._domains = frozenset(settings.allowedDomains)
        self._triples = [(_bare(ip), _bare(sender), _bare(rcpt))
                         for ip, sender, rcpt in settings.whitelistedTriples]
        self._farms = [(helo, parseNetwork(network), _bare(rcpt))
                       for helo, network, rcpt in settings.whitelistedNonstandardTriples]

    def withSettings(self, settings: PolicySettings) -> "GreylistPolicy":
        """A policy with new settings over the same store (for SIGHUP)."""
        return GreylistPolicy(settings, self.store)

    # -- the checks ------------------------------------------------------------------

    @property
    def allowedAddresses(self) -> AddressSet:
        """``allowed_senders``, parsed (``address in policy.allowedAddresses``)."""
        return self._senders

    @property
    def allowedNetworks(self) -> NetworkList:
        """``allowed_sender_nets``, parsed (``address in policy.allowedNetworks``)."""
        return self._nets

    def allowedClient(self, envelope: Envelope) -> bool:
        """True if the client is an allowed sender (address or network)."""
        address = normaliseAddress(envelope.clientAddress)
        if address is None:
            return False
        return address in self._senders.addresses or any(
            address.version == network.version and address in network
            for network in self._nets.networks)

    def refusal(self, recipient: str) -> Optional[str]:
        """Why mail to ``recipient`` may not be accepted: "relay-denied", "routing-denied" or None."""
        if not self.settings.relayControl:
            return None
        address = _bare(recipient)
        if address.lower() == "postmaster":
            return None
        if "@" not in address or _domainOf(address) not in self._domains:
            return "relay-denied"
        if not self.settings.allowUntrustedRouting and hasRoute(address):
            return "routing-denied"
        return None

    def isPostmaster(self, address: str) -> bool:
        """True for ``postmaster`` (no domain) and postmaster at one of our domains."""
        local, at, _ = address.rpartition("@")
        if not at:
            return address.lower() == "postmaster"
        return local.lower() == "postmaster" and (
            not self.settings.relayControl or _domainOf(address) in self._domains)

    def whitelisted(self, envelope: Envelope, address: str) -> bool:
        """True if a whitelisted triple (standard or HELO/network) covers ``address``."""
        sender = envelope.sender
        for ip, whiteSender, rcpt in self._triples:
            if rcpt == address and whiteSender == sender and sameAddress(ip, envelope.clientAddress):
                return True
        for helo, network, rcpt in self._farms:
            if rcpt == address and helo == envelope.heloName and \
                    addressInNetwork(envelope.clientAddress, network):
                return True
        return False

    def _exemption(self, envelope: Envelope, address: str, clientListed: bool) -> Optional[str]:
        """The reason ``address`` skips greylisting, or None."""
        settings = self.settings
        if self.isPostmaster(address):
            return "postmaster"
        if self.whitelisted(envelope, address):
            return "whitelisted"
        if clientListed:
            return "client-whitelist"
        if settings.recipientWhitelist.matches(address):
            return "recipient-whitelist"
        if settings.optOut.matches(address):
            return "opt-out"
        return None

    def relayCheck(self, envelope: Envelope, recipient: str) -> Optional[Decision]:
        """None if ``recipient`` may be accepted at RCPT, else a REJECT Decision."""
        if self.allowedClient(envelope):
            return None
        refusal = self.refusal(recipient)
        if refusal is None:
            return None
        return Decision(REJECT, SMTPReplies.RELAY_DENIED, ((recipient, refusal),),
                        perRecipient={recipient: REJECT})

    # -- the decision ----------------------------------------------------------------

    def decide(self, envelope: Envelope, now: float) -> Decision:
        """The decision for the message (see the module docstring); uses the store."""
        recipients = _unique(envelope.recipients)
        if self.allowedClient(envelope):
            return Decision(ACCEPT, SMTPReplies.OK,
                            tuple((r, "allowed-sender") for r in recipients),
                            perRecipient={r: ACCEPT for r in recipients})
        outcome, pending = self._sort(envelope, recipients)
        details: dict[str, str] = {}
        delay: Optional[float] = None
        retryAfter: Optional[float] = None
        if pending:
            answer = self._askStore(envelope, pending, now)
            if answer is None:
                for recipient in pending:
                    outcome[recipient] = (DEFER, "store-error")
            elif answer.autoWhitelisted is not None:
                for recipient in pending:
                    outcome[recipient] = (ACCEPT, "auto-whitelisted")
                    details[recipient] = "%s auto-whitelist" % answer.autoWhitelisted
            else:
                minDefer = self.store.profile.min_defer if self.store is not None else 0
                for recipient, verdict in zip(pending, answer.verdicts):
                    reason = _reasonOf(verdict.reason, verdict.passed)
                    outcome[recipient] = (ACCEPT if verdict.passed else DEFER, reason)
                    details[recipient] = verdict.reason
                    firstSeen = verdict.record.first_seen
                    if verdict.reason == "passed" and firstSeen is not None:
                        delay = max(delay or 0.0, now - firstSeen)
                    elif not verdict.passed and firstSeen is not None:
                        wait = max(0.0, firstSeen + minDefer - now)
                        retryAfter = wait if retryAfter is None else min(retryAfter, wait)
        return self._combine(recipients, outcome, details, delay, retryAfter)

    def _sort(self, envelope: Envelope,
              recipients: list[str]) -> tuple[dict[str, tuple[str, str]], list[str]]:
        """Steps 2-3: the recipients decided without the store, and those it must decide."""
        outcome: dict[str, tuple[str, str]] = {}
        pending: list[str] = []
        clientListed = self.settings.clientWhitelist.matches(envelope.clientAddress,
                                                             envelope.clientName)
        for recipient in recipients:
            refusal = self.refusal(recipient)
            if refusal is not None:
                outcome[recipient] = (REJECT, refusal)
                continue
            exemption = self._exemption(envelope, _bare(recipient), clientListed)
            if exemption is not None:
                outcome[recipient] = (ACCEPT, exemption)
            else:
                pending.append(recipient)
        return outcome, pending

    def needsStore(self, envelope: Envelope) -> bool:
        """True if deciding ``envelope`` asks the store (some recipient must pass greylisting)."""
        if self.allowedClient(envelope):
            return False
        return bool(self._sort(envelope, _unique(envelope.recipients))[1])

    def wouldDefer(self, envelope: Envelope, now: float) -> bool:
        """True if ``decide`` would now defer the message for greylisting; records nothing.

        Read-only: the auto-whitelists and each triplet that must pass are
        read, not written, so a front end can learn early that the message
        will be deferred whatever else is said of it (DEFER if any
        recipient is deferred) and ``decide`` later still records the
        attempt once. Store errors are raised.
        """
        if self.allowedClient(envelope):
            return False
        pending = self._sort(envelope, _unique(envelope.recipients))[1]
        store = self.store
        if not pending or store is None:
            return bool(pending)
        awl = store.awl
        sender = _token(envelope.sender)
        ip = envelope.clientAddress
        # Lazily: the triplets are read only if no auto-whitelist applies.
        return wouldDeferMessage(
            store.lookupClient(ip) if awl.clients else None,
            store.lookupDomain(ip, sender) if awl.domains else None,
            (store.lookup(ip, sender, _token(r)) for r in pending), now, awl, store.profile)

    def _askStore(self, envelope: Envelope, pending: list[str],
                  now: float) -> Optional[MessageVerdict]:
        if self.store is None:
            _log.error("no greylist store; deferring %s", envelope)
            return None
        try:
            return self.store.checkMessage(envelope.clientAddress, _token(envelope.sender),
                                           [_token(r) for r in pending], now)
        except STORE_ERRORS as error:
            # The database is down, locked or slow: an operational fact, not a bug.
            _log.error("greylist store unavailable (%s); deferring %s", error, envelope)
            return None
        except Exception:
            _log.exception("greylist store failed for %s; deferring", envelope)
            return None

    @staticmethod
    def _combine(recipients: list[str], outcome: dict[str, tuple[str, str]],
                 details: dict[str, str], delay: Optional[float],
                 retryAfter: Optional[float]) -> Decision:
        actions = [outcome[r][0] for r in recipients]
        reasons = tuple((r, outcome[r][1]) for r in recipients)
        perRecipient = {r: outcome[r][0] for r in recipients}
        detail = tuple((r, details[r]) for r in recipients if r in details)
        if DEFER in actions:
            failed = any(reason == "store-error" for _, reason in reasons)
            return Decision(DEFER, SMTPReplies.LOCAL_ERROR if failed else SMTPReplies.GREYLISTED,
                            reasons, None, perRecipient, detail,
                            None if failed else retryAfter)
        if actions and all(action == REJECT for action in actions):
            return Decision(REJECT, SMTPReplies.RELAY_DENIED, reasons, None, perRecipient, detail)
        return Decision(ACCEPT, SMTPReplies.OK, reasons, delay, perRecipient, detail)

    def __repr__(self) -> str:
        return "GreylistPolicy(%r)" % (self.store,)
