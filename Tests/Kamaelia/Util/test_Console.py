"""Kamaelia.Util.Console: ConsoleEchoer output and shutdown; ConsoleReader lines, control, EOF."""

import threading
import time

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Axon.ThreadedComponent import threadedcomponent
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util import Console
from Kamaelia.Util.Console import ConsoleEchoer, ConsoleReader

# -- ConsoleEchoer ------------------------------------------------------------------


def test_echoer_writes_tag_and_str_without_adding_newlines(capsys):
    h = ComponentHarness(ConsoleEchoer(tag="> "))
    h.put("one")
    h.put(2)
    h.runUntilIdle()
    assert capsys.readouterr().out == "> one> 2"
    assert h.ready("outbox") == 0


def test_echoer_use_repr(capsys):
    h = ComponentHarness(ConsoleEchoer(use_repr=True))
    h.put("text")
    h.put(b"raw")
    h.runUntilIdle()
    assert capsys.readouterr().out == "'text'b'raw'"


def test_echoer_forwarder_passes_items_on(capsys):
    h = ComponentHarness(ConsoleEchoer(forwarder=True))
    h.put("x")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["x"]
    assert capsys.readouterr().out == "x"


@pytest.mark.parametrize("message", ["any string", 42, producerFinished(), shutdownMicroprocess()])
def test_echoer_ends_on_any_control_message_and_forwards_it(capsys, message):
    h = ComponentHarness(ConsoleEchoer())
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_echoer_writes_waiting_data_before_ending_and_forwards_every_control_message(capsys):
    h = ComponentHarness(ConsoleEchoer())
    h.put("last words")
    h.put("first", "control")
    h.put("second", "control")
    h.runUntilIdle()
    assert capsys.readouterr().out == "last words"
    assert h.getAll("signal") == ["first", "second"]
    assert h.finished


def test_echoer_sleeps_when_idle(capsys):
    h = ComponentHarness(ConsoleEchoer())
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


# -- ConsoleReader ------------------------------------------------------------------


def test_reader_is_a_threaded_component():
    assert issubclass(ConsoleReader, threadedcomponent)


def test_reader_sends_each_line_with_eol_and_end_of_input_raises_EOFError(monkeypatch, parts):
    lines = iter(["first", "second"])
    prompts = []

    def fakeInput(prompt=""):
        prompts.append(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(Console, "input", fakeInput, raising=False)
    recorder = parts.Recorder()
    Pipeline(ConsoleReader(prompt="? ", eol="|"), recorder).activate()
    with pytest.raises(EOFError):
        scheduler.run.runThreads()
    recorder.take()     # the error may end the run before the recorder's next step
    assert recorder.seen == ["first|", "second|"]
    assert prompts == ["? ", "? ", "? "]


def test_reader_checks_control_only_after_reading_a_line(monkeypatch, parts):
    reader = ConsoleReader()
    calls = []
    readerSawShutdown = threading.Event()

    def fakeInput(prompt=""):
        calls.append(prompt)
        if len(calls) == 1:
            return "typed before the shutdown"
        deadline = time.monotonic() + 5
        while not reader.dataReady("control"):
            assert time.monotonic() < deadline, "shutdown never reached the reader's thread"
            readerSawShutdown.wait(0.001)
        return "typed after the shutdown"

    monkeypatch.setattr(Console, "input", fakeInput, raising=False)
    h = ComponentHarness(reader)
    parts.waitFor(h, lambda: h.ready("outbox") == 1)
    shutdown = producerFinished()
    h.put(shutdown, "control")
    parts.waitFor(h, lambda: h.finished)
    assert h.getAll("outbox") == ["typed before the shutdown\n", "typed after the shutdown\n"]
    assert h.getAll("signal") == [shutdown]
    assert len(calls) == 2
