"""
Kamaelia.Apps.Grey.SMTPProtocol: the server side of SMTP, without any I/O
=========================================================================

What an SMTP server must decide about the lines a client sends, kept apart
from sockets, components and clocks so it can be tested exhaustively and
reused: parsing command lines and the MAIL FROM / RCPT TO paths (RFC 5321
§4.1), which command is allowed in which state (a transition table), and the
checks on message content during DATA (size, line length, bare CR or LF).
The proxy components (``MailHandler``, ``ConcreteMailHandler``) call these
functions and objects; they never parse SMTP themselves.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.SMTPProtocol import (SMTPSession, parseCommand,
    ...                                              parseMailFrom)
    >>> session = SMTPSession()
    >>> session.sequenceError("MAIL") is not None      # no HELO yet
    True
    >>> session.greet("client.example.org", esmtp=True)
    >>> cmd = parseCommand(b"mail from:<Alice@Example.org> SIZE=1234")
    >>> cmd.verb
    'MAIL'
    >>> path = parseMailFrom(cmd.argument, allowed={"SIZE"})
    >>> path.address, path.params
    ('Alice@Example.org', {'SIZE': '1234'})
    >>> session.sequenceError("MAIL") is None
    True
    >>> session.startTransaction(path)
    >>> session.state
    'MAIL'

How does it work?
-----------------
``parseCommand(line)`` splits a command line (bytes, without CRLF) into an
upper-cased verb and its argument; verbs are case-insensitive (RFC 5321
§2.4) and the argument keeps its case. Bytes that are not UTF-8 are kept
losslessly (surrogate escapes), so a line can always be re-encoded exactly.

``parseMailFrom``/``parseRcptTo`` accept what real clients send: ``FROM:<a@b>``,
``FROM: <a@b>`` and a bare ``FROM:a@b``; the null sender ``<>``; ``<postmaster>``
(any case) as a recipient; source routes (ignored); quoted local parts;
address literals. ESMTP parameters (``KEY=VALUE`` or ``KEY``) are returned
upper-cased by key; a parameter not in ``allowed`` raises ``SMTPError`` with a
555 reply. Any syntax error raises ``SMTPError`` carrying the reply to send.

``SMTPSession`` holds the state of one conversation -- CONNECTED (greeted by
us, no HELO yet), GREETED, MAIL, RCPT, DATA, CLOSED -- and the envelope:
the client's HELO name, the sender and the recipients accepted, and, for
the result log, the sender of the most recent MAIL tried (``attempted``,
accepted or not) and the recipients refused since then (``refused``);
``deferred`` is true once the transaction is known, before DATA, to be
deferred at DATA (``deferTransaction``; a proxy then stops asking the
real server about it).
``sequenceError(verb)`` answers "may this command be used now?" from the
table ``TRANSITIONS``: None, or the 503/554 reply to send. The methods that
change state (``greet``, ``startTransaction``, ``addRecipient``, ``reset``,
``startData``, ``endData``, ``tlsStarted``, ``close``) enforce the same
table, raising ``SMTPStateError`` (our bug, not the client's) if used out of
order.

``DataChecker`` watches the lines of a message as they pass: it counts the
size (as sent, i.e. with dot-stuffing and CRLFs), notes over-long lines and
bare CR or LF inside a line, and at the end says which reply, if any, must
replace the backend's acceptance.

``MessageReader`` turns the lines of a message, as the framing delivers
them, into the content to relay (wire form: CRLF line ends, dot-stuffed)
and finds the end of the data. Its ``bareNewline`` mode is that of
Postfix 3.9's ``smtpd_forbid_bare_newline``:

- ``REJECT``: the framing splits on CRLF only (``framingTerminator`` is
  CRLF); a bare CR or LF inside a line is kept and makes the message fail
  with 554 at its end.
- ``NORMALIZE`` (the default): the framing splits on LF; a line ending in a
  bare LF, and a bare CR inside a line, end a content line, which is relayed
  with CRLF.

In both modes the end of data is only CRLF "." CRLF: a "." line that
follows a bare LF or CR, or is ended by one, is content, and is relayed as
".." so that no later receiver can take it for the end either. Nothing after
a false end can become a second envelope.

``hasRoute(address)`` says whether a recipient's local part carries a route
(``%``, ``!`` or a quoted ``@``), the forms an open relay is abused with.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Optional

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.SMTPReplies import Reply

__all__ = ["Command", "Path", "SMTPError", "SMTPStateError", "SMTPSession", "DataChecker",
           "MessageReader", "parseCommand", "parseMailFrom", "parseRcptTo", "parseHeloName",
           "hasRoute", "framingTerminator", "commandLine", "NORMALIZE", "REJECT",
           "COMMAND_LINE_LIMIT", "TEXT_LINE_LIMIT", "MAX_PATH_LENGTH"]

COMMAND_LINE_LIMIT = 512      # RFC 5321 4.5.3.1.4, including CRLF
TEXT_LINE_LIMIT = 1000        # RFC 5321 4.5.3.1.6, including CRLF
MAX_PATH_LENGTH = 256         # RFC 5321 4.5.3.1.3
MAX_LOCAL_PART = 64           # RFC 5321 4.5.3.1.1
MAX_DOMAIN = 255              # RFC 5321 4.5.3.1.2

CONNECTED, GREETED, MAIL, RCPT, DATA, CLOSED = "CONNECTED", "GREETED", "MAIL", "RCPT", "DATA", "CLOSED"
_OPEN = frozenset({CONNECTED, GREETED, MAIL, RCPT})


class SMTPError(ValueError):
    """The client broke the protocol; ``reply`` is what to tell it."""

    def __init__(self, reply: Reply, detail: str = ""):
        super().__init__(str(reply) + (" (%s)" % detail if detail else ""))
        self.reply = reply


class SMTPStateError(RuntimeError):
    """Our own code used the session out of order (a bug, not the client's fault)."""


class Command(NamedTuple):
    verb: str
    argument: str
    raw: bytes


class Path(NamedTuple):
    """A parsed reverse- or forward-path: the address and its ESMTP parameters."""

    address: str
    params: Dict[str, Optional[str]]

    def bracketed(self) -> str:
        """The address as it appears in a command: ``<address>``."""
        return "<%s>" % self.address

    def domain(self) -> str:
        """The domain, lower-cased, without a trailing dot ("" for the null path or bare postmaster)."""
        return self.address.rpartition("@")[2].lower().rstrip(".") if "@" in self.address else ""

    def localPart(self) -> str:
        """The local part as written (quotes kept); the whole address if it has no "@"."""
        return self.address.rpartition("@")[0] if "@" in self.address else self.address


# -- command lines ---------------------------------------------------------------

def decode(raw: bytes) -> str:
    """Bytes to str without loss: invalid UTF-8 becomes surrogate escapes."""
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """The inverse of ``decode``."""
    return text.encode("utf-8", "surrogateescape")


_VERB = re.compile(r"^[A-Za-z]{1,16}$")


def parseCommand(line: bytes) -> Command:
    """Split a command line (bytes, no CRLF) into verb and argument."""
    text = decode(line)
    stripped = text.strip(" \t")
    verb, _, argument = stripped.partition(" ")
    if not _VERB.match(verb):
        raise SMTPError(R.UNRECOGNISED, "bad verb %r" % verb[:20])
    return Command(verb.upper(), argument.strip(" \t"), line)


_DOT_ATOM_CHARS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\x80-\U0010ffff]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9\x80-\U0010ffff]([A-Za-z0-9\-\x80-\U0010ffff]*[A-Za-z0-9\x80-\U0010ffff])?"
                     r"(\.[A-Za-z0-9\x80-\U0010ffff]([A-Za-z0-9\-\x80-\U0010ffff]*[A-Za-z0-9\x80-\U0010ffff])?)*\.?$")
