"""
Kamaelia.Support.LineBuffer: a bounded buffer that frames bytes into lines
==========================================================================

A ``LineBuffer`` collects bytes as they arrive (in chunks of any size) and
hands back complete lines, one at a time. It never holds an unterminated
line longer than its maximum length: an over-long line is thrown away as it
arrives and reported once its terminator is seen, and framing carries on
with the next line. It is pure: no Axon, no sockets, no clock.

Example Usage
-------------
::

    from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

    buf = LineBuffer(terminator=b"\\r\\n", maxLength=512)
    buf.feed(b"HELO exa")
    assert buf.nextLine() is None              # no complete line yet
    buf.feed(b"mple.com\\r\\nMAIL FROM:<a@b>\\r\\nRC")
    assert buf.nextLine() == b"HELO example.com"
    assert buf.nextLine() == b"MAIL FROM:<a@b>"
    assert buf.nextLine() is None
    assert buf.unconsumed() == b"RC"

    buf.feed(b"X" * 600 + b"\\r\\nQUIT\\r\\n")
    try:
        buf.nextLine()
    except LineTooLong as e:
        print("too long:", e.length, "bytes")      # too long: 604 bytes
    assert buf.nextLine() == b"QUIT"

How does it work?
-----------------
* ``feed(data)`` appends bytes (any bytes-like object; ``str`` is refused).
* ``nextLine(maxLength=...)`` returns the next complete line **without** its
  terminator, or ``None`` if no complete line is buffered yet. Only the
  configured terminator ends a line: with the default ``b"\\r\\n"`` a bare
  ``b"\\n"`` or ``b"\\r"`` is ordinary data (as RFC 5321 requires).
* The maximum length counts the terminator, as RFC 5321 does (512 octets for
  a command line, 1000 for a text line, both "including the <CRLF>").
  ``maxLength`` is set at construction, may be changed at any time through
  the attribute, and may be overridden for one call with
  ``nextLine(maxLength=n)``; ``None`` means unlimited.
* A line longer than the limit makes ``nextLine`` raise ``LineTooLong``
  once its terminator has been seen. The line has then been consumed: the
  next call carries on with the following line. The exception says how long
  the line was (``length``, terminator included) and holds the part of it
  that would have fitted (``prefix``), for logging, and its last bytes
  before the terminator (``suffix``, up to two), so a caller framing on
  ``b"\\n"`` can still tell whether the line ended with CRLF.
* While an over-long line is still arriving, its bytes are discarded as soon
  as the limit is exceeded (``discarding`` is then True), so the buffer holds
  at most about ``maxLength`` bytes plus whatever was fed since the last call
  to ``nextLine``. The limit that decides a line is the one in force when
  ``nextLine`` first finds it too long; once discarding has started, that
  line is reported as too long even if the limit is raised afterwards.
* The buffer remembers how far it has already searched for a terminator, so
  feeding a long line one byte at a time costs time proportional to its
  length, not its square (the technique of h11's receive buffer).
* ``finalLine()`` is for the end of the input: it returns the remaining
  complete lines and then the unterminated rest as a last line.
* ``unconsumed()`` returns the buffered bytes not yet returned as lines;
  ``clear()`` drops them (and any line being discarded) and returns them --
  for example to discard plaintext a client pipelined after ``STARTTLS``.
  ``buffered`` is how many bytes are held.

Which lines come out -- and which are reported as too long -- depends only
on the bytes fed and the limit, never on how they were split into chunks.
"""

from __future__ import annotations

__all__ = ["LineBuffer", "LineTooLong"]

_UNSET = object()


class LineTooLong(ValueError):
    """A line exceeded the maximum length; it has been consumed and discarded.

    ``length`` is the line's full length including its terminator;
    ``prefix`` is its first ``maxLength - len(terminator)`` bytes (what
    would have fitted); ``suffix`` its last (up to two) bytes before the
    terminator; ``maxLength`` is the limit it broke.
    """

    def __init__(self, length: int, prefix: bytes, maxLength: int, suffix: bytes = b""):
        super().__init__("line of %d bytes exceeds the limit of %d" % (length, maxLength))
        self.length = length
        self.prefix = prefix
        self.maxLength = maxLength
        self.suffix = suffix


