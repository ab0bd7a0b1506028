"""
Kamaelia.Apps.Grey.MailHandler: the skeleton of an SMTP server conversation
===========================================================================

``MailHandler`` is a protocol handler component for ``ServerCore``: it reads
SMTP command lines from the client (its "inbox"), dispatches each to a hook
named after the verb -- ``handleHelo``, ``handleEhlo``, ``handleMail``,
``handleRcpt``, ``handleData``, ``handleQuit``, ``handleRset``,
``handleNoop``, ``handleVrfy``, ``handleHelp``, ``handleStarttls`` -- and
writes replies (its "outbox"). Subclasses supply the hooks;
``ConcreteMailHandler`` supplies all of them, relaying to a real SMTP server.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.MailHandler import MailHandler
    from Kamaelia.Chassis.ConnectedServer import ServerCore

    class Polite(MailHandler):
        def handleConnect(self):
            self.netPrint("220 polite.example.org ESMTP ready")
        def handleHelo(self, tokens):
            self.netPrint("250 polite.example.org")
        def handleQuit(self, tokens):
            self.netPrint("221 2.0.0 Bye")
            self.breakConnection = True

    ServerCore(protocol=Polite, port=2525, host="127.0.0.1").run()

How does it work?
-----------------
Input is framed into lines by ``Kamaelia.Support.LineBuffer``, never on TCP
chunks, so pipelined commands and commands split across packets or dripped
one byte at a time give the same replies. ``bare_newline`` chooses the
framing (``SMTPProtocol.framingTerminator``): ``"normalize"`` (the default)
splits on LF, so a line a broken client ends with a bare LF is taken as if
ended by CRLF; ``"reject"`` splits on CRLF only. Either way the end of a
message is only CRLF "." CRLF (``SMTPProtocol.MessageReader``). A command line longer
than 512 octets (RFC 5321) is answered "500 5.5.2 Line too long" and the
conversation carries on at the next line. ``getline()`` is a generator that
waits for the next line and leaves it in ``self.line`` as text ending in
"\\r\\n" (``None`` if the client went away); ``inbox_log`` keeps the most
recent command lines (at most ``inboxLogLength``), not whole messages.

``handleCommand(tokens)`` (tokens = ``self.line.split()``) dispatches on the
upper-cased first token through ``COMMANDS`` (verbs are case-insensitive, RFC
5321 §2.4); an unknown verb gets "500 5.5.1 Command unrecognised". A hook may
be an ordinary method or a generator; a generator is run to completion (so a
hook can wait for other components -- ``ConcreteMailHandler`` waits for the
real SMTP server this way) before the next command is read. After
``maxErrors`` error replies the client gets a 421 and is disconnected.

``netPrint(*lines)`` sends each line followed by CRLF (``str`` is encoded as
UTF-8 by the socket adapter) and copies it to the debug log. Replies built
from the catalogue never echo raw client bytes (``SMTPReplies.printable``).

Each conversation has a ``sessionId`` (unique in the process, e.g.
``"3FA2000017"``); ``logContext()`` ("session 3FA2000017 client
192.0.2.1") starts every warning about it, and every debug-log line carries
the session id and the client's address, so concurrent sessions can be told
apart.

The DATA phase: if a ``handleData`` hook calls ``acceptMail()`` and returns,
``main`` sends 354, reads the message to its end (``readMessageLines``,
the one loop that reads message content, which ``ConcreteMailHandler`` uses
too), keeps it (``self.messageData``, bytes with dot-stuffing removed) while
checking size (``max_message_size``), line length and bare CR/LF, and calls
``messageReceived()``, whose default answers "250 OK id-deferred" as
Kamaelia Grey 1.x did. ``ConcreteMailHandler`` overrides ``handleData`` to
stream the message to the real server instead.

Time: the client must send something at least every ``inactivity_timeout``
seconds (default 300, RFC 5321 §4.5.3.2.7), else it gets "421 4.4.2 ...
timeout" and is disconnected. Timers use the scheduler's clock.

Logs: ``noteToLog(line)`` writes a line to the result log and
``noteToDebugLog(line)`` to the debug log, through the standard ``logging``
loggers ``"Kamaelia.Apps.Grey.result"`` and ``"Kamaelia.Apps.Grey.debug"``
(the application attaches file handlers for ``logfile`` and
``debuglogfile``); ``logResult()`` writes the result line.

Inboxes
-------
- inbox -- bytes from the client (an empty chunk means the client closed its
  sending side)
- control -- ``socketShutdown``: the connection is gone; ``producerFinished``:
  the server is shutting down -- finish the current transaction, then say 421
  and close; ``shutdownMicroprocess``: stop now

Outboxes
--------
- outbox -- replies to the client
- signal -- ``producerFinished(self)`` when the conversation is over (closes
  the connection)

Termination
-----------
After QUIT (221), a timeout or shutdown (421), too many errors (421), or the
client disconnecting: ``producerFinished`` is sent on "signal", the
``handleDisconnect()`` generator runs and ``logResult()`` is called.

If a hook raises, the server running the session (``ServerCore``, which is
its crash handler) calls ``sessionCrashed(exc)`` and sends the client
``crashNotice()`` -- "421 4.3.0 ... Internal error" -- before closing that
connection only.
"""

