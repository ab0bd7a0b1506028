"""Kamaelia.Util.PassThrough: forwarding, shutdownOn, Connections, deprecated name."""

import pytest

from Axon.Ipc import producerFinished, shutdown, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
from Kamaelia.Util.PassThrough import PassThrough, passThrough


def test_forwards_inbox_to_outbox_and_control_to_signal():
    h = ComponentHarness(PassThrough())
    h.put(1)
    h.put(2)
    h.put("note", "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [1, 2]
    assert h.getAll("signal") == ["note"]
    assert not h.finished


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_ends_after_forwarding_a_default_shutdown_message(message):
    h = ComponentHarness(PassThrough())
    h.put("data")
    h.put(message, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["data"]
    assert h.getAll("signal") == [message]
    assert h.finished


def test_shutdown_messages_on_inbox_are_just_data():
    h = ComponentHarness(PassThrough())
    h.put(producerFinished())
    h.runUntilIdle()
    assert isinstance(h.get("outbox"), producerFinished)
    assert not h.finished


def test_shutdownOn_chooses_what_ends_it():
    h = ComponentHarness(PassThrough(shutdownOn=[shutdown]))
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    h.put(shutdown(), "control")
    h.runUntilIdle()
    assert h.finished
    assert len(h.getAll("signal")) == 2


def test_connections_class_attribute():
    assert PassThrough.Connections == {"inbox": "outbox", "control": "signal"}


def test_sleeps_when_idle():
    h = ComponentHarness(PassThrough())
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


def test_lowercase_passThrough_is_deprecated_but_works():
    with pytest.warns(KamaeliaDeprecationWarning):
        p = passThrough()
    assert isinstance(p, PassThrough)
