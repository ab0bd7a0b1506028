"""
Kamaelia.Apps.Grey.PolicyServer: Kamaelia Grey as a Postfix policy server
=========================================================================

The greylister's second front end: instead of standing in front of the
mail server as an SMTP proxy, it answers the policy requests that Postfix's
``check_policy_service`` sends (the protocol postgrey and sqlgrey speak),
over TCP or a unix socket, with the same greylist policy and store.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.PolicyServer import PolicyServer, PolicyServerSettings

    settings = PolicyServerSettings(servername="mx.example.org", greylistAt="rcpt")
    server = PolicyServer(service=policyService, settings=settings,
                          host="127.0.0.1", port=10023).activate()
    # or on a unix socket:
    PolicyServer(service=policyService, settings=settings,
                 path="/var/spool/postfix/private/greylist").activate()

and in Postfix's main.cf::

    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
        check_policy_service inet:127.0.0.1:10023

``policyService`` is a ``Kamaelia.Apps.Grey.PolicyService`` (anything with
its generator method ``decide(asker, envelope) -> Decision`` will do).

How does it work?
-----------------
``PolicyServer`` is a ``GreylistServer`` (so: a cap on sessions, a failing
connection closed on its own, ``drain()`` on SIGTERM) that runs a
``PolicyHandler`` per connection. The handler feeds the bytes it receives
to a ``PolicyProtocol.PolicyConnection`` and answers each request it gets
back, in order, one at a time: many requests per connection, pipelined or
not. It takes more bytes from the connection only when the machine needs
them, and waits while the connection's queue of answers is full, so a
client that floods requests or never reads answers is slowed down by TCP
instead of growing memory.

Each request is answered:

- ``protocol_state=RCPT`` (or no ``protocol_state`` but a ``recipient``, as
  a hand-written Exim ACL may send) with ``greylistAt = "rcpt"`` (as
  postgrey): the envelope -- ``client_address``, ``client_name``
  (``unknown`` when Postfix could not verify it), ``helo_name``, ``sender``,
  this one ``recipient`` and ``instance`` -- goes to the policy service;
- with ``greylistAt = "data"`` (all or nothing, as the proxy): RCPT requests
  are remembered under their ``instance`` and answered ``DUNNO``; the
  ``DATA`` request (or ``END-OF-MESSAGE``, whichever comes first) is
  decided for every recipient remembered, and the message passes only if
  all of them pass. Postfix must call the service at RCPT and at DATA (or
  END-OF-MESSAGE) for this (see Docs/Greylister.md). Instances are kept by
  the server, not the connection, at most ``maxInstances`` of them for at
  most ``instanceLifetime`` seconds;
- any other request (CONNECT, HELO, MAIL, VRFY, ETRN; DATA at RCPT mode):
  ``DUNNO``.

The decision becomes the answer: a deferral for greylisting
``DEFER_IF_PERMIT <greylistText>`` (``deferAction`` and ``greylistText``
are settings; Postfix then says 450 4.7.1 if nothing later rejects); a pass
after a delay ``PREPEND X-Greylist: delayed N seconds by
kamaelia-grey-VERSION at SERVERNAME; DATE`` (at most once per message, and
never at END-OF-MESSAGE, where Postfix cannot prepend any more); any other
pass ``DUNNO``. A decision to reject (a relay or routing refusal of the
policy) is answered ``REJECT <text>``; greylisting itself never rejects.
An internal error -- the policy service missing, failing or not answering
in time -- answers ``deferAction`` with "Temporary failure ..." at once, and
is logged: mail is delayed, never let through by mistake, and Postfix never
waits out its own timeout.

A request that breaks the protocol (``PolicyProtocol.BadRequest``: a line
that is not ``name=value``, over-long lines, too many attributes, a lone
blank line), or that is not ``request=smtpd_access_policy``, or that lacks
the ``client_address`` a decision needs, is answered
``badRequestAction`` (default ``DUNNO``) and logged with what was readable
of it; the connection carries on. A connection that ends in the middle of
a request is logged (there is nothing to answer).

``onePerConnection`` (postgrey's ``--exim``): close the connection after
each answer, for clients that read until the server closes. Exim's
``readsocket`` shuts down its own side after the request by default, and
that works without this setting.

Each decision is logged at INFO in postgrey's style (``action=greylist,
reason=new, client_name=..., client_address=..., sender=...,
recipient=...``) and written to the result log
(``Kamaelia.Apps.Grey.result``) in the proxy's format: time | HELO name |
client address | sender | recipients | ACCEPTED, DEFERRED or REJECTED |
queue id (or instance).

A connection silent for ``idleTimeout`` seconds is closed (Postfix closes
its own idle connections after ``max_idle``, 300 s, first). When the server
is over ``max_sessions`` or draining, a new connection gets one answer --
``deferAction`` "Service temporarily unavailable" -- to its first request
(within ``refusalTimeout`` seconds) and is closed.

Unix sockets: ``path`` makes the server listen there instead of on
``host``:``port`` (``UnixStreamServer``): a stale socket file left by a
previous run is replaced, one a running server answers on is not (the start
fails with "address in use"), and anything that is not a socket is never
touched. The socket gets ``socketMode`` (0666, as postgrey's) so that
Postfix's smtpd, running as another user, can connect; it is removed when
the server stops.

Inboxes (PolicyHandler)
-----------------------
- inbox -- bytes from the client; ``b""`` when the client closed its side
- control -- ``socketShutdown``: the connection is gone; ``producerFinished``:
  the server is draining -- answer what is already received, then close;
  ``shutdownMicroprocess``: stop now

Outboxes (PolicyHandler)
------------------------
- outbox -- answers (bytes)
- signal -- ``producerFinished(self)`` to close the connection

Termination
-----------
A handler ends when its client closes, after its answer in
``onePerConnection`` mode, on an idle timeout, or as above on "control".
The server ends as a ``GreylistServer`` does (``drain``, or
``shutdownMicroprocess`` on "control"), closing its listening socket and
removing its unix socket file.

Configuration
-------------
``PolicyServerSettings.fromConfig(config)`` reads ``servername``,
``policy_greylist_at``, ``policy_defer_action`` and ``greylist_text``
(and, if present, ``policy_bad_request_action`` and
``policy_one_per_connection``); ``policy_socket`` is the ``path``.
"""

