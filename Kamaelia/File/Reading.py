"""
Kamaelia.File.Reading: read files on request or at a controlled rate
====================================================================

* ``PromptedFileReader(filename, readmode)`` reads a file a piece at a time:
  each number arriving on its "inbox" asks for that many bytes (or lines).
* ``RateControlledFileReader(filename, readmode, **rateargs)`` reads a file
  at a steady rate.
* ``ReusableFileReader``, ``RateControlledReusableFileReader`` and
  ``FixedRateControlledReusableFileReader`` read one file after another, as
  file names are sent to them.
* ``SimpleReader(filename)`` sends a file line by line, as fast as it can.

Example Usage
-------------
Print a file, 64 bytes at a time, at 1024 bytes per second::

    import os, tempfile
    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.File.Reading import RateControlledFileReader
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    workdir = tempfile.mkdtemp()
    first = os.path.join(workdir, "first.txt")
    second = os.path.join(workdir, "second.txt")
    with open(first, "w") as f:
        f.write("one\\ntwo\\n")
    with open(second, "w") as f:
        f.write("three\\n")

    Pipeline(
        RateControlledFileReader(first, "bytes", rate=1024, chunksize=64),
        PureTransformer(lambda chunk: chunk.decode("utf-8", "replace")),
        ConsoleEchoer(),
    ).run()

Print a text file line by line::

    from Kamaelia.File.Reading import SimpleReader

    Pipeline(SimpleReader(second), ConsoleEchoer()).run()

Read a file at 10 lines per second with a reader that can be given
another file later::

    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.File.Reading import FixedRateControlledReusableFileReader

    Pipeline(
        DataSource([first]),
        FixedRateControlledReusableFileReader("lines", rate=10, chunksize=1),
        PureTransformer(lambda chunk: chunk.decode("utf-8", "replace")),
        ConsoleEchoer(),
    ).run()

How does it work?
-----------------
``PromptedFileReader(filename, readmode="bytes")`` opens the file (binary)
when created. For each request ``n`` on "inbox" it sends one
``bytes`` chunk on "outbox": in ``"bytes"`` mode up to ``n`` bytes, in
``"lines"`` mode up to ``n`` lines (joined, each with its line ending). A
request that finds nothing left to read is answered with
``producerFinished(self)`` on "signal", and the reader ends -- so the end of
the file is signalled on the first request *after* the last data. The
exception ``EOF`` is what the read methods raise internally at the end of
the file.

``RateControlledFileReader`` is a ``Graphline`` of a
``Kamaelia.Util.RateFilter.ByteRate_RequestControl`` (given ``rateargs``:
``rate``, ``chunksize``, ``chunkrate``, ``allowchunkaggregation``) sending
its requests to a ``PromptedFileReader``; in "lines" mode the rate counts
lines. The reader's end-of-file signal stops the rate controller, whose
signal comes out of the Graphline.

``ReusableFileReader(readmode)`` is a ``Kamaelia.Chassis.Carousel`` of
``PromptedFileReader``s: send a file name to its "next" inbox and requests
to its "inbox". ``RateControlledReusableFileReader(readmode)`` is a
Carousel of ``RateControlledFileReader``s: send ``(filename, rateargs)``
to "next". ``FixedRateControlledReusableFileReader(readmode, **rateargs)``
is a Graphline of one rate controller feeding a ``ReusableFileReader``:
each file name sent to its "inbox" starts reading that file at that rate.
Being a Carousel inside, a new name *replaces* the file being read (it is
not queued behind it), and the Graphline has no "requestNext" outbox to say
when a file is done; use ``RateControlledReusableFileReader`` when you need
that. Requests made while no file is being read wait for the next file.

``SimpleReader(filename, mode="r", buffering=1)`` opens the file when it
starts and sends one line per step (``str`` lines in the default text
mode, ``bytes`` in binary mode -- where ``buffering=1``, which Python only
supports for text, means the default buffering). If the receiving inbox is
full it sleeps until there is room and sends the line again.

Files are read with ordinary blocking calls, which is fine for local files.

Termination
-----------
``PromptedFileReader`` ends at the end of the file (``producerFinished(self)``
on "signal") or on ``shutdownMicroprocess`` on "control" (forwarded to
"signal"); other control messages, ``producerFinished`` included, are
ignored. The file is closed when it ends. The Graphlines and Carousels end
as their parts do (see ``Kamaelia.Chassis``): send ``shutdownMicroprocess``
to their "control" to stop them early, ``producerFinished`` to a reusable
reader to make it stop after the files already named.

``SimpleReader`` sends ``producerFinished()`` on "signal" after the last
line and ends; ``shutdownMicroprocess`` on "control" stops it early
(forwarded to "signal").
"""

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.Carousel import Carousel
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Util.RateFilter import ByteRate_RequestControl


