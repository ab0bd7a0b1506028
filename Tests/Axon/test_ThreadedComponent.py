"""Axon.ThreadedComponent (spec 1.14): main() in its own thread, bounded
queues between the thread and the boxes, marshalled calls, errors.

Every run has a deadline (runScheduler's watchdog); threads wait on
conditions with timeouts, never on bare sleeps.
"""

import queue
import threading
import time
import traceback

import pytest

from Axon.AdaptiveCommsComponent import _AdaptiveCommsable
from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Postoffice import postoffice
from Axon.ThreadedComponent import (
    DefaultQueueSize,
    UnHandledException,
    threadedadaptivecommscomponent,
    threadedcomponent,
)

DEADLINE = 5.0


class Source(component):
    """Sends ``items`` on outbox, then producerFinished on signal, in one step."""

    def __init__(self, items):
        super().__init__()
        self.items = list(items)

    def main(self):
        for item in self.items:
            self.send(item, "outbox")
        self.send(producerFinished(self), "signal")
        yield 1


class Sink(component):
    """Collects inbox until producerFinished arrives on control."""

    def __init__(self):
        super().__init__()
        self.got = []

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.got.append(self.recv("inbox"))
            if self.dataReady("control"):
                self.control = self.recv("control")
                return
            self.pause()
            yield 1


def pipeline(*components):
    po = postoffice()
    for a, b in zip(components, components[1:]):
        po.link((a, "outbox"), (b, "inbox"))
        po.link((a, "signal"), (b, "control"))
    for c in components:
        c.activate()
    return po


def waitInThread(condition, deadline=DEADLINE):
    end = time.monotonic() + deadline
    event = threading.Event()
    while not condition():
        if time.monotonic() > end:
            return False
        event.wait(0.002)
    return True


class Doubler(threadedcomponent):
    """Doubles every inbox item until producerFinished arrives on control."""

    def main(self):
        self.threadIdent = threading.get_ident()
        while True:
            while self.dataReady("inbox"):
                self.send(self.recv("inbox") * 2, "outbox")
            if self.dataReady("control"):
                self.send(self.recv("control"), "signal")
                return
            self.pause(DEADLINE)


# -- construction ---------------------------------------------------------------------


def test_construction_creates_bounded_queues_per_box():
    assert DefaultQueueSize == 1000
    t = Doubler()
    assert set(t.inqueues) == set(t.inboxes)
    assert set(t.outqueues) == set(t.outboxes)
    assert all(q.maxsize == 1000 for q in t.inqueues.values())
    assert all(q.maxsize == 1000 for q in t.outqueues.values())
    assert isinstance(t.threadtoaxonqueue, queue.Queue)
    assert isinstance(t.axontothreadqueue, queue.Queue)
    assert isinstance(t.threadWakeUp, threading.Event)
    small = Doubler(queuelengths=3, colour="red")
    assert all(q.maxsize == 3 for q in small.inqueues.values())
    assert small.colour == "red"


def test_UnHandledException_is_an_Exception():
    assert issubclass(UnHandledException, Exception)


def test_activate_returns_self_and_does_not_start_main_yet():
    started = threading.Event()

    class Marks(threadedcomponent):
        def main(self):
            started.set()

    t = Marks()
    assert t.activate() is t
    assert not started.wait(0.05)


# -- running --------------------------------------------------------------------------------


def test_items_flow_through_the_thread_in_order_and_everything_ends(runScheduler):
    source, doubler, sink = Source(range(20)), Doubler(), Sink()
    pipeline(source, doubler, sink)
    runScheduler()
    assert sink.got == [2 * i for i in range(20)]
    assert isinstance(sink.control, producerFinished)
    assert doubler.threadIdent != threading.get_ident()
    assert doubler._isStopped()


def test_default_main_runs_the_protocol_methods_in_the_thread(runScheduler):
    log = []

    class OldStyle(threadedcomponent):
        n = 0

        def initialiseComponent(self):
            log.append(("init", threading.get_ident() != mainThread))

        def mainBody(self):
            self.n += 1
            log.append("body")
            return self.n < 3

        def closeDownComponent(self):
            log.append("close")

    mainThread = threading.get_ident()
    OldStyle().activate()
    runScheduler()
    assert log == [("init", True), "body", "body", "body", "close"]


