"""Tests for Kamaelia.Apps.Grey.PolicyProtocol: the Postfix policy protocol as a pure machine.

Framing (whole, line by line, byte by byte: the same events), attribute
rules (order, duplicates, unknown names, values with "="), what counts as a
bad request and that each one is still one event to answer, the limits and
the memory they bound, the end of input, and the answer's formatting.
"""

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import PolicyProtocol
from Kamaelia.Apps.Grey.PolicyProtocol import (
    NEED_DATA,
    BadRequest,
    ConnectionClosed,
    LocalProtocolError,
    PolicyConnection,
    Request,
    formatAction,
    xGreylistHeader,
)

RCPT = (b"request=smtpd_access_policy\n"
        b"protocol_state=RCPT\n"
        b"protocol_name=ESMTP\n"
        b"client_address=192.0.2.7\n"
        b"client_name=mail.example.org\n"
        b"helo_name=mail.example.org\n"
        b"sender=alice@example.org\n"
        b"recipient=bob@example.net\n"
        b"instance=1a2b.3c4d.0\n"
        b"\n")


def events(conn):
    """Every event up to NEED_DATA or the end (the end event included)."""
    out = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
        if isinstance(event, ConnectionClosed):
            return out


def feed(data, chunk, eof=True, **limits):
    """All events for ``data`` fed ``chunk`` bytes at a time, pulling events after each chunk."""
    conn = PolicyConnection(**limits)
    out = []
    for i in range(0, len(data), chunk):
        conn.receive_data(data[i:i + chunk])
        out += events(conn)
    if eof:
        conn.receive_data(b"")
        out += events(conn)
    return out


# -- framing -------------------------------------------------------------------------------

def test_one_request_gives_its_attributes_in_order():
    [request, closed] = feed(RCPT, len(RCPT))
    assert isinstance(request, Request)
    assert list(request) == ["request", "protocol_state", "protocol_name", "client_address",
                             "client_name", "helo_name", "sender", "recipient", "instance"]
    assert request["recipient"] == "bob@example.net"
    assert closed == ConnectionClosed(incomplete=False)


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_chunking_never_changes_the_events(chunk):
    """Whole, in small chunks and one byte at a time: identical events."""
    stream = RCPT + b"garbage\n\n" + RCPT.replace(b"RCPT", b"DATA")
    assert feed(stream, chunk) == feed(stream, len(stream))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=60))
def test_any_chunking_gives_the_same_events(sizes):
    stream = RCPT + b"x=\xff\r\n\n" + b"no equals sign\n\n" + RCPT
    expected = feed(stream, len(stream))
    conn, out, at = PolicyConnection(), [], 0
    for size in sizes:
        if at < len(stream):                     # b"" would mean the end of input
            conn.receive_data(stream[at:at + size])
            at += size
            out += events(conn)
    if at < len(stream):
        conn.receive_data(stream[at:])
        out += events(conn)
    conn.receive_data(b"")
    out += events(conn)
    assert out == expected


LIMITS = dict(maxLineLength=64, maxAttributes=4, maxRequestSize=128)


@pytest.mark.parametrize("stream", [
    b"a=" + b"x" * 61 + b"\n\n",                      # a line of 64 bytes with its LF: fits
    b"a=" + b"x" * 62 + b"\n\n",                      # 65: too long
    b"a=1\nb=2\nc=3\nd=4\n\n",                        # four attributes: fits
    b"a=1\nb=2\nc=3\nd=4\ne=5\n\n",                   # five: too many
    b"".join(b"%c=%s\n" % (97 + i, b"v" * 29) for i in range(4)) + b"\n",   # 128 bytes: fits
    b"".join(b"%c=%s\n" % (97 + i, b"v" * 30) for i in range(4)) + b"\n",   # 132: too big
    b"a=1\rb=2\n\n", b"a=1\r\n\r\nb=2\n\n", b"\na=1\n\n", b"=1\n\n", b"a\n\n",
    b"a=\xc3\n\xa9=1\n\n",
])
def test_a_request_in_one_piece_and_one_byte_at_a_time_give_the_same_event(stream):
    """Whole requests take a faster path than dribbled ones: same events, limits included."""
    assert feed(stream, len(stream), **LIMITS) == feed(stream, 1, **LIMITS)


