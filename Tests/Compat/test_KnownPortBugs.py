"""Issue 9 "Port bugs" 1-6: what 1.x programs and 1.x test doubles rely on, pinned from outside.

Each section names the item of issue 9 it covers. The tests use Axon the
way 1.x code does: components activated with no scheduler argument,
driven by hand with ``activate()``/``next()``, ``_deliver``, ``len()`` of
boxes, scheduler and box doubles with only 1.x's interface.
"""

import threading

import pytest

from Axon.Component import component
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Postoffice import postoffice
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Axon.ThreadedComponent import threadedcomponent
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Util.RateFilter import (
    ByteRate_RequestControl,
    MessageRateLimit,
    VariableByteRate_RequestControl,
)

DEADLINE = 5.0


class Idle(component):
    """Waits for anything on "control", then ends."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


class Crash(component):
    def main(self):
        yield 1
        raise ValueError("crash on purpose")


class EndOnInbox(component):
    """Ends as soon as anything arrives on "inbox"."""

    def main(self):
        while not self.dataReady("inbox"):
            self.pause()
            yield 1
        self.recv("inbox")


# -- 1. a stale scheduler must not capture activate() -------------------------------------


def test_activate_after_a_scheduler_main_stepped_by_hand_uses_the_default_scheduler():
    other = scheduler()
    Idle().activate(other)
    stepping = other.main()
    next(stepping)
    next(stepping)  # left suspended, as a test that stepped it and stopped would
    later = Idle().activate()
    assert later.scheduler is scheduler.run
    assert later in scheduler.run.listAllThreads()
    assert later not in other.listAllThreads()


def test_activate_after_a_run_threads_that_raised_uses_the_default_scheduler():
    other = scheduler()
    Crash().activate(other)
    with pytest.raises(ValueError):
        other.runThreads()
    later = Idle().activate()
    assert later.scheduler is scheduler.run


def test_activate_uses_a_reassigned_scheduler_run():
    """1.x tests do ``scheduler.run = scheduler()``; activation must follow."""
    replacement = scheduler()
    scheduler.run = replacement
    assert Idle().activate().scheduler is replacement


# -- 2. passthrough inboxes ---------------------------------------------------------------


def test_recv_on_an_inbox_passed_through_to_a_child_takes_from_the_child_inbox():
    parent, child = component(), component()
    parent.link((parent, "inbox"), (child, "inbox"), passthrough=1)
    parent._deliver("first", "inbox")
    parent._deliver("second", "inbox")
    assert parent.dataReady("inbox") == 0  # 1.x: its own storage stays empty
    assert len(parent.inboxes["inbox"]) == 2  # the box's length is the final destination's
    assert child.dataReady("inbox") == 2
    assert parent.recv("inbox") == "first"
    assert child.recv("inbox") == "second"
    with pytest.raises(IndexError):
        parent.recv("inbox")


# -- 3. Graphline ---------------------------------------------------------------------------


def test_graphline_without_linkages_raises_an_error_that_is_both_typeerror_and_valueerror():
    with pytest.raises(TypeError):
        Graphline(A=component())
    with pytest.raises(ValueError):
        Graphline(A=component())


def test_graphline_signals_a_shutdown_that_arrived_as_its_last_child_ended():
    """The child ends, then (before the Graphline has run again) shutdownMicroprocess arrives."""
    child = EndOnInbox()
    g = Graphline(A=child, linkages={("self", "inbox"): ("A", "inbox")})
    h = ComponentHarness(g)
    h.runUntilIdle()
    h.put("go", "inbox")
    for _ in range(20):
        h.step()
        if child._isStopped():
            break
    assert child._isStopped() and not h.finished, "the window this test needs did not occur"
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [stop]


def test_graphline_signals_a_shutdown_it_forwarded_to_its_children_exactly_once():
    g = Graphline(A=Idle(), B=Idle(), linkages={})
    h = ComponentHarness(g)
    h.runUntilIdle()
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [stop]


# -- 4. rate control ---------------------------------------------------------------------------


def test_byte_rate_request_control_keeps_the_1x_settings_attributes():
    default = ByteRate_RequestControl()
    assert default.chunksize == 100.0 and default.timestep == pytest.approx(0.001)
    byRate = ByteRate_RequestControl(rate=100, chunkrate=8)
    assert byRate.chunksize == 12.5 and isinstance(byRate.chunksize, float)
    assert byRate.timestep == 0.125
    bySize = ByteRate_RequestControl(rate=100, chunksize=25)
    assert bySize.chunksize == 25 and bySize.timestep == 0.25
    with pytest.raises(ValueError):
        ByteRate_RequestControl(rate=100, chunkrate=1000)


def test_byte_rate_request_control_timing_methods_work_unactivated_with_the_1x_signatures():
    rc = ByteRate_RequestControl(rate=100, chunkrate=3)
    rc.resetTiming(50.0)
    sent = []
    for n in range(6):
        sent.extend(rc.getChunksToSend(50.0 + n / 3.0 + 0.001))
    assert sent == [33, 33, 34, 33, 33, 34]
    wallclock = ByteRate_RequestControl(rate=100, chunksize=25)
    wallclock.resetTiming()
    assert list(wallclock.getChunksToSend()) == [25]


def test_variable_rate_request_control_keeps_the_1x_settings_and_timing_methods():
    default = VariableByteRate_RequestControl()
    assert default.chunksize == 10000.0 and default.timestep == pytest.approx(0.1)
    vrc = VariableByteRate_RequestControl(rate=100, chunksize=25)
    assert vrc.chunksize == 25 and vrc.timestep == 0.25
    vrc.resetTiming(10.0)
    assert list(vrc.getChunksToSend(10.001)) == [25]
    assert list(vrc.getChunksToSend(10.1)) == []
    assert list(vrc.getChunksToSend(10.251)) == [25]


def test_message_rate_limit_hardlimit_0_is_the_default_and_means_no_inbox_limit():
    assert MessageRateLimit.hardlimit == 0
    limiter = MessageRateLimit(10, 5, hardlimit=0)
    for n in range(200):
        limiter._deliver(n, "inbox")
    assert limiter.dataReady("inbox") == 200


# -- 5. interfaces 1.x test doubles rely on ---------------------------------------------------


class OldSchedulerDouble(object):
    """A scheduler with only 1.x's interface, recording what it is asked."""

    def __init__(self):
        self.calls = []

    def _addThread(self, mp):
        self.calls.append(("_addThread", mp))

    def wakeThread(self, mp, canActivate=False):
        self.calls.append(("wakeThread", mp))

    def pauseThread(self, mp):
        self.calls.append(("pauseThread", mp))

    def isThreadPaused(self, mp):
        return False


