"""
Axon: the Kamaelia component system
===================================

Axon provides generator-based *microprocesses*, *components* that talk
through named inboxes and outboxes, *linkages* between boxes, and a
*scheduler* that runs them. Threaded components, services (the coordinating
assistant tracker), introspection and ways to drive components from
ordinary code (``Axon.Handle``, ``Axon.background``,
``Axon.experimental._pprocess_support.likefile``) build on that.

Example Usage
-------------
::

    import Axon

    class Hello(Axon.Component.component):
        def main(self):
            self.send("hello", "outbox")
            yield 1

    Hello().run()

Importing ``Axon`` imports its core submodules (so ``Axon.Component``,
``Axon.Ipc``, ``Axon.Scheduler``, ``Axon.ThreadedComponent`` ... are
reachable), makes ``scheduler`` the default scheduler class of every
microprocess, and creates the process-wide tracker and default scheduler
(``Axon.Scheduler.scheduler.run``).
"""

from Axon import (
    AdaptiveCommsComponent,
    AxonExceptions,
    Base,
    Box,
    Component,
    CoordinatingAssistantTracker,
    Introspector,
    Ipc,
    Linkage,
    Microprocess,
    Postoffice,
    Scheduler,
    ThreadedComponent,
    debug,
    debugConfigDefaults,
    debugConfigFile,
    idGen,
    util,
)
from Axon.Base import AxonObject, AxonType

__version__ = "2.0.0"

Microprocess.microprocess.setSchedulerClass(Scheduler.scheduler)
Microprocess.microprocess.setTrackerClass(None)
CoordinatingAssistantTracker.coordinatingassistanttracker.getcat()
if Scheduler.scheduler.run is None:
    Scheduler.scheduler()
