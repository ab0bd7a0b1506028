"""Helpers shared by the Axon core tests (fixtures only; nothing here is autouse).

* ``runScheduler(sched=None, deadline=5.0, **kw)`` runs ``sched.runThreads()``
  (the default scheduler if none is given) with a watchdog thread that calls
  ``sched.stop()`` if the deadline passes, and fails the test in that case.
* ``watchdog(sched, deadline)`` starts such a watchdog and returns a function
  telling whether it fired; for tests that expect runThreads to raise.
* ``waitFor(condition, deadline)`` waits (without spinning hot) for a
  condition set by another thread; returns False on timeout.
"""

import threading
import time

import pytest

from Axon.Scheduler import scheduler

DEADLINE = 5.0


class _Watchdog(object):
    def __init__(self, sched, deadline):
        self.fired = threading.Event()
        self._timer = threading.Timer(deadline, self._fire, args=(sched,))
        self._timer.daemon = True
        self._timer.start()

    def _fire(self, sched):
        self.fired.set()
        sched.stop()

    def cancel(self):
        self._timer.cancel()

    def __call__(self):
        return self.fired.is_set()


@pytest.fixture
def watchdog():
    dogs = []

    def start(sched, deadline=DEADLINE):
        dog = _Watchdog(sched, deadline)
        dogs.append(dog)
        return dog

    yield start
    for dog in dogs:
        dog.cancel()


@pytest.fixture
def runScheduler(watchdog):
    def run(sched=None, deadline=DEADLINE, **kw):
        sched = sched if sched is not None else scheduler.run
        dog = watchdog(sched, deadline)
        try:
            sched.runThreads(**kw)
        finally:
            dog.cancel()
        assert not dog(), "runThreads did not return within %s s (watchdog stopped it)" % deadline
        return sched

    return run


@pytest.fixture
def waitFor():
    def wait(condition, deadline=DEADLINE):
        end = time.monotonic() + deadline
        event = threading.Event()
        while not condition():
            if time.monotonic() > end:
                return False
            event.wait(0.002)
        return True

    return wait
