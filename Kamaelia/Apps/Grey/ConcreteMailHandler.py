"""
Kamaelia.Apps.Grey.ConcreteMailHandler: an SMTP proxy conversation that relays to a real server
==============================================================================================

``ConcreteMailHandler`` speaks SMTP to a client and relays each transaction,
as it happens, to a real SMTP server (``smtp_ip``:``smtp_port``) through a
``TCPClient`` linked to its "tcp_*" boxes. Before relaying a message it asks
``shouldWeAcceptMail()``; subclasses (``GreyListingPolicy``) put their
policy there. The client hears "250" for a message only after the real
server has accepted it.

Example Usage
-------------
The usage shown in the original Kamaelia Grey documentation::

    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler

    class AcceptEverything(ConcreteMailHandler):
        servername = "mx.example.org"
        smtp_ip, smtp_port = "127.0.0.1", 8025
        def shouldWeAcceptMail(self):
            return True

    ServerCore(protocol=AcceptEverything, port=2525, host="127.0.0.1").run()

How does it work?
-----------------
The work is split by job. This class holds the conversation with the
client: it follows it with ``SMTPProtocol.SMTPSession`` (the state table and
the envelope, ``self.session``), takes the commands the
``SMTPServerEngine`` parsed (``MailHandler`` pumps the bytes), asks the
policy and streams the message. The real server is the business of
``self.relay``, a ``BackendRelay`` (the connection, the SMTP client engine
``SMTPClientEngine``, the envelope replay); what it offered is remembered
in ``capabilityCache`` (a ``Capabilities.CapabilityCache`` shared by the
handler class), and what the client is offered is worked out by
``Capabilities.offered_extensions``. Replies come from ``SMTPReplies``.

* connect: "220 <servername> ESMTP <serverid> <date>".
* connect: if a ``ClientNameService`` is registered (the application
  registers one) and ``client_name_lookup`` is true, the client's name is
  looked up at once, off the scheduler's thread: reverse lookup, confirmed
  by a forward lookup, as Postfix does (``ClientName``).
* HELO/EHLO: the name is recorded (``remotename``). The first session to
  meet a real server connects to it at once (``connectToRealSMTPServer``) to
  learn what it offers; later sessions answer EHLO from the capabilities
  cached then and connect only when a transaction needs the server. On
  connecting, its banner is read, it is
  sent EHLO (HELO if EHLO is refused), and, if it offers XCLIENT and
  ``xclient`` is true, told the client's verified name (``NAME=``, or
  ``[UNAVAILABLE]``/``[TEMPUNAVAIL]``), its reverse name where the server
  takes ``REVERSE_NAME``, address, port, HELO name and protocol (Postfix's
  XCLIENT). Any 2xx reply means XCLIENT was accepted; the proxy then greets
  the server again with the *client's* HELO or EHLO name, so the server's
  HELO checks and its Received header see the client's own. EHLO is answered with the
  extensions both sides support: PIPELINING and ENHANCEDSTATUSCODES (this
  handler implements them whatever the server does), SIZE (the smaller of
  ``max_message_size`` and the server's), 8BITMIME, SMTPUTF8 and DSN only if
  the server offers them, and STARTTLS if ``tlsContext`` is set.
* MAIL and RCPT are checked locally (syntax, sequence, SIZE, recipient limit
  ``max_recipients`` -> 452, ``relayAllowed`` -> 550). MAIL is then answered
  here; the real server is told of the sender together with the first
  recipient it must judge, and a refusal of the sender there is the answer
  to that RCPT (Postfix's ``smtpd_delay_reject`` does the same). Before a
  recipient goes to the real server, ``certainToDefer(recipient)`` is asked:
  once it says the message will be deferred whatever the server says (a
  greylisted triplet), the rest of the transaction is answered here, the
  real server is neither asked nor connected to, and DATA gets the 451; its
  recipient checks happen on the retry. Otherwise the recipient is sent to
  the real server and its reply passed back to the client, so a refusal
  there (unknown user, size) reaches the client directly. A 421 from the real
  server is passed on and the client's connection closed (RFC 5321 §3.8).
* The real server losing the transaction (it restarted, or closed an idle
  connection, between RCPT and DATA) is never passed on as its 503 for a
  DATA it cannot place: the proxy connects again and replays the envelope
  (MAIL and every accepted RCPT) first; if that fails the client gets a
  451 4.4.2 for the command, and may retry.
* DATA: ``shouldWeAcceptMail()`` decides for the whole message; it may
  return a bool or be a generator. An error in it defers (451 4.3.0): the
  proxy never accepts by accident. Deferred: "451 4.7.1 Please try again
  later" and the real server is sent RSET; the connection stays open.
  Accepted: the real server is sent DATA; only after its 354 does the client
  get 354. The message is then streamed as it arrives
  (``MailHandler.readMessage``, which the engine feeds), byte for byte
  (dot-stuffing untouched), in chunks, with back-pressure: if the server
  reads slowly the proxy stops reading from the client. Without XCLIENT a
  ``Received:`` header naming the client (HELO name, verified name, address)
  is put first. Only CRLF "." CRLF ends the message; the server's final reply
  is then passed to the client. ``bare_newline`` (``"normalize"``, the
  default, or ``"reject"``) says what a bare LF or CR in the content does
  (see ``SMTPProtocol``). If the message is too big, has a line over 998
  characters or (with ``"reject"``) a bare CR/LF, the connection to the
  server is dropped (so the partial message is discarded) and the client
  gets 552/554.
* A server that cannot be reached, times out (``backend_timeout``, 10
  minutes for the final reply) or hangs up gives the client a 451; nothing is
  ever acknowledged that the server did not acknowledge.
* RSET resets both sides; NOOP 250; VRFY 252; HELP 214; QUIT 221.
* STARTTLS (when offered): "220 2.0.0 Ready to start TLS", any plaintext the
  client pipelined after the command is thrown away, the connection is
  upgraded through the socket adapter's "makessl"/"sslready" boxes, and the
  client must start again with EHLO.

Attributes (class attributes or keyword arguments): ``peer``, ``peerport``,
``local``, ``localport`` (from ``ServerCore``), ``servername``, ``serverid``,
``smtp_ip``, ``smtp_port``, ``xclient``, ``tlsContext``, ``max_message_size``,
``max_recipients``, ``inactivity_timeout``, ``connect_timeout``,
``backend_timeout``, ``bare_newline``, ``client_name_lookup``,
``capabilityCache``. The 1.x state subclasses read is read from the
session, not kept twice: ``remotename`` (the HELO name), ``sender`` (the
sender of the most recent MAIL tried, as "<address>") and ``recipients``
(those accepted, as "<address>" strings), ``seenHelo``, ``seenMail``,
``seenRcpt``, ``refusedRecipients``; and from the relay: ``backend``,
``backendUp``, ``backendCaps``, ``xclientUsed``, ``smtp_reply``,
``smtp_line``. Kept here: ``acceptingMail``, ``mailStatus``,
``clientName`` (a ``ClientName`` once known).

The result line's outcome (``outcome()``) is one of: ``ACCEPTED``,
``DEFERRED``, ``REFUSED <code>`` (the message refused by the real server or
a size/format check), ``RELAY DENIED``, ``MAIL REFUSED <code>``, ``RCPT
REFUSED <code>`` (the real server refused the sender or every recipient),
``BACKEND UNAVAILABLE``, ``BACKEND FAILED``, ``TIMEOUT``, ``ABORTED`` (the
client went away inside a transaction), ``ERROR`` (an internal error: the
client got 451 or 421 4.3.0) and ``NO MESSAGE`` (the session ended without
a transaction being attempted).

Inboxes
-------
- inbox, control -- from the client's connection (see ``MailHandler``)
- tcp_inbox -- bytes from the real SMTP server
- tcp_control -- the ``TCPClient``'s signal (its connection has ended)
- sslready -- the client connection's TLS handshake completed

Outboxes
--------
- outbox, signal -- to the client's connection (see ``MailHandler``)
- tcp_outbox -- bytes to the real SMTP server
- tcp_signal -- to the ``TCPClient``'s control (close the connection)
- makessl -- upgrade the client connection to TLS

Termination
-----------
As ``MailHandler``; the connection to the real server is closed with QUIT
when the conversation ends.
"""

