"""
Kamaelia.Apps.Grey.GreyListingPolicy: who may send mail through the proxy, and when
==================================================================================

``GreyListingPolicy`` is a ``ConcreteMailHandler`` whose
``shouldWeAcceptMail()`` applies greylisting: mail from an unknown
(client address, sender, recipient) triplet is deferred with a 451 the first
time, and accepted when the sender retries inside the allowed window, as
real mail servers do and most spam engines do not. The decision itself is
the shared ``Policy.GreylistPolicy``, the one the Postfix policy server asks
too; this class is the proxy's adapter to it.

Example Usage
-------------
::

    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Apps.Grey.GreyListingPolicy import GreyListingPolicy

    class Policy(GreyListingPolicy):
        servername = "mx.example.org"
        smtp_ip, smtp_port = "127.0.0.1", 8025
        allowed_senders = ["127.0.0.1"]           # may send anywhere, never greylisted
        allowed_sender_nets = ["192.168.2", "10.0.0.0/8", "2001:db8::/32"]
        allowed_domains = ["example.org"]           # mail we accept for delivery

    ServerCore(protocol=Policy, port=25).run()

How does it work?
-----------------
At RCPT, ``relayAllowed`` asks the policy's ``relayCheck``; at DATA,
``shouldWeAcceptMail`` builds an ``Envelope`` from the session (client
address, its verified name from the reverse lookup -- waited for, bounded,
if it is not in yet -- the HELO name, the sender and the accepted
recipients, without angle brackets) and asks the registered
``PolicyService`` for a ``Decision``, which runs in the service's thread so
the store never stalls the scheduler. The decision is kept in
``self.decision``; the message is accepted only on ACCEPT. In the order of
Kamaelia Grey 1.x, with its fixes (``Policy`` has the whole list):

1. a client whose address is in ``allowed_senders`` or
   ``allowed_sender_nets`` may send to anyone, without greylisting;
2. anyone else may only send to recipients in ``allowed_domains`` (a
   trailing dot, ``user@example.org.``, is the same domain), and to
   ``<postmaster>`` with no domain (RFC 5321 §4.5.1); other recipients are
   refused at RCPT with "550 5.7.1 relay not permitted" (1.x deferred the
   whole message instead). So is a recipient whose local part routes the
   mail onward -- ``<victim%elsewhere@ours>``, ``<elsewhere!victim@ours>``,
   ``<"victim@elsewhere"@ours>`` -- unless ``allow_untrusted_routing``;
3. postmaster, ``whitelisted_triples``, ``whitelisted_nonstandard_triples``,
   the ``whitelist_clients`` and ``whitelist_recipients`` files and
   ``optout_recipients`` exempt a recipient; an auto-whitelisted client
   network (or sender domain) exempts the message;
4. every other recipient must have passed greylisting. All of them are
   checked -- and recorded -- at once, so several new recipients need one
   retry, not one each.

Since one deferred recipient defers the whole message, the proxy asks at
each RCPT, before the real server has heard of the transaction, whether
this recipient is sure to be deferred (``certainToDefer``: the policy's
``wouldDefer``, which reads the store and records nothing). If it is, the
rest of the transaction is answered by the proxy and DATA is deferred: a
greylisted attempt never opens a connection to the real server, whose
recipient checks happen on the retry. The decision at DATA is still made,
and records every recipient.

A deferral is "451 4.7.1 Please try again later"; if the store failed, did
not answer in time or the policy broke, "451 4.3.0" (``LOCAL_ERROR``): the
proxy never fails open. With ``x_greylist_header`` true, a message that
passed greylisting after a delay gets ``X-Greylist: delayed N seconds by
kamaelia-grey-VERSION at SERVERNAME; DATE`` at its top, as the policy server
has Postfix prepend.

Settings: the service's policy carries every setting of greylist.conf
(``Policy.PolicySettings``), swapped whole on SIGHUP. The 1.x list
attributes of the class (``allowed_senders``, ``allowed_sender_nets``,
``allowed_domains``, ``whitelisted_triples``,
``whitelisted_nonstandard_triples``, ``allow_untrusted_routing``) still
work: where a subclass sets them to something else than the service's
settings, the policy it is asked with has them in place of those (made
once per distinct value). If no service is registered (a 1.x program that
runs ``ServerCore(protocol=...)`` itself), the first session registers one
over a ``GreylistStore`` for ``greylist_db`` with ``greylist_profile`` and
``greylist_key``.

1.x subclasses: the 1.x methods remain -- ``sentFromAllowedIPAddress``,
``sentFromAllowedNetwork``, ``sentToADomainWeForwardFor``,
``whiteListed(recipient)``, ``isGreylisted(recipient)`` -- answered by the
policy. A subclass that overrides one of them gets the 1.x decision order
built from those methods (each one consulted as 1.x did), with the
greylisting itself still done by the policy for the recipients they leave.
``isGreylisted`` checks one triplet in the store directly (it blocks
briefly, as in 1.x).

``logResult()`` writes the 1.x result line to the result log, one per
transaction attempted (and one for a session that attempted none)::

    20261123231500.123 | client.helo | 192.0.2.1 | <a@b> | <c@d>, <e@f> | ACCEPTED | 3FA2000017

The fields: time (UTC), HELO name, client address, sender, recipients (the
accepted ones, else those refused), outcome (``ConcreteMailHandler.outcome``)
and the session id, which the debug log's lines carry too. A field not
known yet is "-"; the null sender is "<>".
"""

