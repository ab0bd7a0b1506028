"""The proxy conversation (ConcreteMailHandler) against a scripted backend, on a fake clock."""

import pytest

from Axon.Ipc import producerFinished
from Kamaelia.IPC import socketShutdown

CONVERSATION = (b"EHLO client.example\r\n"
                b"MAIL FROM:<alice@sender.example> SIZE=120\r\n"
                b"RCPT TO:<bob@example.org>\r\n"
                b"RCPT TO:<carol@example.org>\r\n"
                b"DATA\r\n"
                b"Subject: test\r\n"
                b"\r\n"
                b"..leading dot stays stuffed\r\n"
                b"8-bit: \xc3\xa9\xff\r\n"
                b".\r\n"
                b"QUIT\r\n")


def codes(text):
    return [int(line[:3]) for line in text.split("\r\n") if line[3:4] == " "]


@pytest.mark.parametrize("chunk", [None, 1, 2, 7, 64])
def test_same_replies_and_same_relay_whatever_the_chunking(proxy, chunk):
    """Whole, pipelined, dripped byte by byte: identical replies and byte-exact relay."""
    h = proxy.start()
    text = proxy.talk(h, CONVERSATION, chunk)
    assert codes(text) == [250, 250, 250, 250, 354, 250, 221]
    assert h.script.messages[0].endswith(
        b"Subject: test\r\n\r\n..leading dot stays stuffed\r\n8-bit: \xc3\xa9\xff\r\n")
    assert h.script.messages[0].startswith(b"Received: from client.example (unknown [192.0.2.10])")
    assert [c.split(" ")[0] for c in h.script.commands] == [
        "EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"]
    assert h.finished


def test_greeting_is_the_1x_banner(proxy):
    h = proxy.start()
    assert h.greeting.startswith("220 mx.test ESMTP Test ")
    assert h.greeting.endswith("\r\n") and h.greeting.count("\r\n") == 1


def test_client_hears_250_only_after_the_backend_accepted(proxy):
    """End of data waits for the backend's verdict; a refusal there reaches the client."""
    h = proxy.start(proxy.script(silentAt="END"))
    text = proxy.talk(h, CONVERSATION.replace(b"QUIT\r\n", b""))
    assert codes(text) == [250, 250, 250, 250, 354], "no 250 before the backend answers"
    h2 = proxy.start(proxy.script(final="554 5.7.1 Spam rejected"))
    text = proxy.talk(h2, CONVERSATION)
    assert codes(text)[-2:] == [554, 221]


def test_354_only_after_the_backend_354(proxy):
    h = proxy.start(proxy.script(dataStart="451 4.3.0 Not now"))
    text = proxy.talk(h, CONVERSATION.split(b"DATA\r\n")[0] + b"DATA\r\n")
    assert codes(text)[-1] == 451
    assert h.script.messages == []


