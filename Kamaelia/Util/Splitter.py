"""
Kamaelia.Util.Splitter: one source, any number of destinations
==============================================================

Components that copy what they receive to a changing set of destinations
("sinks"). ``PlugSplitter`` and ``Plug`` are what ``Backplane`` is built on.

* ``Splitter()`` copies its "inbox" to every sink registered with it.
* ``PlugSplitter([sourceComponent])`` copies its "inbox" to its "outbox"
  and every sink, and its "control" to its "signal" and every sink's control
  box. Given a component, it wraps it and splits that component's output
  instead.
* ``Plug(splitter, component)`` plugs a component into a PlugSplitter for as
  long as the component runs.

Sinks are added and removed by sending ``addsink`` and ``removesink``
messages to the splitter's "configuration" inbox.

Example Usage
-------------
Two consumers plugged into one splitter::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Splitter import PlugSplitter, Plug
    from Kamaelia.Util.Console import ConsoleEchoer

    splitter = PlugSplitter()
    Plug(splitter, ConsoleEchoer(tag="first: ")).activate()
    Plug(splitter, ConsoleEchoer(tag="second: ")).activate()
    Pipeline(DataSource(["news\\n"]), splitter).run()

Each echoer writes the line once; when DataSource finishes, its
``producerFinished`` reaches the splitter's control, which passes it to both
echoers' control boxes, and everything ends.

Sending configuration messages yourself, from inside a component::

    self.link((self, "toSplitter"), (splitter, "configuration"))
    self.send(addsink(consumer, "inbox", "control"), "toSplitter")
    ...
    self.send(removesink(consumer, "inbox", "control"), "toSplitter")

How does it work?
-----------------
``addsink(sink, sinkbox="inbox", sinkcontrol=None, passthrough=0)`` makes
the splitter create a new outbox linked to ``(sink, sinkbox)`` (and, if
``sinkcontrol`` is given, another linked to ``(sink, sinkcontrol)``).
``passthrough=2`` means the sink box is an *outbox* of the sink (a parent
forwarding data out). ``removesink(sink, sinkbox="inbox",
sinkcontrol=None)`` removes those links and outboxes again. A sink may be
registered once per box; adding it again is ignored (and logged).

``Splitter`` sends each inbox item to every sink. If a sink's inbox is full
(``noSpaceInBox``) the item is dropped *for that sink only*, with a
warning logged, so one slow consumer cannot stall the others (the same
holds for ``PlugSplitter``).

``PlugSplitter`` sends each item to its "outbox" and to every sink, and each
control message to its "signal" and to every sink's control box. With a
``sourceComponent`` it makes that component its child: the PlugSplitter's
"inbox"/"control" lead straight to the child's, and the child's
"outbox"/"signal" are what is split. Configuration messages are handled
before data in each step, so a sink added before some data is sent receives
it.

``Plug(splitter, component)`` runs ``component`` as its child with the
Plug's four boxes passed straight through, and registers the Plug's own
"inbox" and "control" as a sink of ``splitter`` (a PlugSplitter, or a
``(component, boxname)`` pair naming its configuration inbox). When the
child ends it removes the sink again.

Termination
-----------
``Splitter`` ends on ``producerFinished`` or ``shutdownMicroprocess`` on
"control", forwarding it to "signal".

``PlugSplitter`` without a child ends after passing on a
``producerFinished`` or ``shutdownMicroprocess``; with a child it ends when
the child ends (after passing on what the child sent). It removes every
sink as it ends.

``Plug`` ends when its child ends.
"""

import logging

from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import ipc, producerFinished, shutdownMicroprocess

_log = logging.getLogger(__name__)


class addsink(ipc):
    """Ask a splitter to copy its data to ``(sink, sinkbox)`` and control to ``(sink, sinkcontrol)``."""

    def __init__(self, sink, sinkbox="inbox", sinkcontrol=None, passthrough=0):
        self.sink = sink
        self.sinkbox = sinkbox
        self.sinkcontrol = sinkcontrol
        self.passthrough = passthrough


class removesink(ipc):
    """Ask a splitter to stop copying to ``(sink, sinkbox)`` (and ``(sink, sinkcontrol)``)."""

    def __init__(self, sink, sinkbox="inbox", sinkcontrol=None):
        self.sink = sink
        self.sinkbox = sinkbox
        self.sinkcontrol = sinkcontrol


class _SinkTable(object):
    """The outboxes an adaptive component has linked to sinks, keyed by (sink, box)."""

    def __init__(self, owner, outboxPrefix):
        self.owner = owner
        self.prefix = outboxPrefix
        self.outboxes = {}

    def add(self, sink, box, passthrough):
        key = (sink, box)
        if key in self.outboxes:
            _log.warning("%s: %s box %r is already a sink; ignored",
                         self.owner.name, getattr(sink, "name", sink), box)
            return
        outbox = self.owner.addOutbox(self.prefix)
        linkage = self.owner.link((self.owner, outbox), (sink, box), passthrough=passthrough)
        self.outboxes[key] = (outbox, linkage)

    def remove(self, sink, box):
        entry = self.outboxes.pop((sink, box), None)
        if entry is None:
            return
        outbox, linkage = entry
        self.owner.unlink(thelinkage=linkage)
        self.owner.deleteOutbox(outbox)

    def removeAll(self):
        for sink, box in list(self.outboxes):
            self.remove(sink, box)

    def names(self):
        return [outbox for outbox, linkage in list(self.outboxes.values())]


