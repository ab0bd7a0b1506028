"""
Kamaelia.Chassis.Graphline: components wired any way you like
============================================================

A ``Graphline`` holds named components and a table of linkages between
their boxes (and its own), and looks like a single component from outside.

Example Usage
-------------
::

    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    Graphline(
        SOURCE=DataSource(["a\\n", "b\\n"]),
        UPPER=PureTransformer(lambda s: s.upper()),
        OUTPUT=ConsoleEchoer(),
        linkages={
            ("SOURCE", "outbox"): ("UPPER", "inbox"),
            ("UPPER", "outbox"): ("OUTPUT", "inbox"),
            ("SOURCE", "signal"): ("UPPER", "control"),
            ("UPPER", "signal"): ("OUTPUT", "control"),
        },
    ).run()

A box of the Graphline itself is named with "self" (any name that is not
one of the components means the Graphline). Here the Graphline's own
"inbox" and "control" feed UPPER, and EXCLAIM feeds its "outbox" and
"signal", so it can be used as one stage of a Pipeline::

    from Kamaelia.Chassis.Pipeline import Pipeline

    shouter = Graphline(
        UPPER=PureTransformer(lambda s: s.upper()),
        EXCLAIM=PureTransformer(lambda s: s.strip() + "!\\n"),
        linkages={
            ("self", "inbox"): ("UPPER", "inbox"),
            ("self", "control"): ("UPPER", "control"),
            ("UPPER", "outbox"): ("EXCLAIM", "inbox"),
            ("UPPER", "signal"): ("EXCLAIM", "control"),
            ("EXCLAIM", "outbox"): ("self", "outbox"),
            ("EXCLAIM", "signal"): ("self", "signal"),
        },
    )
    Pipeline(DataSource(["hi\\n", "there\\n"]), shouter, ConsoleEchoer()).run()

How does it work?
-----------------
``Graphline(linkages=..., **components)``: every keyword other than
``linkages`` is a component, named by the keyword. ``linkages`` maps
``(name, sourcebox)`` to ``(name, sinkbox)``; omitting it raises
``GraphlineError``, which is both a ``TypeError`` (as 1.x raised) and a
``ValueError`` (what 1.x's older callers expect).

At construction, ``addExternalPostboxes()`` adds every box the linkages
name on the Graphline itself that it does not already have, with the
description of the child box it is linked with. Note that it adds them to
the *class's* ``Inboxes``/``Outboxes`` dicts, so later Graphlines have those
boxes too (Kamaelia 1.x did this, and code relies on it: for example
``InactivityChassis`` exposes "ReadReady"/"SendReady" this way).

When it runs, the Graphline makes the components its children and creates
the links: from its own box to a child's with passthrough=1 (inbox to
inbox), from a child's to its own with passthrough=2 (outbox to outbox),
child to child as a normal link. A link from its own box to its own box is
made as a normal outbox-to-inbox link, with a logged warning since it is
rarely meant. Then it activates the children.

Shutdown: if the linkages do not route the Graphline's own "control"
anywhere, every message arriving there is forwarded to the "control" inbox
of each child that nothing is linked to (through a temporary link from the
"_cs" outbox), and a ``shutdownMicroprocess`` received there is remembered.

Termination
-----------
The Graphline sleeps until a child terminates or a control message
arrives. It forgets children as they stop and terminates once all of them
have (a shutdown that arrived on "control" as the last of them ended still
counts). Then, if nothing in the linkages leads to its own "signal", it sends
the remembered ``shutdownMicroprocess`` -- or, if none came, a
``producerFinished()`` -- out of "signal".
"""

import logging

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

_log = logging.getLogger(__name__)


def _description(boxes, name):
    """The description of box ``name`` in an Inboxes/Outboxes declaration (dict or list)."""
    if isinstance(boxes, dict):
        return boxes.get(name, "")
    return ""


def _declare(boxes, name, description):
    """Add box ``name`` to a class-level Inboxes/Outboxes declaration (dict or list)."""
    if isinstance(boxes, dict):
        boxes[name] = description
    else:
        boxes.append(name)


class GraphlineError(TypeError, ValueError):
    """Graphline was given bad arguments (missing linkages).

    Kamaelia 1.x raised TypeError here and its older callers expect
    ValueError; this is both.
    """


