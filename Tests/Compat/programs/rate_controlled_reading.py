"""Files read in rate-controlled chunks, Kamaelia 1.x style.

Run: python3 rate_controlled_reading.py single FILENAME
     python3 rate_controlled_reading.py carousel FILENAME...
     python3 rate_controlled_reading.py chooser FILENAME...

* single: RateControlledFileReader(FILENAME, "bytes", rate=4000,
  chunksize=100) feeding a Collector: the file arrives as 100-byte chunks
  (the last one shorter) and the reader says producerFinished at the end.
* carousel: a ReusableFileReader (a Carousel of PromptedFileReaders) reads
  each file named in turn. A NameServer answers each "NEXT" the Carousel
  asks for with the next file name; a ByteRate_RequestControl asks for
  50-byte chunks. When the names run out the NameServer says
  producerFinished to the Carousel, which ends and stops the rate control.

* chooser: the same, with the file names coming from a
  ForwardIteratingChooser joined to the ReusableFileReader by
  JoinChooserToCarousel (the 1.x prefab for a playlist).

Prints the chunk sizes, the text read, the shutdown message(s) and
"finished".
"""

import sys

from tracing import Collector, NameServer

from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Chassis.Prefab import JoinChooserToCarousel
from Kamaelia.File.Reading import RateControlledFileReader, ReusableFileReader
from Kamaelia.Util.Chooser import ForwardIteratingChooser
from Kamaelia.Util.RateFilter import ByteRate_RequestControl


def show(collector):
    print("chunk sizes:", [len(chunk) for chunk in collector.received])
    print(b"".join(collector.received).decode(), end="")
    print("signals:", [m.__class__.__name__ for m in collector.controls])


if sys.argv[1] == "single":
    end = Collector("END", noteData=False)
    Pipeline(RateControlledFileReader(sys.argv[2], "bytes", rate=4000, chunksize=100), end).run()
    show(end)
elif sys.argv[1] == "chooser":
    end = Collector("END", noteData=False)
    Graphline(
        RATE=ByteRate_RequestControl(rate=5000, chunksize=50),
        PLAYLIST=JoinChooserToCarousel(ForwardIteratingChooser(sys.argv[2:]),
                                       ReusableFileReader("bytes")),
        END=end,
        linkages={
            ("RATE", "outbox"): ("PLAYLIST", "inbox"),
            ("PLAYLIST", "outbox"): ("END", "inbox"),
            ("PLAYLIST", "signal"): ("RATE", "control"),
            ("RATE", "signal"): ("END", "control"),
        }).run()
    show(end)
else:
    end = Collector("END", noteData=False)
    Graphline(
        NAMES=NameServer(sys.argv[2:]),
        READER=ReusableFileReader("bytes"),
        RATE=ByteRate_RequestControl(rate=5000, chunksize=50),
        END=end,
        linkages={
            ("NAMES", "outbox"): ("READER", "next"),
            ("NAMES", "signal"): ("READER", "control"),
            ("READER", "requestNext"): ("NAMES", "inbox"),
            ("RATE", "outbox"): ("READER", "inbox"),
            ("READER", "outbox"): ("END", "inbox"),
            ("READER", "signal"): ("RATE", "control"),
            ("RATE", "signal"): ("END", "control"),
        }).run()
    show(end)
print("finished")
