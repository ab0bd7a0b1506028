"""Kamaelia.Util.RateFilter run as components: request pacing, message rate limiting and
on-demand release, all on the scheduler's (fake) clock.

The timing methods of the two request controllers, called directly with chosen times,
are pinned down in test_RateControl.py and test_VariableRateControl.py.
"""

import logging

import pytest

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness, FakeClock
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.File.Reading import SimpleReader
from Kamaelia.Util import RateFilter
from Kamaelia.Util.RateFilter import (
    ByteRate_RequestControl,
    MessageRateLimit,
    OnDemandLimit,
    VariableByteRate_RequestControl,
)


def test_module_lists_its_components_in_the_1x_order():
    assert RateFilter.__kamaelia_components__ == (MessageRateLimit, ByteRate_RequestControl,
                                                  VariableByteRate_RequestControl, OnDemandLimit)


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


def test_by_default_requests_a_thousandth_of_the_rate_a_thousand_times_a_second():
    """1.x's default: chunksize max(1, rate/1000), so rate 5000 asks for 5 every millisecond."""
    h = ComponentHarness(ByteRate_RequestControl(rate=5000))
    h.advance(0.01)
    assert h.getAll("outbox") == [5] * 11          # t = 0, 0.001, ..., 0.01


def test_slow_default_rates_ask_for_one_item_at_a_time():
    h = ComponentHarness(ByteRate_RequestControl(rate=20))
    h.advance(0.5)
    assert h.getAll("outbox") == [1] * 11          # every 1/20 s


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


def test_request_control_discards_other_control_messages_and_carries_on():
    h = ComponentHarness(ByteRate_RequestControl(rate=10, chunksize=1))
    h.runUntilIdle()
    h.getAll("outbox")
    h.put("hello", "control")
    h.advance(0.1)
    assert not h.finished
    assert h.getAll("signal") == []
    assert h.getAll("outbox") == [1]


def test_a_1x_subclass_with_argumentless_timing_methods_still_runs():
    """main() calls resetTiming() and getChunksToSend() with no arguments, as 1.x's did."""

    class Doubled(ByteRate_RequestControl):
        def getChunksToSend(self):
            for chunk in super().getChunksToSend():
                yield 2 * chunk

    h = ComponentHarness(Doubled(rate=10, chunksize=1))
    h.advance(0.1)
    assert h.getAll("outbox") == [2, 2]


def test_giving_both_chunksize_and_chunkrate_uses_chunksize_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Util.RateFilter"):
        rc = ByteRate_RequestControl(rate=100, chunksize=10, chunkrate=50)
    assert (rc.chunksize, rc.timestep) == (10, 0.1)
    assert "chunkrate" in caplog.text


# -- VariableByteRate_RequestControl -------------------------------------------------


def test_variable_rate_changes_when_a_new_rate_arrives():
    h = ComponentHarness(VariableByteRate_RequestControl(rate=10, chunksize=1))
    h.advance(0.95)
    assert len(h.getAll("outbox")) == 10          # t = 0, 0.1, ..., 0.9
    h.put(100)                                     # ten times faster from now
    h.runUntilIdle()
    assert h.getAll("outbox") == []                # half a chunk is still owed...
    h.advance(0.004)
    assert h.getAll("outbox") == []
    h.advance(0.001)                               # ...which takes 0.005 s at the new rate
    assert h.getAll("outbox") == [1]
    h.advance(0.1)
    assert len(h.getAll("outbox")) == 10


def test_variable_rate_of_zero_stops_requests_until_a_positive_rate_arrives():
    h = ComponentHarness(VariableByteRate_RequestControl(rate=10, chunksize=1))
    h.advance(0.05)
    assert h.getAll("outbox") == [1]
    h.put(0)
    h.advance(5)
    assert h.getAll("outbox") == []
    assert h.scheduler.nextTimerDue() is None      # nothing to wait for
    h.put(1)                                       # half a chunk was owed when it stopped
    h.advance(0.45)
    assert h.getAll("outbox") == []
    h.advance(0.1)
    assert h.getAll("outbox") == [1]
    h.advance(1)
    assert h.getAll("outbox") == [1]


def test_variable_rate_is_not_a_ByteRate_subclass_as_in_1x():
    assert not issubclass(VariableByteRate_RequestControl, ByteRate_RequestControl)


@pytest.mark.parametrize("start", [1000.0, 123456.789, 1e6, 1.7e9])
@pytest.mark.parametrize("component", [ByteRate_RequestControl, VariableByteRate_RequestControl])
def test_a_chunk_is_sent_on_each_timer_whatever_the_clock_reads(component, start):
    """Due times are not summed (no drift) and float credit a hair short of a chunk counts."""
    h = ComponentHarness(component(rate=100000, chunksize=10000), clock=FakeClock(start=start))
    h.advance(1.0)
    assert h.getAll("outbox") == [10000] * 11          # t = 0, 0.1, ..., 1.0


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_variable_rate_stops_on_shutdown_and_forwards_it(message):
    h = ComponentHarness(VariableByteRate_RequestControl(rate=10, chunksize=1))
    h.advance(0.25)
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert h.scheduler.nextTimerDue() is None


