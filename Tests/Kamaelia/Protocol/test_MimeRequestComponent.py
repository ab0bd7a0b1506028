"""Kamaelia.Protocol.MimeRequestComponent: its state machine step by step, and the whole component.

The step methods are part of the 1.x contract (programs and tests call them
one at a time), so they are pinned individually: return codes and the
attributes each one changes. Then the component as a whole, through the
harness, with the request fed in awkward chunks.
"""

import logging

import pytest

from Axon.Component import component
from Axon.debug import debug
from Axon.Ipc import errorInformation, producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.KamaeliaExceptions import BadRequest
from Kamaelia.Protocol import MimeRequestComponent as module
from Kamaelia.Protocol.MimeRequestComponent import MimeRequestComponent
from Kamaelia.Support.Data.MimeObject import mimeObject
from Kamaelia.Support.Data.requestLine import requestLine

REQUEST_LINE = "GET http://user:password@127.0.0.1:1234/ HTTP/1.0"
BODY_1 = "This is the first half of the body.\r\n"      # 37 characters
BODY_2 = "And this is the rest of the body ok\r\n"      # 37 characters
EXAMPLE = [REQUEST_LINE + "\r\n", "From: random@hosts.com\r\n", "Content-Length: 74\r\n",
           "\r\n", BODY_1, BODY_2]


def fed(*items):
    x = MimeRequestComponent()
    for item in items:
        x._deliver(item, "inbox")
    return x


def codes(x, n):
    return [x.handleDataAquisition() for _ in range(n)]


def test_body_fixtures_are_37_characters():
    assert len(BODY_1) == len(BODY_2) == 37


# -- the module ------------------------------------------------------------------------


def test_the_module_lists_the_component_and_exposes_mimeObject():
    assert module.__kamaelia_components__ == (MimeRequestComponent,)
    assert module.mimeObject is mimeObject


def test_it_has_the_default_boxes():
    x = MimeRequestComponent()
    assert set(x.inboxes) == {"inbox", "control"}
    assert set(x.outboxes) == {"outbox", "signal"}


def test_initial_attributes_are_those_of_1x():
    x = MimeRequestComponent()
    assert x.header == {}
    assert (x.requestLineRead, x.currentLineRead, x.seenEndHeader) == (0, 0, 0)
    assert (x.currentLine, x.currentBytes, x.requestLine, x.body) == ("", "", "", "")
    assert (x.stillReading, x.needData, x.gotRequest, x.step) == (1, 0, 0, 0)
    assert not hasattr(x, "headerlength")


def test_each_instance_has_its_own_header_dict():
    assert MimeRequestComponent().header is not MimeRequestComponent().header


def test_initialiseComponent_returns_None_and_closeDownComponent_works():
    x = MimeRequestComponent()
    assert x.initialiseComponent() is None
    x.closeDownComponent()


# -- nextLine -------------------------------------------------------------------------------


@pytest.mark.parametrize("item, line", [
    ("hello\n", "hello"),
    ("hello\r\n", "hello"),
    ("hello\r\r\n", "hello\r"),      # only one CR is removed
    ("\n", ""),
])
def test_nextLine_returns_the_line_without_its_ending(item, line):
    x = fed(item)
    assert x.nextLine() == (1, line)
    assert x.currentBytes == ""


def test_nextLine_with_no_data_returns_nothing():
    assert MimeRequestComponent().nextLine() == (0, "")


def test_nextLine_with_an_empty_string_returns_nothing():
    assert fed("").nextLine() == (0, "")


def test_nextLine_keeps_a_partial_line_for_later():
    x = fed("hel", "lo\nwor")
    assert x.nextLine() == (0, "")
    assert x.currentBytes == "hel"
    assert x.nextLine() == (1, "hello")
    assert x.currentBytes == "wor"


def test_nextLine_returns_lines_already_buffered_one_at_a_time_with_mixed_endings():
    x = fed("one\r\ntwo\nthree\r\n")
    assert [x.nextLine() for _ in range(4)] == [(1, "one"), (1, "two"), (1, "three"), (0, "")]


def test_nextLine_takes_only_one_item_per_call():
    x = fed("a", "b\n")
    x.nextLine()
    assert x.dataReady("inbox") == 1


