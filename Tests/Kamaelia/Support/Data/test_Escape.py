"""Kamaelia.Support.Data.Escape: the %hh rules, one pass each way, round trips, bytes."""

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import Kamaelia.Support.Data.Escape as Escape
from Kamaelia.Support.Data.Escape import escape, unescape

ALL_CHARS = "".join(chr(i) for i in range(256))


def test_percent_becomes_percent25_with_or_without_a_substring():
    assert escape("100%") == "100%25"
    assert escape("%%", "x") == "%25%25"
    assert escape("no percent here") == "no percent here"


def test_each_distinct_character_of_the_substring_is_escaped_not_the_substring_as_a_unit():
    assert escape("XXXXhelloXXXX", "hello") == "XXXX%68%65%6c%6c%6fXXXX"
    assert escape("oh, hello", "hello") == "%6f%68, %68%65%6c%6c%6f"


def test_percent_escapes_and_character_escapes_may_butt_up_against_each_other():
    assert (escape("X%X%helloX%XhelloX%X%X%X", "hello")
            == "X%25X%25%68%65%6c%6c%6fX%25X%68%65%6c%6c%6fX%25X%25X%25X")


def test_a_partial_match_of_the_marker_is_escaped_so_joined_parts_only_match_at_the_joins():
    assert escape("   x", "xxxx") == "   %78"
    parts = ["ab x", "xxx", "x", "yx"]
    joined = "xxxx".join(escape(p, "xxxx") for p in parts)
    assert [m.start() for m in re.finditer("xxxx", joined)] == [
        i for i in range(len(joined)) if joined.startswith("xxxx", i)]
    assert joined.count("xxxx") == len(parts) - 1


def test_codes_are_two_lowercase_hex_digits_even_below_0x10():
    assert escape("\x00\x0a\x0f\xfe", "\x00\x0a\x0f\xfe") == "%00%0a%0f%fe"


def test_every_one_of_the_256_characters_can_be_forbidden():
    message = "BLURBLE".join(ALL_CHARS) + "BLURBLE"
    escaped = escape(message, ALL_CHARS)
    assert escaped == "".join("%%%02x" % ord(c) for c in message)
    assert unescape(escaped, ALL_CHARS) == message


def test_escaping_is_one_pass_so_hex_digit_and_percent_substrings_do_not_re_escape_tokens():
    # A sequential replace would turn the "6" of "%68" (from "h") into "%36".
    assert escape("h6%", "h6%") == "%68%36%25"
    assert escape("a1", "1a") == "%61%31"


def test_unescape_turns_back_only_tokens_of_the_substring_and_percent25():
    assert unescape("XXXX%68%65%6c%6c%6fXXXX", "hello") == "XXXXhelloXXXX"
    assert unescape("%68%2541", "h") == "h%41"
    assert unescape("%68%65", "e") == "%68e"
    assert unescape("%4A", "J") == "%4A"     # escape writes lowercase: "%4a"


def test_unescape_is_one_pass_so_one_replacement_does_not_create_another_token():
    # "%2568" is an escaped "%" followed by "68": it must not become "h".
    assert unescape("%2568", "h") == "%68"
    assert unescape(escape("%68", "h"), "h") == "%68"


def test_without_a_substring_only_percent_is_unescaped():
    assert unescape("%25%58") == "%%58"


def test_an_empty_message_gives_an_empty_result():
    assert escape("") == "" and escape("", "abc") == ""
    assert unescape("") == "" and unescape("", "abc") == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF)),
       st.text(alphabet=st.characters(max_codepoint=0xFF)))
def test_unescape_inverts_escape_for_any_message_and_substring(message, substring):
    escaped = escape(message, substring)
    assert unescape(escaped, substring) == message
    for c in set(substring) | {"%"}:
        assert re.sub(r"%[0-9a-f]{2}", "", escaped).count(c) == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.binary(max_size=8))
def test_bytes_messages_with_bytes_substrings_round_trip_and_stay_bytes(message, substring):
    escaped = escape(message, substring)
    assert isinstance(escaped, bytes)
    assert unescape(escaped, substring) == message
    text, forbidden = message.decode("latin-1"), substring.decode("latin-1")
    assert escaped == escape(text, forbidden).encode("latin-1")


def test_bytes_use_the_same_tokens_as_text():
    assert escape(b"a%bX", b"X") == b"a%25b%58"
    assert unescape(b"a%25b%58", b"X") == b"a%bX"
    assert escape(bytearray(b"%")) == b"%25"


def test_mixing_str_and_bytes_is_a_TypeError():
    with pytest.raises(TypeError):
        escape("text", b"x")
    with pytest.raises(TypeError):
        unescape(b"bytes", "x")


def test_forbidding_characters_above_U00FF_is_a_ValueError_as_they_have_no_two_digit_code():
    with pytest.raises(ValueError):
        escape("\u0100", "\u0100")
    with pytest.raises(ValueError):
        unescape("%100", "\u0100")
    assert escape("\u20ac 100%", "X") == "\u20ac 100%25"     # only forbidding them is refused


def test_the_example_usage_prints_what_the_docstring_says():
    usage = Escape.__doc__.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    code, output = [re.sub(r"(?m)^    ", "", block)
                    for block in re.findall(r"::\n\n((?:(?:    .*)?\n)+)", usage)]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == output.strip()