def test_backend_recipient_refusals_reach_the_client(proxy):
    script = proxy.script(rcpt={"bob@example.org": "550 5.1.1 <bob@example.org>: unknown user"})
    h = proxy.start(script)
    text = proxy.talk(h, b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    assert codes(text) == [250, 250, 550, 554]
    assert "5.1.1 <bob@example.org>: unknown user" in text


def test_policy_refusal_defers_with_451_and_resets_the_backend(proxy):
    h = proxy.start(accept=False)
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\nNOOP\r\n")
    assert "451 4.7.1 Please try again later" in text
    assert codes(text)[-1] == 250, "the connection stays open after a deferral"
    assert h.script.commands[-1] == "RSET"
    assert h.component.mailStatus == "DEFERRED"
    assert h.script.messages == []


def test_policy_error_fails_closed_with_451(proxy):
    h = proxy.start(accept=RuntimeError("database on fire"))
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n")
    assert "451 4.3.0" in text
    assert h.script.messages == []


def test_unreachable_backend_gives_a_temporary_failure(proxy):
    h = proxy.start(proxy.script(refuse=True))
    text = proxy.talk(h, b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\n")
    assert codes(text) == [250, 250, 451], "MAIL is answered here; the server is needed at RCPT"
    assert "4.4.1" in text


def test_backend_refusing_us_at_the_banner_is_a_temporary_failure(proxy):
    h = proxy.start(proxy.script(banner="554 5.7.1 go away"))
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\n")
    assert codes(text) == [250, 250, 451]


def test_silent_backend_times_out_into_a_temporary_failure(proxy):
    h = proxy.start(proxy.script(silentAt="MAIL"))
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\n")
    assert codes(text) == [250, 250]
    h.advance(h.component.backend_timeout + 1)
    assert codes(proxy.replies(h)) == [451]


def test_backend_hanging_up_mid_message_gives_451_and_nothing_is_acknowledged(proxy):
    h = proxy.start(proxy.script(closeAt="END"))
    text = proxy.talk(h, CONVERSATION.replace(b"QUIT\r\n", b""))
    assert codes(text)[-1] == 451


SMUGGLED = (b"hi\n.\nMAIL FROM:<evil@x.y>\r\n",
            b"hi\r\n.\nRCPT TO:<victim@else.where>\r\n",
            b"hi\n.\r\nDATA\r\n",
            b"hi\r.\rMAIL FROM:<evil@x.y>\r\n",
            b"hi\r\n.\rRCPT TO:<victim@else.where>\r\n")


@pytest.mark.parametrize("smuggled", SMUGGLED)
def test_bare_newline_reject_refuses_the_message_whole(proxy, smuggled):
    """bare_newline = reject: a bare LF/CR anywhere refuses the message (554); nothing relayed."""
    h = proxy.start(bare_newline="reject")
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
                      + smuggled + b".\r\nNOOP\r\n")
    assert "554 5.6.0" in text
    assert codes(text)[-1] == 250
    assert h.script.messages == []
    assert all("evil" not in c and "victim" not in c for c in h.script.commands)


@pytest.mark.parametrize("smuggled", SMUGGLED)
def test_bare_newline_normalize_relays_one_message_with_the_fake_end_stuffed(proxy, smuggled):
    """bare_newline = normalize: one message, CRLF lines only, the false "." relayed as ".."."""
    h = proxy.start()
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
                      + smuggled + b".\r\nNOOP\r\n")
    assert codes(text) == [250, 250, 250, 354, 250, 250]
    assert len(h.script.messages) == 1
    body = h.script.messages[0].split(b"\r\n\r\n", 1)[0]
    assert b"\r\n..\r\n" in h.script.messages[0]
    assert b"\n" not in h.script.messages[0].replace(b"\r\n", b""), "a bare LF was relayed"
    assert b"\r" not in h.script.messages[0].replace(b"\r\n", b""), "a bare CR was relayed"
    assert body.startswith(b"Received: ")
    assert all("evil" not in c and "victim" not in c for c in h.script.commands)
    assert [c.split(" ")[0] for c in h.script.commands].count("MAIL") == 1


def test_a_second_transaction_after_the_dot_is_checked_like_any_other(proxy):
    """CRLF.CRLF then MAIL...: the second message is a new transaction, seen by the policy."""
    decisions = []

    class Counting(proxy.Proxy):
        def shouldWeAcceptMail(self):
            decisions.append(self.recipients[:])
            return len(decisions) == 1

    h = proxy.start(cls=Counting)
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
                      b"first\r\n.\r\nMAIL FROM:<evil@b.c>\r\nRCPT TO:<y@example.org>\r\nDATA\r\n"
                      b"second\r\n.\r\n")
    assert decisions == [["<x@example.org>"], ["<y@example.org>"]]
    assert len(h.script.messages) == 1
    assert b"second" not in h.script.messages[0]
    assert "451 4.7.1" in text