class LineBuffer(object):
    """Frames fed bytes into lines ended by ``terminator``. See the module docs."""

    def __init__(self, terminator: bytes = b"\r\n", maxLength: int | None = None):
        if not isinstance(terminator, (bytes, bytearray)) or not terminator:
            raise ValueError("the terminator must be non-empty bytes, got %r" % (terminator,))
        self._terminator = bytes(terminator)
        self._data = bytearray()
        self._searchFrom = 0
        self._discarding = False
        self._discarded = 0
        self._discardPrefix = b""
        self._discardLimit = 0
        self._discardTail = b""
        self.maxLength = maxLength

    @property
    def terminator(self) -> bytes:
        """The byte sequence that ends a line."""
        return self._terminator

    @property
    def maxLength(self) -> int | None:
        """The longest line accepted, terminator included (None: unlimited)."""
        return self._maxLength

    @maxLength.setter
    def maxLength(self, value: int | None) -> None:
        self._maxLength = self._checkLimit(value)

    def _checkLimit(self, value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("maxLength must be an int or None, got %r" % (value,))
        if value < len(self._terminator):
            raise ValueError("maxLength %d cannot hold even the terminator %r"
                             % (value, self._terminator))
        return value

    @property
    def discarding(self) -> bool:
        """True while the bytes of an over-long line are being thrown away."""
        return self._discarding

    @property
    def buffered(self) -> int:
        """How many bytes are held (not yet returned as lines)."""
        return len(self._data)

    def feed(self, data: bytes) -> None:
        """Add ``data`` (bytes-like) to the end of the buffer."""
        if isinstance(data, str):
            raise TypeError("LineBuffer takes bytes, not str (encode it first)")
        self._data += data

    def completeLines(self, maxBytes: int | None = None) -> bytes:
        """The complete lines at the front, terminators included, without consuming them.

        At most ``maxBytes`` bytes (the lines that end within them); b"" if
        there is no complete line, or while an over-long line is being
        discarded. ``skip`` then consumes what the caller took, so a parser
        can take a run of lines it needs no change to in one go.
        """
        if self._discarding:
            return b""
        data = self._data
        stop = len(data) if maxBytes is None else min(len(data), maxBytes)
        end = data.rfind(self._terminator, 0, stop)
        if end < 0:
            return b""
        return bytes(data[:end + len(self._terminator)])

    def skip(self, count: int) -> None:
        """Consume ``count`` bytes from the front (of what ``completeLines`` returned)."""
        if count < 0 or count > len(self._data):
            raise ValueError("cannot skip %d of %d buffered bytes" % (count, len(self._data)))
        del self._data[:count]
        self._searchFrom = 0

    def unconsumed(self) -> bytes:
        """The buffered bytes that have not been returned as lines (a copy)."""
        return bytes(self._data)

    def clear(self) -> bytes:
        """Drop everything buffered, and any line being discarded; return the dropped bytes."""
        dropped = bytes(self._data)
        self._data.clear()
        self._searchFrom = 0
        self._endDiscard()
        return dropped

    def _endDiscard(self):
        self._discarding = False
        self._discarded = 0
        self._discardPrefix = b""
        self._discardLimit = 0
        self._discardTail = b""

    def nextLine(self, maxLength=_UNSET) -> bytes | None:
        """The next complete line without its terminator, or None if there is none yet.

        Raises ``LineTooLong`` (having consumed the line) for a line longer
        than ``maxLength`` (default: the ``maxLength`` attribute).
        """
        limit = self._maxLength if maxLength is _UNSET else self._checkLimit(maxLength)
        data = self._data
        term = self._terminator
        tlen = len(term)
        end = data.find(term, self._searchFrom)
        if end < 0:
            self._searchFrom = max(0, len(data) - tlen + 1)
            if self._discarding:
                self._discardAllButTail()
            elif limit is not None and len(data) >= limit:
                # No terminator can start early enough for the line to fit.
                self._discarding = True
                self._discardLimit = limit
                self._discardPrefix = bytes(data[:limit - tlen])
                self._discardAllButTail()
            return None
        consumed = end + tlen
        self._searchFrom = 0
        if self._discarding:
            length = self._discarded + consumed
            prefix, brokenLimit = self._discardPrefix, self._discardLimit
            suffix = (self._discardTail + bytes(data[max(0, end - 2):end]))[-2:]
            del data[:consumed]
            self._endDiscard()
            raise LineTooLong(length, prefix, brokenLimit, suffix)
        if limit is not None and consumed > limit:
            prefix = bytes(data[:limit - tlen])
            suffix = bytes(data[max(0, end - 2):end])
            del data[:consumed]
            raise LineTooLong(consumed, prefix, limit, suffix)
        line = bytes(data[:end])
        del data[:consumed]
        return line

    def finalLine(self, maxLength=_UNSET) -> bytes | None:
        """Like ``nextLine``, but at the end of the input.

        Complete lines are returned first, exactly as ``nextLine`` returns
        them; once none is left, the unterminated rest (if any) is returned
        as the last line and the buffer is left empty. The rest is judged
        against the limit as if it had a terminator; if too long,
        ``LineTooLong`` is raised with ``length`` counting the bytes actually
        received. Returns None once everything has been returned.
        """
        line = self.nextLine(maxLength)
        if line is not None:
            return line
        limit = self._maxLength if maxLength is _UNSET else self._checkLimit(maxLength)
        rest = bytes(self._data)
        self._data.clear()
        self._searchFrom = 0
        tlen = len(self._terminator)
        if self._discarding:
            length = self._discarded + len(rest)
            prefix, brokenLimit = self._discardPrefix, self._discardLimit
            self._endDiscard()
            raise LineTooLong(length, prefix, brokenLimit)
        if not rest:
            return None
        if limit is not None and len(rest) + tlen > limit:
            raise LineTooLong(len(rest), rest[:limit - tlen], limit)
        return rest

    def _discardAllButTail(self):
        """Throw away the buffered bytes except those that may begin a terminator."""
        data = self._data
        keep = len(self._terminator) - 1
        drop = len(data) - keep
        if drop > 0:
            self._discardTail = (self._discardTail + bytes(data[max(0, drop - 2):drop]))[-2:]
            del data[:drop]
            self._discarded += drop
            self._searchFrom = max(0, self._searchFrom - drop)

    def __repr__(self):
        return "<LineBuffer terminator=%r maxLength=%r buffered=%d%s>" % (
            self._terminator, self._maxLength, len(self._data),
            " discarding" if self._discarding else "")
