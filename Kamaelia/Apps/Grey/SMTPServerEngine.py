"""
Kamaelia.Apps.Grey.SMTPServerEngine: the server side of an SMTP connection, bytes in, events out
================================================================================================

A sans-IO SMTP server connection, on the model of h11's ``Connection``: the
bytes a client sends go in with ``receive_data``, what they mean comes out
of ``next_event`` (a HELO, a MAIL, a chunk of message content, the end of
the message, the client gone ...), and a reply goes out through ``send``,
which returns the bytes to write and moves the connection on (a 354 starts
the message, a 221 or 421 ends the connection). It owns the line framing,
the RFC 5321 line limits, the ``bare_newline`` handling of message content
and the connection's state. No sockets, no clock, no Axon: the component
that pumps bytes between a socket and the engine (``MailHandler``) decides
what to answer and when to give up waiting.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey import SMTPReplies as R
    >>> from Kamaelia.Apps.Grey.SMTPServerEngine import (
    ...     NEED_DATA, Data, EndOfMessage, Hello, SMTPServerEngine)
    >>> engine = SMTPServerEngine()
    >>> engine.receive_data(b"EHLO client.example\\r\\nDATA\\r\\nSubject: hi\\r\\n")
    >>> event = engine.next_event()
    >>> type(event).__name__, event.verb, event.argument
    ('Hello', 'EHLO', 'client.example')
    >>> engine.send(R.OK)
    b'250 2.0.0 OK\\r\\n'
    >>> isinstance(engine.next_event(), Data)
    True
    >>> engine.send(R.START_DATA)[:3]      # the 354 switches to reading the message
    b'354'
    >>> engine.state
    'MESSAGE'
    >>> engine.next_event() is NEED_DATA
    True
    >>> engine.receive_data(b"\\r\\nhello\\r\\n.\\r\\nQUIT\\r\\n")
    >>> end = engine.next_event()
    >>> isinstance(end, EndOfMessage), end.data, end.failure
    (True, b'Subject: hi\\r\\n\\r\\nhello\\r\\n', None)
    >>> type(engine.next_event()).__name__
    'Quit'

How does it work?
-----------------
The connection is in one of four states:

- ``COMMAND``: reading command lines (at most 512 octets with CRLF, RFC
  5321 4.5.3.1.4). Each line becomes an event named after its verb
  (``Hello`` for HELO and EHLO, ``Mail``, ``Rcpt``, ``Data``, ``Quit``,
  ``Rset``, ``Noop``, ``Vrfy``, ``Help``, ``StartTLS``) or an
  ``UnknownCommand``; every one is a ``CommandEvent`` carrying the line as
  received (``raw``), as 1.x handlers saw it (``line``: text, lossless,
  ending CRLF),
  the upper-cased ``verb`` and the ``argument`` (None if the line is not a
  well-formed command: ``parse_error`` then holds the ``SMTPError``). A line
  that is too long is thrown away as it arrives and reported as a
  ``BadCommand`` with the reply to send ("500 5.5.2 Line too long"), and
  reading carries on at the next line.
- ``MESSAGE``: reading message content, from the moment a 354 is sent (or
  ``start_message()`` is called) until the end of data. Lines are framed
  and checked by ``SMTPProtocol.MessageReader`` (size, 1000-octet lines,
  bare CR and LF, only CRLF "." CRLF ends the data); the content, in wire
  form (dot-stuffed, CRLF line ends), comes out as ``MessageChunk`` events
  of at least ``chunk_size`` bytes each, then an ``EndOfMessage`` holding
  the rest (``data``) and the reply that must replace acceptance
  (``failure``: 552 or 554) or None. Where chunks begin and end depends on
  the content alone, never on how the bytes arrived. Runs of ordinary
  lines (CRLF ends, none over the limit, no lone "."), most of a message,
  are checked and copied in one piece (``MessageReader.block``); a run
  needing a closer look goes line by line, with the same result.
- ``TLS``: a 220 was sent in answer to STARTTLS. Whatever the client sent
  after the command was plaintext, and is thrown away (as is anything fed
  until ``tls_started()`` says the handshake is done; RFC 3207 4.2).
- ``CLOSED``: nothing more is read. A 221 or 421 reply, ``close()`` (the
  application ends the conversation), ``time_out()`` (the client was silent
  for too long) or the end of the client's input (``receive_data(b"")``,
  once every complete line before it has been handed out) lead here, from
  any state; ``next_event`` then returns ``CONNECTION_CLOSED``.

``TRANSITIONS`` is the table of (state, trigger) -> state; a trigger with
no entry for the current state changes nothing (a reply is still encoded).
``next_event`` returns ``NEED_DATA`` when it needs more bytes. Two more
facts are kept beside the state: ``draining`` (``drain()``: the server is
shutting down; the application finishes the transaction in progress, then
says 421) and ``timed_out``. ``peer_closed`` says the client's input has
ended, even while complete lines it sent before that are still buffered:
those are handed out and answered first (a client that half-closes after
pipelining its commands gets every reply).

Using the engine out of order (``tls_started()`` outside ``TLS``,
``start_message()`` after the connection closed) raises ``SMTPStateError``:
that is our bug. A client breaking the protocol never raises: it gets
events (``BadCommand``, ``UnknownCommand``) and the application answers.

Framing: ``bare_newline`` (``"normalize"``, the default, or ``"reject"``)
is that of ``SMTPProtocol``: lines are split on LF when normalizing (a
command ended by a bare LF is taken as if ended by CRLF) and on CRLF only
when rejecting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Union

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.SMTPProtocol import (
    COMMAND_LINE_LIMIT,
    NORMALIZE,
    MessageReader,
    SMTPError,
    SMTPStateError,
    commandLine,
    decode,
    encode,
    framingTerminator,
    parseCommand,
)
from Kamaelia.Apps.Grey.SMTPReplies import Reply
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

__all__ = ["SMTPServerEngine", "CommandEvent", "Hello", "Mail", "Rcpt", "Data", "Quit", "Rset",
           "Noop", "Vrfy", "Help", "StartTLS", "UnknownCommand", "BadCommand", "MessageChunk",
           "EndOfMessage", "NEED_DATA", "CONNECTION_CLOSED", "COMMAND", "MESSAGE", "TLS", "CLOSED",
           "TRANSITIONS", "VERB_EVENTS"]

COMMAND, MESSAGE, TLS, CLOSED = "COMMAND", "MESSAGE", "TLS", "CLOSED"
DEFAULT_CHUNK_SIZE = 16384


class _Sentinel(object):
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEED_DATA = _Sentinel("NEED_DATA")
CONNECTION_CLOSED = _Sentinel("CONNECTION_CLOSED")


# -- events --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CommandEvent:
    """A command line. ``verb`` is its first word upper-cased ("" for a blank line)."""

    raw: bytes
    verb: str
    argument: Optional[str]
    line: str = field(default="", compare=False)
    parse_error: Optional[SMTPError] = field(default=None, compare=False)


class Hello(CommandEvent):
    """HELO or EHLO."""

    __slots__ = ()

    @property
    def esmtp(self) -> bool:
        return self.verb == "EHLO"


class Mail(CommandEvent):
    """MAIL."""

    __slots__ = ()


class Rcpt(CommandEvent):
    """RCPT."""

    __slots__ = ()


class Data(CommandEvent):
    """DATA: the client asks to send a message. A 354 in answer starts it."""

    __slots__ = ()


class Quit(CommandEvent):
    __slots__ = ()


class Rset(CommandEvent):
    __slots__ = ()


class Noop(CommandEvent):
    __slots__ = ()


class Vrfy(CommandEvent):
    __slots__ = ()


class Help(CommandEvent):
    __slots__ = ()


class StartTLS(CommandEvent):
    """STARTTLS. A 220 in answer makes the engine discard input until ``tls_started()``."""

    __slots__ = ()


class UnknownCommand(CommandEvent):
    """A line whose verb is none of the above (or a blank line)."""

    __slots__ = ()


VERB_EVENTS: Dict[str, type] = {
    "HELO": Hello, "EHLO": Hello, "MAIL": Mail, "RCPT": Rcpt, "DATA": Data, "QUIT": Quit,
    "RSET": Rset, "NOOP": Noop, "VRFY": Vrfy, "HELP": Help, "STARTTLS": StartTLS,
}


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A command line over the limit, discarded; ``reply`` is what to answer."""

    reply: Reply
    length: int