from __future__ import annotations

import collections
import datetime
import logging
import socket
from dataclasses import dataclass
from typing import Optional

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Apps.Grey import version
from Kamaelia.Apps.Grey.GreylistServer import GreylistServer, SMTPConnectionAdapter
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Apps.Grey.Policy import ACCEPT, DEFER, GREYLISTING_REASONS, REJECT, Envelope
from Kamaelia.Apps.Grey.PolicyProtocol import (
    NEED_DATA,
    BadRequest,
    ConnectionClosed,
    PolicyConnection,
    Request,
    formatAction,
    xGreylistHeader,
)
from Kamaelia.Apps.Grey.SMTPReplies import printable
from Kamaelia.Internet.UnixServer import UnixStreamServer as _UnixStreamServer
from Kamaelia.Internet.UnixServer import bindUnixSocket
from Kamaelia.IPC import socketShutdown

_log = logging.getLogger(__name__)
_resultLog = logging.getLogger("Kamaelia.Apps.Grey.result")

INTERNAL_ERROR_TEXT = "Temporary failure, please try again later"
UNAVAILABLE_TEXT = "Service temporarily unavailable, please try again later"
DUNNO = formatAction("DUNNO")


@dataclass(frozen=True)
class PolicyServerSettings:
    """How the policy server answers (see the module docs); frozen, swapped whole."""

    servername: str = "localhost"
    greylistAt: str = "rcpt"
    deferAction: str = "DEFER_IF_PERMIT"
    greylistText: str = "Greylisted, please try again later"
    badRequestAction: str = "DUNNO"
    onePerConnection: bool = False
    version: str = ""
    idleTimeout: float = 3600.0
    refusalTimeout: float = 10.0
    maxInstances: int = 10000
    maxRecipients: int = 1000
    instanceLifetime: float = 3600.0

    def __post_init__(self) -> None:
        if self.greylistAt not in ("rcpt", "data"):
            raise ValueError("greylistAt must be 'rcpt' or 'data', got %r" % (self.greylistAt,))
        for action in (self.deferAction, self.badRequestAction):
            formatAction(action)          # raises for an action that cannot be sent
        if not self.version:
            object.__setattr__(self, "version", version())

    @classmethod
    def fromConfig(cls, config: dict) -> "PolicyServerSettings":
        """The settings from a greylist.conf dictionary (``Config.loadConfig``)."""
        return cls(servername=config.get("servername", cls.servername),
                   greylistAt=config.get("policy_greylist_at", cls.greylistAt),
                   deferAction=config.get("policy_defer_action", cls.deferAction),
                   greylistText=config.get("greylist_text", cls.greylistText),
                   badRequestAction=config.get("policy_bad_request_action", cls.badRequestAction),
                   onePerConnection=bool(config.get("policy_one_per_connection", False)))


