"""
Kamaelia.Protocol.Framing: messages in a stream, and back
==========================================================

Two layers for carrying whole messages over a stream that may split or join
them (a TCP connection, a file):

- ``Framer`` / ``DeFramer`` turn ``(tag, data)`` pairs into self-describing
  frames, ``"<tag> <length>\\n<data>"``, and back (``SimpleFrame`` does the
  work).
- ``DataChunker`` / ``DataDeChunker`` put a sync marker in front of each
  message, escaping the marker's characters inside it (with
  ``Kamaelia.Support.Data.Escape``), and on the far side find the messages
  again in pieces of the stream however they were cut.

Example Usage
-------------
Framing two messages and chunking them for the wire::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Protocol.Framing import DataChunker, Framer
    from Kamaelia.Util.Console import ConsoleEchoer
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer

    Pipeline(
        DataSource([(1, "hello"), (2, "eXtra\\nline")]),
        Framer(),
        DataChunker(syncmessage="XXXX"),
        PureTransformer(lambda chunk: repr(chunk) + "\\n"),
        ConsoleEchoer(),
    ).run()

prints::

    'XXXX1 5\\nhello'
    'XXXX2 10\\ne%58tra\\nline'

and finding them again in a stream cut at arbitrary points (bytes work as
well as text; a chunk is complete when the next marker arrives)::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Protocol.Framing import DataDeChunker, DeFramer
    from Kamaelia.Util.Console import ConsoleEchoer
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer

    Pipeline(
        DataSource([b"XXXX1 5\\nhel", b"loXXXX2 10\\ne%58tra\\nli", b"neXXXX"]),
        DataDeChunker(syncmessage="XXXX"),
        DeFramer(),
        PureTransformer(lambda pair: "%r\\n" % (pair,)),
        ConsoleEchoer(),
    ).run()

prints::

    (1, b'hello')
    (2, b'eXtra\\nline')

How does it work?
-----------------
``str(SimpleFrame(tag, data))`` is ``str(tag)``, a space, ``len(data)`` in
decimal, a line feed, then the data, byte for byte as Kamaelia 1.x wrote
it: ``SimpleFrame(50, "1111")`` gives ``"50 4\\n1111"``. ``bytes(frame)``
is the same for ``bytes`` data. ``SimpleFrame.fromString(frame)`` reads the
header (two integers before the first line feed) and returns ``(tag,
data)``, dropping anything after ``length`` characters of data; it raises
``ShortFrame`` if fewer arrived and ``CorruptFrame`` if the header is not
two integers and a line feed. Framer sends a ``str`` frame for ``str``
data and a ``bytes`` frame for ``bytes`` data. DeFramer drops frames that
are short or corrupt and carries on with the next.

DataChunker sends ``syncmessage + escape(message, syncmessage)`` for each
message: ``%`` and every character that occurs in the marker become
``%hh``, so the marker cannot occur inside a chunk. DataDeChunker collects
the pieces that arrive in a buffer; whenever a marker turns up after the
one the buffer starts with, the text before it is a complete chunk, which
is unescaped and sent. Text before the first marker (the stream was joined
part way through a chunk) is dropped, as it cannot be trusted. The last
chunk of a stream has no marker after it: it comes out when a message
(any message) arrives on "flush". A ``str`` marker is used as Latin-1
bytes with ``bytes`` data, so the default marker works for both.

All four handle the data waiting in "inbox" in the same step as it is
delivered and sleep when there is nothing to do.

Inboxes
-------
- ``inbox``: Framer: ``(tag, data)`` pairs; DeFramer: frames; DataChunker:
  messages; DataDeChunker: pieces of the stream.
- ``control``: ``producerFinished`` to stop; anything else is kept in
  ``last_control_message`` and ignored.
- ``flush`` (DataDeChunker only): any message sends the buffered chunk.

Outboxes
--------
- ``outbox``: frames / ``(tag, data)`` pairs / chunks / whole messages.
- ``signal``: the ``producerFinished`` received, passed on.

Termination
-----------
Each component ends on ``producerFinished`` on "control", after handling
the data already waiting, and passes that same message on out of "signal".
At most one control message is read per step. ``shutdownMicroprocess`` does
not stop them, as in Kamaelia 1.x. DataDeChunker does not flush when it
ends: a partial chunk still in its buffer is discarded.
"""

