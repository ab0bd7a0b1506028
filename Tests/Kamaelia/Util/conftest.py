"""Helpers shared by the Kamaelia.Util tests (handed out through fixtures).

Test files cannot import each other (pytest's importlib mode), so helper
components and functions are provided by the ``parts`` fixture.
"""

import time
import types

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Recorder(component):
    """Keeps everything arriving on inbox (``seen``) and control (``controls``).

    Ends on producerFinished or shutdownMicroprocess on control (after taking
    the data already waiting). ``size`` limits its inbox.
    """

    def __init__(self, size=None, **argd):
        super().__init__(**argd)
        self.seen = []
        self.controls = []
        if size is not None:
            self.setInboxSize("inbox", size)

    def take(self):
        """Take whatever is waiting in the inbox (as a consumer would)."""
        while self.dataReady("inbox"):
            self.seen.append(self.recv("inbox"))

    def main(self):
        while True:
            if self.inboxes["inbox"].storage.size is None:
                self.take()
            while self.dataReady("control"):
                message = self.recv("control")
                self.controls.append(message)
                if isinstance(message, (producerFinished, shutdownMicroprocess)):
                    self.take()
                    return
            self.pause()
            yield 1


def waitFor(harness, condition, timeout=5.0):
    """Run ``harness`` until ``condition()`` holds; AssertionError after ``timeout`` s.

    For threaded components, whose threads work outside the scheduler: when
    the scheduler is idle the thread is given a moment before checking again.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %s s" % timeout)
        harness.runUntilIdle()
        if not condition() and harness.scheduler.isIdle():
            time.sleep(0.001)


def link(harness, source, sink, **kw):
    """Link two boxes from outside any component (a standalone postoffice)."""
    from Axon.Postoffice import postoffice
    po = postoffice("test")
    return po.link(source, sink, **kw)


@pytest.fixture
def parts():
    return types.SimpleNamespace(Recorder=Recorder, waitFor=waitFor, link=link)
