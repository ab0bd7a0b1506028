"""
Kamaelia.Util.Chargen: an endless stream of test data
=====================================================

``Chargen()`` sends the string "Hello World" on "outbox" at every
scheduler cycle -- a load generator for tests and examples.

Example Usage
-------------
Send a thousand messages into something, then stop the generator::

    from Axon.Ipc import shutdownMicroprocess
    from Axon.Testing import ComponentHarness
    from Kamaelia.Util.Chargen import Chargen

    h = ComponentHarness(Chargen())
    h.step(1000)
    assert h.getAll("outbox") == ["Hello World"] * 1000
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished

How does it work?
-----------------
Each step sends one "Hello World" (a ``str``) and yields. It never sleeps
while it can send: it is a producer, not a waiter. If the receiving inbox
is full (``noSpaceInBox``) it sleeps until the receiver takes something.

Termination
-----------
Kamaelia 1.x's Chargen never ended. This one ends on ``producerFinished``
or ``shutdownMicroprocess`` on "control", which it forwards to "signal";
otherwise it runs for ever.
"""

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Chargen(component):
    """Chargen() -> sends "Hello World" at every scheduler cycle."""

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": '"Hello World", again and again',
                "signal": "The shutdown message that stopped it"}

    def main(self):
        while True:
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    self.send(msg, "signal")
                    return
            try:
                self.send("Hello World", "outbox")
            except noSpaceInBox:
                self.pause()
            yield 1


__kamaelia_components__ = (Chargen,)
