"""Tests for Axon.Handle: driving a component from plain code via put/get."""

import queue
import subprocess
import sys
import threading
import time

import pytest

from Axon.background import background
from Axon.Component import component
from Axon.Handle import Handle
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.ThreadedComponent import threadedcomponent

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


def getWithin(handle, boxname="outbox", timeout=DEADLINE):
    """Handle.get never blocks: retry until a message arrives or the deadline passes."""
    found = []

    def arrived():
        try:
            found.append(handle.get(boxname))
        except queue.Empty:
            return False
        return True

    assert waitFor(arrived, timeout), "nothing arrived on %r in time" % boxname
    return found[0]


@pytest.fixture
def bg():
    runner = background()
    runner.start()
    yield runner
    assert runner.stop(DEADLINE)
    assert background._instance is None


class Upper(component):
    """Upper-cases strings; on shutdownMicroprocess sends producerFinished and ends."""

    def main(self):
        while True:
            for text in self.Inbox("inbox"):
                self.send(text.upper(), "outbox")
            for message in self.Inbox("control"):
                if isinstance(message, shutdownMicroprocess):
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


class Burst(component):
    """Sends a burst of numbers and a producerFinished, then ends by itself."""

    def main(self):
        yield 1
        for i in range(2500):
            self.send(i, "outbox")
        self.send(producerFinished(self), "signal")


class SlowReader(component):
    """Inbox limited to one message; echoes one message per step."""

    def __init__(self):
        super().__init__()
        self.setInboxSize("inbox", 1)

    def main(self):
        while not self.dataReady("control"):
            if self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
            else:
                self.pause()
            yield 1


def test_handle_is_a_threadedcomponent_with_the_original_boxes():
    h = Handle(Upper())
    assert isinstance(h, threadedcomponent)
    assert set(h.Inboxes) == {"_inbox", "_control"}
    assert set(h.Outboxes) == {"_outbox", "_signal"}


def test_get_raises_queue_Empty_when_nothing_is_waiting():
    h = Handle(Upper())
    with pytest.raises(queue.Empty):
        h.get("outbox")
    with pytest.raises(queue.Empty):
        h.get("signal")


def test_put_then_get_round_trip_through_the_wrapped_component(bg):
    h = Handle(Upper()).activate()
    assert isinstance(h, Handle)
    h.put("hello", "inbox")
    assert getWithin(h) == "HELLO"
    h.put(shutdownMicroprocess(), "control")
    assert isinstance(getWithin(h, "signal"), producerFinished)


def test_many_messages_arrive_in_order(bg):
    h = Handle(Upper()).activate()
    words = ["w%d" % i for i in range(300)]
    for word in words:
        h.put(word, "inbox")
    got = [getWithin(h) for _ in words]
    assert got == [w.upper() for w in words]
    h.put(shutdownMicroprocess(), "control")
    assert waitFor(h._isStopped)


def test_messages_put_before_activation_are_delivered(bg):
    h = Handle(Upper())
    h.put("early", "inbox")
    h.activate()
    assert getWithin(h) == "EARLY"
    h.put(shutdownMicroprocess(), "control")
    assert waitFor(h._isStopped)


def test_handle_ends_with_its_component_and_keeps_everything_it_sent(bg):
    h = Handle(Burst()).activate()
    assert waitFor(h._isStopped)
    h._thethread.join(DEADLINE)
    assert not h._thethread.is_alive()
    got = []
    while True:
        try:
            got.append(h.get("outbox"))
        except queue.Empty:
            break
    assert got == list(range(2500))
    assert isinstance(h.get("signal"), producerFinished)
    assert h.childComponents() == []


def test_a_full_inbox_on_the_component_delays_but_loses_nothing(bg):
    reader = SlowReader()
    h = Handle(reader).activate()
    for i in range(50):
        h.put(i, "inbox")
    got = [getWithin(h) for _ in range(50)]
    assert got == list(range(50))
    h.put("stop", "control")
    assert waitFor(h._isStopped)


def test_stopping_the_background_ends_the_handle_thread():
    runner = background()
    runner.start()
    try:
        h = Handle(Upper()).activate()
        h.put("x", "inbox")
        assert getWithin(h) == "X"
    finally:
        assert runner.stop(DEADLINE)
    h._thethread.join(DEADLINE)
    assert not h._thethread.is_alive()


def test_importing_Axon_Handle_prints_nothing():
    """The original printed a "Polite Notice" on import; this port is silent."""
    result = subprocess.run([sys.executable, "-c", "import Axon.Handle"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