import logging

from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Support.Data.Escape import escape, unescape

_log = logging.getLogger(__name__)

COUNT = 0
"""How many frames ``SimpleFrame.fromString`` has decoded (it appears in ShortFrame's args)."""

_BYTESLIKE = (bytes, bytearray, memoryview)

_DEFAULT_SYNC = "XXXXXXXXXXXXXXXXXXXXXXXX"


class CorruptFrame(ValueError):
    """A frame whose header is not ``<tag> <length>`` and a line feed.

    A ``ValueError``, which Kamaelia 1.x raised for such frames.
    """


class ShortFrame(Exception):
    """A frame with less data than its header promises.

    args: (tag, the data there is, COUNT, length of the frame, length of the data, the frame).
    """


class IncompleteChunk(Exception):
    """A chunk that does not start with the sync marker (its start was never seen)."""


class SimpleFrame(object):
    """SimpleFrame(tag, data) -> a frame; ``str()`` (or ``bytes()``) gives its wire form.

    The arguments are kept as the tuple ``t``. Only a (tag, data) pair can
    be turned into a frame; anything else raises ValueError then.
    """

    def __init__(self, *args):
        self.t = args

    def __repr__(self):
        return "SimpleFrame%r" % (self.t,)

    def _pair(self):
        if len(self.t) != 2:
            raise ValueError("a SimpleFrame holds (tag, data), not %d values: %r" % (len(self.t), self.t))
        return self.t

    def __str__(self):
        tag, data = self._pair()
        if isinstance(data, _BYTESLIKE):
            raise TypeError("the data of this frame is bytes: use bytes(frame), not str(frame)")
        return "%s %d\n%s" % (tag, len(data), data)

    def __bytes__(self):
        tag, data = self._pair()
        if not isinstance(data, _BYTESLIKE):
            raise TypeError("the data of this frame is %s, not bytes: use str(frame)"
                            % type(data).__name__)
        data = bytes(data)
        tag = tag if isinstance(tag, bytes) else str(tag).encode("utf-8")
        return b"%s %d\n%s" % (tag, len(data), data)

    @staticmethod
    def fromString(s):
        """The (int tag, data) pair in the frame ``s`` (str or bytes); see the module docs."""
        global COUNT
        newline = "\n" if isinstance(s, str) else b"\n"
        end = s.find(newline)
        if end == -1:
            raise CorruptFrame("no line feed after the frame header", s)
        header, body = s[:end], s[end + 1:]
        try:
            tag, length = (int(field) for field in header.split())
        except ValueError:
            raise CorruptFrame("the frame header is not two integers", header) from None
        if length < 0:
            raise CorruptFrame("negative length in the frame header", header)
        if length > len(body):
            raise ShortFrame(tag, body[:length], COUNT, len(s), len(body), s)
        COUNT += 1
        return (tag, body[:length])


def _frameOf(item):
    """The wire form of the frame for a (tag, data) item: bytes for bytes data, else str."""
    frame = SimpleFrame(*item)
    tag, data = frame._pair()
    return bytes(frame) if isinstance(data, _BYTESLIKE) else str(frame)


def _syncFor(sync, data):
    """The sync marker in the type of ``data`` (Latin-1 between str and bytes)."""
    if isinstance(data, _BYTESLIKE) and isinstance(sync, str):
        return sync.encode("latin-1")
    if isinstance(data, str) and isinstance(sync, _BYTESLIKE):
        return bytes(sync).decode("latin-1")
    return sync