class InstanceTable:
    """What the server remembers per message (``instance``), bounded in number, size and age.

    ``recipients(instance)`` are those recorded at RCPT (data mode), at
    most ``maxRecipients`` per message and ``maxTotal`` in all (the oldest
    messages are forgotten first); ``decided`` marks a message already
    answered at DATA; ``firstPrepend`` a message that has had its
    X-Greylist header. A message is forgotten ``lifetime`` seconds after it
    was first seen. Time is passed in.
    """

    def __init__(self, maxInstances: int = 10000, maxRecipients: int = 1000,
                 lifetime: float = 3600.0, maxTotal: int = 100000) -> None:
        self.maxInstances = maxInstances
        self.maxRecipients = maxRecipients
        self.maxTotal = maxTotal
        self.lifetime = lifetime
        self.total = 0
        self._entries: collections.OrderedDict[str, list] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, instance: str, now: float) -> list:
        self._expire(now)
        entry = self._entries.get(instance)
        if entry is None:
            entry = self._entries[instance] = [now, [], False, False]
            if len(self._entries) > self.maxInstances:
                self._dropOldest()
        return entry

    def _dropOldest(self) -> None:
        _, entry = self._entries.popitem(last=False)
        self.total -= len(entry[1])

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries and now - next(iter(entries.values()))[0] > self.lifetime:
            self._dropOldest()

    def addRecipient(self, instance: str, recipient: str, now: float) -> bool:
        """Remember ``recipient`` for ``instance``; False if it already has too many."""
        recipients = self._entry(instance, now)[1]
        if recipient in recipients:
            return True
        if len(recipients) >= self.maxRecipients:
            return False
        recipients.append(recipient)
        self.total += 1
        while self.total > self.maxTotal and len(self._entries) > 1:
            self._dropOldest()
        return True

    def recipients(self, instance: str) -> tuple:
        entry = self._entries.get(instance)
        return tuple(entry[1]) if entry is not None else ()

    def markDecided(self, instance: str, now: float) -> None:
        self._entry(instance, now)[2] = True

    def decided(self, instance: str) -> bool:
        entry = self._entries.get(instance)
        return entry is not None and entry[2]

    def firstPrepend(self, instance: str, now: float) -> bool:
        """True the first time a header is prepended for ``instance`` (then False)."""
        entry = self._entry(instance, now)
        first, entry[3] = not entry[3], True
        return first

    def forget(self, instance: str) -> None:
        entry = self._entries.pop(instance, None)
        if entry is not None:
            self.total -= len(entry[1])


_stampCache = [None, ""]


def _stamp(now: float) -> str:
    """The result log's time, UTC to the millisecond (the second's text is reused)."""
    second = int(now)
    if second != _stampCache[0]:
        when = datetime.datetime.fromtimestamp(second, datetime.timezone.utc)
        _stampCache[:] = [second, when.strftime("%Y%m%d%H%M%S")]
    return "%s.%03d" % (_stampCache[1], int((now - second) * 1000))


