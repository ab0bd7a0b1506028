"""
Kamaelia.Util.NullSinkComponent: discard everything (generator style)
=====================================================================

The same component as ``Kamaelia.Util.NullSink.nullSinkComponent``, written
with a ``main`` generator and documented boxes. It sleeps when idle.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.NullSinkComponent import nullSinkComponent

    Pipeline(DataSource(["dropped"]), nullSinkComponent()).run()

How does it work?
-----------------
It takes and drops everything arriving on "inbox", and sleeps until more
arrives.

Termination
-----------
It ends on ``producerFinished`` or ``shutdownMicroprocess`` on "control"
(after dropping the data waiting); it does not forward the message.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class nullSinkComponent(component):
    """nullSinkComponent() -> discards everything sent to its inbox."""

    Inboxes = {"inbox": "Anything: discarded",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "NOT USED",
                "signal": "NOT USED"}

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.recv("inbox")
            while self.dataReady("control"):
                if isinstance(self.recv("control"), (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1


__kamaelia_components__ = (nullSinkComponent,)
