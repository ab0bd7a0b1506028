"""
Kamaelia.Util.PureTransformer: apply a function to every message
================================================================

``PureTransformer(function)`` sends ``function(item)`` for every item that
arrives on its "inbox", dropping the results that are ``None``.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        DataSource([1, 2, 3, 4]),
        PureTransformer(lambda n: "%d squared is %d\\n" % (n, n * n) if n % 2 else None),
        ConsoleEchoer(),
    ).run()                     # prints the lines for 1 and 3 only

Instead of passing a function you may subclass and override
``processMessage(msg)``.

How does it work?
-----------------
Each item taken from "inbox" is passed to ``processMessage`` (which is the
given function, if one was given); a result other than ``None`` is sent on
"outbox". The component sleeps when it has nothing to do.

Termination
-----------
It stops on ``producerFinished`` or the legacy ``Axon.Ipc.shutdown`` on
"control" -- *not* on ``shutdownMicroprocess``, which it takes and ignores,
as Kamaelia 1.x did -- after handling the data already waiting. It then
sends a new ``producerFinished(self)`` on "signal" (not the message it
received).
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdown


class PureTransformer(component):
    """PureTransformer([function]) -> sends function(item) for each item received.

    Results that are ``None`` are not sent. Override ``processMessage``
    instead of passing a function, if you prefer.
    """

    Inboxes = {"inbox": "Items to transform",
               "control": "producerFinished or shutdown to stop (shutdownMicroprocess is ignored)"}
    Outboxes = {"outbox": "The transformed items (None results are dropped)",
                "signal": "producerFinished(self) when it stops"}

    def __init__(self, function=None):
        super().__init__()
        if function is not None:
            self.processMessage = function

    def processMessage(self, msg):
        """Transform one item; the default returns None (so nothing is sent)."""
        return None

    def main(self):
        while True:
            while self.dataReady("inbox"):
                result = self.processMessage(self.recv("inbox"))
                if result is not None:
                    self.send(result, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdown)):
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


__kamaelia_components__ = (PureTransformer,)