import dataclasses
import datetime
import logging

from Kamaelia.Apps.Grey import version
from Kamaelia.Apps.Grey.ClientName import UNKNOWN
from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Apps.Grey.Policy import ACCEPT, REJECT, Envelope, GreylistPolicy, PolicySettings
from Kamaelia.Apps.Grey.PolicyProtocol import xGreylistHeader
from Kamaelia.Apps.Grey.PolicyService import PolicyService

_log = logging.getLogger(__name__)

_HOOKS = ("sentFromAllowedIPAddress", "sentFromAllowedNetwork", "sentToADomainWeForwardFor",
          "whiteListed", "isGreylisted")
_DERIVED_LIMIT = 64


def _bare(address):
    text = str(address).strip()
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


class GreyListingPolicy(ConcreteMailHandler):
    """Greylisting acceptance policy. See the module documentation."""

    allowed_senders = []
    allowed_sender_nets = []
    allowed_domains = []
    whitelisted_triples = []
    whitelisted_nonstandard_triples = []
    greylist_db = "greylist.sqlite"
    greylist_profile = KAMAELIA
    greylist_key = "kamaelia"
    allow_untrusted_routing = False
    x_greylist_header = False

    _derived = {}

    def __init__(self, **argd):
        super().__init__(**argd)
        self.decision = None

    # -- the policy -----------------------------------------------------------------------

    def policyService(self):
        """The registered ``PolicyService`` (one is registered if there is none)."""
        service = PolicyService.lookup(self.tracker)
        if service is None:
            settings = self._withClassLists(PolicySettings(profile=self.greylist_profile,
                                                           keyMode=self.greylist_key))
            policy = GreylistPolicy(settings, settings.openStore(self.greylist_db))
            service = PolicyService(policy).registerAsService(self.tracker)
            service.activate()
        return service

    def _classLists(self):
        return (tuple(self.allowed_senders), tuple(self.allowed_sender_nets),
                tuple(d.lower().rstrip(".") for d in self.allowed_domains),
                bool(self.allow_untrusted_routing),
                tuple(tuple(t) for t in self.whitelisted_triples),
                tuple(tuple(t) for t in self.whitelisted_nonstandard_triples))

    def _withClassLists(self, settings):
        senders, nets, domains, routing, triples, farms = self._classLists()
        return dataclasses.replace(
            settings, allowedSenders=senders, allowedSenderNets=nets, allowedDomains=domains,
            relayControl=True, allowUntrustedRouting=routing, whitelistedTriples=triples,
            whitelistedNonstandardTriples=farms)

    def currentPolicy(self):
        """The ``GreylistPolicy`` this conversation is decided by (see the module docs)."""
        base = self.policyService().policy
        settings = base.settings
        lists = self._classLists()
        if settings.relayControl and lists == (
                settings.allowedSenders, settings.allowedSenderNets, settings.allowedDomains,
                settings.allowUntrustedRouting, settings.whitelistedTriples,
                settings.whitelistedNonstandardTriples):
            return base
        known = GreyListingPolicy._derived.get(lists)
        if known is not None and known[0] is base:
            return known[1]
        if len(GreyListingPolicy._derived) >= _DERIVED_LIMIT:
            GreyListingPolicy._derived.clear()
        policy = base.withSettings(self._withClassLists(settings))
        GreyListingPolicy._derived[lists] = (base, policy)
        return policy

    def envelope(self, recipients=None):
        """The ``Policy.Envelope`` of the transaction (``recipients``: those accepted)."""
        name = self.clientName.name if self.clientName is not None else UNKNOWN
        sender = self.session.sender or self.session.attempted
        return Envelope(clientAddress=str(self.peer), clientName=name,
                        heloName=self.remotename,
                        sender=sender.address if sender is not None else "",
                        recipients=tuple(_bare(r) for r in (
                            self.recipients if recipients is None else recipients)))

    # -- the 1.x policy methods, answered by the policy -----------------------------------------

    def sentFromAllowedIPAddress(self):
        """True if the client's address is in ``allowed_senders``."""
        return self.peer in self.currentPolicy().allowedAddresses

    def sentFromAllowedNetwork(self):
        """True if the client's address is in one of ``allowed_sender_nets``."""
        return self.peer in self.currentPolicy().allowedNetworks

    def sentToADomainWeForwardFor(self):
        """True if every recipient is in ``allowed_domains`` (or is postmaster)."""
        policy = self.currentPolicy()
        return bool(self.recipients) and all(policy.refusal(r) is None for r in self.recipients)

    def relayAllowed(self, recipient):
        refusal = self.currentPolicy().relayCheck(self.envelope(()), recipient.address)
        if refusal is None:
            return True
        metrics = Metrics.lookup(self.tracker)
        if metrics is not None:
            metrics.countDecision("proxy", refusal)
        tally = getattr(self.policyService(), "tally", None)
        if tally is not None:
            tally({"refused": 1}, self.scheduler.wallclock())
        return False

    def whiteListed(self, recipient):
        """True if ``recipient`` is whitelisted (a triple) for this client and sender."""
        return self.currentPolicy().whitelisted(self.envelope(()), _bare(recipient))

    def isGreylisted(self, recipient):
        """True if this triplet has passed greylisting (records the attempt).

        Kept for 1.x subclasses; it asks the store directly and so blocks
        briefly. The policy itself goes through the ``PolicyService``.
        """
        store = self.currentPolicy().store
        verdict = store.check(str(self.peer), self.sender, recipient, self.scheduler.wallclock())
        return verdict.passed

    # -- the decision ---------------------------------------------------------------------

    def _hooksOverridden(self):
        cls = type(self)
        return any(getattr(cls, name) is not getattr(GreyListingPolicy, name) for name in _HOOKS)

    def shouldWeAcceptMail(self):
        """Generator: the policy decision for the message (see the module documentation)."""
        yield from self.lookUpClientName()
        self.decision = None
        if self._hooksOverridden():
            return (yield from self._decideWith1xHooks())
        return (yield from self._decide(self.envelope()))

    def certainToDefer(self, recipient):
        """Generator: True if a message to ``recipient`` is sure to be deferred (nothing recorded).

        Only the policy's own decision can be known early: a subclass that
        overrides ``shouldWeAcceptMail`` or a 1.x hook is decided at DATA
        alone, as in 1.x.
        """
        cls = type(self)
        if self._hooksOverridden() or cls.shouldWeAcceptMail is not GreyListingPolicy.shouldWeAcceptMail:
            return False
        policy = self.currentPolicy()
        if policy.allowedClient(self.envelope(())):
            return False
        yield from self.lookUpClientName()
        envelope = self.envelope([recipient.bracketed()])
        if not policy.needsStore(envelope):
            return False
        return (yield from self.policyService().wouldDefer(self, envelope, policy=policy))

    def _decide(self, envelope):
        decision = yield from self.policyService().decide(self, envelope,
                                                          policy=self.currentPolicy())
        self.decision = decision
        metrics = Metrics.lookup(self.tracker)
        if metrics is not None:
            metrics.countDecision("proxy", decision)
        details = dict(decision.details)
        for recipient, reason in decision.reasons:
            self.noteToDebugLog("greylist %s <%s> <%s>: %s (%s)" % (
                envelope.clientAddress, envelope.sender, recipient,
                decision.perRecipient.get(recipient, decision.action),
                details.get(recipient, reason)))
        return decision.action == ACCEPT

    def _decideWith1xHooks(self):
        if self.sentFromAllowedIPAddress() or self.sentFromAllowedNetwork():
            return True
        if not self.sentToADomainWeForwardFor():
            return False
        policy = self.currentPolicy()
        pending = [r for r in self.recipients
                   if not self.whiteListed(r) and not policy.isPostmaster(_bare(r))]
        if not pending:
            return True
        if type(self).isGreylisted is not GreyListingPolicy.isGreylisted:
            return all([self.isGreylisted(r) for r in pending])
        return (yield from self._decide(self.envelope(pending)))

    def deferMail(self):
        """Refuse the message with the decision's reply.

        That is "451 4.7.1" for greylisting, "451 4.3.0" (outcome ERROR) if
        the store failed, "550 5.7.1" (RELAY DENIED) if a subclass let a
        recipient through at RCPT that the policy refuses.
        """
        decision = self.decision
        if decision is None or decision.action == ACCEPT:
            super().deferMail()
            return
        self.acceptingMail = False
        reasons = {reason for _, reason in decision.reasons}
        if "store-error" in reasons:
            self.mailStatus = "ERROR"
        elif decision.action == REJECT:
            self.mailStatus = "RELAY DENIED"
        else:
            self.mailStatus = "DEFERRED"
        self.reply(decision.reply)

    def messageHeaders(self):
        """Header lines to put at the top of the relayed message (bytes, may be empty)."""
        decision = self.decision
        if not self.x_greylist_header or decision is None or decision.delay is None:
            return b""
        header = xGreylistHeader(decision.delay, version(), self.servername,
                                 self.scheduler.wallclock())
        return header.encode("ascii", "replace") + b"\r\n"

    def logResult(self):
        """Write the result line (1.x format, see the module docs) to the result log."""
        now = datetime.datetime.fromtimestamp(self.scheduler.wallclock(), datetime.timezone.utc)
        stamp = now.strftime("%Y%m%d%H%M%S") + ".%03d" % (now.microsecond // 1000)
        recipients = self.recipients or getattr(self, "refusedRecipients", [])
        fields = [stamp, self.remotename or "-", str(self.peer), self.sender or "-",
                  ", ".join(recipients) or "-", self.outcome(), self.sessionId]
        self.noteToLog(" | ".join(field.replace("|", "?") for field in fields))


__kamaelia_components__ = (GreyListingPolicy,)
