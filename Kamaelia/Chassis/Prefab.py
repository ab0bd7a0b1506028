"""
Kamaelia.Chassis.Prefab: ready-made wirings of chassis
======================================================

``JoinChooserToCarousel(chooser, carousel)`` joins a chooser (something
that sends the next choice on "outbox" each time it receives a request on
"inbox") to a ``Carousel``, so that every time the Carousel wants a new
child the chooser says what it should be made from.

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Ipc import producerFinished
    from Kamaelia.Chassis.Carousel import Carousel
    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Chassis.Prefab import JoinChooserToCarousel
    from Kamaelia.Util.OneShot import OneShot
    from Kamaelia.Util.Console import ConsoleEchoer

    class ListChooser(component):
        "Sends the next item for each request; producerFinished when out."
        def __init__(self, items):
            super().__init__()
            self.items = list(items)
        def main(self):
            while True:
                while self.dataReady("inbox"):
                    self.recv("inbox")
                    if not self.items:
                        self.send(producerFinished(self), "signal")
                        return
                    self.send(self.items.pop(0), "outbox")
                self.pause()
                yield 1

    Pipeline(
        JoinChooserToCarousel(
            ListChooser(["one\\n", "two\\n", "three\\n"]),
            Carousel(OneShot, make1stRequest=True),
        ),
        ConsoleEchoer(),
    ).run()

How does it work?
-----------------
It returns a ``Graphline`` with the chooser (named CHOOSER) and the
carousel (named CAROUSEL), linked so that:

* the chooser's "outbox" feeds the carousel's "next" and its "signal" the
  carousel's "control";
* the carousel's "requestNext" feeds the chooser's "inbox";
* the Graphline's "inbox" goes to the carousel's "inbox" and its "control"
  to the chooser's "control";
* the carousel's "outbox" and "signal" come out of the Graphline's.

Termination
-----------
A shutdown message sent to the Graphline's "control" reaches the chooser,
whose "signal" passes it on to the carousel, which passes it out of the
Graphline's "signal" once it has finished. The Graphline terminates when
both have terminated.
"""

from Kamaelia.Chassis.Graphline import Graphline


def JoinChooserToCarousel(chooser, carousel):
    """A Graphline joining ``chooser`` to ``carousel`` (see the module documentation)."""
    return Graphline(
        CHOOSER=chooser,
        CAROUSEL=carousel,
        linkages={
            ("CHOOSER", "outbox"): ("CAROUSEL", "next"),
            ("CHOOSER", "signal"): ("CAROUSEL", "control"),
            ("CAROUSEL", "requestNext"): ("CHOOSER", "inbox"),
            ("self", "inbox"): ("CAROUSEL", "inbox"),
            ("self", "control"): ("CHOOSER", "control"),
            ("CAROUSEL", "outbox"): ("self", "outbox"),
            ("CAROUSEL", "signal"): ("self", "signal"),
        },
    )


__kamaelia_prefabs__ = (JoinChooserToCarousel,)
