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
* connect: if a ``ClientNameService`` is registered (the application
  registers one) and ``client_name_lookup`` is true, the client's name is
  looked up at once, off the scheduler's thread: reverse lookup, confirmed
  by a forward lookup, as Postfix does (``ClientName``).
* HELO/EHLO: the name is recorded (``remotename``) and the connection to the
  real server made (``connectToRealSMTPServer``): its banner is read, it is
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
  ``max_recipients`` -> 452, ``relayAllowed`` -> 550) and then sent to the
  real server; its reply is passed back to the client, so a refusal there
  (unknown user, size) reaches the client directly. A 421 from the real
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
  get 354. The message is then streamed line by line
  (``MailHandler.readMessageLines`` with a ``MessageReader``), byte for byte
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
``backend_timeout``, ``bare_newline``, ``client_name_lookup``. State kept
for subclasses: ``remotename``, ``sender`` and ``recipients`` (as
"<address>" strings), ``seenHelo``, ``seenMail``, ``seenRcpt``,
``acceptingMail``, ``mailStatus``, ``clientName`` (a ``ClientName`` once
known).

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

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.ClientName import UNKNOWN_CLIENT
from Kamaelia.Apps.Grey.ClientNameService import ClientNameService
from Kamaelia.Apps.Grey.MailHandler import MailHandler
from Kamaelia.Apps.Grey.SMTPProtocol import (
    MessageReader,
    SMTPError,
    SMTPSession,
    allowedParameters,
    encode,
    parseHeloName,
    parseMailFrom,
    parseRcptTo,
)
from Kamaelia.Apps.Grey.SMTPReplies import ReplyError, ReplyParser, capabilities
from Kamaelia.Internet.ConnectedSocketAdapter import TLSRequest
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

_log = logging.getLogger(__name__)

# What the most recent successful EHLO to each real server offered, for
# answering a client's EHLO when the server cannot be reached at that moment.
_capabilityCache = {}

