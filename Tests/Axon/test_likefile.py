"""Tests for likefile (Axon.experimental._pprocess_support): components driven from plain code."""

import gc
import queue
import subprocess
import sys
import threading
import time
import warnings

import pytest

import Axon.background
from Axon.Component import component
from Axon.experimental import _pprocess_support
from Axon.experimental._pprocess_support import (
    addBox,
    background,
    componentWrapperInput,
    componentWrapperOutput,
    dummyComponent,
    likefile,
)
from Axon.Ipc import producerFinished, shutdown, shutdownMicroprocess

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


@pytest.fixture
def bg():
    runner = background()
    runner.start()
    yield runner
    assert runner.stop(DEADLINE)
    assert Axon.background.background._instance is None


class Reverser(component):
    """Reverses strings; records control messages; ends on shutdownMicroprocess."""

    def __init__(self):
        super().__init__()
        self.controls = []

    def main(self):
        while True:
            for text in self.Inbox("inbox"):
                self.send(text[::-1], "outbox")
            for message in self.Inbox("control"):
                self.controls.append(message)
                if isinstance(message, shutdownMicroprocess):
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


class Deaf(component):
    """Ignores everything, forever (until stopped)."""

    def main(self):
        while True:
            for _ in self.Inbox("control"):
                pass
            self.pause()
            yield 1


