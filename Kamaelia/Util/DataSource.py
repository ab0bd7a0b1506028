"""
Kamaelia.Util.DataSource: send a list of messages, then finish
==============================================================

``DataSource(messages)`` sends each item of a list on its "outbox", one per
scheduler cycle, then ``producerFinished`` on "signal". ``TriggeredSource``
sends a fixed message every time it is poked.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(DataSource(["hello\\n", "world\\n"]), ConsoleEchoer()).run()

``TriggeredSource("tick\\n")`` turns anything arriving on its inbox into
"tick\\n"; it is a ``PureTransformer`` and stops the same way.

How does it work?
-----------------
``DataSource`` takes items from the front of the list it was given -- the
list is emptied as it goes, as in Kamaelia 1.x (any other iterable is first
copied into a list). It sends one item per step. If the receiving inbox is
full (``noSpaceInBox``), it sleeps until the receiver takes something and
then sends the same item again.

Termination
-----------
After the last item it sends ``producerFinished(self)`` on "signal" and
ends. It does not read its "control" inbox.
"""

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Util.PureTransformer import PureTransformer


class DataSource(component):
    """DataSource(messages) -> sends each message (emptying the list), then producerFinished."""

    Inboxes = {"inbox": "NOT USED",
               "control": "NOT USED"}
    Outboxes = {"outbox": "The messages, one per step",
                "signal": "producerFinished(self) after the last message"}

    def __init__(self, messages):
        super().__init__()
        self.messages = messages if isinstance(messages, list) else list(messages)

    def main(self):
        while self.messages:
            yield 1
            message = self.messages[0]
            while True:
                try:
                    self.send(message, "outbox")
                    break
                except noSpaceInBox:
                    self.pause()
                    yield 1
            self.messages.pop(0)
        yield 1
        self.send(producerFinished(self), "signal")


def TriggeredSource(msg):
    """A PureTransformer that sends ``msg`` for every item arriving on its inbox."""
    return PureTransformer(lambda trigger: msg)


__kamaelia_components__ = (DataSource,)
__kamaelia_prefabs__ = (TriggeredSource,)