def _configure(msg, data, control):
    """Apply an addsink/removesink message to the data and control sink tables."""
    if isinstance(msg, addsink):
        data.add(msg.sink, msg.sinkbox, msg.passthrough)
        if msg.sinkcontrol is not None:
            control.add(msg.sink, msg.sinkcontrol, msg.passthrough)
    elif isinstance(msg, removesink):
        data.remove(msg.sink, msg.sinkbox)
        if msg.sinkcontrol is not None:
            control.remove(msg.sink, msg.sinkcontrol)
    else:
        _log.warning("ignoring %r on a splitter's configuration inbox", msg)


def _sendToEach(sender, message, outboxes):
    """Send ``message`` out of each outbox; a full destination misses it (with a warning)."""
    for outbox in outboxes:
        try:
            sender.send(message, outbox)
        except noSpaceInBox:
            _log.warning("%s: the inbox linked to %r is full; message dropped for it",
                         sender.name, outbox)


class Splitter(AdaptiveCommsComponent):
    """Splitter() -> copies each inbox item to every sink registered by addsink."""

    Inboxes = {"inbox": "Items to copy to every sink",
               "control": "producerFinished or shutdownMicroprocess to stop",
               "configuration": "addsink and removesink messages"}
    Outboxes = {"outbox": "NOT USED",
                "signal": "The shutdown message that stopped it"}

    def __init__(self):
        super().__init__()
        self.sinks = _SinkTable(self, "sink")
        self.controlSinks = _SinkTable(self, "sinkcontrol")

    def mainBody(self):
        while self.dataReady("configuration"):
            _configure(self.recv("configuration"), self.sinks, self.controlSinks)
        while self.dataReady("inbox"):
            _sendToEach(self, self.recv("inbox"), self.sinks.names())
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                self.send(msg, "signal")
                return 0
        self.pause()
        return 1

    def closeDownComponent(self):
        self.sinks.removeAll()
        self.controlSinks.removeAll()
        return 1


class PlugSplitter(AdaptiveCommsComponent):
    """PlugSplitter([sourceComponent]) -> copies data and control to outbox/signal and every sink."""

    Inboxes = {"inbox": "Items to copy to outbox and every sink (passed to the child, if any)",
               "control": "Messages to copy to signal and every sink's control "
                          "(passed to the child, if any)",
               "configuration": "addsink and removesink messages",
               "_inbox": "Internal: the child's outbox",
               "_control": "Internal: the child's signal"}
    Outboxes = {"outbox": "A copy of every item",
                "signal": "A copy of every control message"}

    def __init__(self, sourceComponent=None):
        super().__init__()
        self.sourceComponent = sourceComponent
        self.outboxsinks = _SinkTable(self, "outbox")
        self.signalsinks = _SinkTable(self, "signal")

    def main(self):
        child = self.sourceComponent
        if child is not None:
            self.addChildren(child)
            self.link((self, "inbox"), (child, "inbox"), passthrough=1)
            self.link((self, "control"), (child, "control"), passthrough=1)
            self.link((child, "outbox"), (self, "_inbox"))
            self.link((child, "signal"), (self, "_control"))
            child.activate()
            dataBox, controlBox = "_inbox", "_control"
        else:
            dataBox, controlBox = "inbox", "control"
        try:
            while True:
                while self.dataReady("configuration"):
                    _configure(self.recv("configuration"), self.outboxsinks, self.signalsinks)
                while self.dataReady(dataBox):
                    _sendToEach(self, self.recv(dataBox), ["outbox"] + self.outboxsinks.names())
                finished = False
                while self.dataReady(controlBox):
                    msg = self.recv(controlBox)
                    _sendToEach(self, msg, ["signal"] + self.signalsinks.names())
                    if child is None and isinstance(msg, (producerFinished, shutdownMicroprocess)):
                        finished = True
                        break
                if finished:
                    break
                if child is not None and child._isStopped() \
                        and not self.dataReady(dataBox) and not self.dataReady(controlBox):
                    self.removeChild(child)
                    break
                self.pause()
                yield 1
        finally:
            self.outboxsinks.removeAll()
            self.signalsinks.removeAll()


class Plug(component):
    """Plug(splitter, component) -> runs component, fed by splitter while it runs."""

    Inboxes = {"inbox": "Passed to the child (the splitter's data arrives here)",
               "control": "Passed to the child (the splitter's control messages arrive here)"}
    Outboxes = {"outbox": "The child's outbox",
                "signal": "The child's signal",
                "splitter_config": "Internal: addsink/removesink to the splitter"}

    def __init__(self, splitter, component):
        super().__init__()
        self.splitter = splitter
        self.component = component

    def _configurationBox(self):
        if isinstance(self.splitter, tuple):
            return self.splitter
        return (self.splitter, "configuration")

    def main(self):
        child = self.component
        self.addChildren(child)
        self.link((self, "inbox"), (child, "inbox"), passthrough=1)
        self.link((self, "control"), (child, "control"), passthrough=1)
        self.link((child, "outbox"), (self, "outbox"), passthrough=2)
        self.link((child, "signal"), (self, "signal"), passthrough=2)
        self.link((self, "splitter_config"), self._configurationBox())
        self.send(addsink(self, "inbox", "control"), "splitter_config")
        child.activate()
        while not child._isStopped():
            self.pause()
            yield 1
        self.removeChild(child)
        self.send(removesink(self, "inbox", "control"), "splitter_config")


__kamaelia_components__ = (Splitter, PlugSplitter, Plug)
