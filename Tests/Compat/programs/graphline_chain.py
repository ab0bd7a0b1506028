"""A Graphline shutdown chain, Kamaelia 1.x style.

Run: python3 graphline_chain.py finished|forwarded|routed|nested

* finished: SOURCE -> A -> B -> C inside a Graphline, each "signal" linked to
  the next "control"; the producerFinished that SOURCE sends at the end
  reaches every component, and the Graphline (whose own "signal" nothing
  feeds) then says producerFinished itself.
* forwarded: a shutdownMicroprocess sent to a Graphline whose linkages do not
  mention its "control" is forwarded to every child, and the Graphline
  passes that same message on out of its "signal".
* routed: the linkages route the Graphline's "control" through A and B and
  B's "signal" out of the Graphline's; the message travels that route and
  comes out once.

* nested: the same as forwarded, with a Graphline as the child of the
  Graphline: it forwards the message to its own child in turn, and each
  passes it on out of its "signal".

Each prints the data that came out, every component's trace, and
"finished" once run() has returned.
"""

import sys

from tracing import Collector, Tracer, describe, report

from Axon.Component import component
from Axon.Ipc import shutdownMicroprocess
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.Console import ConsoleEchoer
from Kamaelia.Util.DataSource import DataSource

STOP = shutdownMicroprocess()


class SendThenStop(component):
    """Sends its items, then STOP on "signal"."""

    def __init__(self, items):
        super(SendThenStop, self).__init__()
        self.items = items

    def main(self):
        for item in self.items:
            self.send(item, "outbox")
            yield 1
        self.send(STOP, "signal")
        yield 1


def finished():
    end = Collector("GRAPHLINE-SIGNAL")
    Pipeline(
        Graphline(
            SOURCE=DataSource(["one\n", "two\n", "three\n"]),
            A=Tracer("A"),
            B=Tracer("B"),
            C=ConsoleEchoer(forwarder=True),
            linkages={
                ("SOURCE", "outbox"): ("A", "inbox"),
                ("SOURCE", "signal"): ("A", "control"),
                ("A", "outbox"): ("B", "inbox"),
                ("A", "signal"): ("B", "control"),
                ("B", "outbox"): ("C", "inbox"),
                ("B", "signal"): ("C", "control"),
                ("C", "outbox"): ("self", "outbox"),
            }),
        end,
    ).run()
    report()
    print("caller of the Graphline's producerFinished:", end.controls[0].caller)


def forwarded():
    end = Collector("GRAPHLINE-SIGNAL")
    Pipeline(
        SendThenStop(["x", "y"]),
        Graphline(
            A=Tracer("A"),
            B=Tracer("B"),
            linkages={
                ("self", "inbox"): ("A", "inbox"),
                ("A", "outbox"): ("B", "inbox"),
                ("B", "outbox"): ("self", "outbox"),
            }),
        end,
    ).run()
    report()
    print("the Graphline passed on the very message sent:", end.controls[0] is STOP)


def routed():
    end = Collector("GRAPHLINE-SIGNAL")
    Pipeline(
        SendThenStop(["x", "y"]),
        Graphline(
            A=Tracer("A"),
            B=Tracer("B"),
            linkages={
                ("self", "inbox"): ("A", "inbox"),
                ("self", "control"): ("A", "control"),
                ("A", "outbox"): ("B", "inbox"),
                ("A", "signal"): ("B", "control"),
                ("B", "outbox"): ("self", "outbox"),
                ("B", "signal"): ("self", "signal"),
            }),
        end,
    ).run()
    report()
    print("the Graphline passed on the very message sent:", end.controls[0] is STOP,
          describe(end.controls[0]))


def nested():
    end = Collector("GRAPHLINE-SIGNAL")
    inner = Graphline(
        A=Tracer("INNER-A"),
        linkages={
            ("self", "inbox"): ("A", "inbox"),
            ("A", "outbox"): ("self", "outbox"),
        })
    Pipeline(
        SendThenStop(["x", "y"]),
        Graphline(
            INNER=inner,
            linkages={
                ("self", "inbox"): ("INNER", "inbox"),
                ("INNER", "outbox"): ("self", "outbox"),
            }),
        end,
    ).run()
    report()
    print("the outer Graphline passed on the very message sent:", end.controls[0] is STOP)


{"finished": finished, "forwarded": forwarded, "routed": routed, "nested": nested}[sys.argv[1]]()
print("finished")
