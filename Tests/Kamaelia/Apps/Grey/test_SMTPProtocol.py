"""The pure SMTP layer: command and path parsing, the state table, DATA checks, replies."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.SMTPProtocol import (
    CONNECTED,
    DATA,
    GREETED,
    MAIL,
    NORMALIZE,
    RCPT,
    REJECT,
    TRANSITIONS,
    DataChecker,
    MessageReader,
    SMTPError,
    SMTPSession,
    SMTPStateError,
    allowedParameters,
    commandLine,
    decode,
    encode,
    framingTerminator,
    hasRoute,
    parseCommand,
    parseHeloName,
    parseMailFrom,
    parseRcptTo,
)
from Kamaelia.Apps.Grey.SMTPReplies import Reply, ReplyError, ReplyParser, capabilities
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

# -- commands -----------------------------------------------------------------------

@pytest.mark.parametrize("line,verb,argument", [
    (b"HELO example.org", "HELO", "example.org"),
    (b"helo example.org", "HELO", "example.org"),
    (b"eHlO  Example.Org  ", "EHLO", "Example.Org"),
    (b"MAIL FROM:<A@B.c>", "MAIL", "FROM:<A@B.c>"),
    (b"quit", "QUIT", ""),
    (b"  NOOP", "NOOP", ""),
])
def test_verbs_are_case_insensitive_and_arguments_keep_their_case(line, verb, argument):
    command = parseCommand(line)
    assert (command.verb, command.argument) == (verb, argument)


@pytest.mark.parametrize("line", [b"", b"   ", b"12345", b"MA1L FROM:<a@b>", b"\x00\x01", b"<x>"])
def test_lines_without_a_verb_are_unrecognised(line):
    with pytest.raises(SMTPError) as e:
        parseCommand(line)
    assert e.value.reply.code == 500


@given(st.binary(max_size=200))
def test_decoding_is_lossless_for_any_bytes(raw):
    assert encode(decode(raw)) == raw


# -- paths --------------------------------------------------------------------------

@pytest.mark.parametrize("argument,address,params", [
    ("FROM:<>", "", {}),
    ("FROM:<alice@example.org>", "alice@example.org", {}),
    ("FROM: <alice@example.org>", "alice@example.org", {}),
    ("from:alice@example.org", "alice@example.org", {}),
    ("FROM:<Alice.Smith@Example.ORG>", "Alice.Smith@Example.ORG", {}),
    ("FROM:<@relay1,@relay2:alice@example.org>", "alice@example.org", {}),
    ('FROM:<"alice smith"@example.org>', '"alice smith"@example.org', {}),
    ("FROM:<alice@[192.0.2.1]>", "alice@[192.0.2.1]", {}),
    ("FROM:<alice@[IPv6:2001:db8::1]>", "alice@[IPv6:2001:db8::1]", {}),
    ("FROM:<a@b.c> SIZE=1000 BODY=8BITMIME", "a@b.c", {"SIZE": "1000", "BODY": "8BITMIME"}),
    ("FROM:<a@b.c> size=7 body=7bit", "a@b.c", {"SIZE": "7", "BODY": "7bit"}),
    ("FROM:<ü@bücher.example> SMTPUTF8", "ü@bücher.example", {"SMTPUTF8": None}),
])
def test_mail_from_accepts_what_real_clients_send(argument, address, params):
    path = parseMailFrom(argument, allowed={"SIZE", "BODY", "SMTPUTF8"})
    assert path.address == address
    assert path.params == params


@pytest.mark.parametrize("argument,code", [
    ("TO:<a@b.c>", 501),                 # wrong keyword
    ("FROM:", 501),                      # no path
    ("FROM:<a@b.c", 501),                # unterminated
    ("FROM:<a..b@c.d>", 501),            # bad local part
    ("FROM:<a@-b.c>", 501),              # bad domain
    ("FROM:<a b@c.d>", 501),             # space outside quotes
    ("FROM:<a@b.c> SIZE=abc", 501),
    ("FROM:<a@b.c> SIZE=", 501),
    ("FROM:<a@b.c> BODY=BINARYMIME", 501),
    ("FROM:<a@b.c> SIZE=1 SIZE=2", 501),
    ("FROM:<a@b.c> AUTH=<>", 555),       # not offered
    ("FROM:<%s@b.c>" % ("x" * 65), 501),  # local part over 64
])
def test_mail_from_errors_carry_the_right_reply(argument, code):
    with pytest.raises(SMTPError) as e:
        parseMailFrom(argument, allowed={"SIZE", "BODY"})
    assert e.value.reply.code == code


@pytest.mark.parametrize("argument,address", [
    ("TO:<bob@example.org>", "bob@example.org"),
    ("TO:<postmaster>", "postmaster"),
    ("TO:<PostMaster>", "PostMaster"),
    ("to: <bob@example.org>", "bob@example.org"),
])
def test_rcpt_to_accepts_postmaster_without_a_domain(argument, address):
    assert parseRcptTo(argument).address == address


@pytest.mark.parametrize("argument", ["TO:<>", "TO:<bob>", "FROM:<bob@example.org>", "TO:"])
def test_rcpt_to_refuses_bad_recipients(argument):
    with pytest.raises(SMTPError) as e:
        parseRcptTo(argument)
    assert e.value.reply.code == 501


def test_path_helpers():
    path = parseRcptTo("TO:<Bob@Example.ORG>")
    assert path.bracketed() == "<Bob@Example.ORG>"
    assert path.domain() == "example.org"
    assert parseRcptTo("TO:<postmaster>").domain() == ""


def test_helo_name_is_one_word_and_required():
    assert parseHeloName("client.example.org") == "client.example.org"
    assert parseHeloName("[192.0.2.1] extra words") == "[192.0.2.1]"
    with pytest.raises(SMTPError) as e:
        parseHeloName("")
    assert e.value.reply.code == 501


def test_allowed_parameters_follow_the_offered_extensions():
    offered = ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"]
    assert allowedParameters(offered, "MAIL") == {"SIZE", "BODY"}
    assert allowedParameters(offered + ["DSN"], "RCPT") == {"NOTIFY", "ORCPT"}
    assert allowedParameters(["PIPELINING"], "MAIL") == frozenset()


# -- the state table ------------------------------------------------------------------------

def test_sequence_errors_before_hello():
    session = SMTPSession()
    assert session.sequenceError("MAIL") == R.SEND_HELLO_FIRST
    assert session.sequenceError("RCPT") == R.SENDER_NOT_GIVEN
    assert session.sequenceError("DATA") == R.RCPT_BEFORE_DATA
    for verb in ("HELO", "EHLO", "NOOP", "RSET", "QUIT", "VRFY", "HELP"):
        assert session.sequenceError(verb) is None


def test_a_whole_transaction_walks_the_table():
    session = SMTPSession()
    session.greet("client", esmtp=True)
    assert session.state == GREETED
    session.startTransaction(parseMailFrom("FROM:<a@b.c>"))
    assert session.sequenceError("MAIL") == R.SENDER_ALREADY_GIVEN
    assert session.sequenceError("DATA") == R.RCPT_BEFORE_DATA
    session.addRecipient(parseRcptTo("TO:<x@y.z>"))
    assert session.state == RCPT
    session.startData()
    assert session.state == DATA
    session.endData()
    assert session.state == GREETED and session.sender is None and session.recipients == []
    assert session.transactions == 1


def test_data_after_only_refused_recipients_is_554():
    session = SMTPSession()
    session.greet("client", esmtp=False)
    session.startTransaction(parseMailFrom("FROM:<a@b.c>"))
    session.recipientRefused()
    assert session.sequenceError("DATA") == R.NO_VALID_RECIPIENTS


def test_rset_and_rehello_reset_the_transaction_but_rset_keeps_the_greeting():
    session = SMTPSession()
    session.greet("client", esmtp=True)
    session.startTransaction(parseMailFrom("FROM:<a@b.c>"))
    session.reset()
    assert session.state == GREETED and session.heloName == "client"
    session.startTransaction(parseMailFrom("FROM:<a@b.c>"))
    session.greet("other", esmtp=True)
    assert session.state == GREETED and session.sender is None


def test_starttls_forgets_everything_about_the_client():
    session = SMTPSession()
    assert session.sequenceError("STARTTLS") == R.SEND_HELLO_FIRST
    session.greet("client", esmtp=True)
    session.tlsStarted()
    assert session.tls and session.heloName is None and session.state == CONNECTED
    assert session.sequenceError("MAIL") == R.SEND_HELLO_FIRST


def test_the_sender_tried_and_the_recipients_refused_are_kept_for_the_result_line():
    """attempted: the most recent MAIL tried (accepted or not) until the transaction ends;
    refused: the recipients refused since that MAIL."""
    session = SMTPSession()
    session.greet("client", esmtp=True)
    banned = parseMailFrom("FROM:<banned@b.c>")
    session.mailAttempted(banned)
    assert session.attempted == banned and session.sender is None and session.state == GREETED
    sender = parseMailFrom("FROM:<a@b.c>")
    session.mailAttempted(sender)
    session.startTransaction(sender)
    nobody = parseRcptTo("TO:<nobody@y.z>")
    session.recipientRefused(nobody)
    session.addRecipient(parseRcptTo("TO:<x@y.z>"))
    assert (session.attempted, session.refused, session.rcptAttempts) == (sender, [nobody], 2)
    session.reset()
    assert session.attempted is None and session.refused == [nobody]
    session.mailAttempted(sender)
    assert session.refused == [], "a new MAIL starts a new list"
    session.close()
    with pytest.raises(SMTPStateError):
        session.mailAttempted(sender)


def test_using_the_session_out_of_order_is_our_bug():
    session = SMTPSession()
    with pytest.raises(SMTPStateError):
        session.startTransaction(parseMailFrom("FROM:<a@b.c>"))
    with pytest.raises(SMTPStateError):
        session.endData()


def test_every_table_entry_names_real_states():
    states = {CONNECTED, GREETED, MAIL, RCPT, DATA, "CLOSED"}
    for moves in TRANSITIONS.values():
        assert set(moves) <= states
        assert {s for s in moves.values() if s is not None} <= states


# -- DATA checks ----------------------------------------------------------------------------

def test_only_a_lone_dot_ends_the_message():
    checker = DataChecker(maxSize=None)
    for line in (b"..", b". ", b".x", b"", b"a.", b".\r", b"\n."):
        assert checker.line(line) is False
    assert checker.line(b".") is True


@pytest.mark.parametrize("line", [b"abc\ndef", b"\n.", b".\n", b"x\r", b"\rMAIL FROM:<a@b>"])
def test_bare_cr_or_lf_inside_a_line_refuses_the_message(line):
    checker = DataChecker(maxSize=None)
    checker.line(line)
    checker.line(b".")
    assert checker.failure() == R.BARE_NEWLINE


def test_size_is_counted_as_sent_and_enforced():
    checker = DataChecker(maxSize=10)
    checker.line(b"12345678")
    assert not checker.failed
    checker.line(b"x")
    assert checker.failure() == R.MESSAGE_TOO_BIG


def test_an_over_long_line_refuses_the_message():
    checker = DataChecker(maxSize=None)
    checker.lineTooLong(2000)
    assert checker.failure() == R.DATA_LINE_TOO_LONG


# -- replies --------------------------------------------------------------------------------

def test_reply_formatting_single_and_multi_line():
    assert str(R.GREYLISTED) == "451 4.7.1 Please try again later"
    reply = Reply(250, None, "mx.example.org", "PIPELINING", "SIZE 100")
    assert reply.toLines() == ["250-mx.example.org", "250-PIPELINING", "250 SIZE 100"]
    assert R.CLOSING.format(servername="mx").toLines() == ["221 2.0.0 mx closing connection"]


def test_parser_assembles_multi_line_replies_and_enhanced_codes():
    parser = ReplyParser()
    assert parser.feed(b"250-first") is None
    assert parser.partial
    reply = parser.feed(b"250 last")
    assert reply.lines == ["first", "last"] and not parser.partial
    reply = parser.feed(b"550 5.1.1 <x@y>: Recipient address rejected")
    assert (reply.code, reply.enhanced, reply.lines) == (550, "5.1.1", ["<x@y>: Recipient address rejected"])
    assert parser.feed(b"354").lines == [""]


@pytest.mark.parametrize("line", [b"", b"25", b"abc ok", b"250x", b"999 no", b"100 too low"])
def test_parser_refuses_malformed_lines(line):
    with pytest.raises(ReplyError):
        ReplyParser().feed(line)


def test_parser_refuses_a_code_change_inside_a_reply():
    parser = ReplyParser()
    parser.feed(b"250-one")
    with pytest.raises(ReplyError):
        parser.feed(b"251 two")


def test_capabilities_from_an_ehlo_reply():
    parser = ReplyParser()
    for line in (b"250-backend.example", b"250-PIPELINING", b"250-SIZE 10240000",
                 b"250-XCLIENT NAME ADDR PROTO HELO", b"250 8bitmime"):
        reply = parser.feed(line)
    caps = capabilities(reply)
    assert caps["SIZE"] == ("10240000",)
    assert caps["XCLIENT"] == ("NAME", "ADDR", "PROTO", "HELO")
    assert "8BITMIME" in caps and "BACKEND.EXAMPLE" not in caps


def test_enhanced_code_is_added_when_missing():
    assert Reply(550, None, "no").withEnhanced().enhanced == "5.0.0"
    assert Reply(250, "2.1.5", "ok").withEnhanced().enhanced == "2.1.5"


@settings(max_examples=200)
@given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                min_size=1, max_size=5),
       st.sampled_from([250, 354, 421, 451, 550]))
def test_formatting_then_parsing_gives_back_the_reply(lines, code):
    lines = [l.strip() for l in lines]
    original = Reply(code, None, *lines)
    parser = ReplyParser()
    parsed = None
    for wire in original.toLines():
        parsed = parser.feed(wire.encode())
    assert parsed.code == code
    assert [l.strip() for l in parsed.lines] == [l.strip() for l in original.lines] or parsed.enhanced


# -- hostile names and addresses ---------------------------------------------------------

@pytest.mark.parametrize("argument", ["\udcff", "client\udcc3(", "a\x00b", "x\x7f"])
def test_helo_names_that_are_not_utf8_or_not_printable_are_refused(argument):
    with pytest.raises(SMTPError) as info:
        parseHeloName(argument)
    assert info.value.reply == R.HELO_SYNTAX


def test_a_utf8_helo_name_is_accepted():
    assert parseHeloName("b\u00fccher.example") == "b\u00fccher.example"


@pytest.mark.parametrize("argument", ["TO:<\udcff@example.org>", "TO:<a@exa\udcffmple.org>"])
def test_addresses_that_are_not_utf8_are_refused(argument):
    with pytest.raises(SMTPError):
        parseRcptTo(argument)


@pytest.mark.parametrize("address,routed", [
    ("victim%evil.example@example.org", True),
    ("evil.example!victim@example.org", True),
    ('"victim@evil.example"@example.org', True),
    ("plain.user+tag@example.org", False),
    ("postmaster", False),
    ('"quoted user"@example.org', False),
])
def test_routing_in_the_local_part_is_recognised(address, routed):
    assert hasRoute(address) is routed


def test_a_trailing_dot_is_the_same_domain():
    assert parseRcptTo("TO:<u@Example.ORG.>").domain() == "example.org"
    assert parseRcptTo("TO:<u@Example.ORG.>").address == "u@Example.ORG"
    assert parseMailFrom("FROM:<s@example.net.>").address == "s@example.net"


def test_replies_never_echo_unprintable_client_text():
    text = str(R.HELO_OK.format(servername="mx", remotename="\udcff\x00n\u00e9", peer="1.2.3.4"))
    assert text == "250 mx Hello ??n? 1.2.3.4"
    assert text.isascii()


def test_backend_reply_text_is_made_printable():
    reply = ReplyParser().feed(b"550 5.1.1 \xff\x1bbad")
    assert reply.code == 550 and reply.text.isascii() and "\x1b" not in reply.text


# -- message content: bare newlines -------------------------------------------------------

def readMessage(data, mode, maxSize=None, chunk=None):
    """Frame ``data`` as the handler does and feed a MessageReader; (ended, out, rest)."""
    reader = MessageReader(maxSize, mode)
    buffer = LineBuffer(framingTerminator(mode), reader.framingLimit)
    pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    ended = False
    for piece in pieces:
        buffer.feed(piece)
        while not ended:
            line = buffer.nextLine()
            if line is None:
                break
            ended = reader.line(line)
    return ended, bytes(reader.out), buffer.unconsumed(), reader


def test_normalize_relays_bare_lf_lines_as_crlf_lines():
    ended, out, rest, reader = readMessage(b"a\nb\r\nc\rd\r\n.\r\nNEXT", NORMALIZE)
    assert ended and reader.failure() is None
    assert out == b"a\r\nb\r\nc\r\nd\r\n"
    assert rest == b"NEXT"


@pytest.mark.parametrize("data", [b"x\n.\nMAIL FROM:<e@x>\r\n", b"x\r\n.\nRCPT TO:<v@x>\r\n",
                                  b"x\n.\r\nDATA\r\n", b"x\r.\rMAIL FROM:<e@x>\r\n",
                                  b"x\r\n.\rQUIT\r\n", b".\nMAIL FROM:<e@x>\r\n"])
def test_normalize_takes_only_crlf_dot_crlf_as_the_end_and_stuffs_false_ends(data):
    ended, out, rest, reader = readMessage(data + b".\r\nAFTER", NORMALIZE)
    assert ended and rest == b"AFTER"
    assert b"\r\n..\r\n" in b"\r\n" + out
    lines = out.split(b"\r\n")
    assert lines[-1] == b"" and b"." not in lines, "a lone dot would end the message downstream"
    assert b"\n" not in out.replace(b"\r\n", b"") and b"\r" not in out.replace(b"\r\n", b"")


@pytest.mark.parametrize("data", [b"x\n.\nMAIL FROM:<e@x>\r\n", b"x\n.\r\nDATA\r\n",
                                  b"x\r.\rMAIL FROM:<e@x>\r\n"])
def test_reject_refuses_bare_newlines_and_finds_the_same_end(data):
    ended, out, rest, reader = readMessage(data + b".\r\nAFTER", REJECT)
    assert ended and rest == b"AFTER"
    assert reader.failure() == R.BARE_NEWLINE


@given(st.binary(max_size=300), st.sampled_from([NORMALIZE, REJECT]), st.integers(1, 40))
@settings(max_examples=300, deadline=None)
def test_content_framing_is_chunking_invariant_and_never_relays_a_lone_dot(data, mode, chunk):
    whole = readMessage(data + b"\r\n.\r\n", mode)
    dripped = readMessage(data + b"\r\n.\r\n", mode, chunk=chunk)
    assert whole[:3] == dripped[:3]
    ended, out, rest, reader = whole
    assert ended
    if reader.failure() is None:
        assert out == b"" or out.endswith(b"\r\n")
        assert b"." not in out.split(b"\r\n")[:-1]


def test_command_lines_lose_the_cr_before_the_lf_when_framing_on_lf():
    assert commandLine(b"HELO x\r", NORMALIZE) == b"HELO x"
    assert commandLine(b"HELO x", NORMALIZE) == b"HELO x"
    assert commandLine(b"HELO x\r", REJECT) == b"HELO x\r"


@pytest.mark.parametrize("ending,ends", [(b"\r\n", True), (b"\n", False)])
def test_after_an_over_long_line_only_a_crlf_ended_one_lets_dot_crlf_end_the_data(ending, ends):
    reader = MessageReader(None, NORMALIZE)
    buffer = LineBuffer(framingTerminator(NORMALIZE), reader.framingLimit)
    buffer.feed(b"x" * 70000 + ending + b".\r\nMORE\r\n")
    results = []
    while True:
        try:
            line = buffer.nextLine()
        except LineTooLong as e:
            reader.lineTooLong(e.length, e.suffix)
            continue
        if line is None:
            break
        results.append(reader.line(line))
        if results[-1]:
            break
    assert results[0] is ends
    assert reader.failure() == R.DATA_LINE_TOO_LONG


def test_normalize_applies_the_line_limit_to_each_line_between_bare_crs():
    ended, out, rest, reader = readMessage(b"y" * 600 + b"\r" + b"z" * 600 + b"\r\n.\r\n", NORMALIZE)
    assert ended and reader.failure() is None
    assert out == b"y" * 600 + b"\r\n" + b"z" * 600 + b"\r\n"
    ended, out, rest, reader = readMessage(b"y" * 999 + b"\r\n.\r\n", NORMALIZE)
    assert ended and reader.failure() == R.DATA_LINE_TOO_LONG