_ADDRESS_LITERAL = re.compile(r"^\[[^\[\]\\\s]+\]$")
_PARAM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]*$")


def _splitPath(argument: str, keyword: str):
    """("<path>" or bare path, parameter text) after ``keyword:``."""
    if not argument[:len(keyword)].upper() == keyword:
        raise SMTPError(R.SYNTAX_ERROR, "expected %s" % keyword)
    rest = argument[len(keyword):].lstrip(" ")
    if not rest:
        raise SMTPError(R.SYNTAX_ERROR, "missing path")
    if rest.startswith("<"):
        end = _closingBracket(rest)
        return rest[1:end], rest[end + 1:].strip(" ")
    path, _, params = rest.partition(" ")
    return path, params.strip(" ")


def _closingBracket(text: str) -> int:
    """Index of the ">" closing the path that starts at text[0] (quotes respected)."""
    inQuotes = escaped = False
    for i, char in enumerate(text[1:], 1):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inQuotes = not inQuotes
        elif char == ">" and not inQuotes:
            return i
    raise SMTPError(R.SYNTAX_ERROR, "unterminated <path>")


def _hasBadCharacter(text: str) -> bool:
    """Control characters, or bytes that were not UTF-8 (surrogate escapes)."""
    return any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def _validAddress(address: str) -> bool:
    if len(address) > MAX_PATH_LENGTH or _hasBadCharacter(address):
        return False
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return False
    if local.startswith('"'):
        if not (local.endswith('"') and len(local) >= 2):
            return False
        inner = local[1:-1].replace('\\"', "").replace("\\\\", "")
        if '"' in inner:
            return False
    else:
        if len(local) > MAX_LOCAL_PART or not _DOT_ATOM_CHARS.match(local) \
                or local.startswith(".") or local.endswith(".") or ".." in local:
            return False
    if len(domain) > MAX_DOMAIN:
        return False
    return bool(_DOMAIN.match(domain) or _ADDRESS_LITERAL.match(domain))


