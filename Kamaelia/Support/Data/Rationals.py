"""
Kamaelia.Support.Data.Rationals: simple fractions for floats
=============================================================

``rational(x)`` finds a small fraction equal to (or close to) the float
``x``; ``limit`` scales a fraction down to fit numeric bounds, and ``gcd``
is Euclid's greatest common divisor. Video code uses them for frame rates
and aspect ratios, which file formats store as a numerator and a
denominator.

Example Usage
-------------
::

    from Kamaelia.Support.Data.Rationals import gcd, limit, rational

    print(rational(0.25))
    print(rational(-(3 + 1 / 3)))
    print(rational(30000 / 1001))       # NTSC frames per second
    print(limit((1500, 2000), 80, -80))
    print(gcd(18, 42))

prints::

    (1, 4)
    (-10, 3)
    (30000, 1001)
    (60, 80)
    6

How does it work?
-----------------
``rational(floatval, maxdepth=10)`` expands ``|floatval|`` as a continued
fraction, in float arithmetic: a0 is the integer part; then the
fractional part is inverted and its integer part is the next term, until a
fractional part is exactly zero. The convergent built from the first d
terms is tried for d = 1, 2, ... maxdepth - 1; the first whose quotient
equals the input exactly is returned, otherwise the last one tried. The
sign goes on the numerator, the denominator is always positive, and both
are ``int``. ``0`` gives ``(0, 1)``.

``limit((num, denom), poslimit, neglimit)`` returns the pair itself if
both numbers lie within ``neglimit .. poslimit``. Otherwise both are
divided by the largest of 1, num/poslimit, denom/poslimit, num/neglimit
and denom/neglimit and truncated to ``int``.
"""

import math
from typing import Iterator


def gcd(a: int, b: int) -> int:
    """The greatest common divisor of ``a`` and ``b`` (Euclid, with Python's ``%``)."""
    while b:
        a, b = b, a % b
    return a


def _continuedFraction(x: float, terms: int) -> list[int]:
    """Up to ``terms`` continued-fraction terms of ``x`` >= 0, fewer if it ends exactly."""
    expansion: list[int] = []
    while len(expansion) < terms:
        whole = math.floor(x)
        expansion.append(int(whole))
        fraction = x - whole
        if fraction == 0:
            break
        x = 1.0 / fraction
    return expansion


def _convergents(expansion: list[int]) -> Iterator[tuple[int, int]]:
    """(p, q) for each prefix of the continued fraction ``expansion``, shortest first."""
    p, previousP = 1, 0
    q, previousQ = 0, 1
    for term in expansion:
        p, previousP = term * p + previousP, p
        q, previousQ = term * q + previousQ, q
        yield p, q


def rational(floatval: float, maxdepth: int = 10) -> tuple[int, int]:
    """(numerator, denominator) of a simple fraction for ``floatval``; see the module docs."""
    if maxdepth < 1:
        raise ValueError("maxdepth must be at least 1, not %r" % (maxdepth,))
    if not math.isfinite(floatval):
        raise ValueError("%r has no rational form" % (floatval,))
    if floatval == 0:
        return (0, 1)
    x = abs(floatval)
    for num, denom in _convergents(_continuedFraction(x, max(maxdepth - 1, 1))):
        if num / denom == x:
            break
    divisor = gcd(num, denom)
    num, denom = num // divisor, denom // divisor
    return (-num if floatval < 0 else num, denom)


def limit(fraction: tuple[int, int], poslimit: float, neglimit: float) -> tuple[int, int]:
    """``fraction`` scaled down (both terms truncated to int) to fit the limits, if it does not."""
    num, denom = fraction
    if neglimit <= num <= poslimit and neglimit <= denom <= poslimit:
        return fraction
    scale = max(1, num / poslimit, denom / poslimit, num / neglimit, denom / neglimit)
    return (int(num / scale), int(denom / scale))
