"""
Kamaelia.Protocol.RTP.NullPayloadRTP: length-prefixed chunks of a constant-rate stream
======================================================================================

``NullPayloadPreFramer(sourcename, sourcebitrate=65536, chunksize=1400)``
takes the data of a constant-bit-rate source (raw audio, say), cuts it into
chunks of ``chunksize`` bytes, puts a 4-byte big-endian length in front of
each, and sends ``(timestamp, chunk)``: the timestamp is the playback time,
in seconds, of the chunk's first byte, worked out from the bit rate. It is
the step before an RTP packetiser, whose payload needs no other framing (a
"null" payload format).

Example Usage
-------------
Frame 1500 bytes of a 8000 bit/s (1000 bytes a second) source in chunks of
600 bytes, driven by hand through ``Axon.Testing``::

    from Axon.Testing import ComponentHarness
    from Kamaelia.Protocol.RTP.NullPayloadRTP import NullPayloadPreFramer

    h = ComponentHarness(NullPayloadPreFramer("example", sourcebitrate=8000, chunksize=600))
    h.put(b"x" * 1000, "recvsrc")
    h.put(b"y" * 500, "recvsrc")
    h.put("shutdown", "control")          # send what is left, then stop
    h.runUntilIdle()
    for timestamp, chunk in h.getAll("output"):
        print(timestamp, chunk[:4], len(chunk) - 4)
    print("finished:", h.finished)

prints::

    0 b'\\x00\\x00\\x02X' 600
    0.6 b'\\x00\\x00\\x02X' 600
    1.2 b'\\x00\\x00\\x01,' 300
    finished: True

How does it work?
-----------------
Everything arriving on "recvsrc" is appended to a buffer
(``currentchunk``). Whenever the buffer holds at least ``chunksize``
items, the first ``chunksize`` are taken off and sent as
``(timestamp, makeChunk(data))`` on "output". ``makeChunk`` puts the
length of the data (not counting the 4 bytes) in front of it, big-endian.
The timestamp of a chunk is the number of bytes sent before it divided by
``sourceoctetrate = sourcebitrate / 8.0``, so the first chunk is at 0 and
there is no rounding drift.

The data may be ``bytes`` (the length is then 4 bytes) or, as in 1.x,
``str`` treated as one character per byte (the length is then 4
characters with code points 0-255, as made by ``packLengthAsString``).
An empty buffer takes the type of whatever arrives next. Lengths must fit
in 32 bits (``ValueError`` otherwise).

It is written in the ``initialiseComponent``/``mainBody`` style. Each
``mainBody()`` call does one thing and returns a code saying what it did:
1 sent a full chunk; 2 sent (part of) what was left while shutting down;
3 took one item from "recvsrc"; 4 took one message from "control"; 5
nothing to do (it then sleeps until a message arrives); 0 it has finished.
The helper methods are public, as in 1.x: ``updateTimestamp(data)``,
``makeChunk(data)``, ``sendCurrentChunk(sendpartial=False)`` (returns 1 if
it sent a chunk, else 0; with ``sendpartial`` it sends whatever is there,
even nothing), ``handleShutdown()`` (2 while data is left, then 0) and
``handleControl()`` (takes one control message; True if it asks for
shutdown).

Inboxes: "recvsrc" (the data, ``bytes`` or ``str``), "control" (the
string ``"shutdown"``, or ``producerFinished``/``shutdownMicroprocess``).
Outboxes: "output" (``(timestamp, chunk)`` tuples). There is no "inbox",
"outbox" or "signal".

Termination
-----------
After the string ``"shutdown"`` (or a ``producerFinished`` or
``shutdownMicroprocess``) on "control" it sends everything still
buffered -- full chunks, then a last, shorter one -- and ends. Nothing
tells downstream that it has ended (it has no "signal" outbox). Other
control messages are discarded.
"""

import struct

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

_LENGTH = struct.Struct(">I")


def packLengthAsString(n):
    """The 4-character string whose code points are the big-endian bytes of ``n``.

    ``packLengthAsString(0x41424344) == "ABCD"``. ``n`` must fit in 32 bits.
    """
    return _LENGTH.pack(_checkedLength(n)).decode("latin-1")


def _checkedLength(n):
    if not 0 <= n < 1 << 32:
        raise ValueError("a length must fit in 32 bits, got %r" % (n,))
    return n


class NullPayloadPreFramer(component):
    """NullPayloadPreFramer(sourcename[, sourcebitrate][, chunksize])
    -> sends (timestamp, length-prefixed chunk) for each chunksize bytes received.
    """

    Inboxes = ["control", "recvsrc"]
    Outboxes = ["output"]

    def __init__(self, sourcename, sourcebitrate=65536, chunksize=1400):
        super().__init__()
        self.sourcename = sourcename
        self.sourcebitrate = sourcebitrate
        self.sourceoctetrate = sourcebitrate / 8.0
        self.chunksize = chunksize
        self.currentchunk = ""
        self.timestamp = 0
        self._dataSent = 0
        self.quitFlag = False

    def initialiseComponent(self):
        return 1

    def closeDownComponent(self):
        return None

    def updateTimestamp(self, data):
        """Count ``data`` as sent; ``timestamp`` becomes the time of the next byte."""
        self._dataSent += len(data)
        self.timestamp = self._dataSent / self.sourceoctetrate

    def makeChunk(self, data):
        """``data`` with its length in front: 4 bytes (or characters) big-endian."""
        if isinstance(data, str):
            return packLengthAsString(len(data)) + data
        return _LENGTH.pack(_checkedLength(len(data))) + bytes(data)

    def sendCurrentChunk(self, sendpartial=False):
        """Send the first chunksize items (or, if ``sendpartial``, fewer): 1 if sent, else 0."""
        if len(self.currentchunk) < self.chunksize and not sendpartial:
            return 0
        data = self.currentchunk[:self.chunksize]
        self.currentchunk = self.currentchunk[self.chunksize:]
        timestamp = self.timestamp
        self.updateTimestamp(data)
        self.send((timestamp, self.makeChunk(data)), "output")
        return 1

    def handleShutdown(self):
        """While shutting down: send what is left (2), or 0 once nothing is."""
        if len(self.currentchunk) > 0:
            self.sendCurrentChunk(sendpartial=True)
            return 2
        return 0

    def handleControl(self):
        """Take one control message, if any: True if it asks for shutdown."""
        if not self.dataReady("control"):
            return False
        msg = self.recv("control")
        if isinstance(msg, (producerFinished, shutdownMicroprocess)):
            return True
        return isinstance(msg, str) and msg == "shutdown"

    def _append(self, data):
        if len(self.currentchunk) == 0:
            # An empty buffer follows the data: bytes in, bytes out.
            self.currentchunk = data[:0]
        self.currentchunk += data

    def mainBody(self):
        if len(self.currentchunk) >= self.chunksize:
            self.sendCurrentChunk()
            return 1
        if self.quitFlag:
            return self.handleShutdown()
        if self.dataReady("recvsrc"):
            self._append(self.recv("recvsrc"))
            return 3
        if self.dataReady("control"):
            self.quitFlag = self.handleControl()
            return 4
        self.pause()
        return 5


__kamaelia_components__ = (NullPayloadPreFramer,)
