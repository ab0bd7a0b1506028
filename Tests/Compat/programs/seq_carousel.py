"""Seq and Carousel, Kamaelia 1.x style.

Run: python3 seq_carousel.py seq|carousel

* seq: Pipeline(Seq("Greeting...", OneShot(...), "Middle...", DataSource([...]),
  "Done."), ConsoleEchoer()): the strings are printed as the Seq reaches
  them, each component's output goes through in turn, and the Seq's final
  producerFinished stops the ConsoleEchoer.
* carousel: a Carousel(make1stRequest=True) making a OneShot from each name
  a NameServer sends to its "next" inbox, asking for the next name
  ("NEXT" on "requestNext") as each child finishes. When the names run out
  the NameServer says producerFinished to the Carousel, which passes it
  on to the ConsoleEchoer. The requests are traced.

Prints the output, then "finished" once run() has returned.
"""

import sys

from tracing import NameServer, report

from Kamaelia.Chassis.Carousel import Carousel
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Chassis.Seq import Seq
from Kamaelia.Util.Console import ConsoleEchoer
from Kamaelia.Util.DataSource import DataSource
from Kamaelia.Util.OneShot import OneShot

if sys.argv[1] == "seq":
    Pipeline(
        Seq(
            "Greeting...",
            OneShot("hello\n"),
            "Middle...",
            DataSource(["a\n", "b\n"]),
            "Done.",
        ),
        ConsoleEchoer(),
    ).run()
else:
    Graphline(
        NAMES=NameServer(["first", "second", "third"], unprompted=False),
        CAROUSEL=Carousel(lambda name: OneShot("child made from %s\n" % name),
                          make1stRequest=True),
        OUTPUT=ConsoleEchoer(),
        linkages={
            ("CAROUSEL", "requestNext"): ("NAMES", "inbox"),
            ("NAMES", "outbox"): ("CAROUSEL", "next"),
            ("NAMES", "signal"): ("CAROUSEL", "control"),
            ("CAROUSEL", "outbox"): ("OUTPUT", "inbox"),
            ("CAROUSEL", "signal"): ("OUTPUT", "control"),
        },
    ).run()
    report()
print("finished")
