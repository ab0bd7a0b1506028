"""
Axon.debugConfigDefaults: the debug sections Axon knows about
=============================================================

``defaultConfig()`` returns a dictionary mapping every debug section tag used
inside Axon (and ``"MimeRequestComponent.mainBody"``, which Kamaelia 1.x's
defaults also listed) to ``(level, location)``; all levels are 0 (silent).
It is used when no ``debug.conf`` is found in the working directory.

Example Usage
-------------
::

    >>> from Axon.debugConfigDefaults import defaultConfig
    >>> defaultConfig()["scheduler.main"]
    (0, 'default')
"""

_SECTIONS = (
    "debug.useConfig", "debug.addDebug", "debug.addDebugSection",
    "debug.increaseDebug", "debug.decreaseDebug", "debug.setDebugSections",
    "debug.areDebugging", "debug.debugmessage", "debug.debug",
    "microprocess.__init__", "microprocess.__str__", "microprocess.setthread",
    "microprocess.next", "microprocess._isStopped", "microprocess._isRunnable",
    "microprocess.stop", "microprocess.pause", "microprocess.unpause",
    "microprocess.main", "microprocess.activate", "microprocess._closeDownMicroprocess",
    "microprocess.run",
    "scheduler.__init__", "scheduler._addThread", "scheduler.wakeThread",
    "scheduler.pauseThread", "scheduler.isThreadPaused", "scheduler.main",
    "scheduler.runThreads", "scheduler.handleMicroprocessShutdownKnockon",
    "scheduler.objecttrack", "scheduler.listAllThreads",
    "component.__init__", "component.__str__", "component.dataReady",
    "component.link", "component.recv", "component.send", "component.main",
    "component.initialiseComponent", "component.mainBody",
    "component.closeDownComponent", "component._closeDownMicroprocess",
    "component.addChildren", "component.removeChild", "component.childComponents",
    "component.anyReady", "component.unlink", "component._deliver",
    "linkage.__init__", "linkage.__str__", "linkage.setSynchronous",
    "postoffice.__init__", "postoffice.__str__", "postoffice.link",
    "postoffice.unlink", "postoffice.unlinkAll", "postoffice.deregisterlinkage",
    "postoffice.islinkageregistered",
    "coordinatingassistanttracker.__init__", "coordinatingassistanttracker.main",
    "coordinatingassistanttracker.registerService",
    "coordinatingassistanttracker.deRegisterService",
    "coordinatingassistanttracker.retrieveService",
    "coordinatingassistanttracker.trackValue",
    "coordinatingassistanttracker.updateValue",
    "coordinatingassistanttracker.retrieveValue",
    "threadedcomponent.__init__", "threadedcomponent._localmain",
    "threadedcomponent.activate", "idGen.__init__", "idGen.nextId",
    "idGen.idToString", "util.axonRaise", "ipc",
    # Not Axon's own, but Kamaelia 1.x's defaults listed it and
    # Kamaelia.Protocol.MimeRequestComponent reports through it.
    "MimeRequestComponent.mainBody",
)


def defaultConfig():
    """Return a fresh dict of every known section tag -> ``(0, "default")``."""
    return {tag: (0, "default") for tag in _SECTIONS}
