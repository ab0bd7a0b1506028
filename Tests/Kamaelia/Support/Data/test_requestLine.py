"""Kamaelia.Support.Data.requestLine: splitting a request line, rebuilding it, and BadRequest."""

import pytest

from Kamaelia.KamaeliaExceptions import BadRequest
from Kamaelia.Support.Data.requestLine import requestLine

FIELDS = ("method", "reqprotocol", "user", "passwd", "domain", "url", "protocol", "version")


def fields(r):
    return tuple(getattr(r, name) for name in FIELDS)


def test_the_1x_test_line_splits_into_every_field():
    r = requestLine("GET http://user:password@127.0.0.1:1234/ HTTP/1.0")
    assert fields(r) == ("GET", "http", "user", "password", "127.0.0.1:1234", "/", "HTTP", "1.0")


def test_without_credentials_user_and_passwd_are_empty():
    r = requestLine("DESCRIBE rtsp://media.example.org/a/b.mov RTSP/1.0")
    assert fields(r) == ("DESCRIBE", "rtsp", "", "", "media.example.org", "/a/b.mov", "RTSP", "1.0")


def test_a_user_without_a_password_has_an_empty_passwd():
    r = requestLine("GET ftp://anonymous@host/pub FTP/1")
    assert (r.user, r.passwd, r.domain) == ("anonymous", "", "host")


def test_the_url_keeps_its_query_and_starts_with_a_slash():
    r = requestLine("POST http://h/cgi?x=1&y=2 HTTP/1.1")
    assert r.url == "/cgi?x=1&y=2"


def test_the_version_is_everything_after_the_first_slash_of_the_protocol():
    r = requestLine("GET http://h/ HTTP/1.0/extra")
    assert (r.protocol, r.version) == ("HTTP", "1.0/extra")


@pytest.mark.parametrize("line", [
    "GET http://user:password@127.0.0.1:1234/ HTTP/1.0",
    "GET http://user@host/x HTTP/1.0",
    "OPTIONS rtsp://host:554/stream RTSP/1.0",
])
def test_str_rebuilds_the_line(line):
    assert str(requestLine(line)) == line


def test_str_leaves_out_the_at_sign_when_there_is_no_user():
    assert "@" not in str(requestLine("GET http://host/ HTTP/1.0"))


@pytest.mark.parametrize("line", [
    "",
    "GET",
    "GET /index.html HTTP/1.0",             # no proto://
    "GET http://host HTTP/1.0",             # no path: the only / is the version's
    "GET http://host/index.html",           # no protocol
    "GET http://host/index.html HTTP1.0",   # protocol without version
])
def test_a_malformed_line_raises_BadRequest_with_the_line_and_the_cause(line):
    with pytest.raises(BadRequest) as info:
        requestLine(line)
    assert info.value.request == line
    assert isinstance(info.value.exception, ValueError)


def test_a_non_string_raises_BadRequest_too():
    with pytest.raises(BadRequest) as info:
        requestLine(None)
    assert info.value.request is None


def test_debug_str_lists_every_field_on_its_own_line():
    text = requestLine("GET http://user:password@127.0.0.1:1234/ HTTP/1.0").debug__str__()
    lines = text.splitlines()
    assert len(lines) == len(FIELDS)
    for name, line in zip(FIELDS, lines):
        assert line.startswith(name)
    assert "password" in text and "127.0.0.1:1234" in text


def test_the_docstring_example_runs():
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module("Kamaelia.Support.Data.requestLine"))
    assert result.attempted > 0 and result.failed == 0