class PolicyHandler(component):
    """One connection of the policy server. See the module documentation."""

    Inboxes = {"inbox": "Bytes from the client (b'' when it closed its side)",
               "control": "socketShutdown / producerFinished (drain) / shutdownMicroprocess"}
    Outboxes = {"outbox": "Answers to the client (bytes)",
                "signal": "producerFinished(self) to close the connection"}

    inboxSize = 32
    server = None
    service = None
    settings = PolicyServerSettings()
    instances = None
    refusal = ""
    peer, peerport, localip, localport = "", 0, "", 0

    def __init__(self, **argd):
        super().__init__(**argd)
        self.setInboxSize("inbox", self.inboxSize)
        if self.instances is None:
            self.instances = InstanceTable()
        self.connection = PolicyConnection()
        self.answered = 0
        self.inFlight = False
        self._closing = False
        self._gone = False
        self._draining = False
        self._lastActivity = 0.0
        self._timer = None

    # -- settings that SIGHUP may swap -------------------------------------------------

    def currentSettings(self) -> PolicyServerSettings:
        server = self.server
        return server.settings if server is not None else self.settings

    def currentService(self):
        server = self.server
        return server.service if server is not None else self.service

    def logContext(self) -> str:
        return "policy client %s port %s" % (self.peer or "-", self.peerport)

    def crashNotice(self) -> bytes:
        """The answer to the request in flight when this handler failed (see GreylistServer)."""
        if not self.inFlight:
            return b""
        return formatAction(self.currentSettings().deferAction, INTERNAL_ERROR_TEXT)

    # -- the connection -----------------------------------------------------------------

    def _checkControl(self) -> None:
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, socketShutdown):
                self._gone = True
            elif isinstance(message, producerFinished):
                self._draining = True
            elif isinstance(message, shutdownMicroprocess):
                self._gone = True

    def _armTimer(self, timeout: float) -> None:
        self._timer = self.scheduler.callLater(timeout, self._checkIdle, timeout)

    def _checkIdle(self, timeout: float) -> None:
        self._timer = None
        if self._closing or self._gone:
            return
        due = self._lastActivity + timeout
        if self.scheduler.clock() >= due:
            _log.info("%s: idle for %s s; closing", self.logContext(), timeout)
            self._closing = True
            self._deliveryWake()
        else:
            self._timer = self.scheduler.callAt(due, self._checkIdle, timeout)

    def _send(self, answer: bytes):
        """Generator: send ``answer``, waiting while the connection's queue is full."""
        if not self._gone:
            yield from self.sendWhenRoom(answer, "outbox", self._goneNow)

    def _goneNow(self) -> bool:
        self._checkControl()
        return self._gone

    def main(self):
        settings = self.currentSettings()
        self._lastActivity = self.scheduler.clock()
        self._armTimer(settings.refusalTimeout if self.refusal else settings.idleTimeout)
        try:
            yield from self._serve()
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not self._gone:
            self.send(producerFinished(self), "signal")

    def _serve(self):
        connection = self.connection
        while True:
            event = connection.next_event()
            if event is NEED_DATA:
                while not self.dataReady("inbox"):
                    self._checkControl()
                    if self._gone or self._closing or self._draining:
                        return
                    self.pause()
                    yield 1
                self._checkControl()
                if self._gone:
                    return
                connection.receive_data(self.recv("inbox"))
                self._lastActivity = self.scheduler.clock()
                continue
            if isinstance(event, ConnectionClosed):
                if event.incomplete:
                    _log.warning("%s: the client closed the connection in the middle of a "
                                 "request; nothing to answer", self.logContext())
                return
            self.inFlight = True
            if self.refusal:
                answer = formatAction(self.currentSettings().deferAction, self.refusal)
            elif isinstance(event, BadRequest):
                answer = self.badRequest(event.reason, event.attributes)
            else:
                answer = yield from self.answer(event)
            yield from self._send(answer)
            self.inFlight = False
            self.answered += 1
            self._checkControl()
            if self._gone or self.refusal or self.currentSettings().onePerConnection:
                return

    # -- answering ----------------------------------------------------------------------

    def badRequest(self, reason: str, attributes: dict) -> bytes:
        """The answer to a request that cannot be decided; logged with what was readable."""
        settings = self.currentSettings()
        _log.warning("%s: bad policy request (%s); answered %s. Attributes: %s",
                     self.logContext(), printable(reason), settings.badRequestAction,
                     ", ".join("%s=%s" % (printable(k[:40]), printable(v[:100]))
                               for k, v in list(attributes.items())[:20]) or "none")
        return formatAction(settings.badRequestAction)

    def answer(self, request: Request):
        """Generator: the answer (bytes) to a well-formed request."""
        if request["request"] != "smtpd_access_policy":
            return self.badRequest("request=%r, not smtpd_access_policy"
                                   % request["request"][:40], request)
        settings = self.currentSettings()
        state = request["protocol_state"].upper()
        if not state and request["recipient"]:
            state = "RCPT"
        instance = request["instance"]
        if settings.greylistAt == "rcpt":
            if state != "RCPT":
                return DUNNO
            recipients = (request["recipient"],)
        else:
            if state == "RCPT":
                if instance:
                    if not self.instances.addRecipient(instance, request["recipient"],
                                                       self.scheduler.clock()):
                        _log.warning("%s: instance %s has over %d recipients; the rest are "
                                     "not greylisted", self.logContext(), instance,
                                     self.instances.maxRecipients)
                return DUNNO
            if state not in ("DATA", "END-OF-MESSAGE"):
                return DUNNO
            if instance and self.instances.decided(instance):
                self.instances.forget(instance)
                return DUNNO
            recipients = self.instances.recipients(instance) if instance else ()
            if not recipients and request["recipient"]:
                recipients = (request["recipient"],)
            if not recipients:
                _log.warning("%s: %s request for instance %s with no recipient known: is "
                             "check_policy_service also in smtpd_recipient_restrictions?",
                             self.logContext(), state, instance or "-")
                recipients = ("",)
        if not request["client_address"]:
            return self.badRequest("no client_address", request)
        envelope = Envelope(clientAddress=request["client_address"],
                            clientName=request["client_name"] or "unknown",
                            heloName=request["helo_name"],
                            sender=request["sender"],
                            recipients=tuple(recipients),
                            instance=instance)
        decision = yield from self.decide(envelope)
        if decision is None:
            return formatAction(settings.deferAction, INTERNAL_ERROR_TEXT)
        metrics = Metrics.lookup(self.tracker)
        if metrics is not None:
            metrics.countDecision("policy", decision)
        if settings.greylistAt == "data" and instance:
            if state == "DATA":
                self.instances.markDecided(instance, self.scheduler.clock())
            else:
                self.instances.forget(instance)
        self.logDecision(request, envelope, decision)
        return self.formatDecision(decision, state, instance)

    def decide(self, envelope: Envelope):
        """Generator: the service's Decision, or None after an internal error (logged)."""
        service = self.currentService()
        if service is None:
            _log.error("%s: no policy service; answering a deferral", self.logContext())
            return None
        try:
            return (yield from service.decide(self, envelope))
        except Exception:
            _log.exception("%s: the policy service failed for %s; answering a deferral",
                           self.logContext(), envelope)
            return None

    def formatDecision(self, decision, state: str, instance: str) -> bytes:
        """The answer for a Decision (see the module docs)."""
        settings = self.currentSettings()
        if decision.action == ACCEPT:
            delay = decision.delay
            if delay is None or delay <= 0 or state == "END-OF-MESSAGE":
                return DUNNO
            if instance and not self.instances.firstPrepend(instance, self.scheduler.clock()):
                return DUNNO
            return formatAction("PREPEND", xGreylistHeader(
                delay, settings.version, settings.servername, self.scheduler.wallclock()))
        if decision.action == DEFER:
            reasons = {reason for _, reason in decision.reasons}
            if reasons & GREYLISTING_REASONS:
                return formatAction(settings.deferAction, settings.greylistText)
            return formatAction(settings.deferAction, decision.reply.text or INTERNAL_ERROR_TEXT)
        if decision.action == REJECT:
            return formatAction("REJECT", decision.reply.text)
        _log.error("%s: unknown decision %r; answering a deferral", self.logContext(), decision)
        return formatAction(settings.deferAction, INTERNAL_ERROR_TEXT)

    def logDecision(self, request: Request, envelope: Envelope, decision) -> None:
        outcome = {ACCEPT: "ACCEPTED", DEFER: "DEFERRED", REJECT: "REJECTED"}.get(
            decision.action, str(decision.action))
        if _log.isEnabledFor(logging.INFO):
            action = {ACCEPT: "pass", DEFER: "greylist", REJECT: "reject"}.get(
                decision.action, str(decision.action))
            reasons = ",".join(sorted({reason for _, reason in decision.reasons})) or "-"
            _log.info("action=%s, reason=%s, client_name=%s, client_address=%s, sender=%s, "
                      "recipient=%s%s", action, reasons, printable(envelope.clientName),
                      printable(envelope.clientAddress), printable(envelope.sender or "<>"),
                      printable(",".join(envelope.recipients)),
                      ", delay=%d" % decision.delay if decision.delay else "")
        if _resultLog.isEnabledFor(logging.INFO):
            fields = [_stamp(self.scheduler.wallclock()), envelope.heloName or "-",
                      envelope.clientAddress, "<%s>" % envelope.sender,
                      ", ".join("<%s>" % r for r in envelope.recipients) or "-", outcome,
                      request["queue_id"] or envelope.instance or "-"]
            _resultLog.info(" | ".join(printable(field).replace("|", "?") for field in fields))


