"""Kamaelia.Protocol.EchoProtocol: echoes everything, stops on any control message."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.IPC import socketShutdown
from Kamaelia.Protocol.EchoProtocol import EchoProtocol


def test_echoes_every_item_unchanged_in_order():
    h = ComponentHarness(EchoProtocol())
    for item in [b"hello\r\n", b"\x00\xff", "text"]:
        h.put(item)
    h.runUntilIdle()
    assert not h.finished and h.scheduler.isIdle()
    assert h.getAll("outbox") == [b"hello\r\n", b"\x00\xff", "text"]


@pytest.mark.parametrize("message", [socketShutdown(), producerFinished(),
                                     shutdownMicroprocess(), "anything at all"])
def test_any_control_message_stops_it_after_echoing_and_is_forwarded(message):
    h = ComponentHarness(EchoProtocol())
    h.put(b"last")
    h.put(message, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"last"]
    assert h.getAll("signal") == [message]
    assert h.finished
