"""Kamaelia.Support.Data.MimeObject.mimeObject: construction (copying, defaults) and text form."""

from Kamaelia.Support.Data.MimeObject import mimeObject
from Kamaelia.Support.Data.requestLine import requestLine


def test_defaults_are_no_headers_an_empty_body_and_no_preamble():
    m = mimeObject()
    assert (m.header, m.body, m.preambleLine) == ({}, "", None)


def test_the_header_dict_is_copied_not_shared():
    header = {"a": ["A", "1"]}
    m = mimeObject(header)
    assert m.header == header and m.header is not header
    header["b"] = ["B", "2"]
    assert "b" not in m.header


def test_the_default_header_is_a_fresh_dict_for_each_object():
    first, second = mimeObject(), mimeObject()
    first.header["x"] = ["X", "1"]
    assert second.header == {}


def test_the_body_is_kept_as_the_same_object():
    body = "mime body"
    assert mimeObject({}, body).body is body


def test_a_false_preamble_is_stored_as_None():
    assert mimeObject({}, "", "").preambleLine is None
    assert mimeObject({}, "", 0).preambleLine is None


def test_a_preamble_is_kept():
    line = requestLine("GET http://host/ HTTP/1.0")
    assert mimeObject({}, "", line).preambleLine is line


def test_str_of_an_empty_object_is_one_newline():
    assert str(mimeObject()) == "\n"


def test_str_writes_original_names_in_dict_order_a_blank_line_then_the_body():
    m = mimeObject({"a": ["A", "1"], "B": ["B", "1"]}, "mime body")
    assert str(m) == "A: 1\nB: 1\n\nmime body"


def test_str_uses_the_stored_original_spelling_not_the_key():
    m = mimeObject({"content-type": ["Content-Type", "text/plain"]})
    assert str(m) == "Content-Type: text/plain\n\n"


def test_str_puts_the_preamble_line_first_and_the_body_once():
    m = mimeObject({"host": ["Host", "h"]}, "BODY", requestLine("GET http://h/ HTTP/1.0"))
    assert str(m) == "GET http://h/ HTTP/1.0\nHost: h\n\nBODY"


def test_the_docstring_example_runs():
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module("Kamaelia.Support.Data.MimeObject"))
    assert result.attempted > 0 and result.failed == 0