import itertools
import logging
import os
import time
import types

from Axon.Component import component
from Axon.Ipc import WaitComplete, producerFinished, shutdownMicroprocess
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.SMTPProtocol import (
    COMMAND_LINE_LIMIT,
    NORMALIZE,
    MessageReader,
    commandLine,
    decode,
    encode,
    framingTerminator,
    parseCommand,
)
from Kamaelia.IPC import socketShutdown
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

_log = logging.getLogger(__name__)
resultLog = logging.getLogger("Kamaelia.Apps.Grey.result")
debugLog = logging.getLogger("Kamaelia.Apps.Grey.debug")

_sessionPrefix = os.urandom(2).hex().upper()
_sessionNumbers = itertools.count(1)


def nextSessionId():
    """A session id unique within this process (a random prefix and a counter)."""
    return "%s%06X" % (_sessionPrefix, next(_sessionNumbers))


class MailHandler(component):
    """Skeleton SMTP server conversation; subclasses supply the hooks. See the module docs."""

    Inboxes = {"inbox": "Bytes from the client",
               "control": "socketShutdown, producerFinished (drain) or shutdownMicroprocess"}
    Outboxes = {"outbox": "Replies to the client",
                "signal": "producerFinished when the conversation is over"}

    servername = "localhost"
    serverid = "Kamaelia Grey"
    logfile = "greylist.log"
    debuglogfile = "greylist-debug.log"
    inactivity_timeout = 300
    max_message_size = 10240000
    maxErrors = 20
    inboxLogLength = 100
    inboxSize = 32
    bare_newline = NORMALIZE

    COMMANDS = {"HELO": "handleHelo", "EHLO": "handleEhlo", "MAIL": "handleMail",
                "RCPT": "handleRcpt", "DATA": "handleData", "QUIT": "handleQuit",
                "RSET": "handleRset", "NOOP": "handleNoop", "VRFY": "handleVrfy",
                "HELP": "handleHelp", "STARTTLS": "handleStarttls"}

    def __init__(self, **argd):
        super().__init__(**argd)
        self.setInboxSize("inbox", self.inboxSize)
        self.sessionId = nextSessionId()
        self.inbox_log = []
        self.line = None
        self.buffer = LineBuffer(framingTerminator(self.bare_newline), COMMAND_LINE_LIMIT)
        self.client_connected = True
        self.breakConnection = False
        self.gettingdata = False
        self.draining = False
        self.errors = 0
        self.messageData = None
        self.resultLogged = False
        self._deadline = None
        self._timer = None
        self._timedOut = False

    # -- time ----------------------------------------------------------------------

    def _onTimer(self):
        self._timer = None
        self._deliveryWake()

    def setDeadline(self, seconds):
        """Arrange to be woken ``seconds`` from now (None: no deadline)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if seconds is None:
            self._deadline = None
            return
        clock = self.scheduler.clock
        self._deadline = clock() + seconds
        self._timer = self.scheduler.callLater(seconds, self._onTimer)

    def deadlinePassed(self):
        return self._deadline is not None and self.scheduler.clock() >= self._deadline

    # -- input ---------------------------------------------------------------------

    def checkControl(self):
        """Act on control messages; True if the conversation must stop now."""
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, socketShutdown):
                self.client_connected = False
            elif isinstance(message, shutdownMicroprocess):
                self.client_connected = False
                return True
            elif isinstance(message, producerFinished):
                self.draining = True
        return False

    def absorbInput(self):
        """Move bytes from "inbox" into the line buffer."""
        while self.dataReady("inbox"):
            chunk = self.recv("inbox")
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if chunk:
                self.buffer.feed(chunk)
            else:
                self.client_connected = False

    def waitFor(self, condition, timeout):
        """Generator: until ``condition()`` is true; returns "ok", "timeout" or "stopped"."""
        # Most lines of a message are already buffered: answer those without
        # arming (and then cancelling) the inactivity timer.
        if self.checkControl():
            return "stopped"
        if condition():
            return "ok"
        self.setDeadline(timeout)
        try:
            while True:
                if self.checkControl():
                    return "stopped"
                if condition():
                    return "ok"
                if self.deadlinePassed():
                    return "timeout"
                self.pause()
                yield 1
        finally:
            self.setDeadline(None)

    def bufferedLine(self, maxLength):
        """The next line if one is already buffered (bytes, no CRLF), else None; never waits.

        The message loops call this first: most lines of a message arrive
        together, and taking them straight from the buffer avoids the
        generator machinery of ``nextRawLine`` per line. ``LineTooLong``
        propagates as from ``nextRawLine``.
        """
        buffer = self.buffer
        buffer.maxLength = maxLength
        return buffer.nextLine()

    def nextRawLine(self, maxLength=COMMAND_LINE_LIMIT, timeout=None, stopOnDrain=False):
        """Generator: the next line (bytes, no CRLF); None if the client is gone or timed out.

        With ``stopOnDrain`` it also returns None once the server is draining.
        A ``LineTooLong`` from the framing propagates to the caller.
        """
        self.buffer.maxLength = maxLength
        found = []

        def ready():
            self.absorbInput()
            line = self.buffer.nextLine()
            if line is not None:
                found.append(line)
                return True
            return not self.client_connected or (stopOnDrain and self.draining
                                                 and not self.transactionInProgress())

        outcome = yield from self.waitFor(
            ready, self.inactivity_timeout if timeout is None else timeout)
        if found:
            return found[0]
        if outcome == "timeout" and self.client_connected:
            self._timedOut = True
        return None

    def getline(self):
        """Generator (run with WaitComplete or ``yield from``): the next command line.

        Leaves it in ``self.line`` as text ending "\\r\\n", or None when the
        client has gone or timed out (``breakConnection`` is then set).
        """
        while True:
            try:
                raw = yield from self.nextRawLine(COMMAND_LINE_LIMIT, stopOnDrain=True)
            except LineTooLong:
                self.errorReply(R.LINE_TOO_LONG)
                if self.breakConnection:
                    self.line = None
                    return
                continue
            break
        if raw is None:
            self.line = None
            if self.draining and self.client_connected:
                return
            self.breakConnection = True
            if self._timedOut:
                self.reply(R.TIMEOUT.format(servername=self.servernameForReplies()))
            return
        self.line = decode(commandLine(raw, self.bare_newline)) + "\r\n"
        self.inbox_log.append(self.line)
        if len(self.inbox_log) > self.inboxLogLength:
            del self.inbox_log[0]

    def logging_recv_connection(self):
        """Take what is waiting on "inbox" into the buffer and log it to the debug log."""
        while self.dataReady("inbox"):
            chunk = self.recv("inbox")
            debugLog.debug("%s received %r", self.name, chunk[:200])
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if chunk:
                self.buffer.feed(chunk)
            else:
                self.client_connected = False

    # -- output --------------------------------------------------------------------

    def netPrint(self, *lines):
        """Send each line to the client followed by CRLF (and to the debug log)."""
        for line in lines:
            self.noteToDebugLog(line)
            self.send(line + "\r\n", "outbox")

    def reply(self, reply):
        """Send a ``SMTPReplies.Reply``."""
        self.netPrint(*reply.toLines())

    def errorReply(self, reply):
        """Send an error reply, counting it; after ``maxErrors`` say 421 and disconnect."""
        self.reply(reply)
        self.errors += 1
        if self.errors >= self.maxErrors:
            self.reply(R.TOO_MANY_ERRORS.format(servername=self.servernameForReplies()))
            self.breakConnection = True

    def transactionInProgress(self):
        """True from an accepted MAIL until that transaction ends (message relayed, RSET ...).

        During a drain such a transaction may finish; the 421 comes after it.
        Handlers keeping their envelope in ``self.session`` (an
        ``SMTPSession``) need not override this.
        """
        session = getattr(self, "session", None)
        return session is not None and session.sender is not None

    def servernameForReplies(self):
        return self.servername

    def noteToLog(self, line):
        """Write ``line`` to the result log (``logfile``)."""
        resultLog.info(line)

    def noteToDebugLog(self, line):
        """Write ``line`` to the debug log (``debuglogfile``), tagged with the session and client."""
        if debugLog.isEnabledFor(logging.DEBUG):
            debugLog.debug("%s %s %s", self.sessionId, getattr(self, "peer", "-"), line)

    def logContext(self):
        """How log lines name this conversation: "session <id> client <address>"."""
        return "session %s client %s" % (self.sessionId, getattr(self, "peer", "unknown"))

    def crashNotice(self):
        """What the client is told (bytes) if this session fails: 421 4.3.0, then the connection closes."""
        reply = R.INTERNAL_ERROR_CLOSING.format(servername=self.servernameForReplies())
        return encode("\r\n".join(reply.toLines()) + "\r\n")

    def sessionCrashed(self, exc):
        """Hook: a hook raised ``exc`` and the session is over. Default: write the result line."""
        if not self.resultLogged:
            self.resultLogged = True
            self.logResult()

    # -- dispatch ------------------------------------------------------------------

    def handleCommand(self, tokens):
        """Dispatch a command to its hook; returns what the hook returns."""
        verb = tokens[0].upper() if tokens else ""
        method = self.COMMANDS.get(verb)
        if method is None or not hasattr(self, method):
            return self.handleUnknown(tokens)
        return getattr(self, method)(tokens)

    def handleUnknown(self, tokens):
        """An unrecognised (or empty) command line."""
        self.errorReply(R.UNRECOGNISED)

    @staticmethod
    def runHook(result):
        """Generator: run ``result`` if a hook returned a generator; return its value."""
        if isinstance(result, types.GeneratorType):
            return (yield from result)
        return result

    # -- the DATA phase of the base class ----------------------------------------------

    def acceptMail(self):
        """Accept the message: ``main`` will read it after the current hook returns."""
        self.gettingdata = True

    def lastline(self):
        """True if ``self.line`` ends a message (Kamaelia 1.x compatibility)."""
        line = self.line or ""
        return line == ".\r\n" or line.endswith("\r\n.\r\n")

    def readMessageLines(self, reader, chunk=None):
        """Generator: feed the message's lines to ``reader`` (a ``MessageReader``) until its end.

        Returns True at the end of the data, False if the client went away or
        timed out first. With ``chunk`` (a generator function taking the
        content read so far, ``reader.out``), it is called whenever that
        reaches ``CHUNK_SIZE`` bytes, so content can be passed on while the
        rest is read; it should empty ``reader.out``.
        """
        limit = self.CHUNK_SIZE
        framing = reader.framingLimit
        while True:
            try:
                raw = self.bufferedLine(framing)
                if raw is None:
                    raw = yield from self.nextRawLine(framing)
            except LineTooLong as e:
                reader.lineTooLong(e.length, e.suffix)
                continue
            if raw is None:
                return False
            if reader.line(raw):
                self.line = ".\r\n"
                return True
            if chunk is not None and len(reader.out) >= limit:
                yield from chunk(reader.out)

    CHUNK_SIZE = 16384

    def receiveMessage(self):
        """Generator: 354, then read the message up to its end into ``messageData``."""
        self.reply(R.START_DATA)
        reader = MessageReader(self.max_message_size, self.bare_newline)
        if not (yield from self.readMessageLines(reader)):
            self.breakConnection = True
            return None
        failure = reader.failure()
        if failure is not None:
            return failure
        lines = bytes(reader.out).split(b"\r\n")[:-1]
        self.messageData = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n"
                                    for line in lines)
        return None

    def messageReceived(self):
        """Hook: the message in ``messageData`` was received whole. Default: accept it."""
        self.netPrint("250 OK id-deferred")

    # -- hooks (subclasses override) ------------------------------------------------
    #
    # The verbs that make up a policy (HELO, EHLO, MAIL, RCPT, DATA) answer
    # "502 5.5.1 Command not implemented" until a subclass handles them; the
    # others have the standard behaviour, so a subclass need only write what
    # it does differently and a client never waits for a reply that no hook sends.

    def handleConnect(self):
        """Hook: the client has connected. Default: the "220 servername ESMTP serverid date" greeting."""
        self.reply(R.GREETING.format(servername=self.servername, serverid=self.serverid,
                                     date=ctimeNow(self.scheduler.wallclock)))

    def handleDisconnect(self):
        """Hook (a generator, run with WaitComplete): the conversation is over."""
        yield 1

    def logResult(self):
        """Hook: write the result line for this conversation (the default writes none)."""

    def handleHelo(self, tokens):
        """Hook: HELO. Default: 502."""
        self.errorReply(R.NOT_IMPLEMENTED)

    def handleEhlo(self, tokens):
        """Hook: EHLO. Default: 502 (a client then falls back to HELO)."""
        self.errorReply(R.NOT_IMPLEMENTED)

    def handleMail(self, tokens):
        """Hook: MAIL. Default: 502."""
        self.errorReply(R.NOT_IMPLEMENTED)

    def handleRcpt(self, tokens):
        """Hook: RCPT. Default: 502."""
        self.errorReply(R.NOT_IMPLEMENTED)

    def handleData(self, tokens):
        """Hook: DATA (call ``acceptMail()`` to have ``main`` read the message). Default: 502."""
        self.errorReply(R.NOT_IMPLEMENTED)

    def handleQuit(self, tokens):
        """Hook: QUIT. Default: "221 ... closing connection" and the conversation ends."""
        self.reply(R.CLOSING.format(servername=self.servername))
        session = getattr(self, "session", None)
        if session is not None:
            session.close()
        self.breakConnection = True

    def handleRset(self, tokens):
        """Hook: RSET. Default: forget the transaction in ``self.session`` (if any), 250."""
        session = getattr(self, "session", None)
        if session is not None:
            session.reset()
        self.reply(R.OK)

    def handleNoop(self, tokens):
        """Hook: NOOP. Default: 250."""
        self.reply(R.OK)

    def handleVrfy(self, tokens):
        """Hook: VRFY. Default: "252 Cannot VRFY user" (RFC 5321 7.3: do not reveal users)."""
        self.reply(R.VRFY_CANNOT)

    def handleHelp(self, tokens):
        """Hook: HELP. Default: a 214 listing the commands."""
        self.reply(R.HELP)

    def _argument(self):
        """The argument of the command in ``self.line`` (text after the verb)."""
        return parseCommand(encode(self.line.rstrip("\r\n"))).argument

    # -- main ------------------------------------------------------------------------

    def main(self):
        yield from self.runHook(self.handleConnect())
        while not self.breakConnection:
            if self.draining and not self.transactionInProgress():
                self.reply(R.SHUTTING_DOWN.format(servername=self.servernameForReplies()))
                break
            yield from self.getline()
            if self.line is None:
                if self.draining and not self.breakConnection:
                    continue
                break
            tokens = self.line.split()
            yield from self.runHook(self.handleCommand(tokens))
            if self.gettingdata:
                self.gettingdata = False
                failure = yield from self.receiveMessage()
                if failure is not None:
                    self.reply(failure)
                elif not self.breakConnection:
                    yield from self.runHook(self.messageReceived())
        self.setDeadline(None)
        self.send(producerFinished(self), "signal")
        yield WaitComplete(self.handleDisconnect())
        if not self.resultLogged:
            self.logResult()


def ctimeNow(clock=time.time):
    """The date for the greeting, as Kamaelia Grey 1.x showed it (``time.ctime``)."""
    return time.ctime(clock())


__kamaelia_components__ = (MailHandler,)