@dataclass(frozen=True, slots=True)
class MessageChunk:
    """Message content in wire form (dot-stuffed, CRLF line ends)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The end of data: the content not yet given out in a chunk, and the verdict of the checks."""

    data: bytes
    failure: Optional[Reply]


Event = Union[CommandEvent, BadCommand, MessageChunk, EndOfMessage, _Sentinel]


# -- the state table --------------------------------------------------------------------

REPLY_354 = "reply 354"
REPLY_220_TO_STARTTLS = "reply 220 to STARTTLS"
REPLY_221 = "reply 221"
REPLY_421 = "reply 421"
START_MESSAGE = "start_message()"
CANCEL_MESSAGE = "cancel_message()"
END_OF_DATA = "end of data"
TLS_STARTED = "tls_started()"
CLOSE = "close()"
TIME_OUT = "time_out()"
INPUT_ENDED = "input ended"

_ENDINGS = {REPLY_221: CLOSED, REPLY_421: CLOSED, CLOSE: CLOSED, TIME_OUT: CLOSED,
            INPUT_ENDED: CLOSED}

# state -> {trigger: next state}
TRANSITIONS: Dict[str, Dict[str, str]] = {
    COMMAND: {REPLY_354: MESSAGE, START_MESSAGE: MESSAGE, REPLY_220_TO_STARTTLS: TLS, **_ENDINGS},
    MESSAGE: {REPLY_354: MESSAGE, START_MESSAGE: MESSAGE, END_OF_DATA: COMMAND,
              CANCEL_MESSAGE: COMMAND, **_ENDINGS},
    TLS: {TLS_STARTED: COMMAND, **_ENDINGS},
    CLOSED: {},
}

