"""A Backplane with one publisher and two subscribers, Kamaelia 1.x style.

Run: python3 backplane_news.py

Backplane("NEWS") with two Pipeline(SubscribeTo("NEWS"), Collector(...))
subscribers and a publisher Pipeline(Announcer([...]), PublishTo("NEWS")).
The Announcer gives the subscribers a few scheduler cycles to subscribe,
then sends its items and producerFinished. The publisher's signal is
linked to the backplane's control, so its producerFinished shuts the
backplane down, which passes it on to every subscriber, and everything
ends.

Prints the traces and "finished" once run() has returned.
"""

from tracing import Collector, Tracer, report

from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.Backplane import Backplane, PublishTo, SubscribeTo


class Announcer(component):
    def __init__(self, items):
        super(Announcer, self).__init__()
        self.items = items

    def main(self):
        for _ in range(20):
            yield 1
        for item in self.items:
            self.send(item, "outbox")
            yield 1
        self.send(producerFinished(self), "signal")
        yield 1


Graphline(
    BACKPLANE=Backplane("NEWS"),
    SUB1=Pipeline(SubscribeTo("NEWS"), Collector("SUB1")),
    SUB2=Pipeline(SubscribeTo("NEWS"), Tracer("SUB2-TRACE"), Collector("SUB2")),
    PUB=Pipeline(Announcer(["extra", "extra", "read all about it"]), PublishTo("NEWS")),
    linkages={("PUB", "signal"): ("BACKPLANE", "control")},
).run()
report()
print("finished")