def _parseParams(text: str, allowed: Iterable[str]) -> Dict[str, Optional[str]]:
    allowedSet = {a.upper() for a in allowed}
    params: Dict[str, Optional[str]] = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if not _PARAM_KEY.match(key) or (eq and not value):
            raise SMTPError(R.SYNTAX_ERROR, "bad parameter %r" % word[:40])
        key = key.upper()
        if key not in allowedSet:
            raise SMTPError(R.PARAMETER_NOT_SUPPORTED, "parameter %s" % key)
        if key in params:
            raise SMTPError(R.SYNTAX_ERROR, "parameter %s given twice" % key)
        params[key] = value if eq else None
    _checkKnownParams(params)
    return params


def _checkKnownParams(params: Dict[str, Optional[str]]) -> None:
    size = params.get("SIZE", "0")
    if "SIZE" in params and (size is None or not size.isdigit() or len(size) > 20):
        raise SMTPError(R.SYNTAX_ERROR, "SIZE must be a number")
    body = params.get("BODY")
    if "BODY" in params and (body is None or body.upper() not in ("7BIT", "8BITMIME")):
        raise SMTPError(R.SYNTAX_ERROR, "BODY must be 7BIT or 8BITMIME")
    if "SMTPUTF8" in params and params["SMTPUTF8"] is not None:
        raise SMTPError(R.SYNTAX_ERROR, "SMTPUTF8 takes no value")


def _stripSourceRoute(path: str) -> str:
    if path.startswith("@") and ":" in path:
        return path.split(":", 1)[1]
    return path


def _withoutTrailingDot(address: str) -> str:
    """``user@example.org.`` is ``user@example.org``: the absolute form of the same domain."""
    local, at, domain = address.rpartition("@")
    if at and domain.endswith(".") and not domain.endswith(".."):
        return local + at + domain[:-1]
    return address