class _StopsOnProducerFinished(component):
    """The shutdown rule and step loop shared by the four components."""

    Inboxes = {"inbox": "Data to handle",
               "control": "producerFinished to stop; other messages are kept and ignored"}
    Outboxes = {"outbox": "The results",
                "signal": "The producerFinished received, passed on"}

    def __init__(self):
        super().__init__()
        self.last_control_message = None

    def shutdown(self):
        """Take at most one control message: True if it was producerFinished (passed on)."""
        if self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, producerFinished):
                self.send(message, "signal")
                return True
            self.last_control_message = message
        return False

    def handleInbox(self):
        """Handle everything waiting in the inboxes (one step's work)."""
        raise NotImplementedError

    def main(self):
        while True:
            self.handleInbox()
            if self.shutdown():
                return
            if not self.anyReady():
                self.pause()
            yield 1


class Framer(_StopsOnProducerFinished):
    """Framer() -> sends the frame (str, or bytes for bytes data) for each (tag, data) received."""

    Inboxes = {"inbox": "(tag, data) pairs to frame",
               "control": "producerFinished to stop; other messages are kept and ignored"}
    Outboxes = {"outbox": "Frames: str, or bytes when the data is bytes",
                "signal": "The producerFinished received, passed on"}

    def handleInbox(self):
        while self.dataReady("inbox"):
            self.send(_frameOf(self.recv("inbox")), "outbox")


class DeFramer(_StopsOnProducerFinished):
    """DeFramer() -> sends the (tag, data) pair of each frame received; drops bad frames."""

    Inboxes = {"inbox": "Frames (str or bytes), one whole frame per message",
               "control": "producerFinished to stop; other messages are kept and ignored"}
    Outboxes = {"outbox": "(int tag, data) pairs",
                "signal": "The producerFinished received, passed on"}

    def handleInbox(self):
        while self.dataReady("inbox"):
            frame = self.recv("inbox")
            try:
                pair = SimpleFrame.fromString(frame)
            except (ShortFrame, CorruptFrame) as error:
                _log.debug("%s dropped a bad frame: %r", self.name, error)
                continue
            self.send(pair, "outbox")


class DataChunker(_StopsOnProducerFinished):
    """DataChunker([syncmessage]) -> sends syncmessage + the escaped message for each message.

    The default marker is 24 ``X`` characters.
    """

    Inboxes = {"inbox": "Messages (str or bytes)",
               "control": "producerFinished to stop; other messages are kept and ignored"}
    Outboxes = {"outbox": "Chunks: the marker, then the escaped message",
                "signal": "The producerFinished received, passed on"}

    def __init__(self, syncmessage=_DEFAULT_SYNC):
        super().__init__()
        self.syncmessage = syncmessage

    def escapeSyncMessage(self, message):
        """``message`` with ``%`` and every character of the marker escaped."""
        return escape(message, _syncFor(self.syncmessage, message))

    def encodeChunk(self, message):
        """The chunk for ``message``: the marker followed by the escaped message."""
        return _syncFor(self.syncmessage, message) + self.escapeSyncMessage(message)

    def handleInbox(self):
        while self.dataReady("inbox"):
            self.send(self.encodeChunk(self.recv("inbox")), "outbox")


