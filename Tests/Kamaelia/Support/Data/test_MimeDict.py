"""Kamaelia.Support.Data.MimeDict: construction, insertion order, the text form, parsing, round trips."""

import pytest

from Kamaelia.Support.Data.MimeDict import MimeDict

# -- construction ----------------------------------------------------------------


def test_it_is_a_real_dict_with_an_empty_body_by_default():
    m = MimeDict()
    assert isinstance(m, dict)
    assert m == {"__BODY__": ""}
    assert m.insertionorder == [] and m.invalidSource is False


def test_keyword_headers_become_items_and_the_body_is_not_clobbered():
    m = MimeDict(Hello="World", __BODY__="text")
    assert m == {"Hello": "World", "__BODY__": "text"}


def test_the_constructor_records_one_entry_per_list_element_and_one_for_an_empty_list():
    m = MimeDict(A="1", B=["x", "y"], C=[])
    assert m.insertionorder == ["A", "B", "B", "C"]


def test_keys_is_a_list_as_1x_callers_expect():
    m = MimeDict(B="2", A="1")
    keys = m.keys()
    assert isinstance(keys, list)
    keys.sort()
    assert keys == ["A", "B", "__BODY__"]
    assert MimeDict().keys() == ["__BODY__"]


def test_equality_is_dict_equality_ignoring_order_and_validity():
    a = MimeDict(A="1", B="2")
    b = MimeDict(B="2", A="1")
    b.invalidSource = True
    assert a == b
    assert a == {"A": "1", "B": "2", "__BODY__": ""}


# -- setting and deleting ---------------------------------------------------------------


def test_setting_a_header_appends_it_to_the_order():
    m = MimeDict(A="1")
    m["B"] = "2"
    assert m.insertionorder == ["A", "B"]
    assert str(m) == "A: 1\r\nB: 2\r\n\r\n"


def test_resetting_a_header_moves_it_to_the_end():
    m = MimeDict(A="1", B="2")
    m["A"] = "3"
    assert m.insertionorder == ["B", "A"]
    assert str(m) == "B: 2\r\nA: 3\r\n\r\n"


def test_setting_a_list_records_one_entry_per_element_and_none_for_an_empty_list():
    m = MimeDict()
    m["A"] = ["1", "2", "3"]
    assert m.insertionorder == ["A", "A", "A"]
    m["A"] = []
    assert m.insertionorder == []
    assert str(m) == "\r\n"


def test_setting_the_body_does_not_touch_the_order():
    m = MimeDict(A="1")
    m["__BODY__"] = "new body"
    assert m.insertionorder == ["A"]
    assert str(m) == "A: 1\r\n\r\nnew body"


def test_deleting_a_header_removes_all_its_entries():
    m = MimeDict(A=["1", "2"], B="3")
    del m["A"]
    assert "A" not in m
    assert m.insertionorder == ["B"]
    assert str(m) == "B: 3\r\n\r\n"


def test_deleting_a_missing_header_raises_KeyError():
    with pytest.raises(KeyError):
        del MimeDict()["absent"]


def test_update_bypasses_the_order_so_the_key_is_not_written():
    m = MimeDict(A="1")
    m.update(B="2")
    assert m["B"] == "2"
    assert str(m) == "A: 1\r\n\r\n"


def test_pop_bypasses_the_order_so_str_raises_KeyError():
    m = MimeDict(A="1")
    m.pop("A")
    with pytest.raises(KeyError):
        str(m)


# -- the text form ------------------------------------------------------------------------


def test_str_of_an_empty_mimedict_is_a_blank_line():
    assert str(MimeDict()) == "\r\n"


def test_str_of_one_header():
    assert str(MimeDict(Hello="World")) == "Hello: World\r\n\r\n"


def test_str_of_an_empty_list_header_is_an_empty_header_line():
    assert str(MimeDict(Hello=[])) == "Hello: \r\n\r\n"


def test_str_writes_list_values_as_repeated_headers_in_list_order():
    assert str(MimeDict(Greeting=["Hello", "World"])) == "Greeting: Hello\r\nGreeting: World\r\n\r\n"


def test_str_writes_headers_in_keyword_order_then_the_body():
    m = MimeDict(Hello="World", Sheep="Baa", __BODY__="The body")
    assert str(m) == "Hello: World\r\nSheep: Baa\r\n\r\nThe body"


def test_str_keeps_a_bare_newline_inside_a_value():
    assert str(MimeDict(Hello="Wor\nld")) == "Hello: Wor\nld\r\n\r\n"


def test_a_list_shorter_than_its_entries_gives_empty_values():
    m = MimeDict(A=["1", "2"])
    m["A"].pop()
    assert str(m) == "A: 1\r\nA: \r\n\r\n"


# -- parsing --------------------------------------------------------------------------------


def test_parse_one_header_and_a_body():
    m = MimeDict.fromString("Hello: World\r\n\r\nBody text")
    assert m == {"Hello": "World", "__BODY__": "Body text"}
    assert m.invalidSource is False
    assert m.insertionorder == ["Hello"]


def test_parse_returns_a_mimedict():
    assert isinstance(MimeDict.fromString("\r\n"), MimeDict)


def test_parse_a_blank_line_alone_is_a_valid_empty_message():
    m = MimeDict.fromString("\r\n")
    assert m == MimeDict() and m.invalidSource is False


