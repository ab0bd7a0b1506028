"""
Kamaelia.Util.Marshalling: serialise and deserialise messages
==============================================================

``Marshaller(klass)`` sends ``klass.marshall(item)`` for every item it
receives; ``DeMarshaller(klass)`` sends ``klass.demarshall(item)``. ``klass``
is any object with those functions, typically a class with static methods
that turns objects into something a wire or a file can carry and back.

Example Usage
-------------
::

    import json

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.Console import ConsoleEchoer
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Marshalling import DeMarshaller, Marshaller
    from Kamaelia.Util.PureTransformer import PureTransformer

    class JSON:
        marshall = staticmethod(json.dumps)
        demarshall = staticmethod(json.loads)

    Pipeline(
        DataSource([{"to": "ann", "n": 1}, [1, 2]]),
        Marshaller(JSON),
        PureTransformer(lambda text: "wire: " + text + "\\n"),
        ConsoleEchoer(),
    ).run()

    Pipeline(
        DataSource(['{"to": "ann", "n": 1}', "[1, 2]"]),
        DeMarshaller(JSON),
        PureTransformer(lambda obj: "%s: %r\\n" % (type(obj).__name__, obj)),
        ConsoleEchoer(),
    ).run()

prints::

    wire: {"to": "ann", "n": 1}
    wire: [1, 2]
    dict: {'to': 'ann', 'n': 1}
    list: [1, 2]

How does it work?
-----------------
The first step only yields. After that, each step sends the converted form
of every item waiting on "inbox", then reads every message waiting on
"control", and sleeps until a message arrives. Whatever the function
returns is sent as it is, and an exception it raises propagates (it stops
the component and the scheduler reports it). Marshaller needs only
``klass.marshall``, DeMarshaller only ``klass.demarshall``.

Inboxes
-------
- ``inbox``: items to convert.
- ``control``: ``producerFinished`` or ``shutdownMicroprocess`` to stop.

Outboxes
--------
- ``outbox``: the converted items, in order.
- ``signal``: the shutdown message received, passed on.

Termination
-----------
A ``producerFinished`` or ``shutdownMicroprocess`` on "control" is passed
on out of "signal" (the same object) and the component ends in that same
step, after converting the items that arrived before it. Other control
messages are dropped.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class _Converter(component):
    """Sends ``self.convert(item)`` for each item; the shared loop of both components."""

    Inboxes = {"inbox": "Items to convert",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "The converted items",
                "signal": "The shutdown message received, passed on"}

    def __init__(self, klass):
        super().__init__()
        self.klass = klass

    def convert(self, item):
        raise NotImplementedError

    def main(self):
        yield 1
        while True:
            self.pause()
            while self.dataReady("inbox"):
                self.send(self.convert(self.recv("inbox")), "outbox")
            done = False
            while self.dataReady("control"):
                message = self.recv("control")
                if isinstance(message, (producerFinished, shutdownMicroprocess)):
                    self.send(message, "signal")
                    done = True
            if done:
                return
            yield 1


class Marshaller(_Converter):
    """Marshaller(klass) -> sends klass.marshall(item) for each item received."""

    def convert(self, item):
        return self.klass.marshall(item)


class DeMarshaller(_Converter):
    """DeMarshaller(klass) -> sends klass.demarshall(item) for each item received."""

    def convert(self, item):
        return self.klass.demarshall(item)


__kamaelia_components__ = (Marshaller, DeMarshaller)
