"""The sans-IO SMTP server engine: events from bytes, the state table, chunking never matters.

Every conversation here is run whole, line by line and one byte at a time
(and, with hypothesis, split anywhere): the events and the reply bytes must
be identical, since the engine frames lines and never looks at TCP chunks.
"""

import ast
import doctest
import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey import SMTPServerEngine as engineModule
from Kamaelia.Apps.Grey.SMTPProtocol import REJECT, SMTPStateError
from Kamaelia.Apps.Grey.SMTPServerEngine import (
    CLOSED,
    COMMAND,
    CONNECTION_CLOSED,
    MESSAGE,
    NEED_DATA,
    TLS,
    TRANSITIONS,
    BadCommand,
    Data,
    EndOfMessage,
    Hello,
    Mail,
    MessageChunk,
    Noop,
    Quit,
    SMTPServerEngine,
    StartTLS,
    UnknownCommand,
)


def answer(event):
    """The reply a plain accepting server gives to each event (None: no reply)."""
    if isinstance(event, Data):
        return R.START_DATA
    if isinstance(event, Quit):
        return R.CLOSING.format(servername="mx.test")
    if isinstance(event, StartTLS):
        return R.TLS_READY
    if isinstance(event, UnknownCommand):
        return R.UNRECOGNISED
    if isinstance(event, BadCommand):
        return event.reply
    if isinstance(event, MessageChunk):
        return None
    return R.OK


def converse(chunks, respond=answer, **settings):
    """Feed ``chunks`` (empty ones skipped) then the end of input; return (events, replies, engine)."""
    engine = SMTPServerEngine(**settings)
    events, out = [], bytearray()
    for chunk in [c for c in chunks if c] + [b""]:
        engine.receive_data(chunk)
        while True:
            event = engine.next_event()
            if event is NEED_DATA:
                break
            events.append(event)
            if event is CONNECTION_CLOSED:
                return events, bytes(out), engine
            reply = respond(event)
            if reply is not None:
                out += engine.send(reply)
    return events, bytes(out), engine


def lines(data):
    return [part + b"\n" for part in data.split(b"\n")[:-1]] + (
        [data.rsplit(b"\n", 1)[-1]] if not data.endswith(b"\n") else [])


def everyChunking(data, **settings):
    """The conversation whole, line by line and byte by byte: all three must agree."""
    whole = converse([data], **settings)
    for chunks in (lines(data), [data[i:i + 1] for i in range(len(data))]):
        events, out, _ = converse(chunks, **settings)
        assert events == whole[0]
        assert out == whole[1]
    return whole


CONVERSATION = (b"EHLO client.example\r\n"
                b"MAIL FROM:<alice@sender.example> SIZE=120\r\n"
                b"RCPT TO:<bob@example.org>\r\n"
                b"DATA\r\n"
                b"Subject: test\r\n"
                b"\r\n"
                b"..leading dot stays stuffed\r\n"
                b"8-bit: \xc3\xa9\xff\r\n"
                b".\r\n"
                b"NOOP\r\n"
                b"QUIT\r\n"
                b"NOOP after the end\r\n")


def kinds(events):
    return [type(e).__name__ if e is not CONNECTION_CLOSED else "CLOSED" for e in events]


def test_module_example_runs():
    failures, tried = doctest.testmod(engineModule)
    assert tried > 5 and failures == 0


def test_a_whole_conversation_gives_the_same_events_however_it_is_chunked():
    events, out, engine = everyChunking(CONVERSATION)
    assert kinds(events) == ["Hello", "Mail", "Rcpt", "Data", "EndOfMessage", "Noop", "Quit",
                             "CLOSED"]
    assert events[4] == EndOfMessage(
        b"Subject: test\r\n\r\n..leading dot stays stuffed\r\n8-bit: \xc3\xa9\xff\r\n", None)
    assert [int(line[:3]) for line in out.split(b"\r\n")[:-1]] == [250, 250, 250, 354, 250,
                                                                   250, 221]
    assert engine.state == CLOSED, "nothing after the 221 is read"


def test_command_events_carry_the_verb_the_argument_and_the_1x_line():
    events, _, _ = everyChunking(b"ehlo Client.Example\r\nmail FROM:<A@B.c>\r\nHELO x\r\n")
    hello, mail, helo = events[:3]
    assert (type(hello), hello.verb, hello.argument, hello.esmtp) == (Hello, "EHLO",
                                                                      "Client.Example", True)
    assert hello.line == "ehlo Client.Example\r\n" and hello.raw == b"ehlo Client.Example"
    assert (type(mail), mail.verb, mail.argument) == (Mail, "MAIL", "FROM:<A@B.c>")
    assert helo.esmtp is False


