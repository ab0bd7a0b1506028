"""ESMTP extensions of the running greylister: SIZE (RFC 1870), PIPELINING (RFC 2920), 8BITMIME."""

from Kamaelia.Apps.Grey import SMTPReplies as R


def ehloKeywords(reply):
    return {line.split()[0]: line.split()[1:] for line in reply.lines[1:]}


def test_size_is_advertised_as_the_smaller_of_ours_and_the_backends(grey, e2e):
    """EHLO offers SIZE = min(max_message_size, the backend's SIZE)."""
    small = e2e.Backend(data_size_limit=50000)
    try:
        for ours, expected in ((100000, "50000"), (20000, "20000")):
            g = grey(small, name="grey%d" % ours, max_message_size=ours,
                     greylist_db="%s.sqlite" % ours)
            with g.connect() as c:
                c.banner()
                assert ehloKeywords(c.expect("EHLO client.test", 250))["SIZE"] == [expected]
            g.stop()
    finally:
        small.down()


def test_mail_with_a_declared_size_over_the_limit_gets_552(grey, backend):
    """MAIL FROM:<...> SIZE=n with n above the advertised limit: 552 5.3.4, the session goes on."""
    g = grey(backend, allowed_senders=["127.0.0.1"], max_message_size=100000)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        tooBig = c.command("MAIL FROM:<a@example.net> SIZE=100001")
        assert (tooBig.code, tooBig.lines) == (552, [str(R.MESSAGE_TOO_BIG)[4:]])
        c.expect("MAIL FROM:<a@example.net> SIZE=99999", 250)
        c.expect("RSET", 250)
    assert ("MAIL", "a@example.net", ("SIZE=100001",)) not in backend.handler.commands


def test_oversize_data_gets_552_and_nothing_is_delivered(grey, backend, e2e):
    """A message larger than max_message_size (no SIZE declared) is refused with 552 at the end
    of data; nothing reaches the backend; the next message on the same session goes through."""
    g = grey(backend, allowed_senders=["127.0.0.1"], max_message_size=100000)
    big = e2e.message("big", (b"y" * 900 + b"\r\n") * 200)
    with g.connect() as c:
        c.banner()
        replies = c.transaction("a@example.net", ["b@example.org"], big)
        assert [r.code for r in replies][-2:] == [354, 552]
        c.expect("NOOP", 250)
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("small"), helo=None)
        assert [r.code for r in replies] == [250, 250, 354, 250]
    [(_, _, received)] = backend.waitForMessages(1)
    assert b"Subject: small" in received


def test_pipelining_is_advertised_and_a_whole_session_in_one_write_works(grey, backend, e2e):
    """Two transactions and QUIT sent in a single write: one reply per command, in order, and
    both messages delivered intact."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    first, second = e2e.message("one"), e2e.message("two", b".dots\r\n")
    batch = (b"EHLO pipeliner.test\r\n"
             b"MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n"
             b"DATA\r\n" + e2e.dotStuff(first)
             + b"MAIL FROM:<d@example.net>\r\nRCPT TO:<e@example.org>\r\nDATA\r\n"
             + e2e.dotStuff(second) + b"QUIT\r\n")
    with g.connect() as c:
        c.banner()
        c.send(batch)
        replies = [c.reply() for _ in range(11)]
        assert [r.code for r in replies] == [250, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]
        assert "PIPELINING" in ehloKeywords(replies[0])
        assert c.closedByPeer()
    messages = backend.waitForMessages(2)
    assert [(m[0], m[1]) for m in messages] == [("a@example.net", ["b@example.org", "c@example.org"]),
                                                ("d@example.net", ["e@example.org"])]
    assert [e2e.withoutReceived(m[2]) for m in messages] == [first, second]


def test_pipelined_greylisted_transaction_gets_its_451_in_order(grey, backend, e2e):
    """MAIL, RCPT, DATA pipelined (waiting before the body, as RFC 2920 requires): the 451 comes
    in its place and the session continues with the next command."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nNOOP\r\n")
        assert [c.reply().code for _ in range(4)] == [250, 250, 451, 250]
    assert backend.messages == []


def test_body_8bitmime_is_passed_to_the_backend(grey, backend, e2e):
    """8BITMIME is offered because the backend offers it, and BODY=8BITMIME is passed on."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        assert "8BITMIME" in ehloKeywords(c.expect("EHLO client.test", 250))
        c.expect("MAIL FROM:<a@example.net> BODY=8BITMIME", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("8bit", b"\xe2\x82\xac\r\n")))
        assert c.reply().code == 250
    assert ("MAIL", "a@example.net", ("BODY=8BITMIME",)) in backend.handler.commands
    assert b"\xe2\x82\xac" in backend.waitForMessages(1)[0][2]


def test_smtputf8_address_reaches_the_backend_unchanged(grey, backend, e2e):
    """SMTPUTF8 is offered because the backend offers it; a UTF-8 mailbox goes through as is."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        assert "SMTPUTF8" in ehloKeywords(c.expect("EHLO client.test", 250))
        c.expect("MAIL FROM:<\u00e9l\u00e8ve@example.net> SMTPUTF8".encode(), 250)
        c.expect("RCPT TO:<\u00fcser@example.org>".encode(), 250)
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("utf8")))
        assert c.reply().code == 250
    [(sender, recipients, _)] = backend.waitForMessages(1)
    assert (sender, recipients) == ("\u00e9l\u00e8ve@example.net", ["\u00fcser@example.org"])


def test_null_sender_is_greylisted_like_any_other(grey, backend, e2e):
    """MAIL FROM:<> (bounces) is accepted and greylisted on the triplet with the null sender."""
    g = grey(backend)
    for expected in (451, 250):
        with g.connect() as c:
            c.banner()
            assert c.transaction("", ["b@example.org"], e2e.message("bounce"))[-1].code == expected
    assert backend.waitForMessages(1)[0][0] == "<>"     # aiosmtpd's way of recording MAIL FROM:<>