class EOF(Exception):
    """The end of the file was reached."""


class PromptedFileReader(component):
    """PromptedFileReader(filename[, readmode]) -> reads n bytes or lines per request."""

    Inboxes = {"inbox": "Requests: how many bytes (or lines) to read next",
               "control": "shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "The data read (bytes), one chunk per request",
                "signal": "producerFinished(self) at the end of the file, or the "
                          "shutdownMicroprocess that stopped it"}

    def __init__(self, filename, readmode="bytes"):
        super().__init__()
        if readmode == "bytes":
            self.read = self.readNBytes
        elif readmode == "lines":
            self.read = self.readNLines
        else:
            raise ValueError("readmode must be 'bytes' or 'lines', got %r" % (readmode,))
        self.filename = filename
        self.readmode = readmode
        self.file = open(filename, "rb")

    def readNBytes(self, n):
        """Up to ``n`` bytes; raises EOF if there are none left."""
        data = self.file.read(n)
        if not data:
            raise EOF
        return data

    def readNLines(self, n):
        """Up to ``n`` lines joined together; raises EOF if there are none left."""
        lines = []
        for _ in range(n):
            line = self.file.readline()
            if not line:
                break
            lines.append(line)
        if not lines:
            raise EOF
        return b"".join(lines)

    def main(self):
        while True:
            while self.dataReady("inbox"):
                n = int(self.recv("inbox"))
                try:
                    data = self.read(n)
                except EOF:
                    self.send(producerFinished(self), "signal")
                    return
                self.send(data, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, shutdownMicroprocess):
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


def RateControlledFileReader(filename, readmode="bytes", **rateargs):
    """A Graphline reading ``filename`` at the rate ``rateargs`` describe."""
    return Graphline(
        RC=ByteRate_RequestControl(**rateargs),
        RFA=PromptedFileReader(filename, readmode),
        linkages={
            ("RC", "outbox"): ("RFA", "inbox"),
            ("RFA", "outbox"): ("self", "outbox"),
            ("RFA", "signal"): ("RC", "control"),
            ("RC", "signal"): ("self", "signal"),
            ("self", "control"): ("RFA", "control"),
        })


def ReusableFileReader(readmode):
    """A Carousel making a PromptedFileReader for each file name sent to its "next" inbox."""
    return Carousel(lambda filename: PromptedFileReader(filename, readmode))


def RateControlledReusableFileReader(readmode):
    """A Carousel making a RateControlledFileReader for each (filename, rateargs) sent to "next"."""
    return Carousel(lambda args: RateControlledFileReader(args[0], readmode, **args[1]))


def FixedRateControlledReusableFileReader(readmode="bytes", **rateargs):
    """A Graphline reading each file named on its inbox in turn, at one fixed rate."""
    return Graphline(
        RC=ByteRate_RequestControl(**rateargs),
        CAROUSEL=ReusableFileReader(readmode),
        linkages={
            ("self", "inbox"): ("CAROUSEL", "next"),
            ("self", "control"): ("CAROUSEL", "control"),
            ("RC", "outbox"): ("CAROUSEL", "inbox"),
            ("CAROUSEL", "outbox"): ("self", "outbox"),
            ("CAROUSEL", "signal"): ("RC", "control"),
            ("RC", "signal"): ("self", "signal"),
        })


class SimpleReader(component):
    """SimpleReader(filename[, mode][, buffering]) -> sends a file line by line, then producerFinished."""

    Inboxes = {"inbox": "NOT USED",
               "control": "shutdownMicroprocess to stop early"}
    Outboxes = {"outbox": "The file's lines (str in text mode, bytes in binary mode)",
                "signal": "producerFinished() at the end of the file, or the "
                          "shutdownMicroprocess that stopped it"}

    def __init__(self, filename, mode="r", buffering=1, **argd):
        super().__init__(**argd)
        self.filename = filename
        self.mode = mode
        self.buffering = buffering

    def _stopRequested(self):
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, shutdownMicroprocess):
                self.send(msg, "signal")
                return True
        return False

    def main(self):
        buffering = self.buffering
        if "b" in self.mode and buffering == 1:
            buffering = -1
        with open(self.filename, self.mode, buffering) as f:
            for line in f:
                while True:
                    if self._stopRequested():
                        return
                    try:
                        self.send(line, "outbox")
                        break
                    except noSpaceInBox:
                        self.pause()
                        yield 1
                yield 1
        if self._stopRequested():
            return
        self.send(producerFinished(), "signal")


__kamaelia_components__ = (PromptedFileReader, SimpleReader)
__kamaelia_prefabs__ = (RateControlledFileReader,
                        ReusableFileReader,
                        RateControlledReusableFileReader,
                        FixedRateControlledReusableFileReader)
