"""
Kamaelia.Apps.Grey.HTTPProtocol: just enough HTTP/1.1 for the metrics endpoint, without I/O
==========================================================================================

The server side of HTTP/1.1 for a read-only endpoint (``/metrics``, the
status page), as a pure state machine in the manner of h11: bytes go in with
``receive_data``, requests come out of ``next_event``, and
``formatResponse`` builds the bytes to write. No sockets, no clock, no Axon.
It accepts GET and HEAD without a body, which is all a Prometheus scraper
and a browser send here.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.HTTPProtocol import (
    ...     NEED_DATA, HTTPConnection, Request, formatResponse)
    >>> conn = HTTPConnection()
    >>> conn.receive_data(b"GET /metrics HTTP/1.1\\r\\nHost: mx\\r\\n")
    >>> conn.next_event() is NEED_DATA               # the headers have not ended
    True
    >>> conn.receive_data(b"\\r\\nGET / HTTP/1.1\\r\\nHost: mx\\r\\nConnection: close\\r\\n\\r\\n")
    >>> first, second = conn.next_event(), conn.next_event()
    >>> first.path, first.keepAlive, second.path, second.keepAlive
    ('/metrics', True, '/', False)
    >>> conn.next_event()                            # nothing is read after "close"
    ConnectionClosed(incomplete=False)
    >>> formatResponse(200, b"ok", [("Content-Type", "text/plain")], keepAlive=False).split(b"\\r\\n")
    [b'HTTP/1.1 200 OK', b'Content-Type: text/plain', b'Content-Length: 2', b'Connection: close', b'', b'ok']

How does it work?
-----------------
The machine is in one of four states (``State``):

========  ==============================================================
OPEN      reading requests; ``next_event`` returns each complete one
CLOSING   a request asked to close the connection (``Connection: close``,
          or any HTTP/1.0 request): nothing after it is read
BROKEN    a request broke the protocol; a ``BadRequest`` was returned and
          nothing after it is read (the bytes are dropped as they come)
CLOSED    the peer's input ended and everything before it was returned
========  ==============================================================

``next_event()`` returns, in order:

- ``Request`` -- ``method`` (GET or HEAD), ``target`` as sent, ``path``
  and ``query`` (split at ``?``, the path of an absolute-form target),
  ``version`` (``"1.0"``/``"1.1"``), ``headers`` (a tuple of
  ``(lower-case name, value)`` in order) and ``keepAlive``. Requests sent
  back to back (pipelined) come out one by one; the caller answers them in
  that order.
- ``BadRequest`` -- ``status`` and ``reason``: the request must be answered
  with that status (``errorResponse`` builds it) and the connection closed,
  because once a request is not understood the next one cannot be found:

  * 400: a request line that is not ``METHOD SP target SP HTTP/x.y``, a
    target that is not printable ASCII or not ``/...`` (nor
    ``http://host/...``), a header line without a colon, with space before
    it, folded (starting with white space) or holding a control character,
    an HTTP/1.1 request without exactly one ``Host``, a body
    (``Transfer-Encoding`` or a non-zero ``Content-Length``);
  * 405: a method other than GET and HEAD (the answer carries
    ``Allow: GET, HEAD``);
  * 414: a request line over ``maxRequestLine`` bytes (8 KiB);
  * 431: header lines over ``maxHeaderBytes`` bytes in all (32 KiB) or more
    than ``maxHeaders`` (100) of them;
  * 505: a version other than HTTP/1.0 and HTTP/1.1.
- ``NEED_DATA`` -- nothing complete is buffered: feed more bytes.
- ``ConnectionClosed`` -- nothing more will come: after
  ``receive_data(b"")`` once every complete request has been returned
  (``incomplete`` if a request had begun), and in CLOSING and BROKEN.

Lines end with CRLF; a bare LF is accepted too (RFC 9112 2.2). Empty lines
before a request line are skipped, counted against the request line's limit.
Memory stays bounded, provided the caller feeds data only when
``next_event()`` has returned ``NEED_DATA``: the framing is
``Kamaelia.Support.LineBuffer``, which throws an over-long line away as it
arrives, so at most one request line or the header budget plus the last
chunk is held. ``inRequest`` tells the caller a request has begun but not
ended (for a deadline against clients that send a request slowly).

``formatResponse(status, body, headers, head=False, keepAlive=True)``
builds a response: the status line with its reason phrase, the headers
given, ``Content-Length``, and ``Connection: close`` unless ``keepAlive``;
for a HEAD request (``head``) the body is left out but its length is still
announced. A header name or value that could break the framing (CR, LF, a
non-token name) is our bug and raises ``LocalProtocolError``.

``parseListenAddress("127.0.0.1:9101")`` reads the endpoint's address
setting (``host:port``, ``[::1]:port`` for IPv6) into ``(host, port)``;
``checkListenAddress`` is the same as a configuration validator returning
the text (empty means "off").

Errors: ``receive_data`` after the end of input, or ``str`` instead of
bytes, raise ``LocalProtocolError`` (the caller's bug). What the peer gets
wrong is never raised: it comes out as a ``BadRequest``.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple, Union

from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

__all__ = [
    "BadRequest", "ConnectionClosed", "HTTPConnection", "LocalProtocolError", "NEED_DATA",
    "NeedData", "Request", "State", "REASONS", "formatResponse", "errorResponse",
    "parseListenAddress", "checkListenAddress",
    "MAX_REQUEST_LINE", "MAX_HEADER_BYTES", "MAX_HEADERS",
]

MAX_REQUEST_LINE = 8192         # bytes, line end included
MAX_HEADER_BYTES = 32768        # bytes of all header lines, line ends included
MAX_HEADERS = 100

REASONS = {
    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 414: "URI Too Long", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

ALLOWED_METHODS = ("GET", "HEAD")


class LocalProtocolError(RuntimeError):
    """We used the protocol wrongly (a bug here, not the peer's fault)."""


class State(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    BROKEN = "broken"
    CLOSED = "closed"


Headers = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    """One well-formed GET or HEAD request (see the module docs)."""

    method: str
    target: str
    path: str
    query: str
    version: str
    headers: Headers
    keepAlive: bool

    def header(self, name: str) -> Optional[str]:
        """The value of the first header called ``name`` (any case), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class BadRequest:
    """A request to be answered with ``status`` and the connection closed."""

    status: int
    reason: str


@dataclass(frozen=True)
class ConnectionClosed:
    """No more requests: ``incomplete`` if the input ended in the middle of one."""

    incomplete: bool = False


class NeedData:
    """Nothing complete is buffered (the single instance is ``NEED_DATA``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

Event = Union[Request, BadRequest, NeedData, ConnectionClosed]

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(rb"^HTTP/([0-9])\.([0-9])$")
_TARGET = re.compile(rb"^[\x21-\x7e]+$")
_FIELD_VALUE = re.compile(rb"^[\t\x20-\x7e\x80-\xff]*$")
_ABSOLUTE = re.compile(r"^https?://[^/?#]*", re.IGNORECASE)


class HTTPConnection:
    """The protocol state of one connection to the endpoint. See the module docs."""

    def __init__(self, maxRequestLine: int = MAX_REQUEST_LINE,
                 maxHeaderBytes: int = MAX_HEADER_BYTES, maxHeaders: int = MAX_HEADERS) -> None:
        if maxRequestLine < 16 or maxHeaderBytes < 2 or maxHeaders < 1:
            raise ValueError("limits too small: request line %r, header bytes %r, headers %r"
                             % (maxRequestLine, maxHeaderBytes, maxHeaders))
        self.maxRequestLine = maxRequestLine
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.state = State.OPEN
        self.requests = 0
        self._lines = LineBuffer(b"\n", maxRequestLine)
        self._requestLine: Optional[bytes] = None
        self._skipped = 0
        self._headers: list[Tuple[bytes, bytes]] = []
        self._headerBytes = 0
        self._eof = False
        self._incomplete = False

    @property
    def inRequest(self) -> bool:
        """True once a request has begun arriving and before it is complete."""
        return self.state is State.OPEN and (
            self._requestLine is not None or self._lines.buffered > 0 or self._lines.discarding)

    @property
    def buffered(self) -> int:
        """How many received bytes are held, not yet returned in an event."""
        return self._lines.buffered

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means its input has ended."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise LocalProtocolError("receive_data takes bytes, not %s" % type(data).__name__)
        if self._eof:
            if data:
                raise LocalProtocolError("receive_data after the end of input")
            return
        if not data:
            self._eof = True
        elif self.state is State.OPEN:
            self._lines.feed(data)

    def next_event(self) -> Event:
        """The next request, bad request, ``NEED_DATA`` or ``ConnectionClosed``."""
        if self.state is State.OPEN:
            event = self._parse()
            if event is not NEED_DATA:
                return event
            if not self._eof:
                return NEED_DATA
            self._incomplete = self.inRequest
            self._close(State.CLOSED)
        return ConnectionClosed(self._incomplete)

    # -- parsing --------------------------------------------------------------------------

    def _close(self, state: State) -> None:
        self.state = state
        self._lines.clear()
        self._headers = []
        self._requestLine = None

    def _fail(self, status: int, reason: str) -> BadRequest:
        self._close(State.BROKEN)
        self.requests += 1
        return BadRequest(status, reason)

    def _parse(self) -> Event:
        while True:
            if self._requestLine is None:
                limit = self.maxRequestLine - self._skipped
                if limit < 2:
                    return self._fail(400, "%d bytes of empty lines and no request"
                                      % self._skipped)
                try:
                    line = self._lines.nextLine(maxLength=limit)
                except LineTooLong as error:
                    return self._fail(414, "request line of %d bytes (limit %d)"
                                      % (error.length + self._skipped, self.maxRequestLine))
                if line is None:
                    if self._lines.discarding:
                        return self._fail(414, "request line over %d bytes" % self.maxRequestLine)
                    return NEED_DATA
                if line in (b"", b"\r"):
                    self._skipped += len(line) + 1
                    continue
                self._requestLine = line[:-1] if line.endswith(b"\r") else line
                continue
            limit = max(2, self.maxHeaderBytes - self._headerBytes)
            try:
                line = self._lines.nextLine(maxLength=limit)
            except LineTooLong:
                return self._fail(431, "header lines over %d bytes" % self.maxHeaderBytes)
            if line is None:
                if self._lines.discarding:
                    return self._fail(431, "header lines over %d bytes" % self.maxHeaderBytes)
                return NEED_DATA
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                return self._finish()
            self._headerBytes += len(line) + 2
            if self._headerBytes > self.maxHeaderBytes:
                return self._fail(431, "header lines over %d bytes" % self.maxHeaderBytes)
            if len(self._headers) >= self.maxHeaders:
                return self._fail(431, "more than %d header lines" % self.maxHeaders)
            problem = self._addHeader(line)
            if problem is not None:
                return self._fail(400, problem)

    def _addHeader(self, line: bytes) -> Optional[str]:
        if line[:1] in (b" ", b"\t"):
            return "a folded header line (obsolete line folding is not accepted)"
        name, colon, value = line.partition(b":")
        if not colon:
            return "a header line without a colon: %r" % line[:60]
        if not _TOKEN.match(name):
            return "not a header name: %r" % name[:60]
        value = value.strip(b" \t")
        if not _FIELD_VALUE.match(value):
            return "a control character in the value of %s" % name.decode("ascii")
        self._headers.append((name, value))
        return None

    def _finish(self) -> Event:
        requestLine, headers = self._requestLine or b"", self._headers
        self._requestLine, self._headers, self._headerBytes, self._skipped = None, [], 0, 0
        parts = requestLine.split(b" ")
        if len(parts) != 3 or not all(parts):
            return self._fail(400, "not a request line: %r" % requestLine[:60])
        method, target, version = parts
        if not _TOKEN.match(method):
            return self._fail(400, "not a method: %r" % method[:40])
        match = _VERSION.match(version)
        if match is None:
            return self._fail(400, "not an HTTP version: %r" % version[:40])
        if match.group(1) != b"1" or match.group(2) not in (b"0", b"1"):
            return self._fail(505, "HTTP version %s" % version.decode("ascii"))
        methodText = method.decode("ascii")
        if methodText not in ALLOWED_METHODS:
            return self._fail(405, "method %s" % methodText)
        if not _TARGET.match(target):
            return self._fail(400, "not a request target: %r" % target[:60])
        targetText = target.decode("ascii")
        pathAndQuery = _ABSOLUTE.sub("", targetText, count=1) or "/"
        if not pathAndQuery.startswith("/"):
            return self._fail(400, "not a request target: %r" % targetText[:60])
        path, _, query = pathAndQuery.partition("?")
        path = path.partition("#")[0]
        fields = tuple((name.decode("ascii").lower(), value.decode("latin-1"))
                       for name, value in headers)
        versionText = "1.%s" % match.group(2).decode("ascii")
        problem = self._checkFields(fields, versionText)
        if problem is not None:
            return self._fail(400, problem)
        tokens = {token.strip().lower() for name, value in fields if name == "connection"
                  for token in value.split(",")}
        keepAlive = versionText == "1.1" and "close" not in tokens
        self.requests += 1
        if not keepAlive:
            self._close(State.CLOSING)
        return Request(methodText, targetText, path, query, versionText, fields, keepAlive)

    @staticmethod
    def _checkFields(fields: Headers, version: str) -> Optional[str]:
        hosts = [value for name, value in fields if name == "host"]
        if len(hosts) > 1 or (version == "1.1" and not hosts):
            return "an HTTP/1.1 request needs exactly one Host header (got %d)" % len(hosts)
        if any(name == "transfer-encoding" for name, _ in fields):
            return "a request body (Transfer-Encoding) is not accepted here"
        for name, value in fields:
            if name == "content-length" and value.strip() not in ("0", ""):
                return "a request body (Content-Length: %s) is not accepted here" % value[:20]
        return None


# -- responses ------------------------------------------------------------------------------

_FIELD_TEXT = re.compile(r"^[\t\x20-\x7e]*$")


def formatResponse(status: int, body: bytes = b"",
                   headers: Iterable[Tuple[str, str]] = (), head: bool = False,
                   keepAlive: bool = True) -> bytes:
    """The bytes of a response (see the module docs)."""
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise LocalProtocolError("not an HTTP status: %r" % (status,))
    if not isinstance(body, (bytes, bytearray)):
        raise LocalProtocolError("the body must be bytes, not %s" % type(body).__name__)
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown"))]
    for name, value in headers:
        if not _TOKEN.match(name.encode("ascii", "replace")) or not _FIELD_TEXT.match(value):
            raise LocalProtocolError("header %r: %r cannot be sent" % (name, value))
        if name.lower() in ("content-length", "connection"):
            raise LocalProtocolError("%s is set by formatResponse" % name)
        lines.append("%s: %s" % (name, value))
    lines.append("Content-Length: %d" % len(body))
    if not keepAlive:
        lines.append("Connection: close")
    head_ = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head_ if head else head_ + bytes(body)


def errorResponse(status: int, text: str = "", head: bool = False,
                  keepAlive: bool = False) -> bytes:
    """A plain-text error response; a 405 says which methods are allowed."""
    headers = [("Content-Type", "text/plain; charset=utf-8")]
    if status == 405:
        headers.append(("Allow", ", ".join(ALLOWED_METHODS)))
    body = "%d %s\n%s" % (status, REASONS.get(status, "Error"), (text + "\n") if text else "")
    return formatResponse(status, body.encode("utf-8", "replace"), headers, head=head,
                          keepAlive=keepAlive)


# -- the endpoint's address ----------------------------------------------------------------

def parseListenAddress(text: str) -> Tuple[str, int]:
    """``"host:port"`` or ``"[v6]:port"`` -> ``(host, port)``; ValueError if it is not one."""
    if not isinstance(text, str):
        raise ValueError("an address must be text, not %s" % type(text).__name__)
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError("expected [IPv6 address]:port, got %r" % text)
        portText = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("not an IPv6 address in %r" % text) from None
    else:
        host, colon, portText = text.rpartition(":")
        if not colon or not host:
            raise ValueError("expected host:port (e.g. 127.0.0.1:9101), got %r" % text)
        if ":" in host:
            raise ValueError("write an IPv6 address in brackets: [%s]:%s" % (host, portText))
        if not re.match(r"^[A-Za-z0-9.\-]+$", host):
            raise ValueError("not a host name or address: %r" % host)
    if not portText.isdigit() or not 0 < int(portText) < 65536:
        raise ValueError("not a port (1-65535): %r" % portText)
    return host, int(portText)


def checkListenAddress(text: str) -> str:
    """The configuration validator: ``""`` (off) or a valid ``host:port``, as given."""
    if text.strip():
        parseListenAddress(text)
    return text.strip()
