"""Kamaelia.Support.Data.Rationals: continued-fraction rationals, limit and gcd."""

import math
import re
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import Kamaelia.Support.Data.Rationals as Rationals
from Kamaelia.Support.Data.Rationals import gcd, limit, rational


@pytest.mark.parametrize("value, expected", [
    (1.0, (1, 1)), (0.0, (0, 1)), (-1.0, (-1, 1)), (2.0, (2, 1)), (-100.0, (-100, 1)),
    (0.5, (1, 2)), (0.25, (1, 4)), (-0.5, (-1, 2)),
    (1.0 / 3, (1, 3)), (3 + 1.0 / 3, (10, 3)), (-1.0 / 3, (-1, 3)), (-3 - 1.0 / 3, (-10, 3)),
    (337.0 / 218, (337, 218)), (30000 / 1001, (30000, 1001)), (16 / 9, (16, 9)),
])
def test_rational_finds_the_simple_fraction_kamaelia_1_found(value, expected):
    assert rational(value) == expected


def test_rational_returns_ints_not_floats():
    for value in [0.5, 2.0, -0.25, 0.0, 3 + 1.0 / 3]:
        num, denom = rational(value)
        assert type(num) is int and type(denom) is int, value


def test_the_sign_goes_on_the_numerator_and_the_denominator_is_positive():
    assert rational(-0.75) == (-3, 4)
    assert rational(0.75) == (3, 4)
    assert rational(-0.0) == (0, 1)


def test_when_no_convergent_is_exact_the_one_at_depth_maxdepth_minus_1_is_returned():
    # pi = [3; 7, 15, 1, 292, 1, 1, 1, 2, ...]: depth 1 is 3/1, depth 2 22/7, depth 3 333/106,
    # and with the default maxdepth of 10, depth 9.
    assert rational(math.pi, maxdepth=2) == (3, 1)
    assert rational(math.pi, maxdepth=3) == (22, 7)
    assert rational(math.pi, maxdepth=4) == (333, 106)
    assert rational(math.pi, maxdepth=1) == (3, 1)
    assert rational(math.pi) == (833719, 265381)


def test_the_first_exact_convergent_wins_even_with_depth_to_spare():
    assert rational(0.5, maxdepth=50) == (1, 2)


def test_maxdepth_below_1_and_non_finite_values_are_ValueErrors():
    with pytest.raises(ValueError):
        rational(0.5, maxdepth=0)
    for value in [math.inf, -math.inf, math.nan]:
        with pytest.raises(ValueError):
            rational(value)


@settings(max_examples=300, deadline=None)
@given(st.integers(-10000, 10000), st.integers(1, 1000))
def test_simple_fractions_come_back_exactly_in_lowest_terms_given_the_depth(num, denom):
    exact = Fraction(num, denom)
    assert rational(num / denom, maxdepth=30) == (exact.numerator, exact.denominator)


def test_a_fraction_needing_more_terms_than_maxdepth_allows_gives_a_nearby_convergent():
    # 205/297 = [0; 1, 2, 4, 2, 1, 1, 1, 2], but in float arithmetic the last 2 comes out as
    # 1, 1: ten terms, one more than the default maxdepth of 10 uses.
    assert rational(205 / 297) == (127, 184)
    assert rational(205 / 297, maxdepth=11) == (205, 297)


def test_gcd_is_euclids():
    assert gcd(18, 42) == 6
    assert gcd(42, 18) == 6
    assert gcd(7, 0) == 7
    assert gcd(17, 5) == 1


def test_limit_scales_both_terms_down_by_the_largest_overshoot_and_truncates():
    assert limit((1500, 2000), 80, -80) == (60, 80)
    assert limit((-1500, 200), 80, -80) == (-80, 10)
    assert limit((100, 3), 80, -80) == (80, 2)


def test_limit_returns_the_very_same_tuple_when_it_already_fits():
    fraction = (30, 80)
    assert limit(fraction, 80, -80) is fraction
    negative = (-80, 1)
    assert limit(negative, 80, -80) is negative


def test_the_example_usage_prints_what_the_docstring_says():
    usage = Rationals.__doc__.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    code, output = [re.sub(r"(?m)^    ", "", block)
                    for block in re.findall(r"::\n\n((?:(?:    .*)?\n)+)", usage)]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == output.strip()