def parseMailFrom(argument: str, allowed: Iterable[str] = ()) -> Path:
    """Parse the argument of MAIL ("FROM:<address> params"); a trailing dot is dropped."""
    raw, paramText = _splitPath(argument, "FROM:")
    address = _withoutTrailingDot(_stripSourceRoute(raw))
    if address and not _validAddress(address):
        raise SMTPError(R.MAIL_SYNTAX, "bad sender %r" % address[:80])
    return Path(address, _parseParams(paramText, allowed))


def parseRcptTo(argument: str, allowed: Iterable[str] = ()) -> Path:
    """Parse the argument of RCPT ("TO:<address> params"); <postmaster> is accepted.

    A trailing dot on the domain is dropped (the same domain, written
    absolutely), so the real server and the greylist see one form.
    """
    raw, paramText = _splitPath(argument, "TO:")
    address = _withoutTrailingDot(_stripSourceRoute(raw))
    if address.lower() != "postmaster" and not _validAddress(address):
        raise SMTPError(R.RCPT_SYNTAX, "bad recipient %r" % address[:80])
    return Path(address, _parseParams(paramText, allowed))


def parseHeloName(argument: str) -> str:
    """The HELO/EHLO argument: one word (a domain or address literal) required.

    The name must be printable and valid UTF-8; beyond that it is taken as
    given (real clients send names that are not domains), and checking it is
    left to the real mail server, which is told it (XCLIENT, EHLO).
    """
    words = argument.split()
    if not words:
        raise SMTPError(R.HELO_SYNTAX, "missing name")
    name = words[0]
    if len(name) > MAX_DOMAIN or " " in name or _hasBadCharacter(name):
        raise SMTPError(R.HELO_SYNTAX, "bad name")
    return name


def hasRoute(address: str) -> bool:
    """True if the local part of ``address`` routes onward: ``%``, ``!`` or a quoted ``@``.

    ``<victim%elsewhere@ours>``, ``<elsewhere!victim@ours>`` and
    ``<"victim@elsewhere"@ours>`` name one of our domains but ask the
    receiving server to pass the mail on; accepting them from anyone makes
    an open relay.
    """
    local = address.rpartition("@")[0] if "@" in address else address
    return any(mark in local for mark in "%!@")


# -- the conversation ----------------------------------------------------------------

# verb -> {state the command is allowed in: state afterwards (None: unchanged)}
TRANSITIONS: Dict[str, Dict[str, Optional[str]]] = {
    "HELO": {s: GREETED for s in _OPEN},
    "EHLO": {s: GREETED for s in _OPEN},
    "MAIL": {GREETED: MAIL},
    "RCPT": {MAIL: RCPT, RCPT: RCPT},
    "DATA": {RCPT: DATA},
    "RSET": {s: None for s in _OPEN},
    "NOOP": {s: None for s in _OPEN},
    "HELP": {s: None for s in _OPEN},
    "VRFY": {s: None for s in _OPEN},
    "QUIT": {s: CLOSED for s in _OPEN},
    "STARTTLS": {GREETED: CONNECTED},
}

# (verb, state) -> reply, for commands used out of sequence
SEQUENCE_ERRORS: Dict[tuple, Reply] = {
    ("MAIL", CONNECTED): R.SEND_HELLO_FIRST,
    ("MAIL", MAIL): R.SENDER_ALREADY_GIVEN,
    ("MAIL", RCPT): R.SENDER_ALREADY_GIVEN,
    ("RCPT", CONNECTED): R.SENDER_NOT_GIVEN,
    ("RCPT", GREETED): R.SENDER_NOT_GIVEN,
    ("DATA", CONNECTED): R.RCPT_BEFORE_DATA,
    ("DATA", GREETED): R.RCPT_BEFORE_DATA,
    ("DATA", MAIL): R.RCPT_BEFORE_DATA,
    ("STARTTLS", CONNECTED): R.SEND_HELLO_FIRST,
    ("STARTTLS", MAIL): Reply(503, "5.5.1", "STARTTLS not allowed within a mail transaction"),
    ("STARTTLS", RCPT): Reply(503, "5.5.1", "STARTTLS not allowed within a mail transaction"),
}


