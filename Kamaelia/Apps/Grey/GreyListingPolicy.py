"""
Kamaelia.Apps.Grey.GreyListingPolicy: who may send mail through the proxy, and when
==================================================================================

``GreyListingPolicy`` is a ``ConcreteMailHandler`` whose
``shouldWeAcceptMail()`` applies greylisting: mail from an unknown
(client address, sender, recipient) triplet is deferred with a 451 the first
time, and accepted when the sender retries inside the allowed window, as
real mail servers do and most spam engines do not.

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
The policy, in the order of Kamaelia Grey 1.x:

1. a client whose address is in ``allowed_senders`` or
   ``allowed_sender_nets`` may send to anyone, without greylisting;
2. anyone else may only send to recipients in ``allowed_domains`` (a
   trailing dot, ``user@example.org.``, is the same domain), and to
   ``<postmaster>`` with no domain (RFC 5321 §4.5.1; ``postmaster@`` a
   domain we do not accept mail for is a relay attempt like any other);
   other recipients are refused at RCPT with "550 5.7.1 relay not
   permitted" (1.x deferred the whole message instead). So is a recipient
   whose local part routes the mail onward -- ``<victim%elsewhere@ours>``,
   ``<elsewhere!victim@ours>``, ``<"victim@elsewhere"@ours>`` -- unless
   ``allow_untrusted_routing`` is true (Postfix's setting of that name);
3. for the message to be accepted, every recipient must be whitelisted
   (``whitelisted_triples`` or ``whitelisted_nonstandard_triples``) or have
   passed greylisting. Every recipient that is not whitelisted is checked --
   and recorded -- at once, so several new recipients need one retry, not
   one each (1.x stopped at the first, and let one whitelisted recipient
   carry the others). Mail to postmaster is never greylisted.

Networks: ``allowed_sender_nets`` entries are CIDR networks (IPv4 or IPv6),
single addresses, or 1.x-style prefixes matched on whole octets ("10" is
10.0.0.0/8 and does not match 100.1.2.3). ``allowed_senders`` compares
addresses by value (IPv4-mapped IPv6 forms included).

Triplets are checked in a ``GreylistService`` (SQLite, in its own thread),
looked up through the tracker; if none is registered one is created for
``greylist_db`` with the 1.x timing profile. A failure of the store defers
the message (451 4.3.0): the proxy never fails open.

``whiteListed(recipient)`` matches ``(client ip, sender, recipient)`` in
``whitelisted_triples`` (sender and recipient as written in the conversation,
e.g. "<a@b>"; addresses compared by value), or ``(HELO name, network,
recipient)`` in ``whitelisted_nonstandard_triples``.

``logResult()`` writes the 1.x result line to the result log, one per
transaction attempted (and one for a session that attempted none)::

    20261123231500.123 | client.helo | 192.0.2.1 | <a@b> | <c@d>, <e@f> | ACCEPTED | 3FA2000017

The fields: time (UTC), HELO name, client address, sender, recipients (the
accepted ones, else those refused), outcome (``ConcreteMailHandler.outcome``)
and the session id, which the debug log's lines carry too. A field not
known yet is "-"; the null sender is "<>".
"""

import datetime
import logging

from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler
from Kamaelia.Apps.Grey.GreylistService import GreylistService, GreylistUnavailable
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA
from Kamaelia.Apps.Grey.Networks import AddressSet, NetworkList, addressInNetwork, sameAddress
from Kamaelia.Apps.Grey.SMTPProtocol import hasRoute