def test_pipelined_requests_come_out_one_at_a_time_in_order():
    conn = PolicyConnection()
    conn.receive_data(b"".join(RCPT.replace(b"bob", b"r%d" % i) for i in range(5)))
    seen = []
    for _ in range(5):
        event = conn.next_event()
        seen.append(event["recipient"])
    assert seen == ["r%d@example.net" % i for i in range(5)]
    assert conn.next_event() is NEED_DATA
    assert conn.requests == 5


def test_need_data_until_the_blank_line_arrives():
    conn = PolicyConnection()
    conn.receive_data(RCPT[:-1])
    assert conn.next_event() is NEED_DATA
    assert conn.inRequest
    conn.receive_data(b"\n")
    assert isinstance(conn.next_event(), Request)
    assert not conn.inRequest


def test_crlf_line_ends_are_accepted():
    [request, _] = feed(RCPT.replace(b"\n", b"\r\n"), 3)
    assert isinstance(request, Request)
    assert request["instance"] == "1a2b.3c4d.0"


# -- attributes ----------------------------------------------------------------------------

def test_a_duplicate_keeps_its_first_position_and_its_last_value():
    [request, _] = feed(b"a=1\nb=2\na=3\n\n", 100)
    assert list(request.items()) == [("a", "3"), ("b", "2")]


def test_value_is_everything_after_the_first_equals_sign_and_may_be_empty():
    [request, _] = feed(b"ccert_subject=CN=x, O=y\nsender=\nsize=0\n\n", 100)
    assert request["ccert_subject"] == "CN=x, O=y"
    assert request["sender"] == ""


def test_unknown_attributes_are_kept_and_missing_ones_read_as_empty():
    [request, _] = feed(b"request=smtpd_access_policy\nfuture_thing=42\n\n", 100)
    assert request["future_thing"] == "42"
    assert request["recipient"] == ""
    assert "recipient" not in request and request.get("recipient") is None


def test_bytes_that_are_not_utf8_are_replaced_not_fatal():
    [request, _] = feed("sender=jos\u00e9@example.org\n".encode() + b"helo_name=\xff\xfe\n\n", 100)
    assert request["sender"] == "jos\u00e9@example.org"
    assert request["helo_name"] == "\ufffd\ufffd"


def test_request_equals_a_plain_dict():
    [request, _] = feed(b"a=1\n\n", 100)
    assert request == {"a": "1"}
    assert repr(request) == "Request({'a': '1'})"


# -- bad requests: one event each, then framing carries on ----------------------------------

@pytest.mark.parametrize("lines, reason", [
    (b"request=smtpd_access_policy\njust some words\n", "not name=value"),
    (b"=value\n", "not name=value"),
    (b"", "empty request"),
])
def test_a_malformed_request_is_one_bad_request_event(lines, reason):
    out = feed(lines + b"\n" + RCPT, 5)
    assert [type(e) for e in out] == [BadRequest, Request, ConnectionClosed]
    assert reason in out[0].reason


def test_bad_request_keeps_the_attributes_before_the_problem_and_names_the_first_problem():
    [bad, _] = feed(b"instance=7\nfirst junk\nsecond junk\nqueue_id=Q\n\n", 100)
    assert bad.attributes == {"instance": "7"}
    assert "line 2" in bad.reason and "first junk" in bad.reason


def test_an_over_long_line_makes_a_bad_request_and_the_next_request_is_fine():
    huge = b"client_name=" + b"x" * 100000 + b"\n"
    out = feed(b"request=smtpd_access_policy\n" + huge + b"\n" + RCPT, 997)
    assert [type(e) for e in out] == [BadRequest, Request, ConnectionClosed]
    assert "100013 bytes long" in out[0].reason
    assert out[0].attributes == {"request": "smtpd_access_policy"}


def test_too_many_attributes_is_a_bad_request():
    many = b"".join(b"a%d=1\n" % i for i in range(11)) + b"\n"
    [bad, _] = feed(many, 100, maxAttributes=10)
    assert isinstance(bad, BadRequest)
    assert "more than 10 attributes" in bad.reason
    assert len(bad.attributes) == 10
    [fine, _] = feed(many, 100, maxAttributes=11)
    assert isinstance(fine, Request)


