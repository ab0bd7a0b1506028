"""
Kamaelia.Util.Fanout: copy every message to every outbox
========================================================

``Fanout(boxnames)`` has an outbox for each name given (plus the usual
"outbox" and "signal") and sends every item arriving on "inbox" out of all
of them.

Example Usage
-------------
::

    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Fanout import Fanout
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    Graphline(
        SOURCE=DataSource(["news\\n"]),
        SPLIT=Fanout(["left", "right"]),
        LEFT=PureTransformer(lambda s: "left: " + s),
        RIGHT=PureTransformer(lambda s: "right: " + s),
        OUT=ConsoleEchoer(),
        linkages={
            ("SOURCE", "outbox"): ("SPLIT", "inbox"),
            ("SOURCE", "signal"): ("SPLIT", "control"),
            ("SPLIT", "left"): ("LEFT", "inbox"),
            ("SPLIT", "right"): ("RIGHT", "inbox"),
            ("SPLIT", "signal"): ("LEFT", "control"),
            ("LEFT", "signal"): ("RIGHT", "control"),
            ("LEFT", "outbox"): ("OUT", "inbox"),
            ("RIGHT", "outbox"): ("OUT", "inbox"),
            ("RIGHT", "signal"): ("OUT", "control"),
        },
    ).run()

prints "left: news" and "right: news". SPLIT's "signal" carries a copy of
the data as well as the final ``producerFinished``; LEFT, a
``PureTransformer``, ignores the data there and stops on the
``producerFinished``, and the shutdown travels on from LEFT to RIGHT to OUT.

How does it work?
-----------------
The instance's ``Outboxes`` are the class's plus one per name. Each item
taken from "inbox" is sent out of **every** outbox -- including "outbox"
and "signal", as in Kamaelia 1.x, so whatever listens on "signal" sees the
data too.

Termination
-----------
``producerFinished`` or ``shutdownMicroprocess`` on "control" is forwarded
to "signal" (only) and the component ends, after sending the data already
waiting. Other control messages are ignored.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Support.Deprecate import makeClassStub


class Fanout(component):
    """Fanout(boxnames) -> sends every inbox item out of every outbox (and the named ones)."""

    Inboxes = {"inbox": "Items to copy to every outbox",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "A copy of every item",
                "signal": "A copy of every item, then the shutdown message"}

    def __init__(self, boxnames):
        self.Outboxes = dict(type(self).Outboxes)
        for name in boxnames:
            self.Outboxes[name] = "A copy of every item"
        super().__init__()

    def main(self):
        while True:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                for boxname in list(self.outboxes):
                    self.send(data, boxname)
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    self.send(msg, "signal")
                    return
            self.pause()
            yield 1


fanout = makeClassStub(
    Fanout, "fanout is deprecated: use Kamaelia.Util.Fanout.Fanout (capital F)")


__kamaelia_components__ = (Fanout,)
