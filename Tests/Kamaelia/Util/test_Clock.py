"""Kamaelia.Util.Clock.CheapAndCheerfulClock: ticks on scheduler timers, no drift, no bursts."""

from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Clock import CheapAndCheerfulClock


def test_sends_true_every_interval():
    h = ComponentHarness(CheapAndCheerfulClock(2.0))
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    h.advance(1.9)
    assert h.ready("outbox") == 0
    h.advance(0.1)
    assert h.getAll("outbox") == [True]
    h.advance(10)
    assert h.getAll("outbox") == [True] * 5


def test_sleeps_between_ticks_on_a_timer():
    h = ComponentHarness(CheapAndCheerfulClock(1.0))
    h.runUntilIdle()
    assert h.scheduler.isIdle()
    assert h.scheduler.nextTimerDue() == h.clock.now + 1.0


def test_ticks_do_not_drift_when_the_timer_fires_late():
    clock = CheapAndCheerfulClock(1.0)
    h = ComponentHarness(clock)
    h.runUntilIdle()
    start = h.clock.now
    h.clock.now = start + 1.3          # the scheduler got to the timer late
    h.step()
    h.runUntilIdle()
    assert h.getAll("outbox") == [True]
    assert h.scheduler.nextTimerDue() == start + 2.0


def test_missed_ticks_are_skipped_not_sent_in_a_burst():
    h = ComponentHarness(CheapAndCheerfulClock(1.0))
    h.runUntilIdle()
    start = h.clock.now
    h.clock.now = start + 5.5          # the whole system stalled for five intervals
    h.step()
    h.runUntilIdle()
    assert h.getAll("outbox") == [True]
    assert h.scheduler.nextTimerDue() == start + 6.5


def test_ignores_control_and_never_ends_by_itself():
    h = ComponentHarness(CheapAndCheerfulClock(1.0))
    h.put(producerFinished(), "control")
    h.advance(3)
    assert not h.finished
    assert h.getAll("outbox") == [True] * 3
    assert h.ready("signal") == 0


def test_stop_cancels_the_pending_timer():
    clock = CheapAndCheerfulClock(1.0)
    h = ComponentHarness(clock)
    h.advance(1)
    clock.stop()
    h.runUntilIdle()
    assert h.finished
    assert h.scheduler.nextTimerDue() is None
