"""
Axon.Introspector: report the running system's topology as text commands
========================================================================

The ``Introspector`` watches the scheduler it runs on and sends, on its
"outbox", the changes to the set of components, their boxes and the links
between them, as lines of the topology-viewer protocol::

    DEL ALL
    ADD NODE "12" "__main__.Producer_12" randompos component
    ADD NODE "12.o.outbox" "outbox" randompos outbox
    ADD LINK "12" "12.o.outbox"
    ADD LINK "12.o.outbox" "13.i.inbox"
    DEL LINK "12.o.outbox" "13.i.inbox"
    DEL NODE "12"

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.Console import ConsoleEchoer
    from Axon.Introspector import Introspector

    Pipeline(Introspector(), ConsoleEchoer()).activate()

How does it work?
-----------------
``introspect()`` lists every component registered with the scheduler, plus
any component reachable through the linkages their postoffices hold, and
returns ``(nodes, boxes, links)``: ``{componentid: name}``, a list of
``(componentid, "i"|"o", boxname)`` and ``{(sourcebox, sinkbox): 1}``.
``main`` sends ``"DEL ALL\\n"`` first, then re-examines the system every
``interval`` seconds (0.1 by default; 0 means every scheduler cycle) and
sends one text batch describing what changed, if anything did.

Termination: a ``shutdownMicroprocess`` (or ``producerFinished``) on
"control" is forwarded to "signal" and the introspector ends.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Introspector(component):
    """Sends topology changes of the running system as text. See the module docs."""

    Inboxes = {"inbox": "NOT USED", "control": "shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "topology change commands (text)", "signal": "shutdown signalling"}

    srcBoxType = {0: "o", 1: "i", 2: "o"}
    dstBoxType = {0: "i", 1: "i", 2: "o"}
    interval = 0.1

    @staticmethod
    def boxId(box):
        """Node id of a box ``(componentid, "i"|"o", boxname)``."""
        return "%s.%s.%s" % box

    def introspect(self):
        """``(nodes, boxes, links)`` describing the system right now."""
        todo = [c for c in self.scheduler.listAllThreads() if hasattr(c, "inboxes")]
        seen = set()
        nodes, boxes, links = {}, [], {}
        while todo:
            c = todo.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            nodes[c.id] = c.name
            boxes.extend((c.id, "i", name) for name in c.inboxes)
            boxes.extend((c.id, "o", name) for name in c.outboxes)
            for link in c.postoffice.linkages:
                src = (link.source.id, self.srcBoxType[link.passthrough], link.sourcebox)
                dst = (link.sink.id, self.dstBoxType[link.passthrough], link.sinkbox)
                links[(src, dst)] = 1
                todo.append(link.source)
                todo.append(link.sink)
        return nodes, boxes, links

    def _changes(self, old, new):
        oldnodes, oldboxes, oldlinks = old
        newnodes, newboxes, newlinks = new
        lines = []
        oldboxset, newboxset = set(oldboxes), set(newboxes)
        for link in oldlinks:
            if link not in newlinks:
                lines.append('DEL LINK "%s" "%s"\n' % (self.boxId(link[0]), self.boxId(link[1])))
        for box in oldboxes:
            if box not in newboxset:
                lines.append('DEL NODE "%s"\n' % self.boxId(box))
        for cid in oldnodes:
            if cid not in newnodes:
                lines.append('DEL NODE "%s"\n' % cid)
        for cid, name in newnodes.items():
            if cid not in oldnodes:
                lines.append('ADD NODE "%s" "%s" randompos component\n' % (cid, name))
        for box in newboxes:
            if box not in oldboxset:
                kind = "inbox" if box[1] == "i" else "outbox"
                lines.append('ADD NODE "%s" "%s" randompos %s\n' % (self.boxId(box), box[2], kind))
                lines.append('ADD LINK "%s" "%s"\n' % (box[0], self.boxId(box)))
        for link in newlinks:
            if link not in oldlinks:
                lines.append('ADD LINK "%s" "%s"\n' % (self.boxId(link[0]), self.boxId(link[1])))
        return "".join(lines)

    def main(self):
        self.send("DEL ALL\n", "outbox")
        yield 1
        known = ({}, [], {})
        timer = None
        while True:
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (shutdownMicroprocess, producerFinished)):
                    if timer is not None:
                        timer.cancel()
                    self.send(msg, "signal")
                    return
            current = self.introspect()
            batch = self._changes(known, current)
            known = current
            if batch:
                self.send(batch, "outbox")
            if self.interval:
                if timer is not None:
                    timer.cancel()
                timer = self.scheduler.callLater(self.interval, self.unpause)
                self.pause()
            yield 1
