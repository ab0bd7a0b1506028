"""
Kamaelia.Util.PassThrough: forward everything unchanged
=======================================================

``PassThrough()`` sends whatever arrives on "inbox" out of "outbox" and
whatever arrives on "control" out of "signal". Useful as a placeholder, or
as the child of a ``Plug`` (``SubscribeTo`` uses it that way).

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PassThrough import PassThrough
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(DataSource(["through\\n"]), PassThrough(), ConsoleEchoer()).run()

How does it work?
-----------------
The class attribute ``Connections`` (``{"inbox": "outbox", "control":
"signal"}``) says which inbox feeds which outbox; each step forwards
everything waiting, data inboxes first. It is written in the
``mainBody`` style and sleeps whenever it has forwarded everything.

Termination
-----------
After forwarding a message on "control" that is an instance of one of the
classes in ``shutdownOn`` (default ``[producerFinished,
shutdownMicroprocess]``) it ends.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Support.Deprecate import makeClassStub


class PassThrough(component):
    """PassThrough([shutdownOn]) -> forwards inbox to outbox and control to signal."""

    Inboxes = {"inbox": "Anything: forwarded to outbox",
               "control": "Anything: forwarded to signal; a shutdownOn message ends it"}
    Outboxes = {"outbox": "Whatever arrived on inbox",
                "signal": "Whatever arrived on control"}

    Connections = {"inbox": "outbox", "control": "signal"}

    def __init__(self, shutdownOn=(producerFinished, shutdownMicroprocess)):
        super().__init__()
        self.shutdownOn = list(shutdownOn)

    def mainBody(self):
        stopOn = tuple(self.shutdownOn)
        for inbox, outbox in self.Connections.items():
            while self.dataReady(inbox):
                msg = self.recv(inbox)
                self.send(msg, outbox)
                if inbox == "control" and isinstance(msg, stopOn):
                    return 0
        # Pause only when carrying on: a pause requested on the way out would
        # put the component to sleep before it could finish.
        self.pause()
        return 1


passThrough = makeClassStub(
    PassThrough,
    "passThrough is deprecated: use Kamaelia.Util.PassThrough.PassThrough (capital P)")


__kamaelia_components__ = (PassThrough,)
