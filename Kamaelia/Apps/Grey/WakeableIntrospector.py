"""
Kamaelia.Apps.Grey.WakeableIntrospector: list the running components on request
===============================================================================

Each time something arrives on its "inbox", ``WakeableIntrospector`` sends
the sorted names of every microprocess its scheduler is running on
"outbox". ``LoggingWakeableIntrospector(logfile)`` writes those lists to a
file, as "*debug* THREADS[...]" lines, which is how Kamaelia Grey 1.x
recorded what it was doing every five minutes.

Example Usage
-------------
::

    Pipeline(PeriodicWakeup(interval=300),
             LoggingWakeableIntrospector(logfile="greylist-debug.log")).activate()

How does it work?
-----------------
On each wake it drains "inbox", reads ``scheduler.listAllThreads()``, sends
the sorted names and clears ``scheduler.debuggingon`` (which listing sets).
``LoggingWakeableIntrospector`` is a ``Pipeline`` of the introspector, a
``PureTransformer`` formatting the line and an ``Append`` writing it
(opening and closing the file each time, so log rotation is harmless).

Inboxes
-------
- inbox -- anything: list the running components now
- control -- any message stops it (and is forwarded to "signal")

Outboxes
--------
- outbox -- sorted list of component names
- signal -- the control message that stopped it

Termination
-----------
As soon as anything arrives on "control".
"""

from Axon.Component import component
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.File.Append import Append
from Kamaelia.Util.PureTransformer import PureTransformer


class WakeableIntrospector(component):
    """Lists the running components each time it is woken. See the module docs."""

    Inboxes = {"inbox": "Anything: list the running components", "control": "Any message stops it"}
    Outboxes = {"outbox": "Sorted list of component names", "signal": "The message that stopped it"}

    def main(self):
        while not self.dataReady("control"):
            if self.dataReady("inbox"):
                while self.dataReady("inbox"):
                    self.recv("inbox")
                names = sorted(str(getattr(t, "name", t)) for t in self.scheduler.listAllThreads())
                self.scheduler.debuggingon = False
                self.send(names, "outbox")
            self.pause()
            yield 1
        self.send(self.recv("control"), "signal")


def LoggingWakeableIntrospector(logfile="greylist-debug.log"):
    """A WakeableIntrospector whose lists are appended to ``logfile``."""
    return Pipeline(WakeableIntrospector(),
                    PureTransformer(lambda names: "*debug* THREADS" + str(names) + "\n"),
                    Append(filename=logfile, hold_open=False))


__kamaelia_components__ = (WakeableIntrospector,)
__kamaelia_prefabs__ = (LoggingWakeableIntrospector,)
