"""Kamaelia.Util.RateFilter.ByteRate_RequestControl's 1.x interface, used without running it:
the construction rules and attributes (rate, chunksize, timestep, aggregate), and the timing
methods resetTiming(now) / getChunksToSend(now) called directly, with chosen times, on a
component that was never activated.
"""

import types

import pytest

from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Util import RateFilter
from Kamaelia.Util.RateFilter import ByteRate_RequestControl as RateControl

START = 1_700_000_000.0      # a wall-clock-sized time, where float steps are coarse


def chunksAt(rc, times, start=START, offset=0.001):
    """{t: chunks} for each t at which getChunksToSend(start + t + offset) gave any."""
    result = {}
    for t in times:
        chunks = list(rc.getChunksToSend(start + t + offset))
        if chunks:
            result[t] = chunks
    return result


def quarterSteps(n):
    return [i * 0.25 for i in range(n)]


# -- construction ---------------------------------------------------------------------


def test_chunksize_is_kept_as_given_and_sets_the_timestep():
    rc = RateControl(rate=100, chunksize=25)
    assert (rc.rate, rc.chunksize, rc.timestep, rc.aggregate) == (100, 25, 0.25, False)
    assert isinstance(rc.chunksize, int)


def test_chunkrate_gives_a_float_chunksize():
    rc = RateControl(rate=100, chunkrate=8, allowchunkaggregation=True)
    assert (rc.chunksize, rc.timestep, rc.aggregate) == (12.5, 0.125, True)


def test_neither_given_means_a_thousandth_of_the_rate_but_at_least_one():
    rc = RateControl()
    assert (rc.rate, rc.chunksize, rc.timestep) == (100000, 100.0, 0.001)
    assert RateControl(rate=100).chunksize == 1


def test_a_chunk_smaller_than_one_item_is_refused():
    with pytest.raises(ValueError):
        RateControl(rate=100, chunkrate=1000)
    with pytest.raises(ValueError):
        RateControl(rate=10, chunksize=0.5)


def test_a_rate_that_is_not_positive_is_refused():
    for rate in (0, -5):
        with pytest.raises(ValueError):
            RateControl(rate=rate, chunksize=1)


# -- timing -----------------------------------------------------------------------------


def test_one_chunk_at_the_start_and_one_every_timestep():
    rc = RateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    got = chunksAt(rc, quarterSteps(12))
    assert got == {t: [25] for t in quarterSteps(12)}


def test_nothing_is_requested_before_it_is_due():
    rc = RateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    assert list(rc.getChunksToSend(START)) == [25]
    assert list(rc.getChunksToSend(START + 0.249)) == []
    assert list(rc.getChunksToSend(START + 0.25)) == [25]
    assert list(rc.getChunksToSend(START + 0.25)) == []


def test_a_gap_is_caught_up_as_one_request_when_aggregating():
    rc = RateControl(rate=100, chunksize=25, allowchunkaggregation=True)
    rc.resetTiming(START)
    assert chunksAt(rc, [0, 0.25]) == {0: [25], 0.25: [25]}
    # No calls for a second: the chunks due at 0.5, 0.75, 1.0 and 1.25 are owed.
    assert list(rc.getChunksToSend(START + 1.28)) == [100]
    assert chunksAt(rc, [1.5, 1.75]) == {1.5: [25], 1.75: [25]}


def test_a_gap_is_caught_up_one_request_per_chunk_without_aggregation():
    rc = RateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    chunksAt(rc, [0, 0.25])
    assert list(rc.getChunksToSend(START + 1.28)) == [25, 25, 25, 25]
    assert chunksAt(rc, [1.5, 1.75]) == {1.5: [25], 1.75: [25]}


@pytest.mark.parametrize("aggregate", [False, True])
def test_fractional_chunks_carry_over_33_33_34(aggregate):
    rc = RateControl(rate=100, chunkrate=3, allowchunkaggregation=aggregate)
    rc.resetTiming(START)
    thirds = [i / 3 for i in range(9)]
    got = chunksAt(rc, thirds)
    assert list(got.values()) == [[33], [33], [34]] * 3
    assert list(got) == thirds


def test_requests_are_ints():
    rc = RateControl(rate=100, chunkrate=8)
    rc.resetTiming(START)
    chunks = list(rc.getChunksToSend(START + 2))
    assert chunks and all(type(c) is int for c in chunks)
    assert sum(chunks) == 212          # 17 chunks of 12.5


def test_getChunksToSend_is_a_generator():
    rc = RateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    chunks = rc.getChunksToSend(START)
    assert next(chunks) == 25
    assert list(chunks) == []


def test_without_now_the_wall_clock_is_used_before_activation(monkeypatch):
    clock = types.SimpleNamespace(now=START)
    monkeypatch.setattr(RateFilter, "time", types.SimpleNamespace(time=lambda: clock.now))
    rc = RateControl(rate=100, chunksize=25)
    rc.resetTiming()
    assert list(rc.getChunksToSend()) == [25]
    clock.now += 0.2
    assert list(rc.getChunksToSend()) == []
    clock.now += 0.3
    assert list(rc.getChunksToSend()) == [25, 25]


def test_shutdown_takes_one_control_message_and_forwards_stop_messages():
    rc = RateControl(rate=100, chunksize=25)
    h = ComponentHarness(rc, activate=False)      # only to collect what it sends
    stop = producerFinished()
    h.put("noise", "control")
    h.put(stop, "control")
    assert rc.shutdown() is False
    assert rc.dataReady("control") == 1
    assert h.getAll("signal") == []
    assert rc.shutdown() is True
    assert h.getAll("signal") == [stop]
    assert rc.shutdown() is False          # nothing left
