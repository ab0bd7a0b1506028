"""
Kamaelia.Apps.Grey.SMTPReplies: SMTP replies -- the catalogue, formatting and parsing
=====================================================================================

One place for every reply the greylisting proxy sends, so the code and the
tests use the same codes and texts; plus a parser for the replies a real
SMTP server sends back (multi-line replies included) and for the extensions
it lists in its EHLO reply. Pure: no Axon, no sockets, no clock.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.SMTPReplies import GREYLISTED, ReplyParser
    >>> str(GREYLISTED)
    '451 4.7.1 Please try again later'
    >>> GREYLISTED.code, GREYLISTED.isTemporary
    (451, True)

    >>> parser = ReplyParser()
    >>> parser.feed(b"250-mail.example.org Hello")
    >>> parser.feed(b"250-SIZE 10240000")
    >>> reply = parser.feed(b"250 PIPELINING")
    >>> reply.code, reply.lines
    (250, ['mail.example.org Hello', 'SIZE 10240000', 'PIPELINING'])
    >>> sorted(capabilities(reply))
    ['PIPELINING', 'SIZE']

How does it work?
-----------------
A ``Reply`` is a code, an optional enhanced status code (RFC 3463, e.g.
"4.7.1") and one or more lines of text. ``str(reply)`` and
``reply.toLines()`` format it as it goes on the wire ("250-..." for every
line but the last). ``reply.format(**values)`` fills ``{name}`` fields in
the text; each value is made printable ASCII first (``printable``), so
whatever a client sent -- bytes that are not UTF-8, control characters --
is never echoed raw. Replies relayed from a backend keep their text
(made printable ASCII the same way); ``withEnhanced``
adds a generic enhanced code (class.0.0) to a reply that lacks one, for a
client that was promised ENHANCEDSTATUSCODES.

``ReplyParser.feed(line)`` takes one reply line (without CRLF) at a time and
returns a ``Reply`` when the last line of a reply ("ddd " or a bare "ddd")
arrives, else None; a malformed line raises ``ReplyError``.
``capabilities(ehloReply)`` maps each extension keyword (upper case) to its
parameters.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

__all__ = ["Reply", "ReplyParser", "ReplyError", "capabilities", "printable"]

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)")


_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def printable(value: object) -> str:
    """``str(value)`` with every character outside printable ASCII replaced by "?"."""
    return _UNPRINTABLE.sub("?", str(value))


class ReplyError(ValueError):
    """A line from the SMTP server is not a valid reply line."""


class Reply(object):
    """An SMTP reply: ``code``, optional ``enhanced`` status code, ``lines`` of text."""

    __slots__ = ("code", "enhanced", "lines")

    def __init__(self, code: int, enhanced: Optional[str], *lines: str):
        self.code = code
        self.enhanced = enhanced
        self.lines = list(lines) if lines else [""]

    @property
    def text(self) -> str:
        """All the text, lines joined with a space."""
        return " ".join(self.lines)

    @property
    def isPositive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def isTemporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def isPermanent(self) -> bool:
        return self.code >= 500

    def format(self, **values) -> "Reply":
        """A copy with ``{name}`` fields of the text filled from ``values``."""
        safe = {name: printable(value) for name, value in values.items()}
        return Reply(self.code, self.enhanced, *[line.format(**safe) for line in self.lines])

    def withEnhanced(self) -> "Reply":
        """A copy with a generic enhanced code (e.g. 4.0.0) if it has none."""
        if self.enhanced or not 200 <= self.code < 600:
            return self
        return Reply(self.code, "%d.0.0" % (self.code // 100), *self.lines)

    def toLines(self) -> List[str]:
        """The reply as wire lines, without line endings."""
        last = len(self.lines) - 1
        out = []
        for i, line in enumerate(self.lines):
            body = "%s %s" % (self.enhanced, line) if self.enhanced else line
            out.append(("%d%s%s" % (self.code, " " if i == last else "-", body)).rstrip())
        return out

    def __str__(self) -> str:
        return "\r\n".join(self.toLines())

    def __repr__(self) -> str:
        return "Reply(%r)" % str(self)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Reply) and self.code == other.code
                and self.enhanced == other.enhanced and self.lines == other.lines)

    def __hash__(self) -> int:
        return hash((self.code, self.enhanced, tuple(self.lines)))


class ReplyParser(object):
    """Assembles reply lines from an SMTP server into ``Reply`` objects."""

    def __init__(self):
        self._code: Optional[int] = None
        self._lines: List[str] = []

    @property
    def partial(self) -> bool:
        """True while in the middle of a multi-line reply."""
        return self._code is not None

    def feed(self, line: bytes) -> Optional[Reply]:
        """Add one line (without CRLF); return the Reply it completes, if any."""
        text = printable(line.decode("ascii", "replace"))
        if len(text) < 3 or not text[:3].isdigit() or (len(text) > 3 and text[3] not in " -"):
            raise ReplyError("not an SMTP reply line: %r" % text[:80])
        code = int(text[:3])
        if not 200 <= code <= 599:
            raise ReplyError("reply code out of range: %r" % text[:80])
        if self._code is not None and code != self._code:
            raise ReplyError("reply code changed within a multi-line reply: %r" % text[:80])
        self._code = code
        self._lines.append(text[4:])
        if len(text) > 3 and text[3] == "-":
            return None
        lines, self._lines, self._code = self._lines, [], None
        enhanced = None
        match = _ENHANCED.match(lines[-1])
        if match and int(match.group(1)) == code // 100:
            enhanced = "%s.%s.%s" % match.groups()
            lines = [_ENHANCED.sub("", text, count=1) if _ENHANCED.match(text) else text
                     for text in lines]
        return Reply(code, enhanced, *lines)


def capabilities(ehloReply: Reply) -> Dict[str, Tuple[str, ...]]:
    """Extensions listed in an EHLO reply: ``{"SIZE": ("10240000",), "PIPELINING": ()}``."""
    found = {}
    for line in ehloReply.lines[1:]:
        words = line.split()
        if words:
            found[words[0].upper()] = tuple(words[1:])
    return found


def _reply(code: int, enhanced: Optional[str], text: str) -> Reply:
    return Reply(code, enhanced, text)


# -- the catalogue ---------------------------------------------------------------
# Texts in {braces} are filled in with Reply.format(...). Several texts are
# those of Kamaelia Grey 1.x, so its log readers and users see familiar words.

GREETING = _reply(220, None, "{servername} ESMTP {serverid} {date}")
TLS_READY = _reply(220, "2.0.0", "Ready to start TLS")
CLOSING = _reply(221, "2.0.0", "{servername} closing connection")
HELP = _reply(214, "2.0.0", "Kamaelia Grey: commands EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP")
OK = _reply(250, "2.0.0", "OK")
SENDER_OK = _reply(250, "2.1.0", "OK")
RECIPIENT_OK = _reply(250, "2.1.5", "ACCEPTED")
HELO_OK = _reply(250, None, "{servername} Hello {remotename} {peer}")
VRFY_CANNOT = _reply(252, "2.5.2", "Cannot VRFY user")
START_DATA = _reply(354, None, 'Enter message, ending with "." on a line by itself')

SHUTTING_DOWN = _reply(421, "4.3.2", "{servername} Service shutting down, please try again later")
TIMEOUT = _reply(421, "4.4.2", "{servername} Error: timeout exceeded")
TOO_MANY_SESSIONS = _reply(421, "4.7.0", "{servername} Too many connections, please try again later")
TOO_MANY_ERRORS = _reply(421, "4.7.0", "{servername} Too many errors, closing connection")
INTERNAL_ERROR_CLOSING = _reply(421, "4.3.0",
                                "{servername} Internal error, closing connection; please try again later")
GREYLISTED = _reply(451, "4.7.1", "Please try again later")
BACKEND_UNAVAILABLE = _reply(451, "4.4.1",
                             "Temporary failure reaching the mail server, please try again later")
BACKEND_FAILED = _reply(451, "4.4.2", "The mail server did not answer properly, please try again later")
LOCAL_ERROR = _reply(451, "4.3.0", "Internal error, please try again later")
TOO_MANY_RECIPIENTS = _reply(452, "4.5.3", "Too many recipients")
TLS_UNAVAILABLE = _reply(454, "4.7.0", "TLS not available")

LINE_TOO_LONG = _reply(500, "5.5.2", "Line too long")
UNRECOGNISED = _reply(500, "5.5.1", "Command unrecognised")
SYNTAX_ERROR = _reply(501, "5.5.4", "Syntax error in parameters or arguments")
HELO_SYNTAX = _reply(501, "5.5.4", "Syntactically invalid HELO argument(s)")
MAIL_SYNTAX = _reply(501, "5.1.7", "Syntax error in sender address")
RCPT_SYNTAX = _reply(501, "5.1.3", "Syntax error in recipient address")
NOT_IMPLEMENTED = _reply(502, "5.5.1", "Command not implemented")
SEND_HELLO_FIRST = _reply(503, "5.5.1", "Send hello first")
SENDER_ALREADY_GIVEN = _reply(503, "5.5.1", "sender already given")
SENDER_NOT_GIVEN = _reply(503, "5.5.1", "sender not yet given")
RCPT_BEFORE_DATA = _reply(503, "5.5.1", "valid RCPT command must precede DATA")
TLS_ALREADY_ACTIVE = _reply(503, "5.5.1", "TLS already active")
RELAY_DENIED = _reply(550, "5.7.1", "relay not permitted")
MESSAGE_TOO_BIG = _reply(552, "5.3.4", "Message size exceeds fixed maximum message size")
NO_VALID_RECIPIENTS = _reply(554, "5.5.1", "No valid recipients")
DATA_LINE_TOO_LONG = _reply(554, "5.6.0", "Message contains a line longer than 998 characters")
BARE_NEWLINE = _reply(554, "5.6.0", "Message contains a bare CR or LF; use CRLF line endings")
PARAMETER_NOT_SUPPORTED = _reply(555, "5.5.4", "Parameter not recognised or not implemented")
