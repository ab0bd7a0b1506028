"""
Kamaelia.File.Writing: write what arrives to a file
===================================================

``SimpleFileWriter(filename)`` writes everything arriving on its "inbox"
to a file, replacing its contents.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.File.Writing import SimpleFileWriter

    Pipeline(
        DataSource([b"some ", b"bytes\\n"]),
        SimpleFileWriter("/tmp/writing-example.bin"),
    ).run()

    Pipeline(
        DataSource(["some text\\n"]),
        SimpleFileWriter("/tmp/writing-example.txt", mode="w"),
    ).run()

How does it work?
-----------------
``SimpleFileWriter(filename, mode="wb")`` opens the file when it is created.
In a binary mode (the default) the file is unbuffered and ``bytes`` are
written as they are; a ``str`` is encoded (``encoding``, default UTF-8,
may be given as a keyword). In a text mode (``"w"``, ``"a"``, ...) ``str``
is written as text and ``bytes`` unchanged; each write is flushed. (Kamaelia
1.x opened every mode unbuffered, which Python 3 refuses for text.)
``writeData(data)`` does the writing.

The file is written with ordinary blocking calls, which is fine for a
local file.

Termination
-----------
``producerFinished`` or ``shutdownMicroprocess`` on "control" is forwarded
to "signal" and the component ends, after writing the data already
waiting. The file is closed when it ends (``closeDownComponent``).
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

_BINARY = (bytes, bytearray, memoryview)


class SimpleFileWriter(component):
    """SimpleFileWriter(filename[, mode]) -> writes everything it receives to a file."""

    Inboxes = {"inbox": "Data to write (bytes, or str)",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "NOT USED",
                "signal": "The shutdown message that stopped it"}

    encoding = "utf-8"

    def __init__(self, filename, mode="wb", **argd):
        super().__init__(**argd)
        self.filename = filename
        self.mode = mode
        self.binary = "b" in mode
        if self.binary:
            self.file = open(filename, mode, 0)
        else:
            self.file = open(filename, mode, encoding=self.encoding)

    def writeData(self, data):
        """Write ``data`` to the file (see the module docs for str/bytes)."""
        f = self.file
        if self.binary:
            if isinstance(data, str):
                data = data.encode(self.encoding)
            view = memoryview(data)
            while view:
                written = f.write(view)
                view = view[written:]
        elif isinstance(data, _BINARY):
            f.flush()
            f.buffer.write(data)
            f.buffer.flush()
        else:
            f.write(data)
            f.flush()

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.writeData(self.recv("inbox"))
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    self.send(msg, "signal")
                    return
            self.pause()
            yield 1

    def closeDownComponent(self):
        """Close the file (safe to call more than once)."""
        if not self.file.closed:
            self.file.close()
        return 1

    def stop(self):
        self.closeDownComponent()
        super().stop()


__kamaelia_components__ = (SimpleFileWriter,)