def test_a_line_that_is_not_a_well_formed_command_still_gets_an_event():
    """A tab after the verb dispatches on the verb (as 1.x split() did) but has no argument."""
    events, _, _ = everyChunking(b"MAIL\tFROM:<a@b.c>\r\n\r\nBOGUS stuff\r\n")
    mail, blank, bogus = events[:3]
    assert type(mail) is Mail and mail.argument is None
    assert mail.parse_error.reply == R.UNRECOGNISED
    assert type(blank) is UnknownCommand and blank.verb == ""
    assert type(bogus) is UnknownCommand and bogus.verb == "BOGUS"


def test_command_line_limit_is_512_octets_with_crlf_and_reading_carries_on():
    fits = b"NOOP " + b"x" * (512 - 7) + b"\r\n"
    too_long = b"NOOP " + b"x" * (512 - 6) + b"\r\n"
    events, _, _ = everyChunking(fits + too_long + b"NOOP\r\n")
    assert kinds(events) == ["Noop", "BadCommand", "Noop", "CLOSED"]
    assert events[1] == BadCommand(R.LINE_TOO_LONG, 513)


def test_normalize_takes_a_bare_lf_as_a_line_end_for_commands():
    events, _, _ = everyChunking(b"NOOP\nMAIL FROM:<a@b.c>\r\n")
    assert kinds(events) == ["Noop", "Mail", "CLOSED"]
    assert events[0].raw == b"NOOP" and events[1].raw == b"MAIL FROM:<a@b.c>"


def test_reject_mode_splits_commands_on_crlf_only():
    events, _, _ = everyChunking(b"NOOP\nQUIT\r\nNOOP\r\n", bare_newline=REJECT)
    assert kinds(events) == ["Noop", "Noop", "CLOSED"], "the QUIT after a bare LF is no command"
    assert events[0].raw == b"NOOP\nQUIT"


SMUGGLED = [b"hi\n.\nMAIL FROM:<evil@x.y>\r\n", b"hi\r\n.\nRCPT TO:<victim@else.where>\r\n",
            b"hi\n.\r\nDATA\r\n", b"hi\r.\rMAIL FROM:<evil@x.y>\r\n"]


@pytest.mark.parametrize("smuggled", SMUGGLED)
@pytest.mark.parametrize("mode", ["normalize", "reject"])
def test_only_crlf_dot_crlf_ends_a_message(smuggled, mode):
    """Nothing after a false end becomes a command: one message, then the NOOP."""
    data = b"DATA\r\n" + smuggled + b".\r\nNOOP\r\n"
    events, _, _ = everyChunking(data, bare_newline=mode)
    assert kinds(events) == ["Data", "EndOfMessage", "Noop", "CLOSED"]
    end = events[1]
    if mode == "reject":
        assert end.failure == R.BARE_NEWLINE
    else:
        assert end.failure is None
        assert b"\r\n..\r\n" in end.data
        assert b"\n" not in end.data.replace(b"\r\n", b"")


def test_a_refused_data_leaves_the_next_lines_commands():
    def refuse(event):
        return R.NO_VALID_RECIPIENTS if isinstance(event, Data) else answer(event)

    events, _, _ = converse([b"DATA\r\nSubject: x\r\n.\r\n"], refuse)
    assert kinds(events) == ["Data", "UnknownCommand", "UnknownCommand", "CLOSED"]


def test_message_chunks_are_cut_by_content_not_by_arrival():
    body = b"".join(b"line %04d of the message\r\n" % i for i in range(200))
    data = b"DATA\r\n" + body + b".\r\n"
    events, _, _ = everyChunking(data, chunk_size=1000)
    chunks = [e for e in events if type(e) is MessageChunk]
    assert len(chunks) > 3 and all(len(c.data) >= 1000 for c in chunks)
    end = events[-2]
    assert type(end) is EndOfMessage and len(end.data) < 1000 + 30
    assert b"".join(c.data for c in chunks) + end.data == body


def test_without_a_chunk_size_the_whole_message_comes_at_its_end():
    body = b"x" * 100 + b"\r\n"
    events, _, _ = converse([b"DATA\r\n" + body * 400 + b".\r\n"], chunk_size=None)
    assert kinds(events) == ["Data", "EndOfMessage", "CLOSED"]
    assert events[1].data == body * 400


@pytest.mark.parametrize("content,failure", [
    ((b"x" * 900 + b"\r\n") * 3, R.MESSAGE_TOO_BIG),
    (b"z" * 1200 + b"\r\n" + b"short\r\n", R.DATA_LINE_TOO_LONG),
])
def test_content_checks_are_reported_at_the_end_and_framing_stays_in_step(content, failure):
    events, _, _ = everyChunking(b"DATA\r\n" + content + b".\r\nNOOP\r\n", max_message_size=2000)
    assert kinds(events) == ["Data", "EndOfMessage", "Noop", "CLOSED"]
    assert events[1].failure == failure