class Counter(component):
    """Sends 0..n-1 then producerFinished, and ends by itself."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def main(self):
        yield 1
        for i in range(self.n):
            self.send(i, "outbox")
        self.send(producerFinished(self), "signal")


class Extra(component):
    """Has an extra inbox and outbox: "extra" -> doubled on "result"."""

    Inboxes = {"inbox": "unused", "control": "ends on shutdownMicroprocess", "extra": "numbers"}
    Outboxes = {"outbox": "unused", "signal": "unused", "result": "doubled numbers"}

    def main(self):
        while not any(isinstance(m, shutdownMicroprocess) for m in self.Inbox("control")):
            for n in self.Inbox("extra"):
                self.send(n * 2, "result")
            self.pause()
            yield 1


class SlowEcho(component):
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


def test_put_get_round_trips(bg):
    lf = likefile(Reverser())
    for word in ["hello", "world", "", "abc"]:
        lf.put(word)
        assert lf.get(timeout=DEADLINE) == word[::-1]
    lf.shutdown()


def test_many_messages_keep_their_order(bg):
    lf = likefile(Reverser())
    words = ["m%04d" % i for i in range(500)]
    for word in words:
        lf.put(word, "inbox")
    assert [lf.get(timeout=DEADLINE) for _ in words] == [w[::-1] for w in words]
    lf.shutdown()


def test_get_times_out_with_queue_Empty(bg):
    lf = likefile(Reverser())
    started = time.monotonic()
    with pytest.raises(queue.Empty):
        lf.get(timeout=0.05)
    assert time.monotonic() - started >= 0.045
    with pytest.raises(queue.Empty):
        lf.get(blocking=False)
    with pytest.raises(queue.Empty):
        lf.get_nowait()
    lf.shutdown()


def test_blocking_get_waits_for_output_put_from_another_thread(bg):
    lf = likefile(Reverser())
    putter = threading.Thread(target=lf.put, args=("later",))
    putter.start()
    assert lf.get(timeout=DEADLINE) == "retal"
    putter.join(DEADLINE)
    lf.shutdown()


def test_empty_qsize_and_anyReady_describe_waiting_output(bg):
    lf = likefile(Reverser())
    assert lf.empty() and lf.qsize() == 0
    assert lf.anyReady() is None
    for word in ["ab", "cd", "ef"]:
        lf.put(word)
    assert waitFor(lambda: lf.qsize() == 3)
    assert not lf.empty()
    assert lf.anyReady() == ["outbox"]
    assert lf.empty("signal")
    assert [lf.get_nowait() for _ in range(3)] == ["ba", "dc", "fe"]
    lf.shutdown()


def test_shutdown_sends_the_three_shutdown_messages_and_ends_everything(bg):
    child = Reverser()
    lf = likefile(child)
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lf.shutdown()
    assert time.monotonic() - started < 1.0
    assert [type(m) for m in child.controls] == [shutdown, producerFinished, shutdownMicroprocess]
    assert child._isStopped()
    assert waitFor(lambda: lf.inputComponent._isStopped() and lf.outputComponent._isStopped())
    assert lf.qsize("signal") == 1


def test_use_after_shutdown_raises_AttributeError(bg):
    lf = likefile(Reverser())
    lf.shutdown()
    with pytest.raises(AttributeError):
        lf.put("x")
    with pytest.raises(AttributeError):
        lf.get(blocking=False)
    with pytest.raises(AttributeError):
        lf.shutdown()


def test_shutdown_of_a_component_that_ignores_it_warns_and_does_not_hang(bg, monkeypatch):
    monkeypatch.setattr(_pprocess_support, "SHUTDOWN_CONFIRMATION_TIMEOUT", 0.2)
    child = Deaf()
    lf = likefile(child)
    started = time.monotonic()
    with pytest.warns(RuntimeWarning, match="did not end"):
        lf.shutdown()
    assert 0.19 <= time.monotonic() - started < 3.0
    assert waitFor(lambda: lf.inputComponent._isStopped() and lf.outputComponent._isStopped())
    assert not child._isStopped()


def test_a_component_that_ends_by_itself_leaves_all_its_output(bg):
    lf = likefile(Counter(1500))
    got = [lf.get(timeout=DEADLINE) for _ in range(1500)]
    assert got == list(range(1500))
    assert isinstance(lf.get("signal", timeout=DEADLINE), producerFinished)
    assert waitFor(lambda: lf.inputComponent._isStopped() and lf.outputComponent._isStopped())
    assert lf.outputComponent.childDone.is_set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lf.shutdown()


def test_extra_boxes_are_wrapped(bg):
    lf = likefile(Extra(), extraInboxes="extra", extraOutboxes=("result",))
    lf.put(21, "extra")
    assert lf.get("result", timeout=DEADLINE) == 42
    assert set(lf.outQueues) == {"outbox", "signal", "result"}
    lf.shutdown()


def test_wrapDefault_False_wraps_only_the_extra_boxes(bg):
    lf = likefile(Extra(), extraInboxes=("extra", "control"), extraOutboxes=["result"],
                  wrapDefault=False)
    assert set(lf.outQueues) == {"result"}
    with pytest.raises(KeyError):
        lf.put("x", "inbox")
    lf.put(5, "extra")
    assert lf.get("result", timeout=DEADLINE) == 10
    lf.shutdown()


def test_naming_a_box_the_component_lacks_raises_KeyError(bg):
    with pytest.raises(KeyError):
        likefile(Reverser(), extraInboxes="nosuchbox")
    with pytest.raises(KeyError):
        likefile(Reverser(), extraOutboxes="nosuchbox")


def test_a_full_inbox_on_the_component_delays_but_loses_nothing(bg):
    lf = likefile(SlowEcho())
    for i in range(100):
        lf.put(i)
    assert [lf.get(timeout=DEADLINE) for _ in range(100)] == list(range(100))
    lf.shutdown()
    assert lf.child._isStopped()


def test_likefile_needs_a_background():
    assert Axon.background.background._instance is None
    with pytest.raises(AttributeError):
        likefile(Reverser())


def test_likefile_also_runs_on_Axon_background():
    runner = Axon.background.background()
    runner.start()
    try:
        lf = likefile(Reverser())
        lf.put("plain")
        assert lf.get(timeout=DEADLINE) == "nialp"
        lf.shutdown()
    finally:
        assert runner.stop(DEADLINE)


def test_the_pprocess_background_outlives_its_components(bg):
    """Its dummyComponent keeps the scheduler alive between likefiles."""
    assert isinstance(bg.dummy, dummyComponent)
    likefile(Counter(1)).shutdown()
    assert bg.is_alive()
    lf = likefile(Reverser())
    lf.put("again")
    assert lf.get(timeout=DEADLINE) == "niaga"
    lf.shutdown()
    assert bg.is_alive()


def test_dropping_a_live_likefile_shuts_it_down_without_waiting(bg):
    child = Reverser()
    lf = likefile(child)
    inputComponent, outputComponent = lf.inputComponent, lf.outputComponent
    started = time.monotonic()
    del lf
    gc.collect()
    assert time.monotonic() - started < 0.5
    assert waitFor(lambda: child._isStopped() and inputComponent._isStopped() and
                   outputComponent._isStopped())
    assert isinstance(child.controls[-1], shutdownMicroprocess)


def test_a_live_likefile_at_interpreter_exit_raises_nothing():
    program = (
        "from Axon.experimental._pprocess_support import likefile, background\n"
        "from Axon.Component import component\n"
        "class Echo(component):\n"
        "    def main(self):\n"
        "        while True:\n"
        "            for x in self.Inbox('inbox'):\n"
        "                self.send(x, 'outbox')\n"
        "            self.pause()\n"
        "            yield 1\n"
        "bg = background()\n"
        "bg.start()\n"
        "lf = likefile(Echo())\n"
        "lf.put(1)\n"
        "assert lf.get(timeout=5) == 1\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""


def test_addBox_records_actual_names_and_rejects_duplicates():
    made = []

    def adder(name):
        made.append(name)
        return name + "!"

    mapping = addBox(["a", "b"], {}, adder)
    assert mapping == {"a": "a!", "b": "b!"}
    assert made == ["a", "b"]
    with pytest.raises(ValueError):
        addBox(["a"], mapping, adder)


def test_wrappers_have_one_box_per_wrapped_box():
    child = Extra()
    inputWrapper = componentWrapperInput(child, ["inbox", "extra"])
    outputWrapper = componentWrapperOutput(child, inputWrapper, ["result"])
    assert set(inputWrapper.outboxes) == {"inbox", "extra"}
    assert set(outputWrapper.inboxes) == {"result"}
    assert set(outputWrapper.outQueues) == {"result"}
    assert outputWrapper.childComponents() == [child]


def test_the_module_is_importable_under_its_stale_name():
    from Axon import LikeFile
    assert LikeFile.likefile is likefile
    assert LikeFile.background is _pprocess_support.background
