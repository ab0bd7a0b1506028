"""
Axon.Linkage: the description of a link between two boxes
==========================================================

A ``linkage`` records *which* box of which component feeds which other box.
Creating one does not connect anything: ``Postoffice.link`` (and therefore
``component.link``) creates a linkage and then joins the boxes.

Example Usage
-------------
::

    # producer's "outbox" -> consumer's "inbox" (the usual case)
    self.link((producer, "outbox"), (consumer, "inbox"))

    # parent's own "inbox" straight into a child's "inbox" (passthrough=1)
    self.link((self, "inbox"), (child, "inbox"), passthrough=1)

    # a child's "outbox" out through the parent's "outbox" (passthrough=2)
    self.link((child, "outbox"), (self, "outbox"), passthrough=2)

How does it work?
-----------------
``passthrough`` selects the kinds of box at each end:

=============  ==============  ==============
passthrough    source box      sink box
=============  ==============  ==============
0 (default)    an outbox       an inbox
1              an inbox        an inbox
2              an outbox       an outbox
=============  ==============  ==============

``pipewidth=n`` limits the sink box to n items; ``synchronous=True`` without
a pipewidth limits it to 1. The limit is set on the sink box when the
linkage is constructed (as in 1.x), so the sink box must exist by then.

``wakeProducer=False`` (an addition to the original) makes a ``recv`` from the
sink box wake the source component only when the box was full, i.e. only a
producer that may be waiting for room. By default every ``recv`` wakes the
owners of all outboxes feeding the box; for a box fed by thousands of
producers (a server's feedback box fed by every connection) that is
thousands of wake calls per message, so such links are made with
``wakeProducer=False``.
"""

import logging

from Axon.Base import AxonObject

_log = logging.getLogger("Axon.Linkage")


class linkage(AxonObject):
    """A link from ``(source, sourcebox)`` to ``(sink, sinkbox)``."""

    __slots__ = ("source", "sink", "sourcebox", "sinkbox", "passthrough",
                 "pipewidth", "synchronous", "showtransit", "transittag", "_boxes",
                 "wakeProducer")

    def __init__(self, source, sink, sourcebox="outbox", sinkbox="inbox",
                 passthrough=0, pipewidth=None, synchronous=None, wakeProducer=True):
        self.source = source
        self.sink = sink
        self.sourcebox = sourcebox
        self.sinkbox = sinkbox
        self.passthrough = passthrough
        self.pipewidth = pipewidth
        self.synchronous = synchronous
        self.showtransit = False
        self.transittag = None
        self._boxes = None
        self.wakeProducer = wakeProducer
        if pipewidth is not None or synchronous:
            # As in 1.x, the sink box's limit is set when the linkage is made,
            # even though the boxes are joined only when it is registered.
            self.setSynchronous(pipewidth)

    def sourcePair(self):
        """``(source component, source box name)``."""
        return self.source, self.sourcebox

    def sinkPair(self):
        """``(sink component, sink box name)``."""
        return self.sink, self.sinkbox

    def _box(self, component, boxes, name, role):
        try:
            return getattr(component, boxes)[name]
        except KeyError:
            hint = ""
            if isinstance(name, tuple) or name.endswith(","):
                hint = " (a trailing comma in the box name?)"
            kind = boxes[:-2]
            raise KeyError("%s %s has no %s named %r%s; it has %s" % (
                role, getattr(component, "name", component), kind, name, hint,
                sorted(getattr(component, boxes)))) from None

    def getSourcebox(self):
        """The source box object (an inbox when passthrough is 1, else an outbox)."""
        boxes = "inboxes" if self.passthrough == 1 else "outboxes"
        return self._box(self.source, boxes, self.sourcebox, "source")

    def getSinkbox(self):
        """The sink box object (an outbox when passthrough is 2, else an inbox)."""
        boxes = "outboxes" if self.passthrough == 2 else "inboxes"
        return self._box(self.sink, boxes, self.sinkbox, "sink")

    def setSynchronous(self, pipewidth=None):
        """Limit the sink box to ``pipewidth`` items (1 when not given)."""
        if pipewidth is None:
            pipewidth = 1
        self.pipewidth = pipewidth
        self.getSinkbox().setSize(pipewidth)

    def setShowTransit(self, showtransit=False, tag=None):
        """Log every delivery made through this linkage's source box."""
        self.showtransit = showtransit
        self.transittag = tag
        self.getSourcebox().setShowTransit(showtransit, tag)

    def short_str(self):
        return "link %s: %s -> %s: %s" % (
            getattr(self.source, "name", self.source), self.sourcebox,
            getattr(self.sink, "name", self.sink), self.sinkbox)

    def __str__(self):
        return "Link( source:[%s,%s], sink:[%s,%s] )" % (
            getattr(self.source, "name", self.source), self.sourcebox,
            getattr(self.sink, "name", self.sink), self.sinkbox)

    __repr__ = __str__