class SMTPSession(object):
    """State and envelope of one SMTP conversation. See the module documentation."""

    def __init__(self):
        self.state = CONNECTED
        self.heloName: Optional[str] = None
        self.esmtp = False
        self.tls = False
        self.sender: Optional[Path] = None
        self.recipients: List[Path] = []
        self.attempted: Optional[Path] = None
        self.refused: List[Path] = []
        self.rcptAttempts = 0
        self.transactions = 0
        self.deferred = False

    def sequenceError(self, verb: str) -> Optional[Reply]:
        """None if ``verb`` may be used now, else the reply for using it out of order."""
        allowed = TRANSITIONS.get(verb)
        if allowed is None or self.state in allowed:
            return None
        if verb == "DATA" and self.state == MAIL and self.rcptAttempts:
            return R.NO_VALID_RECIPIENTS
        return SEQUENCE_ERRORS.get((verb, self.state), Reply(503, "5.5.1", "Bad sequence of commands"))

    def _move(self, verb: str) -> None:
        allowed = TRANSITIONS[verb]
        if self.state not in allowed:
            raise SMTPStateError("%s is not allowed in state %s" % (verb, self.state))
        nextState = allowed[self.state]
        if nextState is not None:
            self.state = nextState

    def _clearTransaction(self) -> None:
        self.sender = None
        self.attempted = None
        self.recipients = []
        self.rcptAttempts = 0
        self.deferred = False

    def greet(self, name: str, esmtp: bool) -> None:
        """HELO (``esmtp=False``) or EHLO: remember the name; any transaction is reset."""
        self._move("EHLO" if esmtp else "HELO")
        self.heloName = name
        self.esmtp = esmtp
        self._clearTransaction()

    def mailAttempted(self, sender: Path) -> None:
        """A MAIL passed the local checks and is being tried: it is the ``attempted`` sender
        (until the transaction ends), and ``refused`` starts empty."""
        if self.state == CLOSED:
            raise SMTPStateError("MAIL after close")
        self.attempted = sender
        self.refused = []

    def startTransaction(self, sender: Path) -> None:
        """MAIL was accepted."""
        self._move("MAIL")
        self.sender = self.attempted = sender

    def deferTransaction(self) -> None:
        """The transaction is known, before DATA, to be deferred at DATA (``deferred``)."""
        if self.state not in (MAIL, RCPT):
            raise SMTPStateError("deferring outside a transaction")
        self.deferred = True

    def recipientRefused(self, recipient: Optional[Path] = None) -> None:
        """RCPT was answered with a failure (counts for DATA's reply; kept in ``refused``)."""
        if self.state not in (MAIL, RCPT):
            raise SMTPStateError("RCPT outside a transaction")
        self.rcptAttempts += 1
        if recipient is not None:
            self.refused.append(recipient)

    def addRecipient(self, recipient: Path) -> None:
        """RCPT was accepted."""
        self._move("RCPT")
        self.rcptAttempts += 1
        self.recipients.append(recipient)

    def reset(self) -> None:
        """RSET (or an aborted transaction): back to GREETED, or CONNECTED if never greeted."""
        if self.state == CLOSED:
            raise SMTPStateError("reset after close")
        self.state = GREETED if self.heloName is not None else CONNECTED
        self._clearTransaction()

    def startData(self) -> None:
        """DATA was accepted (354 sent)."""
        self._move("DATA")

    def endData(self) -> None:
        """The message ended (whatever the outcome): the transaction is over."""
        if self.state != DATA:
            raise SMTPStateError("end of data outside DATA")
        self.transactions += 1
        self.state = GREETED
        self._clearTransaction()

    def tlsStarted(self) -> None:
        """TLS is up: everything known about the client is forgotten (RFC 3207 4.2)."""
        self._move("STARTTLS")
        self.tls = True
        self.heloName = None
        self.esmtp = False
        self._clearTransaction()

    def close(self) -> None:
        """QUIT, timeout or shutdown: nothing more is allowed."""
        self.state = CLOSED

    @property
    def isOpen(self) -> bool:
        return self.state != CLOSED