class _ChunkBuffer(object):
    """The stream received but not yet sent, split at sync markers as pieces arrive.

    ``feed(piece, sync)`` returns the texts that ended at a marker: each is
    a whole chunk (marker first), or text from before the first marker.
    Pieces are kept in a list and joined only when a marker turns up, and
    only the few characters a marker could still straddle are searched
    again, so a chunk arriving in many small pieces costs linear time.
    """

    def __init__(self):
        self._clear()

    def _clear(self):
        self._parts = []
        self._length = 0
        self._head = None        # the first len(sync) items of the buffer (all, while shorter)
        self._tail = None        # the last len(sync) - 1 items
        self._searchFrom = 0     # no marker starts before this offset

    def _hold(self, text, sync):
        """Make ``text`` (after the last marker found) the whole buffer."""
        n = len(sync)
        self._parts = [text]
        self._length = len(text)
        self._head = text[:n]
        self._tail = text[max(0, len(text) - n + 1):]
        self._searchFrom = max(n if self._head == sync else 0, len(text) - n + 1)

    def feed(self, piece, sync):
        if isinstance(piece, (bytearray, memoryview)):
            piece = bytes(piece)
        if not self._parts:
            self._head = self._tail = piece[:0]
        n = len(sync)
        oldLength = self._length
        self._parts.append(piece)
        self._length += len(piece)
        if not n:
            return []
        if len(self._head) < n:
            self._head = (self._head + piece)[:n]
        # A buffer starting with a marker ends at the next one; otherwise the
        # text before the first marker is left over from a chunk never seen.
        start = n if self._head == sync else 0
        known = self._tail + piece
        knownStart = oldLength - len(self._tail)
        found = known.find(sync, max(0, max(start, self._searchFrom) - knownStart))
        if found == -1:
            self._tail = known[max(0, len(known) - n + 1):]
            self._searchFrom = max(start, self._length - n + 1)
            return []
        text = piece[:0].join(self._parts)
        position = knownStart + found
        chunks = [text[:position]]
        while True:
            following = text.find(sync, position + n)
            if following == -1:
                break
            chunks.append(text[position:following])
            position = following
        self._hold(text[position:], sync)
        return chunks

    def takeAll(self):
        """Everything buffered (None if nothing), leaving the buffer empty."""
        if not self._parts:
            return None
        text = self._parts[0][:0].join(self._parts)
        self._clear()
        return text


class DataDeChunker(_StopsOnProducerFinished):
    """DataDeChunker([syncmessage]) -> sends each whole message found in the pieces received.

    The last message is sent when anything arrives on "flush".
    """

    Inboxes = {"inbox": "Pieces of a chunked stream (str or bytes), cut anywhere",
               "control": "producerFinished to stop; other messages are kept and ignored",
               "flush": "Any message: send the chunk collected so far"}
    Outboxes = {"outbox": "The messages, unescaped",
                "signal": "The producerFinished received, passed on"}

    def __init__(self, syncmessage=_DEFAULT_SYNC):
        super().__init__()
        self.syncmessage = syncmessage
        self.last_message = None
        self._chunks = _ChunkBuffer()

    def unEscapeSyncMessage(self, message):
        """Undo DataChunker's escaping of ``message``."""
        return unescape(message, _syncFor(self.syncmessage, message))

    def decodeChunk(self, chunk):
        """The message in ``chunk``; IncompleteChunk if it does not start with the marker."""
        sync = _syncFor(self.syncmessage, chunk)
        if chunk[:len(sync)] != sync:
            raise IncompleteChunk("the chunk does not start with the sync marker", chunk)
        return self.unEscapeSyncMessage(chunk[len(sync):])

    def shouldFlush(self):
        """1 if a flush request was waiting (it is taken, into ``last_message``), else 0."""
        if self.dataReady("flush"):
            self.last_message = self.recv("flush")
            return 1
        return 0

    def _sendChunk(self, chunk):
        try:
            message = self.decodeChunk(chunk)
        except IncompleteChunk:
            _log.debug("%s dropped %d characters before the first sync marker", self.name, len(chunk))
            return
        self.send(message, "outbox")

    def handleInbox(self):
        while self.dataReady("inbox"):
            piece = self.recv("inbox")
            for chunk in self._chunks.feed(piece, _syncFor(self.syncmessage, piece)):
                self._sendChunk(chunk)
        if self.shouldFlush():
            chunk = self._chunks.takeAll()
            if chunk is not None:
                self._sendChunk(chunk)


__kamaelia_components__ = (Framer, DeFramer, DataChunker, DataDeChunker)
