"""Shared fixtures: every test starts with a fresh default scheduler and tracker.

``system`` runs that scheduler in a background thread for tests that use real sockets.
"""

import queue
import threading

import pytest

from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Scheduler import scheduler


@pytest.fixture(autouse=True)
def freshAxon():
    """Give each test its own default scheduler and service registry."""
    savedScheduler = scheduler.run
    savedCat = coordinatingassistanttracker.basecat
    scheduler.run = None
    scheduler()
    coordinatingassistanttracker.basecat = None
    coordinatingassistanttracker.getcat()
    scheduler.run.exception_caught = StopIteration
    yield scheduler.run
    scheduler.run = savedScheduler
    coordinatingassistanttracker.basecat = savedCat


class RunningSystem(object):
    """The default scheduler running in a background thread for one test."""

    def __init__(self):
        self.scheduler = scheduler.run
        self.scheduler.waitForOne()
        self.error = None
        self.thread = threading.Thread(target=self._run, name="axon-test-scheduler", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.scheduler.runThreads()
        except BaseException as e:
            self.error = e

    def activate(self, *components):
        for c in components:
            c.activate(self.scheduler)
        return components[0] if len(components) == 1 else components

    def call(self, fn, *args, timeout=5):
        """Run ``fn(*args)`` in the scheduler's thread and return its result."""
        result = queue.Queue()

        def run():
            try:
                result.put((fn(*args), None))
            except BaseException as e:
                result.put((None, e))
        self.scheduler.callSoonThreadsafe(run)
        value, error = result.get(timeout=timeout)
        if error is not None:
            raise error
        return value

    def shutdown(self, timeout=10):
        self.scheduler.stop()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("the Axon scheduler did not stop within %s s" % timeout)
        if self.error is not None:
            raise self.error


@pytest.fixture
def system():
    running = RunningSystem()
    yield running
    running.shutdown()
