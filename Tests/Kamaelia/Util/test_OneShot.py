"""Kamaelia.Util.OneShot: OneShot and TriggeredOneShot."""

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.OneShot import OneShot, TriggeredOneShot


def test_one_shot_sends_its_message_then_producerFinished_and_ends():
    shot = OneShot("bang")
    h = ComponentHarness(shot)
    h.step(1)
    assert h.getAll("outbox") == ["bang"]
    assert h.ready("signal") == 0
    h.runUntilIdle()
    finished = h.get("signal")
    assert isinstance(finished, producerFinished) and finished.caller is shot
    assert h.finished


def test_one_shot_default_message_is_none():
    h = ComponentHarness(OneShot())
    h.runUntilIdle()
    assert h.getAll("outbox") == [None]


def test_triggered_one_shot_waits_for_a_trigger():
    h = ComponentHarness(TriggeredOneShot("bang"))
    h.runUntilIdle()
    assert h.ready("outbox") == 0 and not h.finished
    h.put("go")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["bang"]
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_triggered_one_shot_forwards_control_messages_while_waiting():
    h = ComponentHarness(TriggeredOneShot("bang"))
    h.put("hello", "control")
    h.runUntilIdle()
    assert h.getAll("signal") == ["hello"]
    assert not h.finished


def test_triggered_one_shot_stops_unfired_on_producerFinished_or_shutdownMicroprocess():
    for message in [producerFinished(), shutdownMicroprocess()]:
        h = ComponentHarness(TriggeredOneShot("bang"))
        h.put(message, "control")
        h.runUntilIdle()
        assert h.finished
        assert h.getAll("signal") == [message]
        assert h.ready("outbox") == 0
