"""Kamaelia.Util.RateFilter.VariableByteRate_RequestControl's 1.x interface, used without
running it: construction and attributes, resetTiming(now), getChunksToSend(now) and
changeRate(newRate, now) called directly with chosen times on a never-activated component.
"""

import pytest

from Kamaelia.Util.RateFilter import VariableByteRate_RequestControl as VariableRateControl

START = 1_700_000_000.0
OFFSET = 0.001        # each call comes this long after the time it is for
LATE = 0.01           # and a second call, this long after, must get nothing


def emissions(rc, times, changes=None, start=START):
    """[(t, chunks)] for each t whose call gave chunks; changes = {t: newRate} applied first.

    Checks on the way that a second call a little later gives nothing.
    """
    changes = changes or {}
    result = []
    for t in times:
        if t in changes:
            rc.changeRate(changes[t], start + t)
        chunks = list(rc.getChunksToSend(start + t + OFFSET))
        if chunks:
            result.append((t, chunks))
        assert list(rc.getChunksToSend(start + t + LATE)) == [], t
    return result


def steps(size, n):
    return [round(i * size, 6) for i in range(n)]


# -- construction ---------------------------------------------------------------------


def test_chunksize_wins_over_the_default_chunkrate():
    rc = VariableRateControl(rate=100, chunksize=25)
    assert (rc.rate, rc.chunksize, rc.timestep, rc.aggregate) == (100, 25, 0.25, False)


def test_chunkrate_gives_a_float_chunksize():
    rc = VariableRateControl(rate=100, chunkrate=8, allowchunkaggregation=True)
    assert (rc.chunksize, rc.timestep, rc.aggregate) == (12.5, 0.125, True)


def test_defaults_are_ten_chunks_a_second():
    rc = VariableRateControl()
    assert (rc.rate, rc.chunksize, rc.timestep) == (100000, 10000.0, 0.1)


def test_a_chunk_smaller_than_one_item_is_refused():
    with pytest.raises(ValueError):
        VariableRateControl(rate=5, chunkrate=10)


def test_it_may_start_stopped_given_a_chunksize():
    rc = VariableRateControl(rate=0, chunksize=10)
    rc.resetTiming(START)
    assert list(rc.getChunksToSend(START + 100)) == []


# -- timing -----------------------------------------------------------------------------


def test_a_chunk_every_timestep_starting_at_once():
    rc = VariableRateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    times = steps(0.25, 12)
    assert emissions(rc, times) == [(t, [25]) for t in times]


def test_a_gap_is_caught_up_as_one_request_when_aggregating():
    rc = VariableRateControl(rate=100, chunksize=25, allowchunkaggregation=True)
    rc.resetTiming(START)
    assert emissions(rc, [0, 0.25]) == [(0, [25]), (0.25, [25])]
    assert emissions(rc, [1.25, 1.5]) == [(1.25, [100]), (1.5, [25])]


def test_a_gap_is_caught_up_one_request_per_chunk_without_aggregation():
    rc = VariableRateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    emissions(rc, [0, 0.25])
    assert emissions(rc, [1.25, 1.5]) == [(1.25, [25, 25, 25, 25]), (1.5, [25])]


@pytest.mark.parametrize("aggregate", [False, True])
def test_fractional_chunks_carry_over_33_33_34(aggregate):
    rc = VariableRateControl(rate=100, chunkrate=3, allowchunkaggregation=aggregate)
    rc.resetTiming(START)
    thirds = [i / 3 for i in range(9)]
    assert [chunks for t, chunks in emissions(rc, thirds)] == [[33], [33], [34]] * 3


def test_credit_is_in_proportion_to_the_time_that_passed():
    rc = VariableRateControl(rate=100, chunksize=50)
    rc.resetTiming(START)
    assert list(rc.getChunksToSend(START)) == [50]
    assert list(rc.getChunksToSend(START + 0.25)) == []     # not yet due
    assert list(rc.getChunksToSend(START + 0.75)) == [50]   # due at 0.5; 25 more credited
    assert list(rc.getChunksToSend(START + 1.0)) == [50]


def test_an_earlier_time_than_the_last_call_gives_nothing():
    rc = VariableRateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    assert list(rc.getChunksToSend(START + 0.25)) == [25, 25]
    assert list(rc.getChunksToSend(START + 0.1)) == []
    assert list(rc.getChunksToSend(START + 0.5)) == [25]


def test_changing_to_the_same_rate_changes_nothing():
    rc = VariableRateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    times = steps(0.125, 24)
    same = {t: 100 for t in times}
    assert emissions(rc, times, same) == [(t, [25]) for t in steps(0.25, 12)]


def test_doubling_the_rate_keeps_the_chunksize_and_halves_the_period():
    rc = VariableRateControl(rate=100, chunksize=50)
    rc.resetTiming(START)
    times = steps(0.125, 40)
    got = emissions(rc, times, {2.25: 200})
    # every 0.5 s until the change; half a chunk was owed at 2.25, due after 0.125 s at
    # the new rate; then every 0.25 s.
    expected = steps(0.5, 5) + [2.375 + 0.25 * i for i in range(11)]
    assert got == [(t, [50]) for t in expected]
    assert (rc.rate, rc.chunksize, rc.timestep) == (200, 50, 0.25)


def test_a_short_burst_at_double_rate_shifts_the_later_chunks():
    rc = VariableRateControl(rate=10, chunksize=10)
    rc.resetTiming(START)
    times = steps(0.05, 100)
    got = emissions(rc, times, {2.15: 20, 2.4: 10})
    assert got == [(t, [10]) for t in [0, 1, 2, 2.75, 3.75, 4.75]]


def test_a_rate_of_zero_stops_requests_and_a_positive_one_resumes_them():
    rc = VariableRateControl(rate=10, chunksize=10)
    rc.resetTiming(START)
    got = emissions(rc, steps(0.25, 40), {0.5: 0, 5.0: 20})
    # half a chunk was owed when it stopped at 0.5; at 20 a second that takes 0.25 s.
    assert got == [(0, [10]), (5.25, [10]), (5.75, [10]), (6.25, [10]), (6.75, [10]),
                   (7.25, [10]), (7.75, [10]), (8.25, [10]), (8.75, [10]), (9.25, [10]),
                   (9.75, [10])]


def test_getChunksToSend_is_a_generator():
    rc = VariableRateControl(rate=100, chunksize=25)
    rc.resetTiming(START)
    chunks = rc.getChunksToSend(START)
    assert next(chunks) == 25
    assert list(chunks) == []
