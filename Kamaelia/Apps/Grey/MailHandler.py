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
The SMTP side is an ``SMTPServerEngine`` (``self.engine``), the sans-IO
connection: it frames the client's bytes into lines, applies the RFC 5321
limits and ``bare_newline``, reads message content and keeps the state of
the connection. ``MailHandler`` is the pump around it: it moves bytes from
"inbox" into the engine and replies from the engine to "outbox", waits
(bounded by ``inactivity_timeout``) when the engine needs more bytes, and
calls a hook for each command the engine hands out. The 1.x attributes
``breakConnection``, ``gettingdata``, ``draining`` and ``client_connected``
are views of the engine's state (setting them tells the engine); ``line``
and ``inbox_log`` are kept as 1.x handlers knew them.

Framing is never on TCP chunks, so pipelined commands and commands split
across packets or dripped one byte at a time give the same replies.
``bare_newline`` chooses the framing (``SMTPProtocol.framingTerminator``):
``"normalize"`` (the default) splits on LF, so a line a broken client ends
with a bare LF is taken as if ended by CRLF; ``"reject"`` splits on CRLF
only. Either way the end of a message is only CRLF "." CRLF. A command line
longer than 512 octets (RFC 5321) is answered "500 5.5.2 Line too long" and
the conversation carries on at the next line. ``getline()`` is a generator
that waits for the next command line and leaves it in ``self.line`` as text
ending in "\\r\\n" (``None`` if the client went away); ``inbox_log`` keeps
the most recent command lines (at most ``inboxLogLength``), not whole
messages.

``handleCommand(tokens)`` (tokens = ``self.line.split()``) dispatches on the
upper-cased first token through ``COMMANDS`` (verbs are case-insensitive, RFC
5321 §2.4); an unknown verb gets "500 5.5.1 Command unrecognised". A hook may
be an ordinary method or a generator; a generator is run to completion (so a
hook can wait for other components -- ``ConcreteMailHandler`` waits for the
real SMTP server this way) before the next command is read. The command the
engine parsed is ``self.currentCommand`` (a ``SMTPServerEngine.CommandEvent``), so
a hook need not parse the line again. After ``maxErrors`` error replies the
client gets a 421 and is disconnected.

``netPrint(*lines)`` sends the lines, each followed by CRLF, as one write
(text is encoded as UTF-8, losslessly) and copies them to the debug log;
``reply(reply)`` sends a ``SMTPReplies.Reply`` through it. What is sent
moves the engine on: a 354 starts reading the message, a 221 or 421 ends the
conversation. Replies built from the catalogue never echo raw client bytes
(``SMTPReplies.printable``).