class DataChecker(object):
    """Checks message lines in DATA: size, line length, bare CR/LF. See the module docs."""

    def __init__(self, maxSize: Optional[int], allowBareNewlines: bool = False):
        self.maxSize = maxSize
        self.allowBareNewlines = allowBareNewlines
        self.size = 0
        self.tooBig = False
        self.longLine = False
        self.bareNewline = False
        self.finished = False

    def line(self, raw: bytes) -> bool:
        """Take one line (without CRLF); True if it is the terminating ".".

        After a failure the caller should stop forwarding (``failed``), but
        keep feeding lines until the terminator to stay in sync.
        """
        if self.finished:
            raise SMTPStateError("line after the end of data")
        if raw == b".":
            self.finished = True
            return True
        self.size += len(raw) + 2
        if self.maxSize is not None and self.size > self.maxSize:
            self.tooBig = True
        if len(raw) + 2 > TEXT_LINE_LIMIT:
            self.longLine = True
        if not self.allowBareNewlines and (b"\n" in raw or b"\r" in raw):
            self.bareNewline = True
        return False

    def lineTooLong(self, length: int) -> None:
        """A line over TEXT_LINE_LIMIT was seen (and discarded by the framing)."""
        self.size += length
        self.longLine = True
        if self.maxSize is not None and self.size > self.maxSize:
            self.tooBig = True

    @property
    def failed(self) -> bool:
        return self.tooBig or self.longLine or self.bareNewline

    def failure(self) -> Optional[Reply]:
        """The reply that must replace acceptance, or None if the message is fine."""
        if self.tooBig:
            return R.MESSAGE_TOO_BIG
        if self.longLine:
            return R.DATA_LINE_TOO_LONG
        if self.bareNewline:
            return R.BARE_NEWLINE
        return None


NORMALIZE, REJECT = "normalize", "reject"
# A text line over the limit: TEXT_LINE_LIMIT - 1 octets before its LF, its CR among them.
_LONG_TEXT_LINE = re.compile(b"[^\n]{%d}" % TEXT_LINE_LIMIT)
NORMALIZE_FRAMING_LIMIT = 65536
BARE_NEWLINE_MODES = (NORMALIZE, REJECT)


def framingTerminator(bareNewline: str) -> bytes:
    """What the line framing splits on for a ``bareNewline`` mode (commands and content alike)."""
    return b"\n" if bareNewline == NORMALIZE else b"\r\n"


def commandLine(raw: bytes, bareNewline: str) -> bytes:
    """A framed command line without its line end (the CR before the LF when framing on LF)."""
    if bareNewline == NORMALIZE and raw.endswith(b"\r"):
        return raw[:-1]
    return raw


