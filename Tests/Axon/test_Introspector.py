"""Axon.Introspector (spec 1.16): the topology of a running system as text.

Our documented choice (Axon/Introspector.py): after ``"DEL ALL"`` the
introspector re-examines the system every ``interval`` seconds (0.1 by
default, using a scheduler timer) instead of busy-looping every cycle as
the original did; the tests drive it with the harness's fake clock.
"""

import pytest

from Axon.Component import component
from Axon.Introspector import Introspector
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Microprocess import microprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness


class Idle(component):
    """Pauses until anything arrives on control."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


def componentLines(c):
    """The ADD lines describing component ``c`` and its boxes."""
    lines = {'ADD NODE "%s" "%s" randompos component' % (c.id, c.name)}
    for kind, boxes, word in (("i", c.inboxes, "inbox"), ("o", c.outboxes, "outbox")):
        for name in boxes:
            node = "%s.%s.%s" % (c.id, kind, name)
            lines.add('ADD NODE "%s" "%s" randompos %s' % (node, name, word))
            lines.add('ADD LINK "%s" "%s"' % (c.id, node))
    return lines


def linesOf(batch):
    assert batch.endswith("\n")
    return batch[:-1].split("\n")


def checkBatchOrder(lines):
    """Deletions come first; a link is added after its nodes and deleted before them."""
    kinds = [l.split(" ")[0] for l in lines]
    assert kinds == sorted(kinds, key=lambda k: 0 if k == "DEL" else 1), lines
    added = set()
    for line in lines:
        words = line.split(" ")
        if words[:2] == ["ADD", "NODE"]:
            added.add(words[2])
        elif words[:2] == ["ADD", "LINK"]:
            for end in words[2:4]:
                assert end in added or not any(('NODE %s' % end) in l for l in lines), line


def test_box_type_maps():
    assert Introspector.srcBoxType == {0: "o", 1: "i", 2: "o"}
    assert Introspector.dstBoxType == {0: "i", 1: "i", 2: "o"}


def test_introspect_describes_components_boxes_and_links_of_every_passthrough_kind():
    s = scheduler()
    parent, a, b = Idle(), Idle(), Idle()
    a.link((a, "outbox"), (b, "inbox"))
    parent.link((parent, "inbox"), (a, "inbox"), passthrough=1)
    parent.link((b, "outbox"), (parent, "outbox"), passthrough=2)
    intro = Introspector()
    intro.activate(s)
    parent.activate(s)
    microprocess().activate(s)  # not a component: not reported
    nodes, boxes, links = intro.introspect()
    assert nodes == {c.id: c.name for c in (intro, parent, a, b)}
    expectedBoxes = {(c.id, "i", name) for c in (intro, parent, a, b) for name in c.inboxes}
    expectedBoxes |= {(c.id, "o", name) for c in (intro, parent, a, b) for name in c.outboxes}
    assert set(boxes) == expectedBoxes
    assert len(boxes) == len(expectedBoxes)
    assert links == {
        ((a.id, "o", "outbox"), (b.id, "i", "inbox")): 1,
        ((parent.id, "i", "inbox"), (a.id, "i", "inbox")): 1,
        ((b.id, "o", "outbox"), (parent.id, "o", "outbox")): 1,
    }


def test_first_output_is_DEL_ALL_then_the_system_as_ADD_lines():
    h = ComponentHarness(Introspector())
    h.runUntilIdle()
    intro = h.component
    messages = h.getAll("outbox")
    assert messages[0] == "DEL ALL\n"
    assert len(messages) == 2
    lines = linesOf(messages[1])
    assert set(lines) == componentLines(intro)
    assert len(lines) == len(set(lines))
    checkBatchOrder(lines)


def test_changes_are_reported_as_ADD_and_DEL_lines():
    h = ComponentHarness(Introspector())
    h.runUntilIdle()
    h.getAll("outbox")
    x, y = Idle(), Idle()
    x.activate(h.scheduler)
    y.activate(h.scheduler)
    h.advance(Introspector.interval)
    lines = linesOf(h.get("outbox"))
    assert set(lines) == componentLines(x) | componentLines(y)
    checkBatchOrder(lines)

    h.advance(Introspector.interval)
    assert h.ready("outbox") == 0, "nothing changed, nothing sent"

    l = x.link((x, "outbox"), (y, "inbox"))
    h.advance(Introspector.interval)
    assert linesOf(h.get("outbox")) == ['ADD LINK "%s.o.outbox" "%s.i.inbox"' % (x.id, y.id)]

    x.unlink(thelinkage=l)
    h.advance(Introspector.interval)
    assert linesOf(h.get("outbox")) == ['DEL LINK "%s.o.outbox" "%s.i.inbox"' % (x.id, y.id)]

    x.link((x, "outbox"), (y, "inbox"))
    h.advance(Introspector.interval)
    h.getAll("outbox")
    x._deliver("stop", "control")
    h.advance(Introspector.interval)
    lines = linesOf(h.get("outbox"))
    expected = {'DEL NODE "%s"' % x.id, 'DEL LINK "%s.o.outbox" "%s.i.inbox"' % (x.id, y.id)}
    expected |= {'DEL NODE "%s.i.%s"' % (x.id, n) for n in x.inboxes}
    expected |= {'DEL NODE "%s.o.%s"' % (x.id, n) for n in x.outboxes}
    assert set(lines) == expected
    assert lines.index('DEL LINK "%s.o.outbox" "%s.i.inbox"' % (x.id, y.id)) < \
        lines.index('DEL NODE "%s.o.outbox"' % x.id)


def test_nothing_is_sent_between_intervals():
    h = ComponentHarness(Introspector())
    h.runUntilIdle()
    h.getAll("outbox")     # collecting wakes the introspector: it looks again at once
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    Idle().activate(h.scheduler)
    h.advance(Introspector.interval * 0.9)
    assert h.ready("outbox") == 0
    h.advance(Introspector.interval * 0.2)
    assert h.ready("outbox") == 1


@pytest.mark.parametrize("message", [shutdownMicroprocess(), producerFinished()])
def test_stops_on_shutdown_and_forwards_it_to_signal(message):
    h = ComponentHarness(Introspector())
    h.runUntilIdle()
    h.put(message, "control")
    h.advance(Introspector.interval)
    assert h.finished
    assert h.get("signal") is message
    assert h.scheduler.nextTimerDue() is None


def test_runs_under_the_real_scheduler_and_ends_on_shutdown(runScheduler):
    collected = []

    class Collector(component):
        def main(self):
            while not self.dataReady("control"):
                while self.dataReady("inbox"):
                    collected.append(self.recv("inbox"))
                if collected:
                    intro._deliver(shutdownMicroprocess(), "control")
                self.pause()
                yield 1

    intro, sink = Introspector(), Collector()
    intro.link((intro, "outbox"), (sink, "inbox"))
    intro.link((intro, "signal"), (sink, "control"))
    intro.activate()
    sink.activate()
    runScheduler()
    assert collected[0] == "DEL ALL\n"