def test_pause_stop_and_delivery_work_on_a_scheduler_double_with_only_the_1x_interface():
    double = OldSchedulerDouble()
    c = component()
    c.activate(Scheduler=double)
    assert double.calls == [("_addThread", c)]
    c.pause()
    c._deliver("hello", "inbox")
    sender = component()
    sender.link((sender, "outbox"), (c, "inbox"))
    sender.send("again", "outbox")
    assert ("pauseThread", c) in double.calls
    assert double.calls.count(("wakeThread", c)) >= 1
    assert c.dataReady("inbox") == 2
    c.stop()
    assert c._isStopped()


class OldBoxDouble(object):
    """An inbox with 1.x's ``addsource(source)`` signature (no ``quiet``)."""

    def __init__(self):
        self.sources = []

    def addsource(self, source):
        self.sources.append(source)

    def removesource(self, source):
        self.sources.remove(source)


def test_postoffice_links_to_a_box_double_with_the_1x_addsource_signature():
    source, sink = component(), component()
    sink.inboxes["inbox"] = OldBoxDouble()
    po = postoffice()
    po.link((source, "outbox"), (sink, "inbox"))
    assert sink.inboxes["inbox"].sources == [source.outboxes["outbox"]]


def test_postoffice_debugname_defaults_to_an_empty_string():
    assert postoffice().debugname == ""
    assert str(postoffice()) == "{{ POSTOFFICE: links [] }}"
    assert postoffice("P").debugname == "P:debug "


def test_tracker_keeps_its_parent_as_underscore_parent():
    root = coordinatingassistanttracker.getcat()
    child = coordinatingassistanttracker(parent=root)
    assert child._parent is root


# -- 6. threaded components ------------------------------------------------------------------------


class QuickThread(threadedcomponent):
    def main(self):
        self.send("done", "outbox")


def test_threaded_component_stepped_by_hand_yields_once_after_its_thread_ends():
    t = QuickThread()
    t.activate()
    t.next()
    t._thethread.join(DEADLINE)
    assert not t._thethread.is_alive()
    t.next()  # the thread has finished, but this step still yields
    steps = 0
    with pytest.raises(StopIteration):
        while steps < 10:
            t.next()
            steps += 1
    assert steps <= 1


class WatchesOnlyControl(threadedcomponent):
    def main(self):
        while not self.dataReady("control"):
            self.pause(1)
        self.send(self.recv("control"), "signal")


def test_threaded_component_watching_only_control_ends_although_its_inbox_queue_is_full(runSystem):
    t = WatchesOnlyControl(queuelengths=2)
    for n in range(5):
        t._deliver(n, "inbox")
    stop = producerFinished()
    t._deliver(stop, "control")
    ended = threading.Event()

    class Watch(component):
        def main(self):
            while not self.dataReady("control"):
                self.pause()
                yield 1
            ended.set()

    watch = Watch()
    t.link((t, "signal"), (watch, "control"))
    runSystem(t, watch, deadline=DEADLINE)
    assert ended.is_set()
