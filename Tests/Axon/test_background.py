"""Tests for Axon.background: the scheduler in a daemon thread, one at a time."""

import threading
import time

import pytest

from Axon.background import background
from Axon.Component import component
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Scheduler import scheduler

DEADLINE = 5.0


def waitFor(condition, timeout=DEADLINE):
    """Wait (without spinning hot) until condition() is true; False on timeout."""
    event = threading.Event()
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        event.wait(0.002)
    return True


@pytest.fixture(autouse=True)
def noLeakedBackground():
    """Every test must leave no background behind (the class lock is process-wide)."""
    assert background._instance is None
    yield
    leaked = background._instance
    if leaked is not None:
        leaked.stop(DEADLINE)
    assert leaked is None, "test left a background running"


class Recorder(component):
    """Records the thread it runs in and each message, until told to stop on control."""

    def __init__(self):
        super().__init__()
        self.threadName = None
        self.seen = []
        self.finished = threading.Event()

    def main(self):
        self.threadName = threading.current_thread().name
        while not self.dataReady("control"):
            for message in self.Inbox("inbox"):
                self.seen.append(message)
            self.pause()
            yield 1
        self.finished.set()


class Sleeper(component):
    """Pauses forever; records that stop() was called."""

    stopped = False

    def main(self):
        while True:
            self.pause()
            yield 1

    def stop(self):
        self.stopped = True
        super().stop()


def test_components_activated_from_plain_code_run_in_the_background_thread():
    bg = background()
    bg.start()
    try:
        assert bg.daemon
        assert bg.scheduler is scheduler.run
        rec = Recorder().activate()
        rec._deliver("hello", "inbox")
        assert waitFor(lambda: rec.seen == ["hello"])
        assert rec.threadName == bg.name
        rec._deliver("stop", "control")
        assert rec.finished.wait(DEADLINE)
    finally:
        assert bg.stop(DEADLINE)


def test_activation_from_another_thread_is_safe():
    bg = background()
    bg.start()
    try:
        recs = []

        def activateSome():
            for _ in range(20):
                recs.append(Recorder().activate())

        helpers = [threading.Thread(target=activateSome) for _ in range(3)]
        for h in helpers:
            h.start()
        for h in helpers:
            h.join(DEADLINE)
        assert waitFor(lambda: all(r.threadName == bg.name for r in recs))
        assert len(recs) == 60
    finally:
        assert bg.stop(DEADLINE)


def test_only_one_background_may_exist_at_a_time():
    first = background()
    try:
        with pytest.raises(RuntimeError):
            background()
        first.start()
        with pytest.raises(RuntimeError):
            background()
    finally:
        assert first.stop(DEADLINE)
    second = background()
    assert second.stop()


def test_a_background_that_was_never_started_can_be_discarded_with_stop():
    unstarted = background()
    assert unstarted.stop()
    assert background._instance is None
    background().stop()


def test_waits_for_the_first_activation_then_ends_when_everything_has_ended():
    """waitForOne: an empty scheduler stays up until something is activated."""
    bg = background()
    bg.start()
    assert bg.is_alive()
    rec = Recorder().activate()
    assert waitFor(lambda: rec.threadName is not None)
    assert bg.is_alive()
    rec._deliver("stop", "control")
    bg.join(DEADLINE)
    assert not bg.is_alive()
    assert background._instance is None
    background().stop()


def test_stop_ends_paused_components_and_the_thread():
    bg = background()
    bg.start()
    sleeper = Sleeper().activate()
    assert waitFor(lambda: sleeper in bg.scheduler.threads and
                   bg.scheduler.isThreadPaused(sleeper))
    assert bg.stop(DEADLINE)
    assert sleeper.stopped
    assert not bg.is_alive()


def test_zap_gives_a_fresh_default_scheduler_and_clears_the_tracker():
    old = scheduler.run
    cat = coordinatingassistanttracker.getcat()
    service = Recorder()
    cat.registerService("zapme", service, "inbox")
    cat.trackValue("count", 1)
    bg = background(zap=True)
    bg.start()
    try:
        assert scheduler.run is not old
        assert bg.scheduler is scheduler.run
        assert cat.servicesRegistered() == []
        assert cat.informationItemsLogged() == []
        rec = Recorder().activate()
        assert waitFor(lambda: rec.threadName == bg.name)
    finally:
        assert bg.stop(DEADLINE)


def test_a_crashing_component_ends_the_thread_and_frees_the_lock(monkeypatch):
    reported = []
    monkeypatch.setattr(threading, "excepthook", reported.append)

    class Crasher(component):
        def main(self):
            yield 1
            raise ValueError("boom")

    bg = background()
    bg.start()
    Crasher().activate()
    bg.join(DEADLINE)
    assert not bg.is_alive()
    assert len(reported) == 1 and reported[0].exc_type is ValueError
    background().stop()


def test_an_idle_background_does_not_busy_wait():
    """While every component is paused the scheduler thread blocks: almost no CPU."""
    bg = background()
    bg.start()
    try:
        sleeper = Sleeper().activate()
        assert waitFor(lambda: bg.scheduler.isThreadPaused(sleeper) and
                       sleeper in bg.scheduler.threads)
        cpuBefore = time.process_time()
        threading.Event().wait(0.3)
        used = time.process_time() - cpuBefore
        assert used < 0.1, "idle background used %.3fs CPU in 0.3s" % used
    finally:
        assert bg.stop(DEADLINE)