# -- listening ---------------------------------------------------------------------------


class UnixStreamServer(_UnixStreamServer):
    """``Kamaelia.Internet.UnixServer.UnixStreamServer`` with the greylister's CSA
    (the sending side stays open after the client's EOF)."""

    CSA = SMTPConnectionAdapter


class PolicyServer(GreylistServer):
    """The policy server: a PolicyHandler per connection. See the module documentation."""

    port = 10023
    path = ""
    frontend = "policy"
    socketMode = 0o666
    service = None
    settings = PolicyServerSettings()
    csaInboxSize = 64

    def __init__(self, **argd):
        argd.setdefault("protocol", PolicyHandler)
        super().__init__(**argd)
        self.instances = InstanceTable(self.settings.maxInstances, self.settings.maxRecipients,
                                       self.settings.instanceLifetime)

    def _makeServer(self):
        if self.path:
            self.server = UnixStreamServer(self.path, self.socketMode, listener=self.listener)
            if self.server.listener is not None:
                self.port = self.path
        else:
            super()._makeServer()

    @staticmethod
    def _addresses(sock, port):
        if sock.family == socket.AF_UNIX:
            return "unix", 0, port, 0
        return GreylistServer._addresses(sock, port)

    def setService(self, service):
        """Use ``service`` for the requests from now on (in the scheduler's thread)."""
        self.service = service

    def setSettings(self, settings: PolicyServerSettings):
        """Answer with ``settings`` from the next request on (in the scheduler's thread)."""
        self.settings = settings

    def mkProtocolHandler(self, **sock_info):
        refusal = ""
        if self.draining:
            self.refused += 1
            refusal = UNAVAILABLE_TEXT
        elif len(self.connectedSockets) >= self.max_sessions:
            self.refused += 1
            refusal = UNAVAILABLE_TEXT
            _log.warning("policy server: %d connections already open; the one from %s gets a "
                         "deferral and is closed", len(self.connectedSockets), sock_info.get("peer"))
        return self.protocol(server=self, instances=self.instances, refusal=refusal, **sock_info)

    def handleNewConnection(self, newCSAMessage):
        handler = super().handleNewConnection(newCSAMessage)
        newCSAMessage.object.setInboxSize("inbox", self.csaInboxSize)
        return handler


def makePolicyServer(config: dict, service, **argd) -> PolicyServer:
    """A PolicyServer for a greylist.conf dictionary: ``policy_socket`` or ``listen_address``:``port``."""
    settings = PolicyServerSettings.fromConfig(config)
    path: Optional[str] = config.get("policy_socket") or ""
    if path:
        argd.setdefault("path", path)
    else:
        argd.setdefault("host", config.get("listen_address", ""))
        argd.setdefault("port", config.get("port", PolicyServer.port))
    argd.setdefault("max_sessions", config.get("max_sessions", PolicyServer.max_sessions))
    return PolicyServer(service=service, settings=settings, **argd)


__kamaelia_components__ = (PolicyServer, PolicyHandler)