import email.utils
import logging

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.BackendRelay import BACKEND_FAILED, BACKEND_UNAVAILABLE, BackendRelay
from Kamaelia.Apps.Grey.Capabilities import CapabilityCache, offered_extensions, size_limit
from Kamaelia.Apps.Grey.ClientName import UNKNOWN_CLIENT
from Kamaelia.Apps.Grey.ClientNameService import ClientNameService
from Kamaelia.Apps.Grey.MailHandler import MailHandler
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Apps.Grey.SMTPClientEngine import mail_command, parameters, rcpt_command
from Kamaelia.Apps.Grey.SMTPProtocol import (
    DATA,
    Path,
    SMTPError,
    SMTPSession,
    allowedParameters,
    parseHeloName,
    parseMailFrom,
    parseRcptTo,
)
from Kamaelia.Internet.ConnectedSocketAdapter import TLSRequest
from Kamaelia.Internet.TCPClient import TCPClient

_log = logging.getLogger(__name__)


def _path(address):
    """A "<address>" string (as 1.x code sets ``sender``) as a Path; None stays None."""
    if address is None:
        return None
    text = str(address)
    return Path(text[1:-1] if text.startswith("<") and text.endswith(">") else text, {})


class ConcreteMailHandler(MailHandler):
    """An SMTP conversation relayed to a real server. See the module documentation."""

    Inboxes = {"inbox": "Bytes from the client",
               "control": "socketShutdown, producerFinished (drain) or shutdownMicroprocess",
               "tcp_inbox": "Bytes from the real SMTP server",
               "tcp_control": "The TCPClient's signal: its connection has ended",
               "sslready": "The client connection's TLS handshake completed"}
    Outboxes = {"outbox": "Replies to the client",
                "signal": "producerFinished when the conversation is over",
                "tcp_outbox": "Bytes to the real SMTP server",
                "tcp_signal": "To the TCPClient's control",
                "makessl": "TLS upgrade requests for the client connection"}

    peer = "*** UNDEFINED ***"
    peerport = "*** UNDEFINED ***"
    local = "*** UNDEFINED ***"
    localport = "*** UNDEFINED ***"
    servername = "Testing.server.local"
    serverid = "MPS SMTP 1.0"
    smtp_ip = "127.0.0.1"
    smtp_port = 25
    xclient = True
    tlsContext = None
    max_recipients = 100
    connect_timeout = 30
    backend_timeout = 300
    final_reply_timeout = 600
    backendInboxSize = 16
    client_name_lookup = True
    capabilityCache = CapabilityCache()

    def __init__(self, **argd):
        if "localip" in argd:
            argd["local"] = argd.pop("localip")
        super().__init__(**argd)
        self.session = SMTPSession()
        self.relay = BackendRelay(self, self.capabilityCache)
        self.acceptingMail = False
        self.mailStatus = ""
        self.clientName = None
        self.problem = None
        self._nameLookup = None

    # -- 1.x state, read from the session and the relay -------------------------------------

    @property
    def remotename(self):
        """The client's HELO/EHLO name ("" before one, and again after STARTTLS)."""
        return self.session.heloName or ""

    @remotename.setter
    def remotename(self, value):
        self.session.heloName = value or None

    @property
    def sender(self):
        """The sender of the most recent MAIL tried in this transaction, as "<address>" (or None)."""
        path = self.session.attempted
        return path.bracketed() if path is not None else None

    @sender.setter
    def sender(self, value):
        self.session.attempted = _path(value)

    @property
    def recipients(self):
        """The recipients accepted in this transaction, as "<address>" strings."""
        return [r.bracketed() for r in self.session.recipients]

    @recipients.setter
    def recipients(self, value):
        self.session.recipients = [_path(r) for r in value]

    @property
    def refusedRecipients(self):
        """The recipients refused since the most recent MAIL, as "<address>" strings."""
        return [r.bracketed() for r in self.session.refused]

    @property
    def seenHelo(self):
        return self.session.heloName is not None

    @property
    def seenMail(self):
        return self.session.sender is not None

    @property
    def seenRcpt(self):
        return bool(self.session.recipients)

    @property
    def backend(self):
        """The component connected to the real server (None when not connected)."""
        return self.relay.client

    @property
    def backendUp(self):
        return self.relay.up

    @property
    def backendCaps(self):
        return self.relay.capabilities

    @property
    def xclientUsed(self):
        return self.relay.xclientUsed

    @property
    def smtp_reply(self):
        """The real server's most recent reply (None after a failure)."""
        return self.relay.lastReply

    @property
    def smtp_line(self):
        """The last line of the real server's most recent reply."""
        reply = self.relay.lastReply
        return reply.toLines()[-1] if reply is not None else None

    # -- the real SMTP server (see BackendRelay) -------------------------------------------------

    def getline_fromsmtpserver(self, timeout=None):
        """Generator: the next complete reply from the real server (None if it failed)."""
        return (yield from self.relay.readReply(timeout))

    def sendToBackend(self, data):
        """Generator: send bytes to the real server, waiting while its queue is full."""
        return (yield from self.relay.sendBytes(data))

    def backendCommand(self, line, timeout=None):
        """Generator: send a command line to the real server; its reply (None on failure)."""
        return (yield from self.relay.command(line, timeout))

    def makeBackendClient(self):
        """The component that connects to the real server (a ``TCPClient``)."""
        return TCPClient(self.smtp_ip, self.smtp_port, connect_timeout=self.connect_timeout)

    def connectToRealSMTPServer(self):
        """Generator: connect, read the banner, EHLO (and XCLIENT); True if ready."""
        return (yield from self.relay.connect())

    def dropBackend(self, politely=True):
        """Close the connection to the real server (with QUIT if ``politely``)."""
        self.relay.drop(politely)

    def relayReply(self, reply):
        """Pass the real server's reply to the client (with an enhanced status code).

        A 421 means the real server is closing the connection: the client's
        is closed too, after the reply (RFC 5321 §3.8).
        """
        self.reply(reply.withEnhanced())
        if reply.code == 421:
            self.relay.drop(politely=False)
            self.breakConnection = True
            if self.session.isOpen:
                self.session.close()

    # -- the client's name ---------------------------------------------------------------

    def startClientNameLookup(self):
        """Begin looking up the client's verified name, if a ClientNameService is registered."""
        if self._nameLookup is not None or self.clientName is not None:
            return
        service = ClientNameService.lookup(self.tracker) if self.client_name_lookup else None
        if service is None:
            self.clientName = UNKNOWN_CLIENT
            return
        self._nameLookup = (service, service.begin(str(self.peer)))

    def lookUpClientName(self):
        """Generator: the client's ``ClientName`` (waits, bounded, for the lookup)."""
        if self.clientName is None:
            self.startClientNameLookup()
        if self.clientName is None:
            service, handle = self._nameLookup
            self.clientName = yield from service.wait(self, handle)
            self._nameLookup = None
            self.noteToDebugLog("client name: %s (reverse %s)" % (
                self.clientName.xclientName, self.clientName.xclientReverseName))
        return self.clientName

    # -- what the client is offered ------------------------------------------------------------

    def offeredExtensions(self):
        """The EHLO keywords offered to the client (see ``Capabilities.offered_extensions``)."""
        return offered_extensions(self.relay.knownCapabilities(), self.max_message_size,
                                  self.tlsContext is not None and not self.session.tls)

    def sizeLimit(self):
        return size_limit(self.offeredExtensions(), self.max_message_size)

    # -- the original API ----------------------------------------------------------------------

    def error(self, message):
        """Send ``message`` and end the conversation."""
        self.netPrint(message)
        self.breakConnection = True

    def RelayError(self):
        """Refuse to relay: "550 5.7.1 relay not permitted"."""
        self.reply(R.RELAY_DENIED)

    def shouldWeAcceptMail(self):
        """The policy hook: True to relay the message. The default refuses (defers) it."""
        return False

    def certainToDefer(self, recipient):
        """Hook: True if the message will be deferred at DATA whatever the real server says.

        Asked at RCPT (it may be a generator) until the real server has
        been told of the transaction; once it is true, the rest of the
        transaction is answered here, the real server is never asked (nor
        connected to), and DATA is deferred. The default says False.
        """
        return False

    def relayAllowed(self, recipient):
        """Hook: may mail to ``recipient`` (an SMTPProtocol.Path) be accepted? Default True."""
        return True

    def acceptMail(self):
        """The policy accepted the message."""
        self.acceptingMail = True
        self.mailStatus = "ACCEPTED"

    def messageHeaders(self):
        """Hook: header lines (bytes, each ending CRLF) to put at the top of the relayed message."""
        return b""

    def deferMail(self):
        """The policy deferred the message: "451 4.7.1 Please try again later"."""
        self.acceptingMail = False
        self.mailStatus = "DEFERRED"
        self.reply(R.GREYLISTED)

    # -- the hooks -----------------------------------------------------------------------------

    def handleConnect(self):
        self.startClientNameLookup()
        return super().handleConnect()

    def _greet(self, esmtp):
        try:
            name = parseHeloName(self._argument())
        except SMTPError as e:
            self.errorReply(e.reply)
            return False
        session = self.session
        hadTransaction = session.sender is not None
        renamed = name != session.heloName
        session.greet(name, esmtp)
        relay = self.relay
        if relay.client is not None and relay.up:
            if relay.xclientUsed and renamed:
                relay.drop()
            elif hadTransaction:
                yield from relay.resetTransaction()
        if not relay.cache.knows(relay.server):
            # First contact: learn what the server offers before offering it to the client.
            yield from relay.ensure()
        return True

    def handleHelo(self, tokens):
        if (yield from self._greet(esmtp=False)):
            self.reply(R.HELO_OK.format(servername=self.servername, remotename=self.remotename,
                                        peer=self.peer))

    def handleEhlo(self, tokens):
        if (yield from self._greet(esmtp=True)):
            first = R.HELO_OK.format(servername=self.servername, remotename=self.remotename,
                                     peer=self.peer).lines[0]
            self.reply(R.Reply(250, None, first, *self.offeredExtensions()))

    def handleMail(self, tokens):
        session = self.session
        problem = session.sequenceError("MAIL")
        if problem is not None:
            self.errorReply(problem)
            return
        try:
            path = parseMailFrom(self._argument(), allowedParameters(self.offeredExtensions(), "MAIL"))
        except SMTPError as e:
            self.errorReply(e.reply)
            return
        if "SIZE" in path.params and int(path.params["SIZE"]) > self.sizeLimit():
            self.reply(R.MESSAGE_TOO_BIG)
            return
        self.resultLogged = False
        self.mailStatus = ""
        session.mailAttempted(path)
        # The real server hears of the sender with the first recipient it must judge.
        session.startTransaction(path)
        self.relay.inTransaction = False
        self.problem = None
        self.reply(R.SENDER_OK)
        yield from ()

    _params = staticmethod(parameters)

    def _refuseRecipient(self, path, problem):
        self.session.recipientRefused(path)
        if not self.session.recipients:
            self.problem = problem

    def handleRcpt(self, tokens):
        session = self.session
        problem = session.sequenceError("RCPT")
        if problem is not None:
            self.errorReply(problem)
            return
        try:
            path = parseRcptTo(self._argument(), allowedParameters(self.offeredExtensions(), "RCPT"))
        except SMTPError as e:
            self.errorReply(e.reply)
            return
        if len(session.recipients) >= self.max_recipients:
            self.reply(R.TOO_MANY_RECIPIENTS)
            return
        if not self.relayAllowed(path):
            self.RelayError()
            self._refuseRecipient(path, "RELAY DENIED")
            return
        if not session.deferred and not self.relay.inTransaction:
            if (yield from self.runHook(self.certainToDefer(path))):
                session.deferTransaction()
        if session.deferred:
            self.noteToDebugLog("the transaction will be deferred: %s answered here"
                                % path.bracketed())
            session.addRecipient(path)
            self.problem = None
            self.reply(R.RECIPIENT_OK)
            return
        failure = yield from self.relay.sync(session)
        reply = None
        if isinstance(failure, R.Reply):
            # The real server refused the sender when first told of it: that is this answer.
            self.relayReply(failure)
            if session.isOpen:
                self._refuseRecipient(path, "MAIL REFUSED %d" % failure.code)
            return
        if failure is None:
            failure = BACKEND_FAILED
            reply = yield from self.relay.command(rcpt_command(path))
        if reply is None:
            # The transaction stays open: the next command reconnects and replays it.
            self.reply(R.BACKEND_UNAVAILABLE if failure == BACKEND_UNAVAILABLE else R.BACKEND_FAILED)
            self._refuseRecipient(path, failure)
            return
        self.relayReply(reply)
        if reply.isPositive:
            session.addRecipient(path)
            self.problem = None
        elif session.isOpen:
            self._refuseRecipient(path, "RCPT REFUSED %d" % reply.code)

    def _abortTransaction(self):
        self.session.reset()

    def _endTransaction(self):
        """After the result line: the transaction is over, whatever became of it."""
        session = self.session
        if session.state == DATA:
            session.endData()
        elif session.isOpen:
            session.reset()

    def _resetBackendTransaction(self):
        return self.relay.resetTransaction()

    def policyDecision(self):
        """Generator: True, False, or None if the policy failed (which defers)."""
        try:
            decision = self.shouldWeAcceptMail()
            decision = yield from self.runHook(decision)
            return bool(decision)
        except Exception:
            _log.exception("%s: the acceptance policy failed; deferring the message",
                           self.logContext())
            return None

    def handleData(self, tokens):
        problem = self.session.sequenceError("DATA")
        if problem is not None:
            self.errorReply(problem)
            return
        decision = yield from self.policyDecision()
        if decision and self.session.deferred:
            # Accepted after all (the retry window opened meanwhile), but the real server
            # never judged these recipients: the client's retry will pass.
            decision = False
        if not decision:
            if decision is None:
                self.mailStatus = "ERROR"
                self.reply(R.LOCAL_ERROR)
            else:
                self.deferMail()
            self.logResult()
            self.resultLogged = True
            self._abortTransaction()
            yield from self.relay.resetTransaction()
            return
        self.acceptMail()
        yield from self.relayMessage()
        self.acceptingMail = False
        self.logResult()
        self.resultLogged = True
        self.mailStatus = ""
        self._endTransaction()

    def _receivedHeader(self):
        protocol = ("ESMTPS" if self.session.tls else "ESMTP") if self.session.esmtp else "SMTP"
        date = email.utils.formatdate(self.scheduler.wallclock(), localtime=True)
        name = (self.clientName or UNKNOWN_CLIENT).name
        return ("Received: from %s (%s [%s])\r\n\tby %s (Kamaelia Grey) with %s;\r\n\t%s\r\n"
                % (R.printable(self.remotename), R.printable(name), self.peer, self.servername,
                   protocol, date)).encode("ascii", "replace")

    def relayMessage(self):
        """Generator: DATA to the real server, 354 to the client, stream, relay the verdict.

        Sets ``mailStatus`` for anything but acceptance; the session's
        transaction is left for ``handleData`` to end once the result line
        is written.
        """
        relay = self.relay
        failure = yield from relay.sync(self.session)
        if failure is not None:
            self.reply(R.BACKEND_UNAVAILABLE if failure == BACKEND_UNAVAILABLE else R.BACKEND_FAILED)
            self.mailStatus = failure
            return
        if not relay.xclientUsed and self.clientName is None:
            yield from self.lookUpClientName()
        pending = [(b"" if relay.xclientUsed else self._receivedHeader()) + self.messageHeaders()]
        reply = yield from relay.command("DATA")
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            self.mailStatus = BACKEND_FAILED
            return
        if reply.code != 354:
            self.relayReply(reply)
            self.mailStatus = "REFUSED %d" % reply.code
            return
        self.reply(R.START_DATA)
        self.session.startData()

        def passOn(data):
            if relay.up:
                yield from relay.sendBytes(pending.pop() + data if pending else data)
                yield 1

        end = yield from self.readMessage(passOn)
        if end is None:
            relay.drop(politely=False)
            self.mailStatus = "TIMEOUT" if self.engine.timed_out else "ABORTED"
            self.session.close()
            return
        relay.inTransaction = False
        if end.failure is not None:
            relay.drop(politely=False)
            self.reply(end.failure)
            self.mailStatus = "REFUSED %d" % end.failure.code
            return
        final = None
        if (yield from relay.sendBytes(b"".join(pending) + end.data + b".\r\n")):
            final = yield from relay.readReply(self.final_reply_timeout)
        metrics = Metrics.lookup(self.tracker)
        if metrics is not None:
            metrics.relayOutcome(final.code if final is not None else None)
        if final is None:
            self.reply(R.BACKEND_FAILED)
            self.mailStatus = BACKEND_FAILED
        else:
            self.relayReply(final)
            if not final.isPositive:
                self.mailStatus = "REFUSED %d" % final.code

    def handleRset(self, tokens):
        hadTransaction = self.session.sender is not None
        self._abortTransaction()
        if hadTransaction:
            yield from self.relay.resetTransaction()
        self.reply(R.OK)

    def handleStarttls(self, tokens):
        if self.tlsContext is None:
            self.errorReply(R.NOT_IMPLEMENTED)
            return
        if self.session.tls:
            self.errorReply(R.TLS_ALREADY_ACTIVE)
            return
        if len(tokens) > 1:
            self.errorReply(R.SYNTAX_ERROR)
            return
        problem = self.session.sequenceError("STARTTLS")
        if problem is not None:
            self.errorReply(problem)
            return
        self.reply(R.TLS_READY)          # the engine now discards the client's plaintext
        self.send(TLSRequest(self.tlsContext, server_side=True), "makessl")

        def ready():
            # Once the handshake is done, what is on "inbox" came over TLS: keep it.
            if self.dataReady("sslready") or not self.client_connected:
                return True
            self.absorbInput()
            return False

        outcome = yield from self.waitFor(ready, self.inactivity_timeout)
        if outcome != "ok" or not self.dataReady("sslready"):
            self.breakConnection = True
            return
        self.recv("sslready")
        self.engine.tls_started()
        self.session.tlsStarted()
        self.relay.drop()

    def handleDisconnect(self):
        self.relay.drop()
        yield 1

    def sessionCrashed(self, exc):
        self.relay.drop(politely=False)
        self.mailStatus = "ERROR"
        super().sessionCrashed(exc)

    def outcome(self):
        """The result line's outcome for this transaction or session (see the module docs)."""
        if self.mailStatus:
            return self.mailStatus
        if self.engine.timed_out:
            return "TIMEOUT"
        if self.problem:
            return self.problem
        if self.session.sender is not None and not self.client_connected:
            return "ABORTED"
        return "NO MESSAGE"


__kamaelia_components__ = (ConcreteMailHandler,)
