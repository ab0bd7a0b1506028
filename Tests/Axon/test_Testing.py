"""Axon.Testing (DESIGN decision 10): ComponentHarness and FakeClock."""

import pytest

from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness, FakeClock


class Doubler(component):
    """Doubles inbox to outbox; ends on producerFinished (forwarded to signal)."""

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.send(self.recv("inbox") * 2, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                self.send(msg, "signal")
                return
            self.pause()
            yield 1


class StepCounter(component):
    """Counts its steps; pauses after each unless ``busy``."""

    busy = False

    def main(self):
        self.steps = 0
        while True:
            self.steps += 1
            if not self.busy:
                self.pause()
            yield 1


class Alarm(component):
    """Sends "ring n" after each of the given delays (scheduler timers)."""

    def main(self):
        for n, delay in enumerate(self.delays):
            due = self.scheduler.clock() + delay
            self.scheduler.callLater(delay, self.unpause)
            while self.scheduler.clock() < due:     # other wake-ups may come first
                self.pause()
                yield 1
            self.send("ring %d at %s" % (n, self.scheduler.clock()), "outbox")


# -- FakeClock --------------------------------------------------------------------


def test_fake_clock_only_moves_when_told():
    c = FakeClock()
    assert c() == 1000.0
    c.advance(2.5)
    assert c() == 1002.5
    assert FakeClock(start=5)() == 5.0
    with pytest.raises(ValueError):
        c.advance(-1)
    assert c.wallclock() == c.epoch + c()


# -- construction ----------------------------------------------------------------


def test_harness_uses_its_own_scheduler_with_a_fake_clock():
    default = scheduler.run
    d = Doubler()
    h = ComponentHarness(d)
    assert h.component is d
    assert isinstance(h.clock, FakeClock)
    assert h.scheduler is not default
    assert scheduler.run is default
    assert h.scheduler.clock is h.clock
    assert d in h.scheduler.listAllThreads()
    assert d not in default.listAllThreads()


def test_harness_with_activate_False_leaves_the_component_inactive():
    d = Doubler()
    h = ComponentHarness(d, activate=False)
    assert d not in h.scheduler.listAllThreads()
    d.activate(h.scheduler)
    h.put(4)
    h.runUntilIdle()
    assert h.get() == 8


def test_harness_accepts_a_clock():
    clock = FakeClock(start=0)
    h = ComponentHarness(Alarm(delays=[5]), clock=clock)
    assert h.clock is clock
    h.advance(5)
    assert h.get() == "ring 0 at 5.0"


# -- put / runUntilIdle / get -------------------------------------------------------


def test_put_runUntilIdle_getAll_and_finished():
    h = ComponentHarness(Doubler())
    h.put(1, "inbox")
    h.put(2)
    h.runUntilIdle()
    assert h.ready("outbox") == 2
    assert h.getAll("outbox") == [2, 4]
    assert h.getAll("outbox") == []
    assert not h.finished
    msg = producerFinished()
    h.put(msg, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.get("signal") is msg


def test_get_returns_the_oldest_and_raises_IndexError_when_empty():
    h = ComponentHarness(Doubler())
    with pytest.raises(IndexError):
        h.get()
    for i in (1, 2, 3):
        h.put(i)
    h.runUntilIdle()
    assert h.get() == 2
    assert h.ready() == 2
    assert h.get("outbox") == 4
    assert h.getAll() == [6]
    with pytest.raises(IndexError):
        h.get("outbox")


def test_put_wakes_a_paused_component():
    c = StepCounter()
    h = ComponentHarness(c)
    h.runUntilIdle()
    assert c.steps == 1
    h.runUntilIdle()
    assert c.steps == 1
    h.put("poke")
    h.runUntilIdle()
    assert c.steps == 2


def test_runUntilIdle_raises_for_a_component_that_never_pauses():
    c = StepCounter(busy=True)
    h = ComponentHarness(c)
    with pytest.raises(AssertionError):
        h.runUntilIdle(maxCycles=50)
    assert c.steps == 50


def test_step_runs_the_given_number_of_cycles():
    c = StepCounter(busy=True)
    h = ComponentHarness(c)
    h.step()
    assert c.steps == 1
    h.step(4)
    assert c.steps == 5


def test_step_stops_early_when_nothing_is_left():
    class Short(component):
        def main(self):
            yield 1

    h = ComponentHarness(Short())
    h.step(10)
    assert h.finished


def test_errors_from_the_component_propagate():
    class Broken(component):
        def main(self):
            yield 1
            raise ZeroDivisionError("oops")

    h = ComponentHarness(Broken())
    with pytest.raises(ZeroDivisionError):
        h.runUntilIdle()


# -- advance -------------------------------------------------------------------------------


def test_advance_fires_timers_in_order_at_their_due_time():
    h = ComponentHarness(Alarm(delays=[10, 5, 20]))
    h.advance(9)
    assert h.ready() == 0
    h.advance(1)
    assert h.getAll() == ["ring 0 at 1010.0"]
    h.advance(30)
    assert h.getAll() == ["ring 1 at 1015.0", "ring 2 at 1035.0"]
    assert h.clock() == 1040.0
    assert h.finished


def test_advance_zero_runs_until_idle():
    h = ComponentHarness(Doubler())
    h.put(21)
    h.advance(0)
    assert h.get() == 42


# -- outboxes --------------------------------------------------------------------------------


def test_children_activated_by_the_component_run_on_the_harness_scheduler():
    class Parent(component):
        def main(self):
            self.child = Doubler()
            self.link((self.child, "outbox"), (self, "outbox"), passthrough=2)
            self.link((self, "inbox"), (self.child, "inbox"), passthrough=1)
            self.addChildren(self.child)
            self.child.activate()
            while not self.child._isStopped():
                self.pause()
                yield 1

    p = Parent()
    h = ComponentHarness(p)
    h.put(5)
    h.runUntilIdle()
    assert h.get() == 10
    assert p.child not in scheduler.run.listAllThreads()


def test_an_outbox_the_component_links_itself_is_not_collected():
    class SelfLooper(component):
        def main(self):
            self.link((self, "outbox"), (self, "control"))
            self.send("to myself", "outbox")
            yield 1
            self.got = self.recv("control")

    c = SelfLooper()
    h = ComponentHarness(c)
    h.runUntilIdle()
    assert c.got == "to myself"
    assert h.ready("outbox") == 0


def test_outboxes_added_while_running_are_collected():
    class Grows(AdaptiveCommsComponent):
        def main(self):
            self.extra = self.addOutbox("extra")
            yield 1
            self.send("on extra", self.extra)
            self.pause()
            yield 1

    c = Grows()
    h = ComponentHarness(c)
    h.runUntilIdle()
    assert h.getAll(c.extra) == ["on extra"]


def test_get_wakes_the_component_like_a_real_consumer():
    class WaitsForSpace(component):
        def main(self):
            self.sent = 0
            while self.sent < 3:
                if self.outboxes["outbox"].isFull():
                    self.pause()
                    yield 1
                    continue
                self.send(self.sent, "outbox")
                self.sent += 1
            yield 1

    c = WaitsForSpace()
    h = ComponentHarness(c)
    h.component.outboxes["outbox"].storage.size = 1
    h.runUntilIdle()
    assert c.sent == 1
    assert h.get() == 0
    h.runUntilIdle()
    assert c.sent == 2
    assert h.get() == 1
    h.runUntilIdle()
    assert h.get() == 2


def test_shutdown_message_ends_a_component_under_the_harness():
    h = ComponentHarness(Doubler())
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), shutdownMicroprocess)
