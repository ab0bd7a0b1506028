"""
Kamaelia.Util.LossyConnector: pass messages on, dropping those with no room
===========================================================================

``LossyConnector()`` forwards whatever arrives on "inbox" to "outbox".
When the inbox its outbox feeds is full (a size-limited inbox, or a link
made with ``pipewidth``), the message is dropped instead of being kept or
raising ``noSpaceInBox`` in the producer. Put one in front of a consumer
that may fall behind when losing data is better than holding up the
producer: live video frames, status updates.

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Ipc import producerFinished
    from Kamaelia.Util.LossyConnector import LossyConnector

    class Burst(component):
        # Sends ten messages at once, then producerFinished.
        def main(self):
            for i in range(10):
                self.send(i, "outbox")
            self.send(producerFinished(self), "signal")
            yield 1

    class SlowReader(component):
        # Holds at most 3 messages; reads them only once told to finish.
        def __init__(self):
            super().__init__()
            self.setInboxSize("inbox", 3)
        def main(self):
            while not self.dataReady("control"):
                self.pause()
                yield 1
            while self.dataReady("inbox"):
                print("got", self.recv("inbox"))

    burst, lossy, reader = Burst(), LossyConnector(), SlowReader()
    burst.link((burst, "outbox"), (lossy, "inbox"))
    burst.link((burst, "signal"), (lossy, "control"))
    lossy.link((lossy, "outbox"), (reader, "inbox"))
    lossy.link((lossy, "signal"), (reader, "control"))
    for c in (burst, lossy, reader):
        c.activate()
    reader.run()

prints ``got 0``, ``got 1``, ``got 2``: the other seven did not fit and
were dropped.

How does it work?
-----------------
It is written in the ``mainBody`` style. Each step it sends everything
waiting on "inbox" out of "outbox", the very objects received, in order;
a send refused with ``noSpaceInBox`` drops that message, and the rest are
still tried. ``dropped`` counts the messages dropped so far. Then it takes
at most one message from "control". It sleeps while nothing is waiting.
An outbox that is not linked anywhere discards what is sent, as every
Axon outbox does.

Inboxes
-------
- inbox -- messages to pass on
- control -- ``producerFinished`` or ``shutdownMicroprocess`` to stop

Outboxes
--------
- outbox -- the messages there was room for
- signal -- the shutdown message received, when it stops

Termination
-----------
On ``producerFinished`` or ``shutdownMicroprocess`` on "control" it
forwards that same message on "signal" and ends (after passing on the data
that was already waiting). Other control messages are taken and dropped.
"""

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class LossyConnector(component):
    """LossyConnector() -> forwards inbox to outbox, dropping what does not fit downstream."""

    Inboxes = {"inbox": "Messages to pass on",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "The messages there was room for",
                "signal": "The shutdown message received, when it stops"}

    def __init__(self, **argd):
        super().__init__(**argd)
        self.dropped = 0

    def mainBody(self):
        while self.dataReady("inbox"):
            message = self.recv("inbox")
            try:
                self.send(message, "outbox")
            except noSpaceInBox:
                # Dropping is this component's whole purpose; the count says how many.
                self.dropped += 1
        if self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, (producerFinished, shutdownMicroprocess)):
                self.send(message, "signal")
                return 0
        if not self.anyReady():
            self.pause()
        return 1


__kamaelia_components__ = (LossyConnector,)