def test_small_queues_still_carry_every_message(runScheduler):
    class TakesFifty(threadedcomponent):
        def main(self):
            self.got = []
            start = time.monotonic()
            while time.monotonic() - start < DEADLINE:
                while self.dataReady("inbox"):
                    self.got.append(self.recv("inbox"))
                if len(self.got) >= 50:
                    break
                self.pause(DEADLINE)

    source, taker = Source(range(50)), TakesFifty(queuelengths=2)
    pipeline(source, taker)
    runScheduler()
    assert taker.got == list(range(50))


def test_control_does_not_overtake_inbox_data_that_fits_in_the_queue(runScheduler):
    """"control last": with room in the inbound queue, the thread sees a shutdown only after
    the data sent before it."""

    class CountsAtControl(threadedcomponent):
        def main(self):
            got = 0
            start = time.monotonic()
            while time.monotonic() - start < DEADLINE:
                if self.dataReady("control"):
                    self.total = got + self.dataReady("inbox")
                    return
                while self.dataReady("inbox"):
                    self.recv("inbox")
                    got += 1
                self.pause(DEADLINE)

    source, counter = Source(range(30)), CountsAtControl(queuelengths=40)
    pipeline(source, counter)
    runScheduler()
    assert counter.total == 30


def test_a_thread_watching_only_control_ends_even_with_its_inbox_queue_full(runScheduler):
    """As in 1.x, control goes through when the inbound queue is full, so the thread ends."""

    class WatchesControl(threadedcomponent):
        def main(self):
            start = time.monotonic()
            while not self.dataReady("control") and time.monotonic() - start < DEADLINE:
                self.pause(DEADLINE)
            self.sawControl = self.dataReady("control") > 0
            self.waiting = self.dataReady("inbox")

    source, watcher = Source(range(30)), WatchesControl(queuelengths=2)
    pipeline(source, watcher)
    runScheduler()
    assert watcher.sawControl and watcher.waiting == 2


def test_stepped_by_hand_a_finished_thread_still_yields_once_before_the_end():
    """activate(), next() starts the thread; once it has finished, next() returns once more
    (the final flush) and only the call after that raises StopIteration, as in 1.x."""
    done = threading.Event()

    class Quick(threadedcomponent):
        def main(self):
            done.set()

    quick = Quick().activate()
    quick.next()
    assert done.wait(DEADLINE)
    deadline = time.monotonic() + DEADLINE
    while quick._threadRunning and time.monotonic() < deadline:
        time.sleep(0.001)
    quick.next()
    with pytest.raises(StopIteration):
        quick.next()


def test_control_is_forwarded_after_the_other_inboxes(runScheduler):
    class CountsOnControl(threadedcomponent):
        def main(self):
            while not self.dataReady("control"):
                self.pause(DEADLINE)
            self.seenWithControl = self.dataReady("inbox")

    source, counter = Source(range(30)), CountsOnControl()
    pipeline(source, counter)
    runScheduler()
    assert counter.seenWithControl == 30


def test_dataReady_anyReady_and_Inbox_in_the_thread(runScheduler):
    class Reader(threadedcomponent):
        def main(self):
            while not self.dataReady("control"):
                self.pause(DEADLINE)
            self.count = self.dataReady("inbox")
            self.ready = self.anyReady()
            self.items = list(self.Inbox("inbox"))
            self.after = (self.dataReady("inbox"), self.anyReady())

    source, reader = Source("abc"), Reader()
    pipeline(source, reader)
    runScheduler()
    assert reader.count == 3
    assert reader.ready in ("inbox", "control")
    assert reader.items == ["a", "b", "c"]
    assert reader.after == (0, "control")


def test_recv_when_empty_raises_an_IndexError_that_is_also_queue_Empty(runScheduler):
    class Empty(threadedcomponent):
        def main(self):
            try:
                self.recv("inbox")
            except Exception as e:
                self.error = e

    e = Empty().activate()
    runScheduler()
    assert isinstance(e.error, IndexError)
    assert isinstance(e.error, queue.Empty)


