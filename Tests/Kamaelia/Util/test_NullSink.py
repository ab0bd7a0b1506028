"""Kamaelia.Util.NullSink and NullSinkComponent: discard, end on shutdown, sleep when idle."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util import NullSink, NullSinkComponent

VARIANTS = [NullSink.nullSinkComponent, NullSinkComponent.nullSinkComponent]


@pytest.mark.parametrize("cls", VARIANTS)
def test_discards_everything_and_sleeps_when_idle(cls):
    sink = cls()
    h = ComponentHarness(sink)
    for i in range(100):
        h.put(i)
    h.runUntilIdle()
    assert sink.dataReady("inbox") == 0
    assert h.scheduler.isIdle() and not h.finished
    assert h.ready("outbox") == 0


@pytest.mark.parametrize("cls", VARIANTS)
@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_ends_on_shutdown_without_forwarding_it(cls, message):
    h = ComponentHarness(cls())
    h.put("ignored", "control")
    h.runUntilIdle()
    assert not h.finished
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.ready("signal") == 0


def test_nullsink_declares_its_boxes_as_lists_like_the_original():
    assert NullSink.nullSinkComponent.Inboxes == ["inbox", "control"]
    assert NullSink.nullSinkComponent.Outboxes == ["outbox", "signal"]
