#!/usr/bin/env python3
"""
FileCopy: copying files with Kamaelia's file components
=======================================================

What it shows:

* a binary copy: ``RateControlledFileReader`` (a rate controller asking a
  ``PromptedFileReader`` for 64 KiB chunks) piped into a
  ``SimpleFileWriter``. When the reader reaches the end of the file its
  ``producerFinished`` travels down the ``Pipeline``, the writer closes the
  file and the program ends by itself;
* a text copy: ``SimpleReader`` sending the lines of a text file into a
  ``SimpleFileWriter`` opened in text mode (``mode="w"``), with a
  ``PureTransformer`` numbering the lines on the way.

Run it::

    python3 Examples/Kamaelia/FileCopy.py [SOURCE DESTINATION [BYTES_PER_SECOND]]

With a SOURCE and DESTINATION it copies SOURCE to DESTINATION (at 10 MB/s
unless told otherwise) and reports whether the copy is identical. Without
arguments it makes a 300,000-byte file in a temporary directory, copies it,
then copies a small text file with numbered lines, and cleans up.

You should see (without arguments)::

    binary copy: 300000 bytes, identical: True
    text copy with numbered lines:
    1: The cat
    2: sat on
    3: the mat.
"""

import filecmp
import os
import sys
import tempfile

from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.File.Reading import RateControlledFileReader, SimpleReader
from Kamaelia.File.Writing import SimpleFileWriter
from Kamaelia.Util.PureTransformer import PureTransformer


def binaryCopy(source, destination, rate=10_000_000, chunksize=65536):
    """Copy ``source`` to ``destination`` at ``rate`` bytes per second."""
    Pipeline(
        RateControlledFileReader(source, "bytes", rate=rate, chunksize=chunksize),
        SimpleFileWriter(destination),
    ).run()


def numberedTextCopy(source, destination):
    """Copy the text file ``source`` to ``destination``, numbering its lines."""
    counter = iter(range(1, 1_000_000_000))
    Pipeline(
        SimpleReader(source),
        PureTransformer(lambda line: "%d: %s" % (next(counter), line)),
        SimpleFileWriter(destination, mode="w"),
    ).run()


def demo():
    with tempfile.TemporaryDirectory() as workdir:
        original = os.path.join(workdir, "original.bin")
        with open(original, "wb") as f:
            f.write(bytes(range(256)) * 1171 + b"\x00" * 224)
        copy = os.path.join(workdir, "copy.bin")
        binaryCopy(original, copy)
        print("binary copy: %d bytes, identical: %s"
              % (os.path.getsize(copy), filecmp.cmp(original, copy, shallow=False)))

        poem = os.path.join(workdir, "poem.txt")
        with open(poem, "w") as f:
            f.write("The cat\nsat on\nthe mat.\n")
        numbered = os.path.join(workdir, "numbered.txt")
        numberedTextCopy(poem, numbered)
        print("text copy with numbered lines:")
        with open(numbered) as f:
            sys.stdout.write(f.read())


def main(argv):
    if len(argv) == 1:
        demo()
        return 0
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    source, destination = argv[1], argv[2]
    rate = int(argv[3]) if len(argv) == 4 else 10_000_000
    binaryCopy(source, destination, rate=rate)
    print("copied %d bytes from %s to %s, identical: %s"
          % (os.path.getsize(destination), source, destination,
             filecmp.cmp(source, destination, shallow=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