def test_size_limits(proxy):
    h = proxy.start(max_message_size=1000)
    text = proxy.talk(h, b"EHLO c\r\nMAIL FROM:<a@b.c> SIZE=5000\r\n")
    assert codes(text) == [250, 552]
    assert "SIZE 1000" in text
    big = b"x" * 900 + b"\r\n" + b"y" * 900 + b"\r\n"
    text = proxy.talk(h, b"MAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n" + big + b".\r\n")
    assert codes(text)[-1] == 552
    assert h.script.messages == []


def test_line_length_limits(proxy):
    h = proxy.start()
    text = proxy.talk(h, b"NOOP " + b"x" * 600 + b"\r\nNOOP\r\n")
    assert codes(text) == [500, 250]
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
                      + b"z" * 1200 + b"\r\n.\r\n")
    assert codes(text)[-1] == 554 and "998" in text


def test_recipient_limit_answers_452(proxy):
    h = proxy.start(max_recipients=2)
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\n" + b"".join(
        b"RCPT TO:<u%d@example.org>\r\n" % i for i in range(3)))
    assert codes(text) == [250, 250, 250, 250, 452]


def test_verbs_case_insensitive_postmaster_and_null_sender(proxy):
    h = proxy.start()
    text = proxy.talk(h, b"helo c\r\nmail from:<>\r\nrcpt to:<Postmaster>\r\ndata\r\nhi\r\n.\r\nquit\r\n")
    assert codes(text) == [250, 250, 250, 354, 250, 221]


def test_sequence_and_syntax_errors(proxy):
    h = proxy.start()
    text = proxy.talk(h, b"MAIL FROM:<a@b.c>\r\nHELO\r\nHELO c\r\nRCPT TO:<x@y.z>\r\nDATA\r\n"
                      b"MAIL FROM:<a@b..c>\r\nBOGUS\r\n")
    assert codes(text) == [503, 501, 250, 503, 503, 501, 500]


def test_too_many_errors_disconnects_with_421(proxy):
    h = proxy.start(maxErrors=3)
    text = proxy.talk(h, b"X\r\nY\r\nZ\r\nNOOP\r\n")
    assert codes(text) == [500, 500, 500, 421]
    assert h.finished


def test_inactivity_timeout_says_421(proxy):
    h = proxy.start(inactivity_timeout=300)
    proxy.talk(h, b"HELO c\r\n")
    h.advance(299)
    assert not h.finished
    h.advance(2)
    assert "421 4.4.2" in proxy.replies(h)
    assert h.finished


def test_drain_when_idle_says_421_and_closes(proxy):
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\n")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert "421 4.3.2" in proxy.replies(h)
    assert h.finished


def test_drain_mid_transaction_finishes_the_message_first(proxy):
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\nline\r\n")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    text = proxy.talk(h, b".\r\n")
    assert codes(text) == [250, 421]
    assert len(h.script.messages) == 1


def test_drain_between_rcpt_and_data_lets_the_transaction_finish(proxy):
    """A transaction begun (MAIL accepted) when the drain starts may still send DATA; 421 after."""
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\n")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    text = proxy.talk(h, b"RCPT TO:<y@example.org>\r\nDATA\r\nline\r\n.\r\n")
    assert codes(text) == [250, 354, 250, 421]
    assert h.finished
    assert len(h.script.messages) == 1


def test_drain_then_rset_ends_the_transaction_and_the_session(proxy):
    """RSET during a drain ends the transaction: 250 for the RSET, then 421 and close."""
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\n")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    text = proxy.talk(h, b"RSET\r\nMAIL FROM:<a@b.c>\r\n")
    assert codes(text) == [250, 421]
    assert h.finished
    assert h.script.messages == []


def test_client_disconnect_mid_message_delivers_nothing(proxy):
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\npartial\r\n")
    h.put(socketShutdown(), "control")
    h.runUntilIdle()
    assert h.finished
    assert h.script.messages == []


def test_half_closed_client_still_gets_every_reply(proxy):
    """The client sends everything then EOF (an empty chunk): all commands are answered."""
    h = proxy.start()
    h.put(CONVERSATION)
    h.put(b"")
    h.runUntilIdle()
    assert codes(proxy.replies(h)) == [250, 250, 250, 250, 354, 250, 221]


