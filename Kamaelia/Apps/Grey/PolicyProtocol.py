"""
Kamaelia.Apps.Grey.PolicyProtocol: Postfix's policy delegation protocol, without any I/O
========================================================================================

The wire protocol that Postfix's ``check_policy_service`` speaks to a
policy server (postgrey, sqlgrey, and Kamaelia Grey in policy mode), as a
pure state machine in the manner of h11: bytes go in with
``receive_data``, requests come out of ``next_event``, and ``formatAction``
turns an answer into the bytes to write. No sockets, no clock, no Axon.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.PolicyProtocol import (
    ...     NEED_DATA, PolicyConnection, Request, formatAction)
    >>> conn = PolicyConnection()
    >>> conn.receive_data(b"request=smtpd_access_policy\\nprotocol_state=RCPT\\n")
    >>> conn.next_event() is NEED_DATA              # no blank line yet
    True
    >>> conn.receive_data(b"sender=a@example.org\\nrecipient=b@example.net\\n\\n")
    >>> request = conn.next_event()
    >>> isinstance(request, Request), request["recipient"], request["size"]
    (True, 'b@example.net', '')
    >>> formatAction("DEFER_IF_PERMIT", "Greylisted, please try again later")
    b'action=DEFER_IF_PERMIT Greylisted, please try again later\\n\\n'
    >>> conn.receive_data(b"")                      # the peer closed its side
    >>> conn.next_event()
    ConnectionClosed(incomplete=False)

How does it work?
-----------------
A request is a run of ``name=value`` lines, each ended by LF (a CR before
the LF is dropped, for people typing at a terminal), closed by an empty
line. ``next_event()`` returns, in the order the requests were sent:

- ``Request`` -- a well-formed request: a ``dict`` of its attributes in the
  order they came, every value a ``str`` (UTF-8; bytes that are not UTF-8
  become U+FFFD). The value is everything after the first ``=``, so it may
  hold ``=`` itself. An attribute given twice keeps its first position and
  its last value. Unknown attributes are kept; it is for the caller to
  ignore them. ``request[name]`` gives ``""`` for a missing one.
- ``BadRequest`` -- a request that ended (its empty line arrived) but broke
  the syntax or a limit: a line with no ``=`` or an empty name, a line
  longer than ``maxLineLength``, more than ``maxAttributes`` attributes,
  more than ``maxRequestSize`` bytes, or no attribute at all (a lone empty
  line). ``reason`` says which, first problem first; ``attributes`` holds
  what could be parsed before the problem (for the log). It must be
  answered like any request: every empty line the peer sends gets exactly
  one answer, so a client that counts its requests never waits for one
  that will not come.
- ``NEED_DATA`` -- nothing complete is buffered: feed more bytes.
- ``ConnectionClosed`` -- after ``receive_data(b"")`` (end of input) once
  every complete request has been returned; ``incomplete`` is True if the
  peer stopped in the middle of a request, which is then not answered (it
  never ended).

Memory stays bounded whatever the peer sends, provided the caller feeds
data only when ``next_event()`` has returned ``NEED_DATA`` (as h11 asks):
the line framing is ``Kamaelia.Support.LineBuffer``, which throws an
over-long line away as it arrives, and once a request has broken a limit
its further attributes are counted, not kept. A request can therefore hold
at most ``maxRequestSize`` bytes of attributes, and the buffer at most one
line of ``maxLineLength`` plus the last chunk fed. The limits are generous
for what Postfix sends (about 30 short attributes per request): a line of
4096 bytes, 100 attributes, 64 KiB in all.

``formatAction(action, text)`` is ``b"action=ACTION TEXT\\n\\n"``. The
action must be a non-empty line of printable ASCII (``DUNNO``,
``DEFER_IF_PERMIT``, ``450 4.7.1``, ``PREPEND``...): anything else is our own
bug and raises ``LocalProtocolError``. The text comes from configuration
and from the peer (host names in a header), so it is made printable ASCII:
a CR or LF in it could otherwise end the answer early and let the rest be
read as another answer.

``xGreylistHeader(delay, version, host, now)`` builds the header postgrey
adds to a message that passed after a delay, in its words, for a
``PREPEND`` answer (or for the SMTP proxy to add).

Errors: ``receive_data`` after the end of input, or ``str`` instead of
bytes, raise ``LocalProtocolError`` (the caller's bug). What the peer gets
wrong is never raised: it comes out as a ``BadRequest`` to be answered.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from typing import Dict, Union

from Kamaelia.Apps.Grey.SMTPReplies import printable
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

__all__ = [
    "BadRequest", "ConnectionClosed", "LocalProtocolError", "NEED_DATA", "NeedData",
    "PolicyConnection", "Request", "formatAction", "xGreylistHeader",
    "MAX_LINE_LENGTH", "MAX_ATTRIBUTES", "MAX_REQUEST_SIZE",
]

MAX_LINE_LENGTH = 4096          # bytes, LF included
MAX_ATTRIBUTES = 100
MAX_REQUEST_SIZE = 65536        # bytes of one request, every line and LF included

class LocalProtocolError(RuntimeError):
    """We used the protocol wrongly (a bug here, not the peer's fault)."""


class Request(dict):
    """One well-formed policy request: its attributes, name -> value, in arrival order.

    ``request[name]`` is ``""`` for an attribute the request lacks.
    """

    __slots__ = ()

    def __missing__(self, name: str) -> str:
        return ""

    def __repr__(self) -> str:
        return "Request(%s)" % dict.__repr__(self)


@dataclass(frozen=True)
class BadRequest:
    """A request that ended but broke the syntax or a limit (see the module docs)."""

    reason: str
    attributes: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionClosed:
    """The peer's input ended; ``incomplete``: it stopped in the middle of a request."""

    incomplete: bool = False


class NeedData:
    """Nothing complete is buffered (the single instance is ``NEED_DATA``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

Event = Union[Request, BadRequest, NeedData, ConnectionClosed]


class PolicyConnection:
    """The protocol state of one connection to a policy server. See the module docs."""

    def __init__(self, maxLineLength: int = MAX_LINE_LENGTH,
                 maxAttributes: int = MAX_ATTRIBUTES,
                 maxRequestSize: int = MAX_REQUEST_SIZE) -> None:
        if maxLineLength < 2 or maxAttributes < 1 or maxRequestSize < maxLineLength:
            raise ValueError("limits too small: line %r, attributes %r, request %r"
                             % (maxLineLength, maxAttributes, maxRequestSize))
        self.maxLineLength = maxLineLength
        self.maxAttributes = maxAttributes
        self.maxRequestSize = maxRequestSize
        self._pending = bytearray()
        self._lines = LineBuffer(b"\n", maxLineLength)
        self._attributes: Dict[str, str] = {}
        self._count = 0
        self._size = 0
        self._problem: str | None = None
        self._eof = False
        self._closed: ConnectionClosed | None = None
        self.requests = 0

    @property
    def buffered(self) -> int:
        """How many bytes received are held, not yet returned as part of an event."""
        return len(self._pending) + self._lines.buffered

    @property
    def inRequest(self) -> bool:
        """True once a request has begun (a line of it arrived) and before it ends."""
        return self._size > 0

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means its input has ended."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise LocalProtocolError("receive_data takes bytes, not %s" % type(data).__name__)
        if self._eof:
            if data:
                raise LocalProtocolError("receive_data after the end of input")
            return
        if data:
            self._pending += data
        else:
            self._eof = True

    def next_event(self) -> Event:
        """The next request, bad request, ``NEED_DATA`` or ``ConnectionClosed``."""
        if self._closed is not None:
            return self._closed
        pending = self._pending
        if pending:
            if self._size == 0 and not self._lines.buffered and not self._lines.discarding:
                request = self._wholeRequest(pending)
                if request is not None:
                    return request
            self._lines.feed(bytes(pending))
            pending.clear()
        while True:
            try:
                line = self._lines.nextLine()
            except LineTooLong as error:
                self._grow(error.length)
                self._note("line %d of the request is %d bytes long (limit %d)"
                           % (self._count + 1, error.length, self.maxLineLength))
                self._count += 1
                continue
            if line is None:
                if not self._eof:
                    return NEED_DATA
                return self._endOfInput()
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                return self._finish()
            self._grow(len(line) + 1)
            self._count += 1
            if self._problem is not None:
                continue
            if self._count > self.maxAttributes:
                self._note("more than %d attributes" % self.maxAttributes)
                continue
            if self._size > self.maxRequestSize:
                self._note("more than %d bytes" % self.maxRequestSize)
                continue
            name, equals, value = line.partition(b"=")
            if not equals or not name:
                self._note("line %d is not name=value: %r" % (self._count, line[:80]))
                continue
            self._attributes[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")

    def _wholeRequest(self, pending: bytearray) -> Request | None:
        """The first request, if it lies whole and well-formed at the start of ``pending``.

        The common case (Postfix writes each request in one piece), parsed
        in one go; None leaves everything to the line-by-line path, which
        gives the same events, and the reasons for bad ones.
        """
        end = pending.find(b"\n\n")
        if end <= 0 or end >= self.maxRequestSize or pending.find(b"\r", 0, end) >= 0:
            return None
        lines = bytes(pending[:end]).split(b"\n")
        if len(lines) > self.maxAttributes or max(map(len, lines)) >= self.maxLineLength:
            return None
        attributes = Request()
        for line in lines:
            name, equals, value = line.partition(b"=")
            if not name or not equals:
                return None
            attributes[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        del pending[:end + 2]
        self.requests += 1
        return attributes

    def _grow(self, size: int) -> None:
        self._size += size

    def _note(self, problem: str) -> None:
        if self._problem is None:
            self._problem = problem

    def _finish(self) -> Request | BadRequest:
        attributes, problem = self._attributes, self._problem
        if problem is None and not attributes:
            problem = "empty request (a blank line with no attributes before it)"
        self._attributes, self._problem, self._count, self._size = {}, None, 0, 0
        self.requests += 1
        if problem is not None:
            return BadRequest(problem, attributes)
        return Request(attributes)

    def _endOfInput(self) -> ConnectionClosed:
        try:
            rest = self._lines.finalLine()
        except LineTooLong:
            rest = b"x"
        self._closed = ConnectionClosed(self.inRequest or bool(rest and rest.strip(b"\r")))
        self._attributes, self._problem, self._count, self._size = {}, None, 0, 0
        return self._closed


_ACTION = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")


def formatAction(action: str, text: str = "") -> bytes:
    """The answer ``action=ACTION[ TEXT]`` and the empty line that ends it, as bytes."""
    if not isinstance(action, str) or not _ACTION.match(action) or action != action.strip():
        raise LocalProtocolError("not a policy action: %r" % (action,))
    text = printable(text).strip()
    line = "action=%s %s" % (action, text) if text else "action=" + action
    return line.encode("ascii") + b"\n\n"


def xGreylistHeader(delay: float, version: str, host: str, now: float) -> str:
    """``X-Greylist: delayed N seconds by kamaelia-grey-VERSION at HOST; DATE`` (DATE in GMT)."""
    return "X-Greylist: delayed %d seconds by kamaelia-grey-%s at %s; %s" % (
        max(0, int(delay)), printable(version), printable(host),
        email.utils.formatdate(now, usegmt=True))