class Graphline(component):
    """Graphline(linkages, **components) -> a component wiring named components together.

    See the module documentation.
    """

    Inboxes = {"inbox": "Passed to whatever the linkages connect ('self', 'inbox') to",
               "control": "Passed as the linkages say; if they do not mention it, "
                          "messages here are forwarded to every unlinked child control"}
    Outboxes = {"outbox": "Fed by whatever the linkages connect to ('self', 'outbox')",
                "signal": "Fed as the linkages say; if they do not mention it, the final "
                          "shutdownMicroprocess or producerFinished is sent here",
                "_cs": "Internal: forwards control messages to the children"}

    def __init__(self, linkages=None, **components):
        if linkages is None:
            raise GraphlineError("Graphline needs linkages={(name, box): (name, box), ...}")
        self.layout = linkages
        self.components = dict(components)
        self.addExternalPostboxes()
        super().__init__()

    def _isSelf(self, name):
        return name not in self.components

    def addExternalPostboxes(self):
        """Declare the boxes the linkages name on the Graphline itself that don't exist yet.

        This changes the class-level ``Inboxes``/``Outboxes`` (see the module docs).
        """
        for (sourceName, sourceBox), (sinkName, sinkBox) in self.layout.items():
            sourceIsSelf = self._isSelf(sourceName)
            sinkIsSelf = self._isSelf(sinkName)
            if sourceIsSelf and sinkIsSelf:
                # a plain link from one of our outboxes to one of our inboxes
                if sourceBox not in self.Outboxes:
                    _declare(self.Outboxes, sourceBox, "")
                if sinkBox not in self.Inboxes:
                    _declare(self.Inboxes, sinkBox, "")
            elif sourceIsSelf:
                if sourceBox not in self.Inboxes:
                    _declare(self.Inboxes, sourceBox,
                             _description(self.components[sinkName].Inboxes, sinkBox))
            elif sinkIsSelf:
                if sinkBox not in self.Outboxes:
                    _declare(self.Outboxes, sinkBox,
                             _description(self.components[sourceName].Outboxes, sourceBox))

    def main(self):
        """Make the links, activate the children, forward control, wait for the children."""
        self.addChildren(*self.components.values())
        for (sourceName, sourceBox), (sinkName, sinkBox) in self.layout.items():
            self._makeLink(sourceName, sourceBox, sinkName, sinkBox)
        for child in self.childComponents():
            child.activate()

        forwardControl = not any(self._isSelf(name) and box == "control"
                                 for (name, box) in self.layout)
        signalLinked = any(self._isSelf(name) and box == "signal"
                           for (name, box) in self.layout.values())
        linkedControls = [self.components[name] for (name, box) in self.layout.values()
                          if not self._isSelf(name) and box == "control"]

        shutdownMessage = None
        while not self.childrenDone():
            if forwardControl:
                while self.dataReady("control"):
                    message = self.recv("control")
                    for child in self.childComponents():
                        if child not in linkedControls:
                            self._forwardControl(message, child)
                    if isinstance(message, shutdownMicroprocess):
                        shutdownMessage = message
            self.pause()
            yield 1

        # A shutdown that arrived as the last child ended, before it was read,
        # is still the one to pass on.
        if forwardControl:
            while self.dataReady("control"):
                message = self.recv("control")
                if isinstance(message, shutdownMicroprocess):
                    shutdownMessage = message

        if not signalLinked:
            if shutdownMessage is not None:
                self.send(shutdownMessage, "signal")
            else:
                self.send(producerFinished(), "signal")

    def _makeLink(self, sourceName, sourceBox, sinkName, sinkBox):
        sourceIsSelf = self._isSelf(sourceName)
        sinkIsSelf = self._isSelf(sinkName)
        source = self if sourceIsSelf else self.components[sourceName]
        sink = self if sinkIsSelf else self.components[sinkName]
        if sourceIsSelf and sinkIsSelf:
            _log.warning("%s: linking its own outbox %r to its own inbox %r -- "
                         "is that what you meant?", self.name, sourceBox, sinkBox)
            passthrough = 0
        elif sourceIsSelf:
            passthrough = 1
        elif sinkIsSelf:
            passthrough = 2
        else:
            passthrough = 0
        self.link((source, sourceBox), (sink, sinkBox), passthrough=passthrough)

    def _forwardControl(self, message, child):
        link = self.link((self, "_cs"), (child, "control"))
        try:
            self.send(message, "_cs")
        finally:
            self.unlink(thelinkage=link)

    def childrenDone(self):
        """Forget the children that have stopped; True once none are left."""
        for child in self.childComponents():
            if child._isStopped():
                self.removeChild(child)
        return not self.children


__kamaelia_components__ = (Graphline,)
