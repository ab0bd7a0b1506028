"""
Kamaelia.Util.Comparator: compare items from two streams, pair by pair
======================================================================

``Comparator()`` takes one item from "inA" and one from "inB" and sends
whether they are equal (True or False) on "outbox". Subclass it and
override ``combine(valA, valB)`` to send some other combination of each
pair.

Example Usage
-------------
::

    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.Comparator import Comparator
    from Kamaelia.Util.Console import ConsoleEchoer
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer

    Graphline(
        EXPECTED=DataSource(["a", "b", "c"]),
        ACTUAL=DataSource(["a", "x", "c"]),
        COMPARE=Comparator(),
        SHOW=PureTransformer(lambda same: "match\\n" if same else "MISMATCH\\n"),
        OUT=ConsoleEchoer(),
        linkages={("EXPECTED", "outbox"): ("COMPARE", "inA"),
                  ("ACTUAL", "outbox"): ("COMPARE", "inB"),
                  ("ACTUAL", "signal"): ("COMPARE", "control"),
                  ("COMPARE", "outbox"): ("SHOW", "inbox"),
                  ("COMPARE", "signal"): ("SHOW", "control"),
                  ("SHOW", "outbox"): ("OUT", "inbox"),
                  ("SHOW", "signal"): ("OUT", "control")},
    ).run()

prints ``match``, ``MISMATCH``, ``match``.

A subclass that sends the difference of each pair instead::

    class Difference(Comparator):
        def combine(self, valA, valB):
            return valA - valB

How does it work?
-----------------
It is written in the ``mainBody`` style. Each step it compares at most
one pair: when both "inA" and "inB" hold an item it takes the oldest of
each and sends ``combine(a, b)`` on "outbox". Items on one side wait, in
order, for as long as it takes the other side to catch up. Then it takes at
most one message from "control". It sleeps while it has no complete pair
and no control message.

Inboxes
-------
- inbox -- NOT USED
- control -- ``producerFinished`` or ``shutdownMicroprocess`` to stop
- inA -- the first item of each pair
- inB -- the second item of each pair

Outboxes
--------
- outbox -- ``combine(a, b)`` for each pair: by default ``a == b``
- signal -- a new ``producerFinished`` when it stops

Termination
-----------
On ``producerFinished`` or ``shutdownMicroprocess`` on "control" it sends a
new ``producerFinished()`` on "signal" (not the message it received) and
ends. Other control messages are taken and dropped. Pairs not yet complete
when it ends are not compared, so a producer should send its
``producerFinished`` after its data, as ``DataSource`` does; but a pair
completed in the same step as the shutdown arrives is still sent.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Support.Deprecate import WARN, makeClassStub


class Comparator(component):
    """Comparator() -> sends combine(a, b), by default a == b, for each pair from inA and inB."""

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess to stop",
               "inA": "The first item of each pair",
               "inB": "The second item of each pair"}
    Outboxes = {"outbox": "combine(a, b) for each pair (a == b by default)",
                "signal": "A new producerFinished when it stops"}

    def combine(self, valA, valB):
        """What to send for the pair (valA, valB): here, whether they are equal."""
        return valA == valB

    def mainBody(self):
        if self.dataReady("inA") and self.dataReady("inB"):
            self.send(self.combine(self.recv("inA"), self.recv("inB")), "outbox")
        if self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, (producerFinished, shutdownMicroprocess)):
                self.send(producerFinished(), "signal")
                return 0
        pairWaiting = self.dataReady("inA") and self.dataReady("inB")
        if not pairWaiting and not self.dataReady("control"):
            self.pause()
        return 1


comparator = makeClassStub(
    Comparator,
    "comparator is deprecated: use Kamaelia.Util.Comparator.Comparator (capital C)",
    WARN)


__kamaelia_components__ = (Comparator,)
