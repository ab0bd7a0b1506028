"""Kamaelia.Util.DataSource: one message per step, list emptied, producerFinished; TriggeredSource."""

from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Util.DataSource import DataSource, TriggeredSource
from Kamaelia.Util.PureTransformer import PureTransformer


def test_sends_every_message_then_producerFinished_from_itself():
    source = DataSource(["a", "b", "c"])
    h = ComponentHarness(source)
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a", "b", "c"]
    finished = h.get("signal")
    assert isinstance(finished, producerFinished) and finished.caller is source
    assert h.finished


def test_empties_the_list_it_was_given():
    messages = [1, 2, 3]
    h = ComponentHarness(DataSource(messages))
    h.runUntilIdle()
    assert messages == []


def test_sends_one_message_per_scheduler_step():
    h = ComponentHarness(DataSource(["a", "b", "c"]))
    h.step(1)
    assert h.ready("outbox") == 0
    h.step(1)
    assert h.getAll("outbox") == ["a"]
    h.step(1)
    assert h.getAll("outbox") == ["b"]


def test_other_iterables_are_accepted():
    h = ComponentHarness(DataSource(x for x in "xy"))
    h.runUntilIdle()
    assert h.getAll("outbox") == ["x", "y"]


def test_waits_for_room_when_the_receiver_is_full_and_loses_nothing(parts):
    source = DataSource(list(range(5)))
    sink = parts.Recorder(size=2)
    h = ComponentHarness(source)
    source.link((source, "outbox"), (sink, "inbox"))
    sink.activate(h.scheduler)
    h.runUntilIdle()
    assert sink.dataReady("inbox") == 2 and not h.finished
    got = []
    while not h.finished:
        while sink.dataReady("inbox"):
            got.append(sink.recv("inbox"))
        h.runUntilIdle()
    while sink.dataReady("inbox"):
        got.append(sink.recv("inbox"))
    assert got == [0, 1, 2, 3, 4]


def test_triggered_source_sends_its_message_for_every_trigger():
    t = TriggeredSource("tick")
    assert isinstance(t, PureTransformer)
    h = ComponentHarness(t)
    h.put(1)
    h.put("anything")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["tick", "tick"]
