"""Kamaelia.Util.RateFilter: request pacing, message rate limiting and on-demand release,
all on the scheduler's (fake) clock."""

import pytest

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.RateFilter import (
    ByteRate_RequestControl,
    MessageRateLimit,
    OnDemandLimit,
    VariableByteRate_RequestControl,
)

# -- ByteRate_RequestControl --------------------------------------------------------


def test_requests_chunks_of_chunksize_at_rate_over_chunksize_per_second():
    h = ComponentHarness(ByteRate_RequestControl(rate=1024, chunksize=128))
    h.runUntilIdle()
    assert h.getAll("outbox") == [128]          # the first request goes out at once
    h.advance(0.0625)
    assert h.ready("outbox") == 0
    h.advance(0.0625)                           # one chunk period: 128/1024 s
    assert h.getAll("outbox") == [128]
    h.advance(0.875)
    assert h.getAll("outbox") == [128] * 7


def test_chunkrate_gives_whole_chunks_whose_total_follows_the_rate():
    h = ComponentHarness(ByteRate_RequestControl(rate=1000, chunkrate=3))
    h.advance(3)
    sizes = h.getAll("outbox")
    assert sizes == [333, 333, 334] * 3 + [333]
    assert all(isinstance(s, int) for s in sizes)


def test_default_is_ten_chunks_a_second():
    h = ComponentHarness(ByteRate_RequestControl(rate=100))
    h.advance(1)
    assert h.getAll("outbox") == [10] * 11


def test_chunksize_and_chunkrate_together_are_refused():
    with pytest.raises(ValueError):
        ByteRate_RequestControl(rate=100, chunksize=10, chunkrate=10)


def test_catches_up_with_one_request_each_or_one_aggregated_request():
    for aggregate, expected in [(False, [10, 10, 10, 10]), (True, [40])]:
        h = ComponentHarness(ByteRate_RequestControl(rate=100, chunksize=10,
                                                     allowchunkaggregation=aggregate))
        h.runUntilIdle()
        h.getAll("outbox")
        h.clock.now += 0.4              # the scheduler was busy for four chunk periods
        h.step()
        h.runUntilIdle()
        assert h.getAll("outbox") == expected


def test_sleeps_on_a_timer_between_requests():
    h = ComponentHarness(ByteRate_RequestControl(rate=10, chunksize=1))
    h.runUntilIdle()
    assert h.scheduler.isIdle()
    assert h.scheduler.nextTimerDue() == pytest.approx(h.clock.now + 0.1)


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_request_control_stops_on_shutdown_and_forwards_it(message):
    h = ComponentHarness(ByteRate_RequestControl(rate=10, chunksize=1))
    h.advance(0.25)
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert h.scheduler.nextTimerDue() is None


def test_variable_rate_changes_when_a_new_rate_arrives():
    h = ComponentHarness(VariableByteRate_RequestControl(rate=10, chunksize=1))
    h.advance(0.95)
    assert len(h.getAll("outbox")) == 10          # t = 0, 0.1, ..., 0.9
    h.put(100)                                     # ten times faster from now
    h.runUntilIdle()
    assert h.getAll("outbox") == []
    h.advance(0.1)
    assert len(h.getAll("outbox")) == 10
    h.put(0)                                       # stop asking
    h.advance(5)
    assert h.getAll("outbox") == []
    h.put(1)
    h.advance(2)
    assert h.getAll("outbox") == [1, 1]


# -- MessageRateLimit -----------------------------------------------------------------


def test_waits_for_the_buffer_to_fill_before_sending_anything():
    h = ComponentHarness(MessageRateLimit(10, buffer=5))
    for i in range(4):
        h.put(i)
    h.advance(10)
    assert h.ready("outbox") == 0
    h.put(4)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]


def test_sends_no_faster_than_the_rate():
    h = ComponentHarness(MessageRateLimit(4, buffer=3))
    for i in range(10):
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]
    h.advance(0.24)
    assert h.ready("outbox") == 0
    h.advance(0.01)
    assert h.getAll("outbox") == [1]
    h.advance(1.0)
    assert h.getAll("outbox") == [2, 3, 4, 5]


def test_after_running_dry_the_next_message_goes_when_it_arrives_without_a_burst():
    h = ComponentHarness(MessageRateLimit(2, buffer=1))
    h.put("a")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a"]
    h.advance(10)
    h.put("b")
    h.put("c")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["b"]
    h.advance(0.5)
    assert h.getAll("outbox") == ["c"]


def test_producerFinished_flushes_at_the_rate_then_is_forwarded():
    h = ComponentHarness(MessageRateLimit(10, buffer=60))
    for i in range(3):
        h.put(i)
    finished = producerFinished()
    h.put(finished, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]          # no longer waiting for 60 messages
    h.advance(0.2)
    assert h.getAll("outbox") == [1, 2]
    assert h.getAll("signal") == [finished]
    assert h.finished


def test_shutdownMicroprocess_is_forwarded_and_stops_at_once():
    h = ComponentHarness(MessageRateLimit(1, buffer=2))
    for i in range(5):
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [stop]
    assert h.ready("outbox") == 0


def test_hardlimit_bounds_the_inbox():
    limiter = MessageRateLimit(1, buffer=2, hardlimit=3)
    for i in range(3):
        limiter.inboxes["inbox"].append(i)
    with pytest.raises(noSpaceInBox):
        limiter.inboxes["inbox"].append(3)


# -- OnDemandLimit ----------------------------------------------------------------------


def test_on_demand_releases_one_message_per_request():
    h = ComponentHarness(OnDemandLimit())
    for item in ["a", "b", "c"]:
        h.put(item)
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    h.put("NEXT", "slidecontrol")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a"]
    h.put("NEXT", "slidecontrol")
    h.put("NEXT", "slidecontrol")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["b", "c"]


def test_on_demand_remembers_requests_made_while_empty():
    h = ComponentHarness(OnDemandLimit())
    h.put("NEXT", "slidecontrol")
    h.runUntilIdle()
    h.put("late")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["late"]


def test_on_demand_producerFinished_waits_until_everything_was_requested():
    h = ComponentHarness(OnDemandLimit())
    h.put("a")
    finished = producerFinished()
    h.put(finished, "control")
    h.runUntilIdle()
    assert not h.finished
    h.put("NEXT", "slidecontrol")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a"]
    assert h.getAll("signal") == [finished]
    assert h.finished


def test_on_demand_shutdownMicroprocess_stops_at_once():
    h = ComponentHarness(OnDemandLimit())
    h.put("a")
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and h.ready("outbox") == 0
