"""
Kamaelia.Util.NullSink: discard everything
==========================================

``nullSinkComponent()`` takes whatever is sent to it and throws it away --
somewhere to connect an output you do not care about.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.NullSink import nullSinkComponent

    Pipeline(DataSource(["ignored", "also ignored"]), nullSinkComponent()).run()

How does it work?
-----------------
It is written in the old ``mainBody`` style: each step discards everything
waiting on "inbox" and checks "control". Unlike Kamaelia 1.x, whose version
never paused (it ran every scheduler cycle, using CPU while idle), it sleeps
when there is nothing to discard. (``Kamaelia.Util.NullSinkComponent`` is
the generator-style variant.)

Termination
-----------
It ends on ``producerFinished`` or ``shutdownMicroprocess`` on "control";
it does not forward the message. Other control messages are discarded.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class nullSinkComponent(component):
    """nullSinkComponent() -> discards everything sent to its inbox."""

    Inboxes = ["inbox", "control"]
    Outboxes = ["outbox", "signal"]

    def mainBody(self):
        while self.dataReady("inbox"):
            self.recv("inbox")
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                return 0
        self.pause()
        return 1


__kamaelia_components__ = (nullSinkComponent,)