def test_nextLine_drops_an_item_that_is_not_text(caplog):
    x = fed("kept", (None,), "\n")
    x.nextLine()
    with caplog.at_level(logging.WARNING):
        assert x.nextLine() == (0, "")
    assert "tuple" in caplog.text
    assert x.currentBytes == "kept"
    assert x.nextLine() == (1, "kept")


def test_nextLine_reads_bytes_as_latin_1():
    x = fed(b"caf\xe9\r\n")
    assert x.nextLine() == (1, "caf\u00e9")


def test_getRequestLine_and_getALine_store_what_nextLine_read():
    x = fed(REQUEST_LINE + "\r\nHost: h\r\n")
    x.getRequestLine()
    assert (x.requestLineRead, x.requestLine) == (1, REQUEST_LINE)
    x.getALine()
    assert (x.currentLineRead, x.currentLine) == (1, "Host: h")
    x.getALine()
    assert (x.currentLineRead, x.currentLine) == (0, "")


# -- readHeader, getData, checkEndOfHeader ----------------------------------------------------


def test_readHeader_stores_lower_cased_name_with_original_spelling_and_clears_the_line():
    x = MimeRequestComponent()
    x.currentLineRead, x.currentLine = 1, "From: random@hosts.com"
    x.readHeader()
    assert x.header == {"from": ["From", "random@hosts.com"]}
    assert (x.currentLineRead, x.currentLine) == (0, "")


def test_readHeader_joins_a_repeated_header_keeping_the_first_spelling():
    x = MimeRequestComponent()
    for line in ["From: random@hosts.com", "FROM: Other@hosts.com"]:
        x.currentLine = line
        x.readHeader()
    assert x.header == {"from": ["From", "random@hosts.com, Other@hosts.com"]}


def test_readHeader_keeps_different_headers_apart():
    x = MimeRequestComponent()
    for line in ["From: a", "Fromage: b"]:
        x.currentLine = line
        x.readHeader()
    assert x.header == {"from": ["From", "a"], "fromage": ["Fromage", "b"]}


def test_readHeader_splits_at_the_first_colon_space_only():
    x = MimeRequestComponent()
    x.currentLine = "Subject: re: hello"
    x.readHeader()
    assert x.header == {"subject": ["Subject", "re: hello"]}


def test_readHeader_without_colon_space_raises_ValueError():
    x = MimeRequestComponent()
    x.currentLine = "NoSeparator"
    with pytest.raises(ValueError):
        x.readHeader()


def test_getData_appends_an_item_and_clears_needData():
    x = fed("more")
    x.currentBytes, x.needData = "some", 1
    x.getData()
    assert (x.currentBytes, x.needData) == ("somemore", 0)


def test_getData_with_nothing_waiting_changes_nothing():
    x = MimeRequestComponent()
    x.currentBytes, x.needData = "some", 1
    before = dict(vars(x))
    x.getData()
    assert vars(x) == before


def test_checkEndOfHeader_takes_the_length_from_content_length_and_leaves_needData():
    x = MimeRequestComponent()
    x.header = {"content-length": ["Content-Length", "37"]}
    x.needData = 1
    x.checkEndOfHeader()
    assert (x.seenEndHeader, x.headerlength, x.needData) == (1, 37, 1)


def test_checkEndOfHeader_without_content_length_means_no_body():
    x = MimeRequestComponent()
    x.needData = 1
    x.checkEndOfHeader()
    assert (x.seenEndHeader, x.headerlength, x.needData) == (1, 0, 0)


def test_checkEndOfHeader_on_a_header_line_changes_nothing():
    x = MimeRequestComponent()
    x.currentLine = "Host: h"
    x.checkEndOfHeader()
    assert x.seenEndHeader == 0
    assert not hasattr(x, "headerlength")


def test_checkEndOfHeader_only_acts_once():
    x = MimeRequestComponent()
    x.checkEndOfHeader()
    x.header = {"content-length": ["Content-Length", "9"]}
    x.checkEndOfHeader()
    assert x.headerlength == 0


# -- handleDataAquisition ----------------------------------------------------------------------


