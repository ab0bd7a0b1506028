"""
Kamaelia.File.Append: append what arrives to a file
===================================================

``Append(filename=...)`` appends every chunk arriving on its "inbox" to a
file and (by default) passes it on.

Example Usage
-------------
Log every line of a stream to a file while passing it on::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.File.Append import Append
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        DataSource(["first line\\n", "second line\\n"]),
        Append(filename="/tmp/append-example.log", blat_file=True),
        ConsoleEchoer(),
    ).run()

How does it work?
-----------------
Keyword arguments (they become attributes):

* ``filename`` -- required (``ValueError`` if missing);
* ``forwarder=True`` -- also send each chunk on "outbox";
* ``blat_file=False`` -- empty the file when the component is created;
* ``hold_open=True`` -- keep the file open between chunks (else it is
  opened and closed for every chunk);
* ``encoding="utf-8"`` -- how ``str`` chunks are encoded.

The file is opened for appending in text mode, as in Kamaelia 1.x: ``str``
chunks are written as text. ``bytes`` chunks are also accepted and written
unchanged. Each chunk is flushed to the file before the component goes on.
``writeChunk(chunk)`` does the writing; override it to change how.

The file is written with ordinary blocking calls, which is fine for a
local file.

Termination
-----------
*Any* message on "control" stops it, after the data already waiting has
been written. When it stops, ``stop()`` sends that message on "signal"
(``producerFinished()`` if it was stopped without one) and closes the
file. Kamaelia 1.x could send the message twice (``stop`` ran both from
``main`` and from the scheduler); it is sent once here.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished


class Append(component):
    """Append(filename=...[, forwarder][, blat_file][, hold_open]) -> appends chunks to a file."""

    Inboxes = {"inbox": "Chunks (str or bytes) to append to the file",
               "control": "Any message stops it (and is sent on signal)"}
    Outboxes = {"outbox": "The chunks, passed on after writing (if forwarder)",
                "signal": "The control message that stopped it, or producerFinished()"}

    filename = None
    forwarder = True
    blat_file = False
    hold_open = True
    encoding = "utf-8"

    def __init__(self, **argd):
        super().__init__(**argd)
        if self.filename is None:
            raise ValueError("Append needs filename=...")
        self.shutdown_message = producerFinished()
        self.file = None
        self._signalled = False
        if self.blat_file:
            open(self.filename, "w").close()
        if self.hold_open:
            self.file = self._open()

    def _open(self):
        return open(self.filename, "a", encoding=self.encoding)

    def writeChunk(self, chunk):
        """Append ``chunk`` (str or bytes) to the file and flush it."""
        if self.hold_open:
            self._write(self.file, chunk)
        else:
            with self._open() as f:
                self._write(f, chunk)

    @staticmethod
    def _write(f, chunk):
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            f.flush()
            f.buffer.write(chunk)
            f.buffer.flush()
        else:
            f.write(chunk)
            f.flush()

    def main(self):
        while True:
            while self.dataReady("inbox"):
                chunk = self.recv("inbox")
                self.writeChunk(chunk)
                if self.forwarder:
                    self.send(chunk, "outbox")
            if self.dataReady("control"):
                self.shutdown_message = self.recv("control")
                return
            self.pause()
            yield 1

    def stop(self):
        if not self._signalled:
            self._signalled = True
            self.send(self.shutdown_message, "signal")
            if self.file is not None:
                self.file.close()
                self.file = None
        super().stop()


__kamaelia_components__ = (Append,)