_log = logging.getLogger(__name__)


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

    _parsedLists = {}

    def _lists(self):
        """Parsed forms of the address lists (cached per distinct list contents)."""
        key = (tuple(self.allowed_senders), tuple(self.allowed_sender_nets),
               tuple(d.lower() for d in self.allowed_domains))
        parsed = self._parsedLists.get(key)
        if parsed is None:
            parsed = (AddressSet(self.allowed_senders), NetworkList(self.allowed_sender_nets),
                      frozenset(d.rstrip(".") for d in key[2]))
            GreyListingPolicy._parsedLists[key] = parsed
        return parsed

    # -- the 1.x policy methods ---------------------------------------------------------

    def sentFromAllowedIPAddress(self):
        """True if the client's address is in ``allowed_senders``."""
        return self.peer in self._lists()[0]

    def sentFromAllowedNetwork(self):
        """True if the client's address is in one of ``allowed_sender_nets``."""
        return self.peer in self._lists()[1]

    @staticmethod
    def _domainOf(recipient):
        address = recipient.strip("<>")
        return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""

    def _isPostmaster(self, recipient):
        """True for ``<postmaster>`` and postmaster at one of our domains (any case)."""
        address = recipient.strip("<>")
        local, at, _ = address.rpartition("@")
        if not at:
            return address.lower() == "postmaster"
        return local.lower() == "postmaster" and self._domainOf(recipient) in self._lists()[2]

    def _forUs(self, recipient):
        address = recipient.strip("<>")
        if address.lower() == "postmaster":
            return True
        if "@" not in address or self._domainOf(recipient) not in self._lists()[2]:
            return False
        return self.allow_untrusted_routing or not hasRoute(address)

    def sentToADomainWeForwardFor(self):
        """True if every recipient is in ``allowed_domains`` (or is postmaster)."""
        return bool(self.recipients) and all(self._forUs(r) for r in self.recipients)

    def relayAllowed(self, recipient):
        return (self.sentFromAllowedIPAddress() or self.sentFromAllowedNetwork()
                or self._forUs(recipient.bracketed()))

    def whiteListed(self, recipient):
        """True if ``recipient`` is whitelisted for this client and sender."""
        for ip, sender, rcpt in self.whitelisted_triples:
            if rcpt == recipient and sender == self.sender and sameAddress(ip, self.peer):
                return True
        for heloname, network, rcpt in self.whitelisted_nonstandard_triples:
            if rcpt == recipient and heloname == self.remotename and \
                    addressInNetwork(self.peer, network):
                return True
        return False

    def greylistService(self):
        """The registered ``GreylistService`` (one is created if none is registered)."""
        service = GreylistService.lookup(self.tracker)
        if service is None:
            store = GreylistStore(self.greylist_db, self.greylist_profile, self.greylist_key)
            service = GreylistService(store=store).registerAsService(self.tracker)
            service.activate()
        return service

    def isGreylisted(self, recipient):
        """True if this triplet has passed greylisting (records the attempt).

        Kept for 1.x subclasses; it asks the store directly and so blocks
        briefly. The policy itself uses the non-blocking ``checkGreylist``.
        """
        verdict = self.greylistService().sync(self.peer, self.sender, recipient,
                                              self.scheduler.wallclock())
        return verdict.passed

    def checkGreylist(self, recipients):
        """Generator: True if every one of ``recipients`` has passed greylisting."""
        verdicts = yield from self.greylistService().query(self, self.peer, self.sender, recipients)
        for recipient, verdict in zip(recipients, verdicts):
            self.noteToDebugLog("greylist %s %s %s: %s (%s)" % (
                self.peer, self.sender, recipient, verdict.action, verdict.reason))
        return all(v.passed for v in verdicts)

    def shouldWeAcceptMail(self):
        """Generator: the policy decision for the message (see the module documentation)."""
        if self.sentFromAllowedIPAddress() or self.sentFromAllowedNetwork():
            return True
        if not self.sentToADomainWeForwardFor():
            return False
        pending = [r for r in self.recipients
                   if not self.whiteListed(r) and not self._isPostmaster(r)]
        if not pending:
            return True
        try:
            return (yield from self.checkGreylist(pending))
        except GreylistUnavailable:
            _log.error("%s: %s", self.name, "greylist unavailable; deferring", exc_info=True)
            raise

    def logResult(self):
        """Write the result line (1.x format, see the module docs) to the result log."""
        now = datetime.datetime.fromtimestamp(self.scheduler.wallclock(), datetime.timezone.utc)
        stamp = now.strftime("%Y%m%d%H%M%S") + ".%03d" % (now.microsecond // 1000)
        recipients = self.recipients or getattr(self, "refusedRecipients", [])
        fields = [stamp, self.remotename or "-", str(self.peer), self.sender or "-",
                  ", ".join(recipients) or "-", self.outcome(), self.sessionId]
        self.noteToLog(" | ".join(field.replace("|", "?") for field in fields))


__kamaelia_components__ = (GreyListingPolicy,)