def test_parse_a_body_may_contain_lines_that_look_like_headers():
    m = MimeDict.fromString("A: 1\r\n\r\nline one\r\nNote: not a header\r\n")
    assert m == {"A": "1", "__BODY__": "line one\r\nNote: not a header\r\n"}


def test_parse_a_body_line_with_a_colon_right_after_the_blank_line_stays_in_the_body():
    m = MimeDict.fromString("\r\nNote: body\r\n")
    assert m == {"__BODY__": "Note: body\r\n"} and not m.invalidSource


def test_parse_repeated_headers_become_a_list_in_source_order():
    m = MimeDict.fromString("To: a\r\nX: 1\r\nTo: b\r\nTo: c\r\n\r\n")
    assert m["To"] == ["a", "b", "c"]
    assert m["X"] == "1"
    assert m.insertionorder == ["To", "X", "To", "To"]


def test_parse_the_space_after_the_colon_is_optional():
    assert MimeDict.fromString("Hello:World\r\n\r\n")["Hello"] == "World"


def test_parse_only_one_space_after_the_colon_is_dropped():
    assert MimeDict.fromString("Hello:  World\r\n\r\n")["Hello"] == " World"


def test_parse_name_colon_space_is_an_empty_value():
    assert MimeDict.fromString("Hello: \r\n\r\n")["Hello"] == ""


def test_parse_name_colon_two_spaces_is_a_one_space_value():
    assert MimeDict.fromString("Hello:  \r\n\r\n")["Hello"] == " "


def test_parse_a_value_may_hold_a_bare_newline():
    assert MimeDict.fromString("Hello: Wor\nld\r\n\r\n")["Hello"] == "Wor\nld"


def test_parse_names_may_contain_spaces_but_not_start_with_one():
    assert MimeDict.fromString("Odd Name: v\r\n\r\n")["Odd Name"] == "v"
    assert MimeDict.fromString(" Odd: v\r\n\r\n").invalidSource is True


def test_parse_a_continuation_line_joins_the_previous_value_with_crlf():
    m = MimeDict.fromString("Received: from a\r\n   by b\r\n\tnot this\r\n")
    assert m.invalidSource is True          # the tab line is not a continuation
    m = MimeDict.fromString("Received: from a\r\n   by b\r\n  for c\r\n\r\n")
    assert m["Received"] == "from a\r\n   by b\r\n  for c"
    assert m.insertionorder == ["Received"]


def test_parse_a_continuation_of_a_repeated_header_extends_its_last_value():
    m = MimeDict.fromString("R: 1\r\nR: 2\r\n two\r\nR: 3\r\n\r\n")
    assert m["R"] == ["1", "2\r\n two", "3"]


def test_parse_a_continuation_before_any_header_makes_the_source_invalid():
    source = " leading\r\n\r\nbody"
    m = MimeDict.fromString(source)
    assert m.invalidSource is True and m["__BODY__"] == source


@pytest.mark.parametrize("source", [
    "",
    "no headers at all",
    "Hello: World\r\n",                       # no blank line after the headers
    "Hello: World\r\nnot a header\r\n\r\n",   # parsing stops at the second line
    "Hello: World\r\nNoColon\r\nA: b\r\n\r\nx",
    "Hello: World\n\nbody",                   # LF alone does not end a header line
])
def test_an_invalid_source_becomes_only_a_body_holding_it(source):
    m = MimeDict.fromString(source)
    assert m == {"__BODY__": source}
    assert m.invalidSource is True
    assert m.insertionorder == []
    assert str(m) == source


def test_headers_added_to_an_invalid_parse_lose_their_first_two_characters():
    m = MimeDict.fromString("junk")
    m["Hello"] = "World"
    assert str(m) == "llo: World\r\n\r\njunk"


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [
    MimeDict(),
    MimeDict(Hello="World"),
    MimeDict(Hello="World", Sheep="Baa", __BODY__="Some body\r\nwith lines: and colons\r\n"),
    MimeDict(Greeting=["Hello", "World", "Again"], Other="x"),
    MimeDict(Value="has a\nbare newline"),
])
def test_fromString_of_str_gives_an_equal_mimedict(m):
    assert MimeDict.fromString(str(m)) == m


def test_a_one_element_list_comes_back_as_a_string():
    m = MimeDict(Hello=["World"])
    back = MimeDict.fromString(str(m))
    assert back != m
    assert back["Hello"] == "World"


@pytest.mark.parametrize("source", [
    "\r\n",
    "Hello: World\r\n\r\n",
    "A: 1\r\nB: 2\r\nA: 3\r\n\r\nbody",
    "A: 1\r\n  a1 continued\r\nB: 2\r\nA: 3\r\n more\r\n   and more\r\nB: 4\r\n\r\nbody\r\n",
    "Empty: \r\nSpace:  \r\n\r\n",
    "not valid at all",
    "",
])
def test_str_of_fromString_gives_back_the_source(source):
    assert str(MimeDict.fromString(source)) == source


def test_a_parsed_message_can_be_edited_and_written_again():
    m = MimeDict.fromString("A: 1\r\nB: 2\r\n\r\nbody")
    m["A"] = "changed"
    m["C"] = ["x", "y"]
    assert str(m) == "B: 2\r\nA: changed\r\nC: x\r\nC: y\r\n\r\nbody"


def test_the_docstring_example_runs():
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module("Kamaelia.Support.Data.MimeDict"))
    assert result.attempted > 0 and result.failed == 0
