"""Kamaelia.Util.Chargen: one "Hello World" per cycle; stops on shutdown; waits when blocked."""

from Axon.Ipc import shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Chargen import Chargen


def test_sends_hello_world_every_cycle():
    h = ComponentHarness(Chargen())
    h.step(50)
    assert h.getAll("outbox") == ["Hello World"] * 50


def test_stops_on_shutdown_and_forwards_it():
    h = ComponentHarness(Chargen())
    h.step(3)
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_sleeps_while_the_receiver_is_full(parts):
    gen = Chargen()
    sink = parts.Recorder(size=5)
    h = ComponentHarness(gen)
    gen.link((gen, "outbox"), (sink, "inbox"))
    sink.activate(h.scheduler)
    h.runUntilIdle()
    assert sink.dataReady("inbox") == 5
    assert h.scheduler.isIdle()
    sink.recv("inbox")
    h.runUntilIdle()
    assert sink.dataReady("inbox") == 5