Each conversation has a ``sessionId`` (unique in the process, e.g.
``"3FA2000017"``); ``logContext()`` ("session 3FA2000017 client
192.0.2.1") starts every warning about it, and every debug-log line carries
the session id and the client's address, so concurrent sessions can be told
apart.

The DATA phase: ``readMessage(onChunk)`` is the one loop that reads message
content, for this class and ``ConcreteMailHandler`` alike. If a
``handleData`` hook calls ``acceptMail()`` and returns, ``main`` sends 354,
reads the message to its end, keeps it (``self.messageData``, bytes with
dot-stuffing removed; the engine checks size (``max_message_size``), line
length and bare CR/LF) and calls ``messageReceived()``, whose default
answers "250 OK id-deferred" as Kamaelia Grey 1.x did.
``ConcreteMailHandler`` overrides ``handleData`` to stream the message to
the real server instead.

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
from Kamaelia.Apps.Grey import LogWriter
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.SMTPProtocol import NORMALIZE, SMTPStateError, parseCommand
from Kamaelia.Apps.Grey.SMTPServerEngine import (
    CLOSED,
    MESSAGE,
    NEED_DATA,
    BadCommand,
    CommandEvent,
    EndOfMessage,
    MessageChunk,
    SMTPServerEngine,
)
from Kamaelia.IPC import socketShutdown

_log = logging.getLogger(__name__)
resultLog = logging.getLogger("Kamaelia.Apps.Grey.result")
debugLog = logging.getLogger("Kamaelia.Apps.Grey.debug")
_resultLines = LogWriter.resultLines      # the same loggers, with the application's short cut
_debugLines = LogWriter.debugLines

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
    CHUNK_SIZE = 16384

    COMMANDS = {"HELO": "handleHelo", "EHLO": "handleEhlo", "MAIL": "handleMail",
                "RCPT": "handleRcpt", "DATA": "handleData", "QUIT": "handleQuit",
                "RSET": "handleRset", "NOOP": "handleNoop", "VRFY": "handleVrfy",
                "HELP": "handleHelp", "STARTTLS": "handleStarttls"}

    def __init__(self, **argd):
        super().__init__(**argd)
        self.setInboxSize("inbox", self.inboxSize)
        self.engine = SMTPServerEngine(self.bare_newline, self.max_message_size, self.CHUNK_SIZE)
        self.sessionId = nextSessionId()
        self.inbox_log = []
        self.line = None
        self.currentCommand = None
        self.errors = 0
        self.messageData = None
        self.resultLogged = False
        self._deadline = None
        self._timer = None

    # -- the 1.x flags, as views of the engine's state -----------------------------------

    @property
    def breakConnection(self):
        """True once the conversation is over (setting it True ends it)."""
        return self.engine.state == CLOSED

    @breakConnection.setter
    def breakConnection(self, value):
        if value:
            self.engine.close()

    @property
    def gettingdata(self):
        """True while a message is being taken (setting it True from a DATA hook accepts one)."""
        return self.engine.state == MESSAGE

    @gettingdata.setter
    def gettingdata(self, value):
        if value:
            self.engine.start_message()
        elif getattr(self, "engine", None) is not None and self.engine.state == MESSAGE:
            self.engine.cancel_message()

    @property
    def draining(self):
        """True once the server has asked this conversation to finish (``producerFinished``)."""
        return self.engine.draining

    @draining.setter
    def draining(self, value):
        if value:
            self.engine.drain()

    @property
    def client_connected(self):
        """False once the client's input has ended (lines it sent before may still be answered)."""
        return not self.engine.peer_closed

    @client_connected.setter
    def client_connected(self, value):
        if not value:
            self.engine.receive_data(b"")

    @property
    def _timedOut(self):
        return self.engine.timed_out

    # -- time ----------------------------------------------------------------------

    # One timer serves every wait of the conversation: a new deadline later than
    # the armed timer keeps it (most are, as each command pushes the deadline
    # on), and the timer, when it fires early, re-arms for the deadline then
    # current. A conversation costs a timer per timeout period, not per command.

    def _onTimer(self):
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.scheduler.clock() < deadline:
            self._timer = self.scheduler.callAt(deadline, self._onTimer)
            return
        self._deliveryWake()

    def setDeadline(self, seconds):
        """Arrange to be woken ``seconds`` from now (None: no deadline)."""
        if seconds is None:
            self._deadline = None
            return
        scheduler = self.scheduler
        deadline = self._deadline = scheduler.clock() + seconds
        timer = self._timer
        if timer is not None:
            if timer.when <= deadline:
                return
            timer.cancel()
        self._timer = scheduler.callAt(deadline, self._onTimer)

    def _cancelTimer(self):
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _closeDownMicroprocess(self):
        # However the conversation ended, its timer goes with it.
        self._cancelTimer()
        return super()._closeDownMicroprocess()

    def deadlinePassed(self):
        return self._deadline is not None and self.scheduler.clock() >= self._deadline

    # -- input ---------------------------------------------------------------------

    def checkControl(self):
        """Act on control messages; True if the conversation must stop now."""
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, socketShutdown):
                self.engine.receive_data(b"")
            elif isinstance(message, shutdownMicroprocess):
                self.engine.receive_data(b"")
                self.engine.close()
                return True
            elif isinstance(message, producerFinished):
                self.engine.drain()
        return False

    def absorbInput(self):
        """Move bytes from "inbox" into the engine (an empty chunk: the client's input ended)."""
        engine = self.engine
        while self.dataReady("inbox"):
            chunk = self.recv("inbox")
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            engine.receive_data(chunk)

    def logging_recv_connection(self):
        """As ``absorbInput``, copying what arrives to the debug log."""
        while self.dataReady("inbox"):
            chunk = self.recv("inbox")
            debugLog.debug("%s received %r", self.name, chunk[:200])
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            self.engine.receive_data(chunk)

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

    def nextEvent(self, timeout=None, stopOnDrain=False):
        """Generator: the engine's next event, waiting for the client's bytes if need be.

        Returns the event, or ``CONNECTION_CLOSED`` once the client has gone,
        been stopped or stayed silent for ``timeout`` seconds (default
        ``inactivity_timeout``; the client is then told "421 4.4.2"). With
        ``stopOnDrain`` it returns None as soon as a drain has begun and no
        transaction is in progress.
        """
        engine = self.engine
        found = []

        def ready():
            self.absorbInput()
            event = engine.next_event()
            if event is not NEED_DATA:
                found.append(event)
                return True
            return stopOnDrain and engine.draining and not self.transactionInProgress()

        outcome = yield from self.waitFor(
            ready, self.inactivity_timeout if timeout is None else timeout)
        if found:
            return found[0]
        if outcome == "timeout" and not engine.peer_closed:
            engine.time_out()
            self.reply(R.TIMEOUT.format(servername=self.servernameForReplies()))
        return engine.next_event() if outcome != "ok" else None

    def getline(self):
        """Generator (run with WaitComplete or ``yield from``): the next command line.

        Leaves it in ``self.line`` as text ending "\\r\\n" (and the parsed
        command in ``self.currentCommand``), or None when the client has gone or
        timed out (``breakConnection`` is then true) or a drain has begun.
        """
        while True:
            event = yield from self.nextEvent(stopOnDrain=True)
            if isinstance(event, BadCommand):
                self.errorReply(event.reply)
                if self.breakConnection:
                    event = None
                    break
                continue
            break
        if not isinstance(event, CommandEvent):
            self.line = self.currentCommand = None
            return
        self.currentCommand = event
        self.line = event.line
        self.inbox_log.append(self.line)
        if len(self.inbox_log) > self.inboxLogLength:
            del self.inbox_log[0]

    # -- output --------------------------------------------------------------------

    def netPrint(self, *lines):
        """Send the lines to the client, each followed by CRLF, in one write (and to the debug log)."""
        for line in lines:
            self.noteToDebugLog(line)
        self.send(self.engine.send_lines(lines), "outbox")

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
        _resultLines.log(line)

    def noteToDebugLog(self, line):
        """Write ``line`` to the debug log (``debuglogfile``), tagged with the session and client."""
        _debugLines.log("%s %s %s", self.sessionId, getattr(self, "peer", "-"), line)

    def logContext(self):
        """How log lines name this conversation: "session <id> client <address>"."""
        return "session %s client %s" % (self.sessionId, getattr(self, "peer", "unknown"))

    def crashNotice(self):
        """What the client is told (bytes) if this session fails: 421 4.3.0, then the connection closes."""
        reply = R.INTERNAL_ERROR_CLOSING.format(servername=self.servernameForReplies())
        return self.engine.send(reply)

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

    # -- the DATA phase ---------------------------------------------------------------

    def acceptMail(self):
        """Accept the message: ``main`` will read it after the current hook returns."""
        self.gettingdata = True

    def lastline(self):
        """True if ``self.line`` ends a message (Kamaelia 1.x compatibility)."""
        line = self.line or ""
        return line == ".\r\n" or line.endswith("\r\n.\r\n")

    def readMessage(self, onChunk=None):
        """Generator: read the message, after a 354, to its end; the one loop that does.

        Returns the ``EndOfMessage`` (its ``failure`` says whether the checks
        refused the message), or None if the client went away or timed out
        first. With ``onChunk`` (a generator function taking bytes) content
        is passed on as it arrives, in chunks of at least ``CHUNK_SIZE``
        bytes, and the ``EndOfMessage`` holds the rest; without, it holds
        all of it. Content is in wire form (dot-stuffed, CRLF line ends).
        """
        engine = self.engine
        if engine.state != MESSAGE:
            raise SMTPStateError("readMessage() before a 354 (the engine is in %s)" % engine.state)
        engine.max_message_size = self.max_message_size
        parts = []
        while True:
            event = engine.next_event()
            if event is NEED_DATA:
                event = yield from self.nextEvent()
            kind = type(event)
            if kind is MessageChunk:
                if onChunk is None:
                    parts.append(event.data)
                else:
                    yield from onChunk(event.data)
            elif kind is EndOfMessage:
                self.line = ".\r\n"
                if parts:
                    parts.append(event.data)
                    event = EndOfMessage(b"".join(parts), event.failure)
                return event
            else:
                return None

    def receiveMessage(self):
        """Generator: 354, then read the message up to its end into ``messageData``.

        Returns the reply that must replace acceptance (a size or format
        check failed), else None.
        """
        self.reply(R.START_DATA)
        end = yield from self.readMessage()
        if end is None:
            self.breakConnection = True
            return None
        if end.failure is not None:
            return end.failure
        lines = end.data.split(b"\r\n")[:-1]
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
        """The argument of the command in ``self.line`` (text after the verb).

        Raises ``SMTPError`` if the line is not a well-formed command.
        """
        command = self.currentCommand
        if command is not None and command.line is self.line:
            if command.parse_error is not None:
                raise command.parse_error
            return command.argument
        return parseCommand(self.line.rstrip("\r\n").encode("utf-8", "surrogateescape")).argument

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
            yield from self.runHook(self.handleCommand(self.line.split()))
            if self.gettingdata:
                failure = yield from self.receiveMessage()
                if failure is not None:
                    self.reply(failure)
                elif not self.breakConnection:
                    yield from self.runHook(self.messageReceived())
        self._cancelTimer()
        self.send(producerFinished(self), "signal")
        yield WaitComplete(self.handleDisconnect())
        if not self.resultLogged:
            self.logResult()


def ctimeNow(clock=time.time):
    """The date for the greeting, as Kamaelia Grey 1.x showed it (``time.ctime``)."""
    return time.ctime(clock())


__kamaelia_components__ = (MailHandler,)
