"""Kamaelia.Util.Fanout: every item to every outbox (outbox and signal included)."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
from Kamaelia.Util.Fanout import Fanout, fanout


def test_named_outboxes_are_added_to_the_instance_only():
    f = Fanout(["a", "b"])
    assert set(f.outboxes) == {"outbox", "signal", "a", "b"}
    assert set(Fanout.Outboxes) == {"outbox", "signal"}


def test_every_item_goes_to_every_outbox_including_outbox_and_signal():
    h = ComponentHarness(Fanout(["a", "b"]))
    h.put(1)
    h.put(2)
    h.runUntilIdle()
    for box in ["a", "b", "outbox", "signal"]:
        assert h.getAll(box) == [1, 2]


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_shutdown_is_forwarded_to_signal_only_and_ends_it(message):
    h = ComponentHarness(Fanout(["a"]))
    h.put("x")
    h.put(message, "control")
    h.runUntilIdle()
    assert h.getAll("a") == ["x"]
    assert h.getAll("signal") == ["x", message]
    assert h.finished


def test_other_control_messages_are_ignored():
    h = ComponentHarness(Fanout([]))
    h.put("not a shutdown", "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0


def test_lowercase_fanout_is_deprecated_but_works():
    with pytest.warns(KamaeliaDeprecationWarning):
        f = fanout(["x"])
    assert "x" in f.outboxes