def test_xclient_is_used_when_offered_and_replaces_the_received_header(proxy):
    script = proxy.script(extensions=("PIPELINING", "XCLIENT NAME ADDR PORT PROTO HELO"))
    h = proxy.start(script)
    proxy.talk(h, CONVERSATION)
    xclient = [c for c in script.commands if c.startswith("XCLIENT")]
    assert xclient == ["XCLIENT NAME=[UNAVAILABLE] ADDR=192.0.2.10 PORT=40000 "
                       "HELO=client.example PROTO=ESMTP"]
    assert [c.split(" ")[0] for c in script.commands[:3]] == ["EHLO", "XCLIENT", "EHLO"]
    assert not script.messages[0].startswith(b"Received:")


def test_ehlo_offers_only_what_both_sides_support(proxy):
    h = proxy.start(proxy.script(extensions=("SIZE 5000",)), max_message_size=10000)
    text = proxy.talk(h, b"EHLO c\r\n")
    assert "250-PIPELINING" in text and "SIZE 5000" in text and "ENHANCEDSTATUSCODES" in text
    assert "8BITMIME" not in text and "STARTTLS" not in text
    h = proxy.start(proxy.script(extensions=("SIZE 50000", "8BITMIME", "DSN", "CHUNKING")),
                    max_message_size=10000)
    text = proxy.talk(h, b"EHLO c\r\n")
    assert "SIZE 10000" in text and "8BITMIME" in text and "DSN" in text
    assert "CHUNKING" not in text


def test_rset_resets_both_sides(proxy):
    h = proxy.start()
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRSET\r\nMAIL FROM:<d@e.f>\r\n")
    assert codes(text) == [250, 250, 250, 250]
    assert "RSET" in h.script.commands


def test_quit_closes_the_backend_politely(proxy):
    h = proxy.start()
    proxy.talk(h, b"HELO c\r\nQUIT\r\n")
    assert h.finished
    assert h.script.commands[-1] == "QUIT"


# -- the split: the session holds the 1.x state, the relay the backend, the cache is an object --

def test_1x_state_is_read_from_the_session(proxy):
    """sender, recipients, seen*, remotename: views of self.session, never separate copies."""
    script = proxy.script(replies={"MAIL": lambda line: "553 5.7.1 banned" if "banned" in line
                                   else "250 2.1.0 Ok"},
                          rcpt={"nobody@example.org": "550 5.1.1 unknown"})
    h = proxy.start(script)
    handler = h.component
    assert (handler.remotename, handler.seenHelo, handler.sender) == ("", False, None)
    text = proxy.talk(h, b"EHLO client.example\r\nMAIL FROM:<banned@x.example>\r\n"
                      b"RCPT TO:<bob@example.org>\r\n")
    assert codes(text) == [250, 250, 553], "the server's refusal of the sender comes at RCPT"
    assert handler.remotename == "client.example" and handler.seenHelo
    assert handler.sender == "<banned@x.example>", "the sender tried is kept for the result line"
    assert handler.seenMail and not handler.seenRcpt
    assert handler.refusedRecipients == ["<bob@example.org>"]
    proxy.talk(h, b"RSET\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@example.org>\r\n"
               b"RCPT TO:<bob@example.org>\r\n")
    assert handler.sender == "<a@b.example>" and handler.seenMail and handler.seenRcpt
    assert handler.recipients == ["<bob@example.org>"]
    assert handler.refusedRecipients == ["<nobody@example.org>"]
    handler.session.recipients.append(handler.session.recipients[0]._replace(address="c@d.example"))
    assert handler.recipients == ["<bob@example.org>", "<c@d.example>"], "no copy to go stale"
    proxy.talk(h, b"RSET\r\n")
    assert (handler.sender, handler.recipients, handler.seenMail) == (None, [], False)
    assert handler.remotename == "client.example"