def test_pause_with_timeout_returns_after_the_timeout(runScheduler):
    class Waits(threadedcomponent):
        def main(self):
            start = time.monotonic()
            self.pause(0.05)
            self.waited = time.monotonic() - start

    w = Waits().activate()
    runScheduler()
    assert 0.04 <= w.waited < DEADLINE


def test_pause_is_woken_by_a_message_arriving(runScheduler):
    class Waits(threadedcomponent):
        def main(self):
            self.ready = threading.Event()
            start = time.monotonic()
            self.ready.set()
            while not self.dataReady("inbox") and time.monotonic() - start < DEADLINE:
                self.pause(DEADLINE)
            self.waited = time.monotonic() - start
            self.got = self.recv("inbox")

    w = Waits()
    w.ready = threading.Event()

    class Delivers(component):
        def main(self):
            yield 1
            yield 1
            w._deliver("wake")

    w.activate()
    Delivers().activate()
    runScheduler()
    assert w.got == "wake"
    assert w.waited < DEADLINE - 1


def test_send_raises_noSpaceInBox_when_the_queue_is_full_and_nothing_is_lost(runScheduler):
    QUEUE = 4

    class Flood(threadedcomponent):
        def main(self):
            self.sent = 0
            try:
                while self.sent < 1000:
                    self.send(self.sent, "outbox")
                    self.sent += 1
            except noSpaceInBox:
                self.full = True
            consumer.unpause()
            start = time.monotonic()
            self.pause(DEADLINE)
            self.pausedFor = time.monotonic() - start

    class Drain(component):
        def __init__(self):
            super().__init__()
            self.got = []

        def main(self):
            self.pause()
            yield 1
            while not (flood._isStopped() and not self.dataReady("inbox")):
                while self.dataReady("inbox"):
                    self.got.append(self.recv("inbox"))
                self.pause()
                yield 1

    flood, consumer = Flood(queuelengths=QUEUE), Drain()
    flood.link((flood, "outbox"), (consumer, "inbox"), pipewidth=1)
    flood.addChildren(consumer)
    consumer.addChildren(flood)
    flood.activate()
    consumer.activate()
    runScheduler()
    assert flood.full
    assert QUEUE <= flood.sent <= QUEUE + 1
    assert consumer.got == list(range(flood.sent))
    assert flood.pausedFor < DEADLINE - 1


def test_outqueues_are_flushed_before_the_component_ends(runScheduler):
    class Burst(threadedcomponent):
        def main(self):
            for i in range(25):
                self.send(i, "outbox")

    class SlowSink(component):
        def __init__(self):
            super().__init__()
            self.got = []

        def main(self):
            while not (burst._isStopped() and not self.dataReady("inbox")):
                if self.dataReady("inbox"):
                    self.got.append((self.recv("inbox"), burst._isStopped()))
                    yield 1
                else:
                    self.pause()
                    yield 1

    burst, sink = Burst(), SlowSink()
    burst.link((burst, "outbox"), (sink, "inbox"), pipewidth=2)
    sink.addChildren(burst)
    burst.activate()
    sink.activate()
    runScheduler()
    assert [n for n, _ in sink.got] == list(range(25))
    # the component was still alive while all but the last collected items waited
    assert not any(stopped for _, stopped in sink.got[:-2])


def test_link_and_unlink_from_the_thread_run_in_the_scheduler_thread(runScheduler):
    calls = []

    class RecordingPostoffice(postoffice):
        def link(self, *args, **kw):
            calls.append(("link", threading.get_ident()))
            return super().link(*args, **kw)

        def unlink(self, *args, **kw):
            calls.append(("unlink", threading.get_ident()))
            return super().unlink(*args, **kw)

    sink = Sink()

    class Linker(threadedcomponent):
        def main(self):
            self.thelink = self.link((self, "outbox"), (sink, "inbox"))
            self.send("through link", "outbox")
            waitInThread(lambda: sink.got)
            self.unlink(thelinkage=self.thelink)
            self.send("dropped", "outbox")
            self.link((self, "signal"), (sink, "control"), passthrough=0)
            self.send(producerFinished(), "signal")

    linker = Linker()
    linker.postoffice = RecordingPostoffice(linker.name)
    linker.activate()
    sink.activate()
    runScheduler()
    me = threading.get_ident()
    assert calls == [("link", me), ("unlink", me), ("link", me)]
    assert linker.thelink.sinkPair() == (sink, "inbox")
    assert sink.got == ["through link"]


