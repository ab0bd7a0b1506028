"""
Kamaelia.Util.LineSplitter: bytes in, complete lines out
========================================================

``LineSplitter()`` takes chunks of bytes, however they were split (for
example as they arrive from a socket), and sends out complete lines, one
message per line, without their terminator. Lines longer than a maximum are
not buffered without bound: they are reported on "error" and skipped.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.LineSplitter import LineSplitter
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        DataSource([b"HELO ex", b"ample.com\\r\\nMAIL FROM:<a@", b"b>\\r\\nQUIT\\r\\n"]),
        LineSplitter(),
        PureTransformer(lambda line: "line: %r\\n" % line),
        ConsoleEchoer(),
    ).run()

prints three lines: ``b'HELO example.com'``, ``b'MAIL FROM:<a@b>'`` and
``b'QUIT'``.

How does it work?
-----------------
``LineSplitter(terminator=b"\\r\\n", maxLength=65536)`` feeds every chunk
from "inbox" (bytes-like; a ``str`` raises ``TypeError``) into a
``Kamaelia.Support.LineBuffer`` and sends each complete line on "outbox"
as ``bytes`` without the terminator. Only the configured terminator ends a
line: with the default, a bare LF or CR is part of the line.

``maxLength`` counts the terminator (as RFC 5321 does); ``None`` means no
limit. When a line is longer, its bytes are discarded as they arrive (so
memory stays bounded) and, once its terminator arrives, a
``Kamaelia.Support.LineBuffer.LineTooLong`` object -- with ``length`` (the
line's full length) and ``prefix`` (the part that would have fitted) -- is
sent on the "error" outbox, in place of the line. Splitting carries on with
the next line.

Termination
-----------
On ``producerFinished`` on "control" it first handles the data waiting; a
final line without a terminator is then sent as it is (if not empty and
not too long; if too long, a ``LineTooLong`` goes to "error"). On
``shutdownMicroprocess`` the incomplete line is dropped. Either way, the
message is forwarded to "signal" and the component ends. Other control
messages are ignored.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong


class LineSplitter(component):
    """LineSplitter([terminator][, maxLength]) -> sends each complete line of the bytes it receives."""

    Inboxes = {"inbox": "Chunks of bytes, split anywhere",
               "control": "producerFinished (flush the last line, then stop) or "
                          "shutdownMicroprocess (stop now)"}
    Outboxes = {"outbox": "Complete lines (bytes, without the terminator)",
                "error": "A LineTooLong for each line longer than maxLength",
                "signal": "The shutdown message, when it stops"}

    def __init__(self, terminator=b"\r\n", maxLength=65536, **argd):
        super().__init__(**argd)
        self.buffer = LineBuffer(terminator, maxLength)
        self.terminator = self.buffer.terminator
        self.maxLength = maxLength

    def _sendLines(self):
        while True:
            try:
                line = self.buffer.nextLine()
            except LineTooLong as tooLong:
                self.send(tooLong, "error")
                continue
            if line is None:
                return
            self.send(line, "outbox")

    def _flushLast(self):
        """At the end of the input: send what is left as a last line."""
        while True:
            try:
                line = self.buffer.finalLine()
            except LineTooLong as tooLong:
                self.send(tooLong, "error")
                continue
            if line is None:
                return
            self.send(line, "outbox")

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.buffer.feed(self.recv("inbox"))
                self._sendLines()
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, producerFinished):
                    self._flushLast()
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    self.send(msg, "signal")
                    return
            self.pause()
            yield 1


__kamaelia_components__ = (LineSplitter,)
