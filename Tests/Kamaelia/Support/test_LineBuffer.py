"""Kamaelia.Support.LineBuffer: framing, limits, recovery, strictness, chunking independence."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong


def drain(buf, **kw):
    """Every result nextLine gives until it returns None: lines, and ("TOO LONG", length, prefix)."""
    out = []
    while True:
        try:
            line = buf.nextLine(**kw)
        except LineTooLong as e:
            out.append(("TOO LONG", e.length, e.prefix))
            continue
        if line is None:
            return out
        out.append(line)


def reference(data, terminator, limit):
    """What framing ``data`` all at once must give (the model the buffer is checked against)."""
    out = []
    pos = 0
    tlen = len(terminator)
    while True:
        end = data.find(terminator, pos)
        if end < 0:
            return out, data[pos:]
        line = data[pos:end]
        if limit is not None and len(line) + tlen > limit:
            out.append(("TOO LONG", len(line) + tlen, line[:limit - tlen]))
        else:
            out.append(line)
        pos = end + tlen


# -- basic framing ---------------------------------------------------------------


def test_returns_lines_without_terminator_in_order():
    buf = LineBuffer()
    buf.feed(b"one\r\ntwo\r\nthr")
    assert buf.nextLine() == b"one"
    assert buf.nextLine() == b"two"
    assert buf.nextLine() is None
    buf.feed(b"ee\r\n")
    assert buf.nextLine() == b"three"
    assert buf.nextLine() is None


def test_empty_line_is_a_line():
    buf = LineBuffer()
    buf.feed(b"\r\n\r\n")
    assert drain(buf) == [b"", b""]


def test_bare_lf_and_bare_cr_are_ordinary_data_with_crlf_terminator():
    buf = LineBuffer()
    buf.feed(b"a\nb\rc\n\r\r\n")
    assert drain(buf) == [b"a\nb\rc\n\r"]


def test_terminator_split_across_chunks_is_recognised():
    buf = LineBuffer()
    buf.feed(b"abc\r")
    assert buf.nextLine() is None
    buf.feed(b"\ndef")
    assert buf.nextLine() == b"abc"
    assert buf.unconsumed() == b"def"


def test_other_terminators_can_be_configured():
    buf = LineBuffer(terminator=b"\n")
    buf.feed(b"a\r\nb\n")
    assert drain(buf) == [b"a\r", b"b"]
    buf = LineBuffer(terminator=b"<END>")
    buf.feed(b"x<EN")
    assert buf.nextLine() is None
    buf.feed(b"D>y<END>")
    assert drain(buf) == [b"x", b"y"]


def test_str_is_refused_and_bytearray_or_memoryview_accepted():
    buf = LineBuffer()
    with pytest.raises(TypeError):
        buf.feed("text\r\n")
    buf.feed(bytearray(b"a\r\n"))
    buf.feed(memoryview(b"b\r\n"))
    assert drain(buf) == [b"a", b"b"]


def test_bad_terminators_and_limits_are_refused():
    with pytest.raises(ValueError):
        LineBuffer(terminator=b"")
    with pytest.raises(ValueError):
        LineBuffer(terminator="\r\n")
    with pytest.raises(ValueError):
        LineBuffer(maxLength=1)          # cannot hold even CRLF
    with pytest.raises(TypeError):
        LineBuffer(maxLength="512")
    buf = LineBuffer()
    with pytest.raises(ValueError):
        buf.nextLine(maxLength=0)


# -- limits -------------------------------------------------------------------------


def test_limit_counts_the_terminator_like_rfc5321():
    buf = LineBuffer(maxLength=10)
    buf.feed(b"12345678\r\n")            # 8 + 2 = 10: fits exactly
    assert buf.nextLine() == b"12345678"
    buf.feed(b"123456789\r\n")           # 9 + 2 = 11: too long
    with pytest.raises(LineTooLong) as info:
        buf.nextLine()
    assert info.value.length == 11
    assert info.value.prefix == b"12345678"
    assert info.value.maxLength == 10


def test_too_long_line_is_consumed_and_framing_recovers_at_next_terminator():
    buf = LineBuffer(maxLength=512)
    buf.feed(b"A" * 1000 + b"\r\nNOOP\r\n")
    with pytest.raises(LineTooLong) as info:
        buf.nextLine()
    assert info.value.length == 1002
    assert buf.nextLine() == b"NOOP"
    assert buf.nextLine() is None


def test_overlong_unterminated_line_is_discarded_as_it_arrives():
    """Memory stays bounded: an endless line is dropped, reported when it finally ends."""
    buf = LineBuffer(maxLength=100)
    for _ in range(1000):
        buf.feed(b"x" * 97)
        assert buf.nextLine() is None
        assert buf.buffered <= 100 + 97
    assert buf.discarding
    buf.feed(b"yy\r\nnext\r\n")
    with pytest.raises(LineTooLong) as info:
        buf.nextLine()
    assert info.value.length == 97 * 1000 + 2 + 2
    assert info.value.prefix == b"x" * 98
    assert not buf.discarding
    assert buf.nextLine() == b"next"


def test_discarding_starts_only_when_the_line_cannot_fit_any_more():
    buf = LineBuffer(maxLength=10)
    buf.feed(b"12345678\r")            # 9 bytes: CRLF could still complete it
    assert buf.nextLine() is None
    assert not buf.discarding
    buf.feed(b"\n")
    assert buf.nextLine() == b"12345678"
    buf.feed(b"1234567890")            # 10 bytes and no CRLF: cannot fit
    assert buf.nextLine() is None
    assert buf.discarding


def test_cr_kept_across_discard_so_a_split_crlf_still_ends_the_long_line():
    buf = LineBuffer(maxLength=4)
    buf.feed(b"abcdef\r")
    assert buf.nextLine() is None and buf.discarding
    buf.feed(b"\nok\r\n")
    with pytest.raises(LineTooLong):
        buf.nextLine()
    assert buf.nextLine() == b"ok"


def test_per_call_limit_overrides_the_attribute():
    buf = LineBuffer(maxLength=1000)
    buf.feed(b"x" * 600 + b"\r\n" + b"y" * 600 + b"\r\n")
    with pytest.raises(LineTooLong):
        buf.nextLine(maxLength=512)
    assert buf.nextLine() == b"y" * 600


def test_limit_attribute_can_be_changed_between_lines():
    """As in SMTP: 512 for commands, then 1000 for the message text after DATA."""
    buf = LineBuffer(maxLength=512)
    buf.feed(b"DATA\r\n" + b"t" * 900 + b"\r\n.\r\n")
    assert buf.nextLine() == b"DATA"
    buf.maxLength = 1000
    assert buf.nextLine() == b"t" * 900
    assert buf.nextLine() == b"."
    buf.maxLength = None
    buf.feed(b"z" * 100000 + b"\r\n")
    assert buf.nextLine() == b"z" * 100000


def test_a_line_being_discarded_stays_too_long_if_the_limit_is_raised():
    buf = LineBuffer(maxLength=10)
    buf.feed(b"0123456789ab")
    assert buf.nextLine() is None and buf.discarding
    buf.maxLength = 1000
    buf.feed(b"\r\n")
    with pytest.raises(LineTooLong) as info:
        buf.nextLine()
    assert info.value.maxLength == 10


# -- unconsumed bytes ---------------------------------------------------------------


def test_unconsumed_and_clear_give_the_pipelined_bytes_after_starttls():
    buf = LineBuffer(maxLength=512)
    buf.feed(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
    assert buf.nextLine() == b"STARTTLS"
    assert buf.unconsumed() == b"MAIL FROM:<evil@example.com>\r\n"
    assert buf.clear() == b"MAIL FROM:<evil@example.com>\r\n"
    assert buf.buffered == 0
    assert buf.nextLine() is None


def test_clear_also_ends_a_discard():
    buf = LineBuffer(maxLength=10)
    buf.feed(b"x" * 50)
    buf.nextLine()
    assert buf.discarding
    buf.clear()
    assert not buf.discarding
    buf.feed(b"fine\r\n")
    assert buf.nextLine() == b"fine"


def test_repr_and_read_only_properties():
    buf = LineBuffer(terminator=b"\n", maxLength=5)
    assert buf.terminator == b"\n"
    assert buf.maxLength == 5
    assert "maxLength=5" in repr(buf)
    with pytest.raises(AttributeError):
        buf.terminator = b"\r\n"


# -- linear drip --------------------------------------------------------------------


def test_byte_by_byte_drip_searches_each_byte_only_once():
    """The buffer remembers where its search stopped, so a drip is linear, not quadratic.

    White-box: after each byte the next search starts where an unseen
    terminator could begin, never back at the start of the line.
    """
    buf = LineBuffer(maxLength=None)
    for i in range(1, 5001):
        buf.feed(b"a")
        assert buf.nextLine() is None
        assert buf._searchFrom == i - 1
    buf.feed(b"\r")
    assert buf.nextLine() is None
    buf.feed(b"\n")
    assert buf.nextLine() == b"a" * 5000


def test_large_drip_completes_quickly():
    """200,000 bytes one at a time frame into the same lines as fed whole."""
    line = b"q" * 998 + b"\r\n"
    data = line * 200
    buf = LineBuffer(maxLength=1000)
    lines = []
    for i in range(len(data)):
        buf.feed(data[i:i + 1])
        result = buf.nextLine()
        if result is not None:
            lines.append(result)
    assert lines == [b"q" * 998] * 200


# -- property: chunking does not matter ---------------------------------------------

streams = st.lists(st.sampled_from([b"\r\n", b"\r", b"\n", b"a", b"bc", b"\r\r\n", b"xyz" * 5]),
                   max_size=60).map(b"".join)


@st.composite
def chunkings(draw, data):
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    bounds = [0] + cuts + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=300, deadline=None)
@given(data=streams, limit=st.one_of(st.none(), st.integers(2, 20)), seed=st.data())
def test_any_chunking_gives_the_same_lines_and_reports(data, limit, seed):
    chunks = seed.draw(chunkings(data))
    buf = LineBuffer(maxLength=limit)
    got = []
    for chunk in chunks:
        buf.feed(chunk)
        got.extend(drain(buf))
    expected, rest = reference(data, b"\r\n", limit)
    assert got == expected
    if not buf.discarding:
        assert buf.unconsumed() == rest
    if limit is not None:
        assert buf.buffered < limit     # after draining, never a whole limit's worth held


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=80).map(lambda b: b.replace(b"\x00", b"ab")),
       terminator=st.sampled_from([b"\n", b"ab", b"aba", b"\r\n", b"aa"]),
       limit=st.one_of(st.none(), st.integers(3, 12)), seed=st.data())
def test_any_chunking_with_self_overlapping_terminators(data, terminator, limit, seed):
    chunks = seed.draw(chunkings(data))
    buf = LineBuffer(terminator=terminator, maxLength=limit)
    got = []
    for chunk in chunks:
        buf.feed(chunk)
        got.extend(drain(buf))
    expected, rest = reference(data, terminator, limit)
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(data=streams, limit=st.integers(2, 20))
def test_byte_at_a_time_equals_all_at_once(data, limit):
    whole = LineBuffer(maxLength=limit)
    whole.feed(data)
    drip = LineBuffer(maxLength=limit)
    dripped = []
    for i in range(len(data)):
        drip.feed(data[i:i + 1])
        dripped.extend(drain(drip))
    assert dripped == drain(whole)


# -- end of input -------------------------------------------------------------------


def test_final_line_returns_complete_lines_then_the_unterminated_rest():
    buf = LineBuffer()
    buf.feed(b"a\r\nb\r\nlast\r")
    assert buf.finalLine() == b"a"
    assert buf.finalLine() == b"b"
    assert buf.finalLine() == b"last\r"
    assert buf.finalLine() is None
    assert buf.buffered == 0


def test_final_line_judges_the_rest_as_if_terminated():
    buf = LineBuffer(maxLength=6)
    buf.feed(b"1234")                  # 4 + CRLF = 6: fits
    assert buf.finalLine() == b"1234"
    buf.feed(b"12345")                 # 5 + CRLF = 7: too long
    with pytest.raises(LineTooLong) as info:
        buf.finalLine()
    assert info.value.length == 5 and info.value.prefix == b"1234"
    assert buf.finalLine() is None


def test_final_line_reports_a_line_being_discarded():
    buf = LineBuffer(maxLength=5)
    buf.feed(b"x" * 20)
    assert buf.nextLine() is None and buf.discarding
    buf.feed(b"yy")
    with pytest.raises(LineTooLong) as info:
        buf.finalLine()
    assert info.value.length == 22
    assert not buf.discarding and buf.finalLine() is None


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=40).map(lambda b: b.replace(b"\x00", b"ab")),
       terminator=st.sampled_from([b"\r\n", b"aba", b"aa"]),
       limit=st.one_of(st.none(), st.integers(3, 12)), seed=st.data())
def test_final_line_gives_the_rest_whatever_the_chunking(data, terminator, limit, seed):
    chunks = seed.draw(chunkings(data))
    buf = LineBuffer(terminator=terminator, maxLength=limit)
    got = []
    for chunk in chunks:
        buf.feed(chunk)
        got.extend(drain(buf))
    while True:
        try:
            line = buf.finalLine()
        except LineTooLong as e:
            got.append(("TOO LONG", e.prefix))
            continue
        if line is None:
            break
        got.append(line)
    expected, rest = reference(data, terminator, limit)
    expected = [e if isinstance(e, bytes) else ("TOO LONG", e[2]) for e in expected]
    got = [g if isinstance(g, bytes) else ("TOO LONG", g[-1]) for g in got]
    if rest:
        tlen = len(terminator)
        if limit is not None and len(rest) + tlen > limit:
            expected.append(("TOO LONG", rest[:limit - tlen]))
        else:
            expected.append(rest)
    assert got == expected


@pytest.mark.parametrize("chunk", [1, 3, 700, 5000])
def test_an_over_long_line_reports_its_last_bytes_before_the_terminator(chunk):
    """suffix lets a caller framing on LF tell a CRLF-ended long line from a bare-LF one."""
    buffer = LineBuffer(b"\n", 100)
    data = b"a" * 300 + b"yz\r\n" + b"b" * 300 + b"q\n" + b"ok\n"
    reports = []
    for i in range(0, len(data), chunk):
        buffer.feed(data[i:i + chunk])
        while True:
            try:
                line = buffer.nextLine()
            except LineTooLong as e:
                reports.append(e.suffix)
                continue
            if line is None:
                break
            reports.append(line)
    assert reports == [b"z\r", b"bq", b"ok"]


def test_complete_lines_are_shown_whole_and_consumed_only_when_skipped():
    buf = LineBuffer(b"\n")
    buf.feed(b"one\r\ntwo\nthr")
    assert buf.completeLines() == b"one\r\ntwo\n"
    assert buf.completeLines(8) == b"one\r\n", "only lines that end within the bound"
    assert buf.completeLines(3) == b""
    buf.skip(5)
    assert buf.nextLine() == b"two"
    assert buf.completeLines() == b""
    buf.feed(b"ee\n")
    assert buf.completeLines() == b"three\n"
    with pytest.raises(ValueError):
        buf.skip(7)
    buf.skip(6)
    assert buf.buffered == 0


def test_no_complete_lines_are_shown_while_a_long_line_is_discarded():
    buf = LineBuffer(b"\n", maxLength=8)
    buf.feed(b"x" * 20)
    assert buf.nextLine() is None and buf.discarding
    buf.feed(b"yy\nnext\n")
    assert buf.completeLines() == b""
    with pytest.raises(LineTooLong):
        buf.nextLine()
    assert buf.completeLines() == b"next\n"