def test_sync_round_trips_through_the_scheduler(runScheduler):
    class Syncs(threadedcomponent):
        def main(self):
            self.result = self.sync()
            self.done = True

    s = Syncs().activate()
    runScheduler()
    assert s.done and s.result is None


def test_an_exception_in_the_thread_is_reraised_with_the_component_appended(runScheduler):
    class Explodes(threadedcomponent):
        def main(self):
            self.explodeHere()

        def explodeHere(self):
            raise ValueError("boom", 7)

    e = Explodes().activate()
    with pytest.raises(ValueError) as info:
        runScheduler()
    args = info.value.args
    assert args[:2] == ("boom", 7)
    assert len(args) == 3
    assert args[2].startswith("Component %s [" % e.name)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "explodeHere" in frames


def test_a_threaded_component_that_ends_at_once_ends(runScheduler):
    class Nothing(threadedcomponent):
        def main(self):
            pass

    n = Nothing().activate()
    runScheduler()
    assert n._isStopped()


# -- threadedadaptivecommscomponent -------------------------------------------------------------


def test_threadedadaptivecommscomponent_is_threaded_and_adaptive():
    t = threadedadaptivecommscomponent()
    assert isinstance(t, threadedcomponent)
    assert isinstance(t, _AdaptiveCommsable)


def test_threaded_adaptive_adds_and_deletes_boxes_with_their_queues(runScheduler):
    sink = Sink()
    report = {}

    class Dynamic(threadedadaptivecommscomponent):
        def main(self):
            inbox = self.addInbox("extra")
            report["inbox"] = inbox
            report["inqueue"] = inbox in self.inqueues
            self.send(inbox, "outbox")          # tells the helper where to deliver
            start = time.monotonic()
            while not self.dataReady(inbox) and time.monotonic() - start < DEADLINE:
                self.pause(DEADLINE)
            report["got"] = self.recv(inbox)
            self.deleteInbox(inbox)
            report["inboxGone"] = inbox not in self.inboxes and inbox not in self.inqueues

            outbox = self.addOutbox("extraOut")
            report["outqueue"] = outbox in self.outqueues
            extraLink = self.link((self, outbox), (sink, "inbox"))
            self.send("via extra outbox", outbox)
            waitInThread(lambda: "via extra outbox" in sink.got)
            self.unlink(thelinkage=extraLink)
            self.deleteOutbox(outbox)
            report["outboxGone"] = outbox not in self.outboxes and outbox not in self.outqueues
            self.send(producerFinished(), "signal")

    class Helper(component):
        def main(self):
            while not self.dataReady("inbox"):
                self.pause()
                yield 1
            dyn._deliver("payload", self.recv("inbox"))

    dyn, helper = Dynamic(), Helper()
    po = postoffice()
    po.link((dyn, "outbox"), (helper, "inbox"))
    po.link((dyn, "signal"), (sink, "control"))
    dyn.activate()
    helper.activate()
    sink.activate()
    runScheduler()
    assert report["inbox"] == "extra"
    assert report["inqueue"] and report["outqueue"]
    assert report["got"] == "payload"
    assert report["inboxGone"] and report["outboxGone"]
    assert "via extra outbox" in sink.got


def test_forwardInboxToThread_and_the_nonthread_box_methods():
    t = Doubler(queuelengths=2)
    for i in range(3):
        t._deliver(i)
    assert t._nonthread_dataReady("inbox") == 3
    assert t.dataReady("inbox") == 0
    t.forwardInboxToThread("inbox")
    assert t.dataReady("inbox") == 2
    assert t._nonthread_dataReady("inbox") == 1
    assert t._nonthread_recv("inbox") == 2
    other = component()
    t.link((t, "outbox"), (other, "inbox"))
    t._nonthread_send("direct", "outbox")
    assert other.recv() == "direct"
