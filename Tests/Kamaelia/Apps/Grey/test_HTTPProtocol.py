"""HTTPProtocol: the endpoint's HTTP/1.1 request machine and response builder, without I/O."""

import random

import pytest

from Kamaelia.Apps.Grey.HTTPProtocol import (
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_REQUEST_LINE,
    NEED_DATA,
    BadRequest,
    ConnectionClosed,
    HTTPConnection,
    LocalProtocolError,
    Request,
    State,
    checkListenAddress,
    errorResponse,
    formatResponse,
    parseListenAddress,
)

GET = b"GET /metrics HTTP/1.1\r\nHost: mx.test\r\nUser-Agent: t\r\n\r\n"


def events(data, chunk=None, eof=False):
    """Every event for ``data`` fed in chunks of ``chunk`` bytes (all at once by default)."""
    conn = HTTPConnection()
    out = []
    chunk = chunk or max(1, len(data))
    for i in range(0, len(data), chunk):
        conn.receive_data(data[i:i + chunk])
        while True:
            event = conn.next_event()
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                break
            out.append(event)
    if eof:
        conn.receive_data(b"")
        while True:
            event = conn.next_event()
            out.append(event)
            if isinstance(event, ConnectionClosed):
                break
    return out, conn


def test_a_whole_request_is_parsed():
    (request,), conn = events(GET)
    assert isinstance(request, Request)
    assert (request.method, request.target, request.path, request.query, request.version) == (
        "GET", "/metrics", "/metrics", "", "1.1")
    assert request.headers == (("host", "mx.test"), ("user-agent", "t"))
    assert request.header("HOST") == "mx.test" and request.header("absent") is None
    assert request.keepAlive and conn.state is State.OPEN


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_pipelined_requests_come_out_in_order_however_the_bytes_are_split(chunk):
    data = (GET + b"HEAD /?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + b"GET /status.json HTTP/1.1\r\nhost: b\r\nConnection: close\r\n\r\n"
            + b"GET /never HTTP/1.1\r\nHost: c\r\n\r\n")
    whole, _ = events(data)
    split, conn = events(data, chunk)
    assert split == whole
    assert [(r.method, r.path, r.query, r.keepAlive) for r in split] == [
        ("GET", "/metrics", "", True), ("HEAD", "/", "x=1", True),
        ("GET", "/status.json", "", False)]
    assert conn.state is State.CLOSING
    assert conn.next_event() == ConnectionClosed(False)


def test_partial_request_needs_data_and_counts_as_in_request():
    conn = HTTPConnection()
    assert not conn.inRequest
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert conn.next_event() is NEED_DATA
    assert conn.inRequest
    conn.receive_data(b"\r\n")
    assert isinstance(conn.next_event(), Request)
    assert not conn.inRequest


def test_end_of_input_mid_request_is_incomplete_and_after_requests_is_not():
    out, _ = events(b"GET / HTTP/1.1\r\nHo", eof=True)
    assert out == [ConnectionClosed(True)]
    out, conn = events(GET, eof=True)
    assert isinstance(out[0], Request) and out[1] == ConnectionClosed(False)
    assert conn.state is State.CLOSED
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"more")


def test_bare_lf_and_leading_empty_lines_are_accepted():
    (request,), _ = events(b"\r\n\nGET /x HTTP/1.1\nHost: h\n\n")
    assert request.path == "/x"