def test_too_big_a_request_is_a_bad_request():
    lines = b"".join(b"a%03d=%s\n" % (i, b"v" * 90) for i in range(20)) + b"\n"
    [bad, _] = feed(lines, 64, maxRequestSize=1000, maxLineLength=200)
    assert "more than 1000 bytes" in bad.reason
    [fine, _] = feed(lines, 64, maxRequestSize=len(lines), maxLineLength=200)
    assert isinstance(fine, Request)


def test_memory_stays_bounded_under_an_endless_line_and_endless_attributes():
    """Neither the buffer nor the attribute dict grows with what a hostile peer sends."""
    conn = PolicyConnection(maxLineLength=1024, maxAttributes=50, maxRequestSize=8192)
    chunk = b"y" * 4096
    for _ in range(2500):                        # 10 MB without a line end
        conn.receive_data(chunk)
        assert conn.next_event() is NEED_DATA
        assert conn.buffered <= 1024 + len(chunk)
    conn.receive_data(b"\n")
    for i in range(20000):                       # 20,000 attributes without a blank line
        conn.receive_data(b"n%d=v\n" % i)
        assert conn.next_event() is NEED_DATA
    assert len(conn._attributes) == 0            # nothing kept once the request is bad
    conn.receive_data(b"\n")
    bad = conn.next_event()
    assert isinstance(bad, BadRequest) and "bytes long" in bad.reason


def test_limits_must_be_sane():
    with pytest.raises(ValueError):
        PolicyConnection(maxLineLength=100, maxRequestSize=50)
    with pytest.raises(ValueError):
        PolicyConnection(maxAttributes=0)


# -- end of input ----------------------------------------------------------------------------

def test_end_of_input_after_complete_requests_is_a_clean_close():
    conn = PolicyConnection()
    conn.receive_data(RCPT)
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == ConnectionClosed(incomplete=False)
    assert conn.next_event() == ConnectionClosed(incomplete=False)


@pytest.mark.parametrize("tail", [b"request=smtpd_access_policy\n", b"request=smtpd_acc",
                                  b"x" * 5000])
def test_end_of_input_in_the_middle_of_a_request_is_incomplete_and_not_answered(tail):
    out = feed(RCPT + tail, 50)
    assert [type(e) for e in out] == [Request, ConnectionClosed]
    assert out[-1].incomplete


def test_data_after_the_end_of_input_is_our_bug():
    conn = PolicyConnection()
    conn.receive_data(b"")
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"a=1\n\n")


def test_text_instead_of_bytes_is_our_bug():
    with pytest.raises(LocalProtocolError):
        PolicyConnection().receive_data("request=smtpd_access_policy\n\n")


# -- answers ---------------------------------------------------------------------------------

def test_format_action_alone_and_with_text():
    assert formatAction("DUNNO") == b"action=DUNNO\n\n"
    assert formatAction("DEFER_IF_PERMIT", "Greylisted, please try again later") == \
        b"action=DEFER_IF_PERMIT Greylisted, please try again later\n\n"
    assert formatAction("450 4.7.1", "Try later") == b"action=450 4.7.1 Try later\n\n"


def test_format_action_text_cannot_break_out_of_the_answer():
    """A CR or LF in the text would end the answer early: they become '?'."""
    answer = formatAction("PREPEND", "X-Greylist: at evil\n\naction=OK\r\n")
    assert answer == b"action=PREPEND X-Greylist: at evil??action=OK??\n\n"
    assert answer.count(b"\n") == 2


@pytest.mark.parametrize("action", ["", " DUNNO", "DUNNO ", "DUN\nNO", "D\u00fcNNO", None])
def test_an_invalid_action_is_our_bug(action):
    with pytest.raises(LocalProtocolError):
        formatAction(action)


def test_x_greylist_header_says_delay_version_host_and_date_in_gmt():
    assert xGreylistHeader(61.7, "2.0.0", "mx.example.org", 1700000000.0) == (
        "X-Greylist: delayed 61 seconds by kamaelia-grey-2.0.0 at mx.example.org; "
        "Tue, 14 Nov 2023 22:13:20 GMT")
    assert "at mx?evil;" in xGreylistHeader(1, "2", "mx\nevil", 0.0)


def test_module_docstring_examples_run():
    failures, tried = doctest.testmod(PolicyProtocol)
    assert tried > 5 and failures == 0