class MessageReader(object):
    """The content of one message after DATA, line by line. See the module documentation.

    ``line(raw)`` takes each line as the framing gives it (no terminator) and
    returns True at the end of the data; meanwhile the content to relay
    accumulates in ``out`` (a bytearray the caller may empty at any time).
    ``failure()`` says, at the end, which reply must replace acceptance.

    ``framingLimit`` is the line length to frame with. When normalizing, a
    framed line may hold several content lines (split at bare CRs), so it
    is framed with a larger bound (``NORMALIZE_FRAMING_LIMIT``) and the
    1000-octet limit is applied to each content line.
    """

    def __init__(self, maxSize: Optional[int], bareNewline: str = NORMALIZE):
        if bareNewline not in BARE_NEWLINE_MODES:
            raise ValueError("bareNewline must be one of %s" % (BARE_NEWLINE_MODES,))
        self.normalize = bareNewline == NORMALIZE
        self.framingLimit = NORMALIZE_FRAMING_LIMIT if self.normalize else TEXT_LINE_LIMIT
        self.checker = DataChecker(maxSize, allowBareNewlines=self.normalize)
        self.out = bytearray()
        self.afterCRLF = True
        self.finished = False

    @property
    def takesBlocks(self) -> bool:
        """True if ``block`` may take lines now (normalizing, at a line start, nothing failed)."""
        return self.normalize and self.afterCRLF and not self.finished and not self.checker.failed

    def block(self, data: bytes) -> "tuple[int, bool]":
        """Take a run of whole lines at once, if none of them needs changing or fails a check.

        ``data`` is complete lines as framed (each ending in LF). Returns
        (bytes taken, end of data seen): the lines up to and including the
        terminating "." if it is among them, else all of them; (0, False)
        if the run holds a bare CR or LF, a line over the limit, or would
        make the message too big -- then ``line`` must take it line by line.
        The content relayed and the checks are exactly those of ``line``.
        """
        if not self.takesBlocks:
            return 0, False
        if data.startswith(b".\r\n"):
            content, taken, ended = b"", 3, True
        else:
            end = data.find(b"\r\n.\r\n")
            if end >= 0:
                content, taken, ended = data[:end + 2], end + 5, True
            else:
                content, taken, ended = data, len(data), False
        if content:
            lines = content.count(b"\r\n")
            if content.count(b"\n") != lines or content.count(b"\r") != lines:
                return 0, False
            if _LONG_TEXT_LINE.search(content):
                return 0, False
            checker = self.checker
            size = checker.size + len(content)
            if checker.maxSize is not None and size > checker.maxSize:
                return 0, False
            checker.size = size
            self.out += content
        if ended:
            self.finished = True
        return taken, ended

    def line(self, raw: bytes) -> bool:
        if self.finished:
            raise SMTPStateError("line after the end of data")
        if not self.normalize:
            if self.checker.line(raw):
                self.finished = True
                return True
            if not self.checker.failed:
                self.out += raw
                self.out += b"\r\n"
            return False
        crlf = raw.endswith(b"\r")
        body = raw[:-1] if crlf else raw
        if crlf and self.afterCRLF and body == b".":
            self.finished = True
            return True
        checker = self.checker
        out = self.out
        segments = body.split(b"\r") if b"\r" in body else (body,)
        for segment in segments:
            if segment == b".":
                segment = b".."
            checker.line(segment)
            if not checker.failed:
                out += segment
                out += b"\r\n"
        self.afterCRLF = crlf
        return False

    def lineTooLong(self, length: int, suffix: bytes = b"\r") -> None:
        """A line over TEXT_LINE_LIMIT was seen (and discarded by the framing).

        ``suffix`` is the line's last bytes before the framing's terminator
        (``LineTooLong.suffix``): when framing on LF, a CR there means the
        line ended with CRLF, so a "." CRLF after it ends the data; after a
        bare LF it does not.
        """
        self.checker.lineTooLong(length)
        self.afterCRLF = not self.normalize or suffix.endswith(b"\r")

    @property
    def failed(self) -> bool:
        return self.checker.failed

    def failure(self) -> Optional[Reply]:
        return self.checker.failure()


EXTENSION_PARAMETERS: Dict[str, FrozenSet[str]] = {
    "SIZE": frozenset({"SIZE"}),
    "8BITMIME": frozenset({"BODY"}),
    "SMTPUTF8": frozenset({"SMTPUTF8"}),
    "DSN": frozenset({"RET", "ENVID", "NOTIFY", "ORCPT"}),
}


def allowedParameters(extensions: Iterable[str], verb: str) -> FrozenSet[str]:
    """ESMTP parameters a client may use with MAIL or RCPT, given the EHLO keywords offered
    (e.g. ``["PIPELINING", "SIZE 10240000", "8BITMIME"]``)."""
    mailOnly = {"SIZE", "BODY", "SMTPUTF8", "RET", "ENVID"}
    rcptOnly = {"NOTIFY", "ORCPT"}
    names: set = set()
    for extension in extensions:
        keyword = extension.split()[0].upper() if extension.strip() else ""
        names |= EXTENSION_PARAMETERS.get(keyword, frozenset())
    return frozenset(names & (mailOnly if verb == "MAIL" else rcptOnly))