def test_start_message_then_354_reads_one_message():
    """1.x style: the DATA hook accepts (gettingdata), the 354 follows; both mean one message."""
    engine = SMTPServerEngine()
    engine.receive_data(b"DATA\r\nabc\r\n.\r\n")
    assert type(engine.next_event()) is Data
    engine.start_message()
    assert engine.state == MESSAGE
    engine.send(R.START_DATA)
    assert engine.state == MESSAGE
    assert engine.next_event() == EndOfMessage(b"abc\r\n", None)
    assert engine.state == COMMAND


def test_cancel_message_goes_back_to_commands():
    engine = SMTPServerEngine()
    engine.start_message()
    engine.cancel_message()
    engine.receive_data(b"NOOP\r\n")
    assert type(engine.next_event()) is Noop


def test_the_end_of_input_hands_out_complete_lines_first_and_drops_a_partial_one():
    engine = SMTPServerEngine()
    engine.receive_data(b"NOOP\r\nNOOP\r\nQUI")
    engine.receive_data(b"")
    assert engine.peer_closed and engine.state == COMMAND
    assert [type(engine.next_event()) for _ in range(2)] == [Noop, Noop]
    assert engine.next_event() is CONNECTION_CLOSED
    assert engine.state == CLOSED


def test_the_end_of_input_inside_a_message_closes_without_an_end_of_message():
    events, _, engine = converse([b"DATA\r\npartial\r\n"])
    assert kinds(events) == ["Data", "CLOSED"]
    assert engine.state == CLOSED


@pytest.mark.parametrize("reply", [R.CLOSING.format(servername="x"), R.TIMEOUT, R.SHUTTING_DOWN,
                                   R.TOO_MANY_ERRORS])
def test_221_and_421_replies_end_the_connection(reply):
    engine = SMTPServerEngine()
    engine.send(reply)
    engine.receive_data(b"NOOP\r\n")
    assert engine.state == CLOSED
    assert engine.next_event() is CONNECTION_CLOSED


def test_close_and_time_out_end_the_connection_and_a_timeout_is_remembered():
    engine = SMTPServerEngine()
    engine.close()
    engine.time_out()
    assert engine.state == CLOSED and not engine.timed_out, "a timeout after the end is none"
    engine = SMTPServerEngine()
    engine.receive_data(b"NOOP\r\n")
    engine.time_out()
    assert engine.timed_out and engine.next_event() is CONNECTION_CLOSED


def test_drain_is_a_flag_beside_the_state():
    engine = SMTPServerEngine()
    engine.drain()
    engine.receive_data(b"NOOP\r\n")
    assert engine.draining and engine.state == COMMAND
    assert type(engine.next_event()) is Noop


def test_starttls_discards_the_plaintext_until_the_handshake_is_done():
    engine = SMTPServerEngine()
    engine.receive_data(b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<injected@x.y>\r\n")
    assert type(engine.next_event()) is Hello
    engine.send(R.OK)
    assert type(engine.next_event()) is StartTLS
    engine.send(R.TLS_READY)
    assert engine.state == TLS
    engine.receive_data(b"RCPT TO:<also@injected>\r\n")
    assert engine.next_event() is NEED_DATA
    engine.tls_started()
    engine.receive_data(b"EHLO again\r\n")
    event = engine.next_event()
    assert type(event) is Hello and event.argument == "again"


def test_a_220_that_does_not_answer_starttls_changes_nothing():
    engine = SMTPServerEngine()
    engine.send(R.GREETING.format(servername="x", serverid="y", date="z"))
    engine.receive_data(b"NOOP\r\n")
    assert engine.state == COMMAND and type(engine.next_event()) is Noop


def test_the_end_of_input_during_the_handshake_closes():
    engine = SMTPServerEngine()
    engine.receive_data(b"STARTTLS\r\n")
    engine.next_event()
    engine.send(R.TLS_READY)
    engine.receive_data(b"")
    assert engine.next_event() is CONNECTION_CLOSED


def test_using_the_engine_out_of_order_is_our_bug():
    engine = SMTPServerEngine()
    with pytest.raises(SMTPStateError):
        engine.tls_started()
    engine.close()
    with pytest.raises(SMTPStateError):
        engine.start_message()


def test_text_lines_are_encoded_as_one_write_and_move_the_state_like_replies():
    engine = SMTPServerEngine()
    assert engine.send_lines(["250-first", "250 last"]) == b"250-first\r\n250 last\r\n"
    assert engine.send_lines(["354 go ahead"]) == b"354 go ahead\r\n"
    assert engine.state == MESSAGE
    assert engine.send_lines(["not a reply"]) == b"not a reply\r\n"
    assert engine.state == MESSAGE


def test_input_after_the_end_is_ignored():
    engine = SMTPServerEngine()
    engine.close()
    engine.receive_data(b"NOOP\r\n")
    assert engine.next_event() is CONNECTION_CLOSED


def test_the_state_table():
    """Pinned: a change to how the connection moves must be made here too, on purpose."""
    endings = {"reply 221": CLOSED, "reply 421": CLOSED, "close()": CLOSED, "time_out()": CLOSED,
               "input ended": CLOSED}
    assert TRANSITIONS == {
        COMMAND: {"reply 354": MESSAGE, "start_message()": MESSAGE,
                  "reply 220 to STARTTLS": TLS, **endings},
        MESSAGE: {"reply 354": MESSAGE, "start_message()": MESSAGE, "end of data": COMMAND,
                  "cancel_message()": COMMAND, **endings},
        TLS: {"tls_started()": COMMAND, **endings},
        CLOSED: {},
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(CONVERSATION)), max_size=30),
       st.sampled_from(["normalize", "reject"]), st.sampled_from([None, 7, 64]))