# Real servers that refused XCLIENT although they offered it: warned about once.
_xclientRefusedBy = set()


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
    client_name_lookup = True

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
        self.clientName = None
        self.refusedRecipients = []
        self.problem = None
        self.syncFailure = None
        self._nameLookup = None
        self._backendTransaction = False
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
            _log.warning("%s: real SMTP server %s:%s failed: %s", self.logContext(),
                         self.smtp_ip, self.smtp_port, self._backendError)
            self.dropBackend(politely=False)
            self.smtp_reply = self.smtp_line = None
            return None
        self.smtp_reply = found[0]
        self.smtp_line = found[0].toLines()[-1]
        self.noteToDebugLog("backend: " + " / ".join(found[0].toLines()))
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
            _log.warning("%s: real SMTP server %s:%s refused us: %s", self.logContext(),
                         self.smtp_ip, self.smtp_port, banner)
            self.dropBackend()
            return False
        csa = getattr(client, "CSA_instance", None)
        if csa is not None:
            csa.setInboxSize("inbox", self.backendInboxSize)
        if not (yield from self._backendHello()):
            return False
        if "XCLIENT" in self.backendCaps and self.xclient and self.session.heloName:
            name = yield from self.lookUpClientName()
            reply = yield from self.backendCommand(self._xclientCommand(name))
            if reply is None:
                return False
            if 200 <= reply.code < 300:
                self.xclientUsed = True
                if not (yield from self._backendHelloAsClient()):
                    return False
            elif (self.smtp_ip, self.smtp_port) not in _xclientRefusedBy:
                _xclientRefusedBy.add((self.smtp_ip, self.smtp_port))
                _log.warning("%s: the real SMTP server %s:%s offers XCLIENT but refused it: %s "
                             "(is the proxy in its smtpd_authorized_xclient_hosts?); it will "
                             "see the proxy as the client", self.logContext(), self.smtp_ip,
                             self.smtp_port, reply)
        _capabilityCache[(self.smtp_ip, self.smtp_port)] = dict(self.backendCaps)
        self._backendTransaction = False
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
            _log.warning("%s: real SMTP server refused HELO: %s", self.logContext(), reply)
            self.dropBackend()
            return False
        self.backendCaps = {}
        return True

    def _backendHelloAsClient(self):
        """Generator: after XCLIENT, greet the server with the client's own HELO/EHLO name."""
        verb = "EHLO" if self.session.esmtp else "HELO"
        reply = yield from self.backendCommand("%s %s" % (verb, self.session.heloName))
        if reply is None:
            return False
        if reply.code != 250:
            _log.warning("%s: the real SMTP server refused the client's %s after XCLIENT: %s",
                         self.logContext(), verb, reply)
            self.dropBackend()
            return False
        if verb == "EHLO":
            self.backendCaps = capabilities(reply)
        return True

    def _xclientCommand(self, name=UNKNOWN_CLIENT):
        supported = set(self.backendCaps.get("XCLIENT", ()))
        address = str(self.peer)
        if ":" in address:
            address = "IPV6:" + address
        values = [("NAME", name.xclientName), ("REVERSE_NAME", name.xclientReverseName),
                  ("ADDR", address), ("PORT", str(self.peerport)),
                  ("HELO", self.session.heloName or ""),
                  ("PROTO", "ESMTP" if self.session.esmtp else "SMTP")]
        words = ["%s=%s" % (key, _xtext(value)) for key, value in values
                 if key in supported and value]
        return "XCLIENT " + " ".join(words)

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
        self._backendTransaction = False
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

    def _syncBackend(self):
        """Generator: a connection to the real server that holds the envelope so far.

        Inside a transaction whose connection was lost and made again, the
        envelope (MAIL and every accepted RCPT) is replayed first. False if
        no such connection can be had (``syncFailure`` then says which
        outcome: "BACKEND UNAVAILABLE" or "BACKEND FAILED"); the server is
        then left with no transaction.
        """
        self.syncFailure = "BACKEND UNAVAILABLE"
        if not (yield from self._ensureBackend()):
            return False
        self.syncFailure = "BACKEND FAILED"
        sender = self.session.sender
        if sender is None or self._backendTransaction:
            return True
        self.noteToDebugLog("replaying the envelope to the real server")
        commands = ["MAIL FROM:%s%s" % (sender.bracketed(), self._params(sender))]
        commands += ["RCPT TO:%s%s" % (r.bracketed(), self._params(r))
                     for r in self.session.recipients]
        for command in commands:
            reply = yield from self.backendCommand(command)
            if reply is None:
                return False
            if not reply.isPositive:
                _log.warning("%s: the real SMTP server refused the replayed %r: %s",
                             self.logContext(), command, reply)
                yield from self._resetBackendTransaction()
                return False
            self._backendTransaction = True
        return True

    def relayReply(self, reply):
        """Pass the real server's reply to the client (with an enhanced status code).

        A 421 means the real server is closing the connection: the client's
        is closed too, after the reply (RFC 5321 §3.8).
        """
        self.reply(reply.withEnhanced())
        if reply.code == 421:
            self.dropBackend(politely=False)
            self.breakConnection = True
            if self.session.isOpen:
                self.session.close()

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

    def handleConnect(self):
        self.startClientNameLookup()
        return super().handleConnect()

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
                yield from self._resetBackendTransaction()
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
        self.resultLogged = False
        self.mailStatus = ""
        self.refusedRecipients = []
        self.sender = path.bracketed()
        if not (yield from self._ensureBackend()):
            self.reply(R.BACKEND_UNAVAILABLE)
            self.problem = "BACKEND UNAVAILABLE"
            return
        reply = yield from self.backendCommand("MAIL FROM:%s%s" % (path.bracketed(), self._params(path)))
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            self.problem = "BACKEND FAILED"
            return
        self.relayReply(reply)
        if reply.isPositive:
            self.session.startTransaction(path)
            self._backendTransaction = True
            self.sender = path.bracketed()
            self.seenMail = True
            self.problem = None
        else:
            self.problem = "MAIL REFUSED %d" % reply.code

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
            self.refusedRecipients.append(path.bracketed())
            if not self.recipients:
                self.problem = "RELAY DENIED"
            return
        reply = None
        if (yield from self._syncBackend()):
            self.syncFailure = "BACKEND FAILED"
            reply = yield from self.backendCommand("RCPT TO:%s%s" % (path.bracketed(),
                                                                     self._params(path)))
        if reply is None:
            # The transaction stays open: the next command reconnects and replays it.
            unavailable = self.syncFailure == "BACKEND UNAVAILABLE"
            self.reply(R.BACKEND_UNAVAILABLE if unavailable else R.BACKEND_FAILED)
            self.session.recipientRefused()
            self.refusedRecipients.append(path.bracketed())
            if not self.recipients:
                self.problem = self.syncFailure
            return
        self.relayReply(reply)
        if reply.isPositive:
            self.session.addRecipient(path)
            self.recipients.append(path.bracketed())
            self.seenRcpt = True
            self.problem = None
        elif self.session.isOpen:
            self.session.recipientRefused()
            self.refusedRecipients.append(path.bracketed())
            if not self.recipients:
                self.problem = "RCPT REFUSED %d" % reply.code

    def _abortTransaction(self):
        self.session.reset()
        self.sender, self.recipients = None, []
        self.seenMail = self.seenRcpt = False

    def _resetBackendTransaction(self):
        self._backendTransaction = False
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
            _log.exception("%s: the acceptance policy failed; deferring the message",
                           self.logContext())
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
        name = (self.clientName or UNKNOWN_CLIENT).name
        return ("Received: from %s (%s [%s])\r\n\tby %s (Kamaelia Grey) with %s;\r\n\t%s\r\n"
                % (R.printable(self.remotename), R.printable(name), self.peer, self.servername,
                   protocol, date)).encode("ascii", "replace")

    def _sendContent(self, out):
        """Generator: pass message content read so far to the real server (emptying ``out``)."""
        if self.backendUp:
            yield from self.sendToBackend(bytes(out))
            yield 1
        out.clear()

    def relayMessage(self):
        """Generator: DATA to the real server, 354 to the client, stream, relay the verdict."""
        if not (yield from self._syncBackend()):
            unavailable = self.syncFailure == "BACKEND UNAVAILABLE"
            self.reply(R.BACKEND_UNAVAILABLE if unavailable else R.BACKEND_FAILED)
            self.mailStatus = self.syncFailure
            self.session.reset()
            return
        header = b"" if self.xclientUsed else self._receivedHeader()
        if not self.xclientUsed and self.clientName is None:
            yield from self.lookUpClientName()
            header = self._receivedHeader()
        reply = yield from self.backendCommand("DATA")
        if reply is None:
            self.reply(R.BACKEND_FAILED)
            self.mailStatus = "BACKEND FAILED"
            self.session.reset()
            return
        if reply.code != 354:
            self.relayReply(reply)
            self.mailStatus = "REFUSED %d" % reply.code
            if self.session.isOpen:
                self.session.reset()
            return
        self.reply(R.START_DATA)
        self.session.startData()
        reader = MessageReader(self.max_message_size, self.bare_newline)
        reader.out += header
        ended = yield from self.readMessageLines(reader, self._sendContent)
        if not ended:
            self.dropBackend(politely=False)
            self.breakConnection = True
            self.mailStatus = "TIMEOUT" if self._timedOut else "ABORTED"
            self.session.close()
            if self._timedOut:
                self.reply(R.TIMEOUT.format(servername=self.servername))
            return
        self.session.endData()
        self._backendTransaction = False
        failure = reader.failure()
        if failure is not None:
            self.dropBackend(politely=False)
            self.reply(failure)
            self.mailStatus = "REFUSED %d" % failure.code
            return
        reader.out += b".\r\n"
        final = None
        if (yield from self.sendToBackend(bytes(reader.out))):
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

    def sessionCrashed(self, exc):
        self.dropBackend(politely=False)
        self.mailStatus = "ERROR"
        super().sessionCrashed(exc)

    def outcome(self):
        """The result line's outcome for this transaction or session (see the module docs)."""
        if self.mailStatus:
            return self.mailStatus
        if self._timedOut:
            return "TIMEOUT"
        if self.problem:
            return self.problem
        if self.session.sender is not None and not self.client_connected:
            return "ABORTED"
        return "NO MESSAGE"


__kamaelia_components__ = (ConcreteMailHandler,)
