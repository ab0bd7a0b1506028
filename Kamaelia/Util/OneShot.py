"""
Kamaelia.Util.OneShot: send one message and finish
==================================================

``OneShot(msg)`` sends ``msg`` on "outbox" as soon as it runs, then
``producerFinished`` on "signal", and ends. ``TriggeredOneShot(msg)`` does
the same, but only once something arrives on its "inbox".

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.OneShot import OneShot
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(OneShot("just this\\n"), ConsoleEchoer()).run()

How does it work?
-----------------
``OneShot`` sends its message, yields once, sends ``producerFinished(self)``
on "signal" and ends.

``TriggeredOneShot`` sleeps until an item arrives on "inbox" (the item
itself is discarded) and then behaves like ``OneShot``. While waiting,
every message on "control" is forwarded to "signal".

Termination
-----------
``OneShot`` ends by itself. ``TriggeredOneShot`` ends after firing, or,
before firing, when it receives ``producerFinished`` or
``shutdownMicroprocess`` on "control" (forwarded to "signal" like any other
control message); it then sends nothing else.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class OneShot(component):
    """OneShot([msg]) -> sends msg, then producerFinished(self), and ends."""

    Inboxes = {"inbox": "NOT USED",
               "control": "NOT USED"}
    Outboxes = {"outbox": "The message, sent once",
                "signal": "producerFinished(self) straight after it"}

    def __init__(self, msg=None):
        super().__init__()
        self.msg = msg

    def main(self):
        self.send(self.msg, "outbox")
        yield 1
        self.send(producerFinished(self), "signal")


class TriggeredOneShot(OneShot):
    """TriggeredOneShot([msg]) -> waits for anything on inbox, then acts like OneShot."""

    Inboxes = {"inbox": "Anything: the trigger (discarded)",
               "control": "Forwarded to signal; producerFinished or shutdownMicroprocess "
                          "stops it before it fires"}
    Outboxes = {"outbox": "The message, sent once when triggered",
                "signal": "Forwarded control messages; producerFinished(self) after firing"}

    def main(self):
        while not self.dataReady("inbox"):
            while self.dataReady("control"):
                msg = self.recv("control")
                self.send(msg, "signal")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1
        self.recv("inbox")
        yield from OneShot.main(self)


__kamaelia_components__ = (OneShot, TriggeredOneShot)