def test_any_chunking_gives_the_events_of_the_whole(cuts, mode, chunk_size):
    data = CONVERSATION + b"DATA\r\n" + SMUGGLED[0] + b"more\r\n.\r\n"
    points = sorted(set(cuts))
    pieces = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    whole = converse([data], bare_newline=mode, chunk_size=chunk_size)
    assert converse(pieces, bare_newline=mode, chunk_size=chunk_size)[:2] == whole[:2]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=12))
def test_arbitrary_bytes_never_raise_and_chunking_never_matters(data, cuts):
    points = sorted({c for c in cuts if c <= len(data)})
    pieces = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    assert converse(pieces)[:2] == converse([data])[:2]


class LineByLine(engineModule.MessageReader):
    """The reader with its block short cut turned off: every line through ``line``."""

    @property
    def takesBlocks(self):
        return False


CONTENT_PIECES = [b"a", b"text ", b".", b"..", b"\r", b"\n", b"\r\n", b"\r\n.\r\n", b"\x00",
                  b"\xff\xfe", b"x" * 499, b" " * 997, b".\r\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CONTENT_PIECES), max_size=40),
       st.lists(st.integers(min_value=0, max_value=4000), max_size=10),
       st.sampled_from([None, 30, 16384]), st.sampled_from([None, 1500]))
def test_runs_of_lines_taken_whole_give_what_line_by_line_gives(pieces, cuts, chunk_size, size):
    data = b"DATA\r\n" + b"".join(pieces) + b"\r\n.\r\nNOOP\r\nQUIT\r\n"
    points = sorted({c for c in cuts if c <= len(data)})
    chunks = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    settings_ = dict(chunk_size=chunk_size, max_message_size=size)
    fast = converse(chunks, **settings_)[:2]
    original = engineModule.MessageReader
    engineModule.MessageReader = LineByLine
    try:
        slow = converse(chunks, **settings_)[:2]
    finally:
        engineModule.MessageReader = original
    assert fast == slow, "the same events, chunks cut in the same places, the same replies"
    if chunk_size:
        assert all(len(e.data) >= chunk_size for e in fast[0] if type(e) is MessageChunk)


def test_ordinary_content_is_taken_in_runs_not_line_by_line():
    calls = []

    class Counting(engineModule.MessageReader):
        def line(self, raw):
            calls.append(raw)
            return super().line(raw)

    body = b"".join(b"line %04d\r\n" % i for i in range(100))
    original = engineModule.MessageReader
    engineModule.MessageReader = Counting
    try:
        events, _, _ = converse([b"DATA\r\n" + body + b".\r\n"])
    finally:
        engineModule.MessageReader = original
    assert kinds(events) == ["Data", "EndOfMessage", "CLOSED"] and events[1].data == body
    assert calls == []


def test_the_engine_modules_are_pure():
    """No Axon, sockets or clock in the engines (DESIGN.md: pure modules)."""
    forbidden = {"Axon", "socket", "time", "datetime", "selectors", "asyncio", "threading"}
    allowed = {"Kamaelia.Apps.Grey.SMTPProtocol", "Kamaelia.Apps.Grey.SMTPReplies",
               "Kamaelia.Support.LineBuffer"}
    for name in ("SMTPServerEngine", "SMTPClientEngine", "Capabilities", "SMTPProtocol"):
        spec = importlib.util.find_spec("Kamaelia.Apps.Grey." + name)
        with open(spec.origin, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        imported = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "Kamaelia.Apps.Grey":
                imported += ["Kamaelia.Apps.Grey." + alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported.append(node.module)
        assert imported, "the scan saw no imports in %s" % name
        for module in imported:
            assert module.split(".")[0] not in forbidden, "%s imports %s" % (name, module)
            if module.startswith("Kamaelia."):
                assert module in allowed, "%s imports %s" % (name, module)
