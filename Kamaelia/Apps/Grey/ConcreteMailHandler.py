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
It follows the client's conversation with ``SMTPProtocol.SMTPSession`` (the
state table) and parses commands with ``SMTPProtocol``; replies come from
``SMTPReplies``.

* connect: "220 <servername> ESMTP <serverid> <date>".
* HELO/EHLO: the name is recorded (``remotename``) and the connection to the
  real server made (``connectToRealSMTPServer``): its banner is read, it is
  sent EHLO (HELO if EHLO is refused), and, if it offers XCLIENT and
  ``xclient`` is true, told the client's real address and HELO name
  (Postfix's XCLIENT), then sent EHLO again. EHLO is answered with the
  extensions both sides support: PIPELINING and ENHANCEDSTATUSCODES (this
  handler implements them whatever the server does), SIZE (the smaller of
  ``max_message_size`` and the server's), 8BITMIME, SMTPUTF8 and DSN only if
  the server offers them, and STARTTLS if ``tlsContext`` is set.
* MAIL and RCPT are checked locally (syntax, sequence, SIZE, recipient limit
  ``max_recipients`` -> 452, ``relayAllowed`` -> 550) and then sent to the
  real server; its reply is passed back to the client, so a refusal there
  (unknown user, size) reaches the client directly.
* DATA: ``shouldWeAcceptMail()`` decides for the whole message; it may
  return a bool or be a generator. An error in it defers (451 4.3.0): the
  proxy never accepts by accident. Deferred: "451 4.7.1 Please try again
  later" and the real server is sent RSET; the connection stays open.
  Accepted: the real server is sent DATA; only after its 354 does the client
  get 354. The message is then streamed line by line, byte for byte
  (dot-stuffing untouched), in chunks, with back-pressure: if the server
  reads slowly the proxy stops reading from the client. Without XCLIENT a
  ``Received:`` header naming the client's address is put first. The line
  that is exactly "." ends the message; the server's final reply is then
  passed to the client. If the message is too big, has a line over 998
  characters or a bare CR/LF, the connection to the server is dropped
  (so the partial message is discarded) and the client gets 552/554.
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
``backend_timeout``. State kept for subclasses: ``remotename``, ``sender``
and ``recipients`` (as "<address>" strings), ``seenHelo``, ``seenMail``,
``seenRcpt``, ``acceptingMail``, ``mailStatus``.

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

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.MailHandler import MailHandler
from Kamaelia.Apps.Grey.SMTPProtocol import (TEXT_LINE_LIMIT, DataChecker, SMTPError,
                                             SMTPSession, allowedParameters, encode,
                                             parseHeloName, parseMailFrom,
                                             parseRcptTo)
from Kamaelia.Apps.Grey.SMTPReplies import ReplyError, ReplyParser, capabilities
from Kamaelia.Internet.ConnectedSocketAdapter import TLSRequest
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

_log = logging.getLogger(__name__)

# What the most recent successful EHLO to each real server offered, for
# answering a client's EHLO when the server cannot be reached at that moment.
_capabilityCache = {}

# Message content goes to the real server in chunks of about this size; after
# each chunk the handler yields, so the socket adapter sends it while the rest
# of the message is being read (the real server works in parallel).
_DATA_CHUNK = 16384


def _xtext(value):
    """RFC 1891 xtext encoding (used by XCLIENT values)."""
    out = []
    for char in value.encode("utf-8", "surrogateescape"):
        if 33 <= char <= 126 and char not in (ord("+"), ord("=")):
            out.append(chr(char))
        else:
            out.append("+%02X" % char)
    return "".join(out)


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

    def __init__(self, **argd):
        if "localip" in argd:
            argd["local"] = argd.pop("localip")
        super().__init__(**argd)
        self.session = SMTPSession()
        self.remotename = ""
        self.sender = None
        self.recipients = []
        self.seenHelo = self.seenMail = self.seenRcpt = False
        self.acceptingMail = False
        self.mailStatus = ""
        self.smtp_line = None
        self.smtp_reply = None
        self.backend = None
        self.backendUp = False
        self.backendCaps = {}
        self.xclientUsed = False
        self._backendBuffer = None
        self._backendParser = None
        self._backendError = None

    # -- the real SMTP server -------------------------------------------------------------

    def _absorbBackend(self):
        while self.dataReady("tcp_inbox"):
            chunk = self.recv("tcp_inbox")
            if chunk and self._backendBuffer is not None:
                self._backendBuffer.feed(chunk)
        while self.dataReady("tcp_control"):
            message = self.recv("tcp_control")
            if isinstance(message, producerFinished):
                self.backendUp = False
                if message.message is not None:
                    self._backendError = message.message

    def _parsedBackendReply(self):
        while self._backendBuffer is not None:
            line = self._backendBuffer.nextLine()
            if line is None:
                return None
            reply = self._backendParser.feed(line)
            if reply is not None:
                return reply
        return None

    def getline_fromsmtpserver(self, timeout=None):
        """Generator: the next complete reply from the real server (None if it failed).

        Also leaves it in ``smtp_reply`` and its last line in ``smtp_line``.
        """
        found = []

        def ready():
            self._absorbBackend()
            try:
                reply = self._parsedBackendReply()
            except (ReplyError, LineTooLong) as e:
                self._backendError = e
                self.backendUp = False
                return True
            if reply is not None:
                found.append(reply)
                return True
            return not self.backendUp

        yield from self.waitFor(ready, self.backend_timeout if timeout is None else timeout)
        if not found:
            if self.backendUp:
                self._backendError = TimeoutError("no reply from %s port %s"
                                                  % (self.smtp_ip, self.smtp_port))
            _log.warning("%s: real SMTP server %s:%s failed: %s", self.name, self.smtp_ip,
                         self.smtp_port, self._backendError)
            self.dropBackend(politely=False)
            self.smtp_reply = self.smtp_line = None
            return None
        self.smtp_reply = found[0]
        self.smtp_line = found[0].toLines()[-1]
        self.noteToDebugLog("backend: " + str(found[0]))
        return found[0]

    def sendToBackend(self, data):
        """Generator: send bytes to the real server, waiting while its queue is full."""
        while self.backendUp:
            try:
                self.send(data, "tcp_outbox")
                return True
            except noSpaceInBox:
                self._absorbBackend()
                self.pause()
                yield 1
        return False

    def backendCommand(self, line, timeout=None):
        """Generator: send a command line to the real server; its reply (None on failure)."""
        self.noteToDebugLog("to backend: " + line)
        if not (yield from self.sendToBackend(encode(line) + b"\r\n")):
            return None
        return (yield from self.getline_fromsmtpserver(timeout))

    def makeBackendClient(self):
        """The component that connects to the real server (a ``TCPClient``)."""
        return TCPClient(self.smtp_ip, self.smtp_port, connect_timeout=self.connect_timeout)

    def connectToRealSMTPServer(self):
        """Generator: connect, read the banner, EHLO (and XCLIENT); True if ready."""
        self.dropBackend()
        client = self.makeBackendClient()
        self.link((self, "tcp_outbox"), (client, "inbox"))
        self.link((self, "tcp_signal"), (client, "control"))
        self.link((client, "outbox"), (self, "tcp_inbox"))
        self.link((client, "signal"), (self, "tcp_control"))
        client.activate()
        self.backend = client
        self.backendUp = True
        self._backendError = None
        self._backendBuffer = LineBuffer(b"\r\n", 2048)
        self._backendParser = ReplyParser()
        self.xclientUsed = False
        banner = yield from self.getline_fromsmtpserver(self.connect_timeout + self.backend_timeout)
        if banner is None:
            return False
        if banner.code != 220:
            _log.warning("%s: real SMTP server refused us: %s", self.name, banner)
            self.dropBackend()
            return False
        csa = getattr(client, "CSA_instance", None)
        if csa is not None:
            csa.setInboxSize("inbox", self.backendInboxSize)
        if not (yield from self._backendHello()):
            return False
        if "XCLIENT" in self.backendCaps and self.xclient and self.session.heloName:
            reply = yield from self.backendCommand(self._xclientCommand())
            if reply is None:
                return False
            if reply.code == 220:
                self.xclientUsed = True
                if not (yield from self._backendHello()):
                    return False
            else:
                _log.warning("%s: XCLIENT refused by the real server: %s", self.name, reply)
        _capabilityCache[(self.smtp_ip, self.smtp_port)] = dict(self.backendCaps)
        return True

    def _backendHello(self):
        reply = yield from self.backendCommand("EHLO " + self.servername)
        if reply is None:
            return False
        if reply.code == 250:
            self.backendCaps = capabilities(reply)
            return True
        reply = yield from self.backendCommand("HELO " + self.servername)
        if reply is None or reply.code != 250:
            _log.warning("%s: real SMTP server refused HELO: %s", self.name, reply)
            self.dropBackend()
            return False
        self.backendCaps = {}
        return True

    def _xclientCommand(self):
        supported = set(self.backendCaps.get("XCLIENT", ()))
        address = str(self.peer)
        if ":" in address:
            address = "IPV6:" + address
        values = [("NAME", "[UNAVAILABLE]"), ("ADDR", address), ("PORT", str(self.peerport)),
                  ("HELO", self.session.heloName or ""),
                  ("PROTO", "ESMTP" if self.session.esmtp else "SMTP")]
        words = ["%s=%s" % (key, _xtext(value)) for key, value in values
                 if key in supported and value]
        return "XCLIENT " + " ".join(words)

    def dropBackend(self, politely=True):
        """Close the connection to the real server (with QUIT if ``politely``)."""
        client = self.backend
        if client is None:
            return
        if politely and self.backendUp:
            try:
                self.send(b"QUIT\r\n", "tcp_outbox")
            except noSpaceInBox:
                _log.debug("%s: backend queue full; closing without QUIT", self.name)
        self.send(producerFinished(self), "tcp_signal")
        self.unlink(thecomponent=client)
        self.backend = None
        self.backendUp = False
        self._backendBuffer = None
        self._backendParser = None
        self.backendCaps = {}

    def _ensureBackend(self):
        """Generator: a ready connection to the real server (connecting if needed)."""
        # Between transactions the server may have closed the connection (a restart, its
        # idle timeout), perhaps saying 421 first: notice it and connect afresh.
        self._absorbBackend()
        if self.backendUp and self._backendBuffer is not None and self._backendBuffer.buffered:
            self.dropBackend(politely=False)
        if self.backend is not None and self.backendUp:
            return True
        return (yield from self.connectToRealSMTPServer())

    def relayReply(self, reply):
        """Pass the real server's reply to the client (with an enhanced status code)."""
        self.reply(reply.withEnhanced())

    # -- what the client is offered ------------------------------------------------------------

    def offeredExtensions(self):
        """The EHLO keywords offered to the client (see the module documentation)."""
        caps = self.backendCaps if self.backendUp else _capabilityCache.get(
            (self.smtp_ip, self.smtp_port), {})
        size = self.max_message_size
        serverSize = caps.get("SIZE", ())
        if serverSize and serverSize[0].isdigit() and int(serverSize[0]) > 0:
            size = min(size, int(serverSize[0]))
        offered = ["PIPELINING", "SIZE %d" % size]
        for keyword in ("8BITMIME", "SMTPUTF8", "DSN"):
            if keyword in caps:
                offered.append(keyword)
        offered.append("ENHANCEDSTATUSCODES")
        if self.tlsContext is not None and not self.session.tls:
            offered.append("STARTTLS")
        return offered

    def sizeLimit(self):
        for keyword in self.offeredExtensions():
            if keyword.startswith("SIZE "):
                return int(keyword[5:])
        return self.max_message_size

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

    def relayAllowed(self, recipient):
        """Hook: may mail to ``recipient`` (an SMTPProtocol.Path) be accepted? Default True."""
        return True

    def acceptMail(self):
        """The policy accepted the message."""
        self.acceptingMail = True
        self.mailStatus = "ACCEPTED"

    def deferMail(self):
        """The policy deferred the message: "451 4.7.1 Please try again later"."""
        self.acceptingMail = False
        self.mailStatus = "DEFERRED"
        self.reply(R.GREYLISTED)

    # -- the hooks -----------------------------------------------------------------------------

    def _greet(self, esmtp):
        try:
            name = parseHeloName(self._argument())
        except SMTPError as e:
            self.errorReply(e.reply)
            return False
        hadTransaction = self.session.sender is not None
        renamed = name != self.session.heloName
        self.session.greet(name, esmtp)
        self.remotename = name
        self.seenHelo = True
        self.seenMail = self.seenRcpt = False
        self.sender, self.recipients = None, []
        if self.backend is not None and self.backendUp:
            if self.xclientUsed and renamed:
                self.dropBackend()
            elif hadTransaction:
                if (yield from self.backendCommand("RSET")) is None:
                    self.dropBackend(politely=False)
        yield from self._ensureBackend()
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
        problem = self.session.sequenceError("MAIL")
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
        if not (yield from self._ensureBackend()):
            self.reply(R.BACKEND_UNAVAILABLE)
            return
        reply = yield from self.backendCommand("MAIL FROM:%s%s" % (path.bracketed(), self._params(path)))
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            return
        self.relayReply(reply)
        if reply.isPositive:
            self.session.startTransaction(path)
            self.sender = path.bracketed()
            self.seenMail = True

    @staticmethod
    def _params(path):
        return "".join(" %s=%s" % (k, v) if v is not None else " " + k
                       for k, v in path.params.items())

    def handleRcpt(self, tokens):
        problem = self.session.sequenceError("RCPT")
        if problem is not None:
            self.errorReply(problem)
            return
        try:
            path = parseRcptTo(self._argument(), allowedParameters(self.offeredExtensions(), "RCPT"))
        except SMTPError as e:
            self.errorReply(e.reply)
            return
        if len(self.session.recipients) >= self.max_recipients:
            self.reply(R.TOO_MANY_RECIPIENTS)
            return
        if not self.relayAllowed(path):
            self.RelayError()
            self.session.recipientRefused()
            return
        reply = yield from self.backendCommand("RCPT TO:%s%s" % (path.bracketed(), self._params(path)))
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            self._abortTransaction()
            return
        self.relayReply(reply)
        if reply.isPositive:
            self.session.addRecipient(path)
            self.recipients.append(path.bracketed())
            self.seenRcpt = True
        else:
            self.session.recipientRefused()

    def _abortTransaction(self):
        self.session.reset()
        self.sender, self.recipients = None, []
        self.seenMail = self.seenRcpt = False

    def _resetBackendTransaction(self):
        if self.backend is not None and self.backendUp:
            if (yield from self.backendCommand("RSET")) is None:
                self.dropBackend(politely=False)

    def policyDecision(self):
        """Generator: True, False, or None if the policy failed (which defers)."""
        try:
            decision = self.shouldWeAcceptMail()
            decision = yield from self.runHook(decision)
            return bool(decision)
        except Exception:
            _log.exception("%s: the acceptance policy failed; deferring the message", self.name)
            return None

    def handleData(self, tokens):
        problem = self.session.sequenceError("DATA")
        if problem is not None:
            self.errorReply(problem)
            return
        decision = yield from self.policyDecision()
        if not decision:
            if decision is None:
                self.mailStatus = "ERROR"
                self.reply(R.LOCAL_ERROR)
            else:
                self.deferMail()
            self.logResult()
            self.resultLogged = True
            self._abortTransaction()
            yield from self._resetBackendTransaction()
            return
        self.acceptMail()
        yield from self.relayMessage()
        self.acceptingMail = False
        self.logResult()
        self.resultLogged = True
        self.mailStatus = ""
        self._clearEnvelope()

    def _receivedHeader(self):
        protocol = ("ESMTPS" if self.session.tls else "ESMTP") if self.session.esmtp else "SMTP"
        date = email.utils.formatdate(self.scheduler.wallclock(), localtime=True)
        return ("Received: from %s ([%s])\r\n\tby %s (Kamaelia Grey) with %s;\r\n\t%s\r\n"
                % (self.remotename, self.peer, self.servername, protocol, date)).encode(
                    "utf-8", "surrogateescape")

    def relayMessage(self):
        """Generator: DATA to the real server, 354 to the client, stream, relay the verdict."""
        if not (yield from self._ensureBackend()):
            self.reply(R.BACKEND_UNAVAILABLE)
            self.mailStatus = "BACKEND UNAVAILABLE"
            self.session.reset()
            return
        reply = yield from self.backendCommand("DATA")
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            self.mailStatus = "BACKEND FAILED"
            self.session.reset()
            return
        if reply.code != 354:
            self.relayReply(reply)
            self.mailStatus = "REFUSED %d" % reply.code
            self.session.reset()
            return
        self.reply(R.START_DATA)
        self.session.startData()
        checker = DataChecker(self.max_message_size)
        pending = bytearray() if self.xclientUsed else bytearray(self._receivedHeader())
        while True:
            try:
                raw = self.bufferedLine(TEXT_LINE_LIMIT)
                if raw is None:
                    raw = yield from self.nextRawLine(TEXT_LINE_LIMIT)
            except LineTooLong as e:
                checker.lineTooLong(e.length)
                continue
            if raw is None:
                self.dropBackend(politely=False)
                self.breakConnection = True
                self.mailStatus = "ABORTED"
                self.session.close()
                if self._timedOut:
                    self.reply(R.TIMEOUT.format(servername=self.servername))
                return
            if checker.line(raw):
                break
            if not checker.failed and self.backendUp:
                pending += raw
                pending += b"\r\n"
                if len(pending) >= _DATA_CHUNK:
                    yield from self.sendToBackend(bytes(pending))
                    pending.clear()
                    yield 1
        self.line = ".\r\n"
        self.session.endData()
        failure = checker.failure()
        if failure is not None:
            self.dropBackend(politely=False)
            self.reply(failure)
            self.mailStatus = "REFUSED %d" % failure.code
            return
        pending += b".\r\n"
        final = None
        if (yield from self.sendToBackend(bytes(pending))):
            final = yield from self.getline_fromsmtpserver(self.final_reply_timeout)
        if final is None:
            self.reply(R.BACKEND_FAILED)
            self.mailStatus = "BACKEND FAILED"
        else:
            self.relayReply(final)
            if not final.isPositive:
                self.mailStatus = "REFUSED %d" % final.code

    def _clearEnvelope(self):
        self.sender, self.recipients = None, []
        self.seenMail = self.seenRcpt = False

    def handleRset(self, tokens):
        hadTransaction = self.session.sender is not None
        self._abortTransaction()
        if hadTransaction:
            yield from self._resetBackendTransaction()
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
        self.reply(R.TLS_READY)
        self.buffer.clear()
        self.send(TLSRequest(self.tlsContext, server_side=True), "makessl")

        def ready():
            # Once the handshake is done, what is on "inbox" came over TLS: keep it.
            if self.dataReady("sslready") or not self.client_connected:
                return True
            while self.dataReady("inbox"):
                self.recv("inbox")          # plaintext sent before the handshake: discarded
            return False

        outcome = yield from self.waitFor(ready, self.inactivity_timeout)
        if outcome != "ok" or not self.dataReady("sslready"):
            self.breakConnection = True
            return
        self.recv("sslready")
        self.buffer.clear()
        self.session.tlsStarted()
        self.remotename = ""
        self.seenHelo = False
        self.dropBackend()

    def handleDisconnect(self):
        self.dropBackend()
        yield 1


__kamaelia_components__ = (ConcreteMailHandler,)