def test_1x_code_may_still_set_the_envelope_attributes(proxy):
    h = proxy.start()
    handler = h.component
    handler.remotename = "set.by.hand"
    handler.sender = "<a@b.example>"
    handler.recipients = ["<c@d.example>", "<postmaster>"]
    assert handler.session.heloName == "set.by.hand"
    assert handler.session.attempted.address == "a@b.example"
    assert [r.address for r in handler.session.recipients] == ["c@d.example", "postmaster"]
    assert handler.recipients == ["<c@d.example>", "<postmaster>"]


def test_the_result_line_sees_the_envelope_of_a_transaction_that_just_ended(proxy):
    """The session's transaction ends after logResult, so the line names sender and recipients."""
    logged = []

    class Logging(proxy.Proxy):
        def logResult(self):
            logged.append((self.sender, self.recipients, self.outcome()))

    for script, outcome in ((proxy.script(), "ACCEPTED"),
                            (proxy.script(final="554 5.7.1 no"), "REFUSED 554"),
                            (proxy.script(dataStart="451 4.3.0 later"), "REFUSED 451")):
        logged.clear()
        h = proxy.start(script, cls=Logging)
        proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\nDATA\r\nhi\r\n.\r\n")
        assert logged == [("<a@b.c>", ["<x@example.org>"], outcome)]
        assert h.component.session.sender is None, "and then the transaction is over"


def test_the_backend_state_is_read_from_the_relay(proxy):
    h = proxy.start(proxy.script(extensions=("SIZE 5000", "8BITMIME")))
    handler = h.component
    assert handler.backend is None and not handler.backendUp and handler.backendCaps == {}
    proxy.talk(h, b"EHLO c\r\n")
    assert handler.backend is handler.relay.client and handler.backendUp
    assert handler.backendCaps == {"SIZE": ("5000",), "8BITMIME": ()}
    assert handler.smtp_reply.code == 250 and handler.smtp_line == "250 8BITMIME"
    assert not handler.xclientUsed
    proxy.talk(h, b"QUIT\r\n")
    assert handler.backend is None and not handler.backendUp


def test_ehlo_while_the_backend_is_down_offers_what_it_offered_last_time(proxy):
    """The capability cache is an object shared by a handler class, not a module global."""
    from Kamaelia.Apps.Grey.Capabilities import CapabilityCache

    class Cached(proxy.Proxy):
        capabilityCache = CapabilityCache()

    class Fresh(proxy.Proxy):
        capabilityCache = CapabilityCache()

    h = proxy.start(proxy.script(extensions=("SIZE 5000", "8BITMIME")), cls=Cached)
    proxy.talk(h, b"EHLO c\r\nQUIT\r\n")
    down = proxy.talk(proxy.start(proxy.script(refuse=True), cls=Cached), b"EHLO c\r\n")
    assert codes(down) == [250] and "SIZE 5000" in down and "8BITMIME" in down
    other = proxy.talk(proxy.start(proxy.script(refuse=True), cls=Fresh), b"EHLO c\r\n")
    assert "8BITMIME" not in other and "SIZE %d" % Fresh.max_message_size in other


def test_a_backend_that_hung_up_between_transactions_is_replaced_and_the_envelope_replayed(proxy):
    script = proxy.script()
    h = proxy.start(script)
    proxy.talk(h, b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@example.org>\r\n")
    first = h.component.relay.client
    first._deliver(producerFinished(), "control")        # the server's connection ends
    h.runUntilIdle()
    text = proxy.talk(h, b"DATA\r\nhi\r\n.\r\n")
    assert codes(text) == [354, 250]
    assert h.component.relay.client is not first and script.connections == 2
    assert script.commands == ["EHLO mx.test", "MAIL FROM:<a@b.c>", "RCPT TO:<x@example.org>",
                               "EHLO mx.test", "MAIL FROM:<a@b.c>", "RCPT TO:<x@example.org>",
                               "DATA"]
    assert len(script.messages) == 1