def test_with_no_data_it_keeps_trying_for_the_request_line():
    x = MimeRequestComponent()
    assert codes(x, 2) == [1, 1]
    assert x.requestLineRead == 0


def test_request_line_then_headers_then_blank_line_without_content_length():
    x = fed(REQUEST_LINE + "\r\n", "Host: h\r\n", "Accept: */*\r\n", "\r\n")
    assert codes(x, 7) == [1, 2, 3, 2, 3, 2, None]
    assert x.requestLine == REQUEST_LINE
    assert x.header == {"host": ["Host", "h"], "accept": ["Accept", "*/*"]}
    assert (x.seenEndHeader, x.headerlength, x.body) == (1, 0, "")


def test_a_37_character_body_arrives_in_one_item():
    x = fed(REQUEST_LINE + "\r\n", "Content-Length: 37\r\n", "\r\n", BODY_1)
    assert codes(x, 5) == [1, 2, 3, 2, 5]
    assert x.needData == 1
    assert x.handleDataAquisition() == 4
    assert (x.currentBytes, x.needData) == (BODY_1, 0)
    assert x.handleDataAquisition() is None
    assert x.body == BODY_1


def test_a_74_character_body_arrives_in_two_items():
    x = fed(*EXAMPLE)
    assert codes(x, 7) == [1, 2, 3, 2, 3, 2, 5]
    assert codes(x, 4) == [4, 5, 4, None]
    assert x.body == BODY_1 + BODY_2


def test_the_body_is_not_cut_to_content_length():
    x = fed(REQUEST_LINE + "\r\nContent-Length: 2\r\n\r\ntoo long")
    assert codes(x, 5) == [1, 2, 3, 2, None]
    assert x.body == "too long"


def test_once_complete_it_stays_complete():
    x = fed(REQUEST_LINE + "\r\n\r\n")
    assert codes(x, 4) == [1, 2, None, None]


# -- mainBody, driven by hand --------------------------------------------------------------------


def test_mainBody_sends_one_mimeObject_to_a_linked_component():
    x = fed(*EXAMPLE)
    sink = component()
    x.link((x, "outbox"), (sink, "inbox"))
    for _ in range(100):
        if not x.mainBody():
            break
    else:
        pytest.fail("mainBody never finished")
    assert len(sink.inboxes["inbox"]) == 1
    m = sink.recv("inbox")
    assert isinstance(m, mimeObject)
    assert m.header == {"from": ["From", "random@hosts.com"],
                        "content-length": ["Content-Length", "74"]}
    assert len(m.body) == 74
    assert m is x.mimeRequest
    assert isinstance(x.request, requestLine) and m.preambleLine is x.request
    assert str(x.request) == REQUEST_LINE
    assert x.gotRequest == 1


def test_mainBody_returns_1_while_the_request_is_incomplete():
    x = fed(REQUEST_LINE + "\r\n")
    assert [x.mainBody() for _ in range(3)] == [1, 1, 1]
    assert x.gotRequest == 0


def test_driving_by_hand_with_activate_and_next_ends_with_StopIteration():
    x = fed(*EXAMPLE)
    sink = component()
    x.link((x, "outbox"), (sink, "inbox"))
    x.activate()
    for _ in range(100):
        try:
            x.next()
        except StopIteration:
            break
    else:
        pytest.fail("never stopped")
    assert sink.dataReady("inbox") == 1


def test_a_bad_request_line_sends_errorInformation_on_signal_and_stops():
    x = fed("NONSENSE\r\n", "\r\n")
    h = ComponentHarness(x)
    h.runUntilIdle()
    assert h.finished
    assert h.ready("outbox") == 0
    err = h.get("signal")
    assert isinstance(err, errorInformation) and err.caller is x
    assert isinstance(err.exception, BadRequest)
    assert err.exception.request == "NONSENSE"


def test_a_malformed_header_line_is_a_bad_request_too():
    h = ComponentHarness(fed(REQUEST_LINE + "\r\n", "NoSeparatorHere\r\n", "\r\n"))
    h.runUntilIdle()
    assert h.finished and h.ready("outbox") == 0
    err = h.get("signal")
    assert err.exception.request == "NoSeparatorHere"
    assert isinstance(err.exception.exception, ValueError)