def test_http_1_0_closes_after_the_request_and_needs_no_host():
    (request,), conn = events(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
    assert request.version == "1.0" and not request.keepAlive
    assert conn.state is State.CLOSING


def test_absolute_form_target_gives_its_path():
    (request,), _ = events(b"GET http://mx.test:9101/metrics?a=b HTTP/1.1\r\nHost: mx.test\r\n\r\n")
    assert (request.path, request.query) == ("/metrics", "a=b")
    (request,), _ = events(b"GET http://mx.test HTTP/1.1\r\nHost: mx.test\r\n\r\n")
    assert request.path == "/"


@pytest.mark.parametrize("data, status", [
    (b"POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", 405),
    (b"DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    (b"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / FTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET /\r\nHost: h\r\n\r\n", 400),
    (b"GET relative HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost h\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\x00i\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
])
def test_bad_requests_get_their_status_and_nothing_after_is_read(data, status):
    out, conn = events(data + GET)
    assert len(out) == 1 and isinstance(out[0], BadRequest), out
    assert out[0].status == status and out[0].reason
    assert conn.state is State.BROKEN
    conn.receive_data(GET)
    assert conn.next_event() == ConnectionClosed(False)
    assert conn.buffered == 0


def test_content_length_zero_is_no_body():
    (request,), _ = events(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(request, Request)


def test_request_line_limit_gives_414_before_the_line_ends():
    conn = HTTPConnection()
    conn.receive_data(b"GET /" + b"a" * MAX_REQUEST_LINE)
    event = conn.next_event()
    assert isinstance(event, BadRequest) and event.status == 414
    line = b"GET /" + b"a" * (MAX_REQUEST_LINE - 20) + b" HTTP/1.1\r\n"
    (request,), _ = events(line + b"Host: h\r\n\r\n")
    assert isinstance(request, Request) and len(request.target) > 8000


def test_empty_lines_forever_are_refused():
    out, conn = events(b"\r\n" * (MAX_REQUEST_LINE // 2 + 1))
    assert out and out[0].status == 400 and conn.state is State.BROKEN


def test_header_limits_give_431():
    many = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS))
    (event,), _ = events(b"GET / HTTP/1.1\r\nHost: h\r\n" + many + b"\r\n")
    assert isinstance(event, BadRequest) and event.status == 431
    (request,), _ = events(b"GET / HTTP/1.1\r\nHost: h\r\n" + many[:-len(b"X-99: v\r\n")] + b"\r\n")
    assert isinstance(request, Request) and len(request.headers) == MAX_HEADERS
    big = b"X-Big: " + b"v" * MAX_HEADER_BYTES + b"\r\n"
    conn = HTTPConnection()
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\n" + big[:MAX_HEADER_BYTES + 10])
    event = conn.next_event()
    assert isinstance(event, BadRequest) and event.status == 431
    spread = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 800) for i in range(45))
    (event,), _ = events(b"GET / HTTP/1.1\r\nHost: h\r\n" + spread + b"\r\n")
    assert isinstance(event, BadRequest) and event.status == 431


def test_memory_stays_bounded_under_a_flood_without_line_ends():
    conn = HTTPConnection()
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nX: ")
    assert conn.next_event() is NEED_DATA
    for _ in range(100):
        conn.receive_data(b"y" * 4096)
        event = conn.next_event()
        if event is not NEED_DATA:
            break
        assert conn.buffered <= MAX_HEADER_BYTES + 4096
    assert isinstance(event, BadRequest) and event.status == 431


def test_random_garbage_never_raises():
    rng = random.Random(1101)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        if rng.random() < 0.5:
            data = GET[:rng.randrange(len(GET))] + data + b"\r\n\r\n"
        out, conn = events(data, rng.randrange(1, 20), eof=True)
        assert isinstance(out[-1], ConnectionClosed)
        for event in out[:-1]:
            assert isinstance(event, (Request, BadRequest))


def test_receive_data_takes_bytes_only():
    with pytest.raises(LocalProtocolError):
        HTTPConnection().receive_data("GET / HTTP/1.1")


def test_format_response_sets_length_and_connection():
    response = formatResponse(200, b"hello", [("Content-Type", "text/plain")])
    assert response == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    head = formatResponse(200, b"hello", head=True, keepAlive=False)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("headers", [[("X", "a\r\nSet-Cookie: x")], [("Bad Name", "v")],
                                     [("Content-Length", "9")], [("Connection", "keep-alive")]])
def test_format_response_refuses_headers_that_break_framing(headers):
    with pytest.raises(LocalProtocolError):
        formatResponse(200, b"", headers)


def test_error_response_closes_and_405_says_allow():
    response = errorResponse(405, "method POST")
    assert response.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"\r\nAllow: GET, HEAD\r\n" in response and b"\r\nConnection: close\r\n" in response
    assert response.endswith(b"method POST\n")


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:9101", ("127.0.0.1", 9101)), (" [::1]:9101 ", ("::1", 9101)),
    ("localhost:80", ("localhost", 80)), ("0.0.0.0:65535", ("0.0.0.0", 65535)),
])
def test_listen_address_parses(text, expected):
    assert parseListenAddress(text) == expected
    assert checkListenAddress(text) == text.strip()


@pytest.mark.parametrize("text", ["9101", "127.0.0.1", ":9101", "127.0.0.1:0", "127.0.0.1:65536",
                                  "127.0.0.1:http", "::1:9101", "[::1]9101", "[nothost]:1",
                                  "a b:1", "[::1]:"])
def test_listen_address_refuses_what_is_not_host_port(text):
    with pytest.raises(ValueError):
        parseListenAddress(text)


def test_empty_listen_address_is_off():
    assert checkListenAddress("") == ""


def test_the_module_example_runs():
    import doctest

    from Kamaelia.Apps.Grey import HTTPProtocol
    result = doctest.testmod(HTTPProtocol)
    assert result.attempted > 5 and result.failed == 0