# Triggers the application causes by calling a method: out of order, they are our bug.
_CALLED = {START_MESSAGE, TLS_STARTED}


class SMTPServerEngine(object):
    """One SMTP server connection, without I/O. See the module documentation."""

    def __init__(self, bare_newline: str = NORMALIZE, max_message_size: Optional[int] = None,
                 chunk_size: Optional[int] = DEFAULT_CHUNK_SIZE):
        self.bare_newline = bare_newline
        self.max_message_size = max_message_size
        self.chunk_size = chunk_size
        self._buffer = LineBuffer(framingTerminator(bare_newline), COMMAND_LINE_LIMIT)
        self._state = COMMAND
        self._reader: Optional[MessageReader] = None
        self._last: Optional[CommandEvent] = None
        self._peer_closed = False
        self._draining = False
        self._timed_out = False

    # -- what is known ----------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def peer_closed(self) -> bool:
        """The client's input has ended (complete lines sent before may still be buffered)."""
        return self._peer_closed

    @property
    def draining(self) -> bool:
        return self._draining

    @property
    def timed_out(self) -> bool:
        return self._timed_out

    @property
    def last_command(self) -> Optional[CommandEvent]:
        """The most recent command event handed out (None before the first)."""
        return self._last

    def _move(self, trigger: str) -> None:
        following = TRANSITIONS[self._state].get(trigger)
        if following is None:
            if trigger in _CALLED:
                raise SMTPStateError("%s is not allowed in state %s" % (trigger, self._state))
            return
        if following != MESSAGE or self._state != MESSAGE:
            self._reader = None
            self._buffer.maxLength = COMMAND_LINE_LIMIT
        if following == TLS:
            self._buffer.clear()
        self._state = following

    # -- input -----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client; ``b""`` means its input has ended."""
        if not data:
            self._peer_closed = True
        elif self._state in (COMMAND, MESSAGE):
            self._buffer.feed(data)
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("the engine takes bytes, not %s" % type(data).__name__)

    def next_event(self) -> Event:
        """What the client's bytes mean next: an event, ``NEED_DATA`` or ``CONNECTION_CLOSED``."""
        state = self._state
        if state == COMMAND:
            return self._next_command()
        if state == MESSAGE:
            return self._next_content()
        if state == TLS and not self._peer_closed:
            return NEED_DATA
        self._move(INPUT_ENDED)
        return CONNECTION_CLOSED

    def _next_command(self) -> Event:
        try:
            raw = self._buffer.nextLine()
        except LineTooLong as e:
            return BadCommand(R.LINE_TOO_LONG, e.length)
        if raw is None:
            if self._peer_closed:
                self._move(INPUT_ENDED)
                return CONNECTION_CLOSED
            return NEED_DATA
        raw = commandLine(raw, self.bare_newline)
        text = decode(raw)
        words = text.split(None, 1)
        verb = words[0].upper() if words else ""
        try:
            argument: Optional[str] = parseCommand(raw.rstrip(b"\r\n")).argument
            problem = None
        except SMTPError as e:
            argument, problem = None, e
        event = VERB_EVENTS.get(verb, UnknownCommand)(raw, verb, argument, text + "\r\n", problem)
        self._last = event
        return event

    def _next_content(self) -> Event:
        reader = self._reader
        buffer = self._buffer
        if reader is None:
            reader = self._reader = MessageReader(self.max_message_size, self.bare_newline)
            buffer.maxLength = reader.framingLimit
        limit = self.chunk_size
        out = reader.out
        blocks = True
        while True:
            # Runs of ordinary lines go in one piece; a run that needs a closer
            # look (bare CR/LF, long line, size) goes line by line for this call.
            if blocks and reader.takesBlocks:
                lines = buffer.completeLines(None if limit is None else max(limit - len(out), 1))
                if lines:
                    taken, ended = reader.block(lines)
                    if taken:
                        buffer.skip(taken)
                        event = self._content_event(reader, ended)
                        if event is not None:
                            return event
                        continue
                    blocks = False
            try:
                raw = buffer.nextLine()
            except LineTooLong as e:
                reader.lineTooLong(e.length, e.suffix)
                continue
            if raw is None:
                if self._peer_closed:
                    self._move(INPUT_ENDED)
                    return CONNECTION_CLOSED
                return NEED_DATA
            event = self._content_event(reader, reader.line(raw))
            if event is not None:
                return event

    def _content_event(self, reader: MessageReader, ended: bool) -> Optional[Event]:
        """After content was taken: the end of the message, a full chunk, or None (read on)."""
        out = reader.out
        if ended:
            end = EndOfMessage(bytes(out), reader.failure())
            self._move(END_OF_DATA)
            return end
        if self.chunk_size is not None and len(out) >= self.chunk_size:
            chunk = MessageChunk(bytes(out))
            out.clear()
            return chunk
        return None

    # -- output and the application's decisions ---------------------------------------------

    def send(self, reply: Reply) -> bytes:
        """The bytes for ``reply``; the reply moves the connection on (see the module docs)."""
        self._replied(reply.code)
        return encode("\r\n".join(reply.toLines()) + "\r\n")

    def send_lines(self, lines: Iterable[str]) -> bytes:
        """The bytes for a reply given as text lines (without line ends), as ``send`` does."""
        lines = list(lines)
        if lines:
            code = lines[-1][:3]
            if code.isdigit() and len(code) == 3:
                self._replied(int(code))
        return encode("".join(line + "\r\n" for line in lines))

    def _replied(self, code: int) -> None:
        if code == 354:
            self._move(REPLY_354)
        elif code == 421:
            self._move(REPLY_421)
        elif code == 221:
            self._move(REPLY_221)
        elif code == 220 and isinstance(self._last, StartTLS) and self._state == COMMAND:
            self._move(REPLY_220_TO_STARTTLS)

    def start_message(self) -> None:
        """The application accepted DATA and will send the 354 itself: read content from now."""
        self._move(START_MESSAGE)

    def cancel_message(self) -> None:
        """Back to reading commands, forgetting the message begun (1.x ``gettingdata = False``)."""
        self._move(CANCEL_MESSAGE)

    def tls_started(self) -> None:
        """The TLS handshake is done: read commands again, from a clean slate."""
        self._move(TLS_STARTED)
        self._buffer.clear()
        self._last = None

    def drain(self) -> None:
        """The server is shutting down (the application says 421 once no transaction is open)."""
        self._draining = True

    def time_out(self) -> None:
        """The client was silent for too long: the connection is over."""
        if self._state != CLOSED:
            self._timed_out = True
        self._move(TIME_OUT)

    def close(self) -> None:
        """The application ends the conversation: nothing more is read."""
        self._move(CLOSE)