def test_a_non_numeric_content_length_is_a_bad_request():
    h = ComponentHarness(fed(REQUEST_LINE + "\r\n", "Content-Length: lots\r\n", "\r\n"))
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal").exception, BadRequest)


# -- the component under the harness --------------------------------------------------------------

WHOLE = "".join(EXAMPLE)


def chunked(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("items", [
    [WHOLE],
    EXAMPLE,
    WHOLE.splitlines(keepends=True),
    chunked(WHOLE, 7),
    list(WHOLE),
    [piece.encode("latin-1") for piece in chunked(WHOLE, 5)],
], ids=["whole", "example items", "lines", "7-char chunks", "one char at a time", "bytes"])
def test_the_same_request_in_any_chunking_gives_the_same_mimeObject(items):
    h = ComponentHarness(fed(*items))
    h.runUntilIdle()
    assert h.finished
    m = h.get("outbox")
    assert h.ready("outbox") == 0 and h.ready("signal") == 0
    assert m.header == {"from": ["From", "random@hosts.com"],
                        "content-length": ["Content-Length", "74"]}
    assert m.body == BODY_1 + BODY_2
    assert str(m.preambleLine) == REQUEST_LINE


def test_it_sleeps_while_waiting_and_wakes_for_more_data():
    h = ComponentHarness(MimeRequestComponent())
    h.runUntilIdle()
    assert not h.finished and h.scheduler.isIdle()
    for item in EXAMPLE[:5]:
        h.put(item)
        h.runUntilIdle()
        assert not h.finished and h.ready("outbox") == 0
    h.put(EXAMPLE[5])
    h.runUntilIdle()
    assert h.finished
    assert len(h.get("outbox").body) == 74


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()],
                         ids=["producerFinished", "shutdownMicroprocess"])
def test_shutdown_on_control_gives_up_on_an_incomplete_request(message):
    h = ComponentHarness(fed(REQUEST_LINE + "\r\n", "Content-Length: 10\r\n\r\n", "short"))
    h.runUntilIdle()
    assert not h.finished
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.ready("outbox") == 0
    assert h.getAll("signal") == [message]


def test_a_producerFinished_right_behind_a_complete_request_does_not_lose_it():
    x = fed(*EXAMPLE)
    x._deliver(producerFinished(), "control")
    h = ComponentHarness(x)
    h.runUntilIdle()
    assert h.finished
    assert len(h.get("outbox").body) == 74
    assert h.ready("signal") == 0


def test_other_control_messages_are_discarded():
    h = ComponentHarness(fed(REQUEST_LINE + "\r\n"))
    h.put("not a shutdown", "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0
    assert h.component.dataReady("control") == 0
    h.put("\r\n")
    h.runUntilIdle()
    assert h.finished and h.ready("outbox") == 1


def test_the_request_is_reported_on_the_debug_section_when_enabled(monkeypatch, caplog):
    monkeypatch.setattr(debug, "configs", dict(debug.configs or {}))
    monkeypatch.setattr(debug, "noConfig", False)
    debug().addDebugSection("MimeRequestComponent.mainBody", 10)
    h = ComponentHarness(fed(*EXAMPLE))
    with caplog.at_level(logging.INFO, logger="Axon.debug"):
        h.runUntilIdle()
    assert h.finished
    assert "MimeRequestComponent.mainBody" in caplog.text
    assert REQUEST_LINE in caplog.text and "random@hosts.com" in caplog.text


def test_the_debug_section_is_among_the_defaults():
    from Axon.debugConfigDefaults import defaultConfig
    assert defaultConfig()["MimeRequestComponent.mainBody"] == (0, "default")


def test_the_docstring_example_runs_and_prints_what_it_says(tmp_path):
    import re
    import subprocess
    import sys
    section = module.__doc__.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    block = re.search(r"::\n\n((?:(?:    .*)?\n)+)", section).group(1)
    code = re.sub(r"(?m)^    ", "", block)
    promised = [line[2:] for line in code.split("# prints:\n", 1)[1].splitlines() if line.startswith("# ")]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == promised == ["GET /index.html", "['Content-Length', '5'] 'hello'"]