# -- MessageRateLimit -----------------------------------------------------------------


def test_message_rate_limit_attributes_are_1x_ones():
    """interval is 1/(1.1*rate): 1.x lets messages through up to 10% faster than nominal."""
    limiter = MessageRateLimit(10, buffer=5)
    assert (limiter.mps, limiter.buffer) == (10, 5)
    assert limiter.interval == pytest.approx(1 / 11)
    assert MessageRateLimit.hardlimit == 0


def test_a_non_positive_rate_is_refused():
    for rate in (0, -1):
        with pytest.raises(ValueError):
            MessageRateLimit(rate)


def test_waits_for_the_buffer_to_fill_before_sending_anything():
    h = ComponentHarness(MessageRateLimit(10, buffer=5))
    for i in range(4):
        h.put(i)
    h.advance(10)
    assert h.ready("outbox") == 0
    h.put(4)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]


def test_sends_one_message_per_interval():
    h = ComponentHarness(MessageRateLimit(10, buffer=3))      # interval 1/11 s
    for i in range(10):
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]
    h.advance(0.09)
    assert h.ready("outbox") == 0
    h.advance(0.001)
    assert h.getAll("outbox") == [1]
    h.advance(4 / 11)
    assert h.getAll("outbox") == [2, 3, 4, 5]


def test_after_running_dry_the_next_message_goes_when_it_arrives_without_a_burst():
    h = ComponentHarness(MessageRateLimit(2, buffer=1))       # interval 1/2.2 s
    h.put("a")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a"]
    h.advance(10)
    h.put("b")
    h.put("c")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["b"]
    h.advance(0.45)
    assert h.ready("outbox") == 0
    h.advance(0.01)
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


def test_other_control_messages_are_passed_on_while_buffering():
    h = ComponentHarness(MessageRateLimit(1, buffer=2))
    h.put("reconfigure", "control")
    h.runUntilIdle()
    assert h.getAll("signal") == ["reconfigure"]
    assert not h.finished


@pytest.mark.parametrize("hardlimit", [0, None])
def test_a_hardlimit_of_zero_or_None_means_no_limit(hardlimit):
    limiter = MessageRateLimit(1, buffer=2, hardlimit=hardlimit)
    h = ComponentHarness(limiter)
    for i in range(100):
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]
    assert limiter.inboxes["inbox"].getSize() is None
    h.put(100)                                 # still room


def test_a_positive_hardlimit_applies_only_once_the_buffer_has_filled():
    limiter = MessageRateLimit(1, buffer=5, hardlimit=2)
    h = ComponentHarness(limiter)
    for i in range(5):                 # more than the hard limit: the buffer can still fill
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [0]
    with pytest.raises(noSpaceInBox):  # four are waiting, the limit is two
        h.put(5)
    h.advance(3)
    assert h.getAll("outbox") == [1, 2, 3]
    h.put(5)                           # one waiting: room for one more
    with pytest.raises(noSpaceInBox):
        h.put(6)


def test_a_subclass_may_set_hardlimit_as_a_class_attribute():
    class Tight(MessageRateLimit):
        hardlimit = 1

    limiter = Tight(1, buffer=1)
    h = ComponentHarness(limiter)
    h.put("a")
    h.runUntilIdle()
    assert limiter.inboxes["inbox"].getSize() == 1


def test_a_file_read_by_SimpleReader_through_MessageRateLimit_comes_out_whole(tmp_path, parts):
    """The 1.x Files/SimpleReading shape, with hardlimit=0: every line, at the rate, then the
    reader's producerFinished ends the whole pipeline."""
    path = tmp_path / "lines.txt"
    lines = ["line %d\n" % i for i in range(12)]
    path.write_text("".join(lines))
    sink = parts.Recorder()
    h = ComponentHarness(Pipeline(SimpleReader(str(path)),
                                  MessageRateLimit(11, buffer=4, hardlimit=0),
                                  sink))
    h.advance(0.5)
    assert 4 <= len(sink.seen) < 12
    h.advance(1)
    assert sink.seen == lines
    assert [type(m) for m in sink.controls] == [producerFinished]
    assert h.finished


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


def test_on_demand_ignores_anything_but_NEXT_on_slidecontrol():
    h = ComponentHarness(OnDemandLimit())
    h.put("a")
    for request in ["next", True, 1, b"NEXT"]:
        h.put(request, "slidecontrol")
    h.runUntilIdle()
    assert h.ready("outbox") == 0


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
