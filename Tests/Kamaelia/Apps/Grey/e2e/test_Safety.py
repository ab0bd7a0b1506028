"""The greylister facing the internet: relaying, routing tricks, hostile bytes, bare newlines.

Each test runs the real program (``grey`` fixture) against a recording aiosmtpd backend and
talks to it over real sockets. "Outside" clients connect from 127.0.0.2, which no test lists
in ``allowed_senders``; the backend's recorded commands are the evidence of what was relayed.
"""

import pytest

OUTSIDE = "127.0.0.2"


def rcptsAtBackend(backend):
    return [c[1] for c in backend.handler.commands if c[0] == "RCPT"]


# -- RFC 5321 4.5.1 postmaster, and nothing more ------------------------------------------

@pytest.mark.parametrize("recipient", ["postmaster@other.example", "POSTMASTER@Other.Example",
                                       "PostMaster@[192.0.2.99]", "postmaster@example.org.evil"])
def test_postmaster_at_a_domain_we_do_not_serve_is_a_relay_attempt(grey, backend, recipient):
    g = grey(backend)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<spammer@example.net>", 250)
        reply = c.expect("RCPT TO:<%s>" % recipient, 550)
        assert reply.lines[-1].startswith("5.7.1")
        c.expect("DATA", 554)
    assert recipient not in rcptsAtBackend(backend)
    assert backend.messages == []


@pytest.mark.parametrize("recipient", ["postmaster", "PostMaster", "postmaster@example.org",
                                       "POSTMASTER@EXAMPLE.ORG"])
def test_postmaster_here_is_accepted_at_once_without_greylisting(grey, backend, e2e, recipient):
    g = grey(backend)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        replies = c.transaction("someone@example.net", [recipient], e2e.message("to postmaster"))
        assert [r.code for r in replies] == [250, 250, 250, 354, 250]
    backend.waitForMessages(1)


# -- routing in the local part -------------------------------------------------------------

ROUTED = ["victim%evil.example@example.org", '"victim@evil.example"@example.org',
          "evil.example!victim@example.org"]


@pytest.mark.parametrize("recipient", ROUTED)
def test_routing_tricks_from_outside_are_refused(grey, backend, recipient):
    g = grey(backend)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<spammer@example.net>", 250)
        reply = c.expect("RCPT TO:<%s>" % recipient, 550)
        assert reply.lines[-1].startswith("5.7.1")
    assert rcptsAtBackend(backend) == []


@pytest.mark.parametrize("recipient", ROUTED)
def test_allow_untrusted_routing_lets_them_through_to_greylisting(grey, backend, recipient):
    g = grey(backend, allow_untrusted_routing=True)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<sender@example.net>", 250)
        c.expect("RCPT TO:<%s>" % recipient, 250)
        assert c.command("DATA").code == 451      # greylisted like any other first attempt


def test_routing_from_an_allowed_client_is_relayed(grey, backend, e2e):
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        replies = c.transaction("a@example.net", [ROUTED[0]], e2e.message("routed"))
        assert replies[-1].code == 250
    assert backend.waitForMessages(1)[0][1] == [ROUTED[0]]


def test_a_trailing_dot_is_our_domain_not_a_relay_attempt(grey, backend, e2e):
    g = grey(backend)
    for attempt in (1, 2):
        with g.connect(source=OUTSIDE) as c:
            c.banner()
            replies = c.transaction("sender@example.net", ["user@example.org."], e2e.message("dot"))
            codes = [r.code for r in replies]
            assert codes[:3] == [250, 250, 250], codes
            assert codes[3] == (451 if attempt == 1 else 354), codes
    backend.waitForMessages(1)


# -- hostile bytes ---------------------------------------------------------------------------

def test_a_helo_name_that_is_not_utf8_gets_501_and_nothing_else_is_disturbed(grey, backend, e2e):
    """EHLO \\xff once killed the whole server; now it is a syntax error for that session."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as other:
        other.banner()
        other.expect("EHLO other.test", 250)
        with g.connect() as c:
            c.banner()
            reply = c.command(b"EHLO \xff")
            assert reply.code == 501
            assert all(line.isascii() for line in reply.raw)
            c.expect(b"HELO \xc3(broken", 501)
            c.expect(b"MAIL FROM:<\xff@example.net>", 503)
            c.expect("EHLO fine.test", 250)
            c.expect(b"MAIL FROM:<\xff@example.net>", 501)
            c.expect("NOOP", 250)
        replies = other.transaction("a@example.net", ["b@example.org"], e2e.message("still"),
                                    helo=None)
        assert [r.code for r in replies] == [250, 250, 354, 250]
    with g.connect() as late:
        late.banner()
        late.expect("NOOP", 250)
    assert g.running()


def test_echoed_arguments_are_printable_ascii(grey, backend):
    g = grey(backend)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        reply = c.command("EHLO b\u00fccher.example")
        assert reply.code == 250
        assert all(line.isascii() for line in reply.raw), reply.raw


# -- bare LF and CR in content: exactly one message in both modes ------------------------------

SMUGGLING = [
    b"Subject: a\r\n\r\nhi\n.\nMAIL FROM:<evil@example.net>\nRCPT TO:<victim@example.org>\nDATA\n"
    b"smuggled\n.\n",
    b"Subject: a\r\n\r\nhi\r\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\n"
    b"DATA\r\nsmuggled\r\n",
    b"Subject: a\r\n\r\nhi\n.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\n"
    b"DATA\r\nsmuggled\r\n",
    b"Subject: a\r\n\r\nhi\r.\rMAIL FROM:<evil@example.net>\rRCPT TO:<victim@example.org>\r\n",
]


@pytest.mark.parametrize("mode", ["normalize", "reject"])
@pytest.mark.parametrize("content", SMUGGLING)
def test_smuggling_with_bare_newlines_gives_exactly_one_message_or_none(grey, backend, e2e, mode,
                                                                       content):
    g = grey(backend, allowed_senders=["127.0.0.1"], bare_newline=mode)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        c.expect("DATA", 354)
        c.send(content + b"\r\n.\r\n")
        final = c.reply()
        c.expect("NOOP", 250)
        if mode == "reject":
            assert (final.code, final.lines[-1].split()[0]) == (554, "5.6.0")
        else:
            assert final.code == 250, final
    senders = [cmd[1] for cmd in backend.handler.commands if cmd[0] == "MAIL"]
    assert senders == ["a@example.net"], "a second envelope reached the backend"
    assert "victim@example.org" not in rcptsAtBackend(backend)
    if mode == "reject":
        assert backend.messages == []
    else:
        [(sender, recipients, data)] = backend.waitForMessages(1)
        assert recipients == ["b@example.org"]
        body = e2e.withoutReceived(data)
        assert b"\n" not in body.replace(b"\r\n", b"") and b"\r" not in body.replace(b"\r\n", b"")
        assert b"\r\n.\r\n" in body and b"MAIL FROM:<evil@example.net>" in body


def test_normalize_delivers_mail_from_a_client_that_ends_lines_with_bare_lf(grey, backend, e2e):
    """A broken but legitimate client (bare LF line ends, proper CRLF.CRLF) is not bounced."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: lf\n\nline one\nline two\r\n.\r\n")
        assert c.reply().code == 250
    [(_, _, data)] = backend.waitForMessages(1)
    assert e2e.withoutReceived(data) == b"Subject: lf\r\n\r\nline one\r\nline two\r\n"


# -- the real server's 421 ---------------------------------------------------------------------

def test_a_421_from_the_real_server_is_passed_on_and_the_client_disconnected(grey, backend):
    backend.handler.refuseRecipients["b@example.org"] = "421 4.3.2 backend shutting down"
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        reply = c.expect("RCPT TO:<b@example.org>", 421)
        assert "shutting down" in reply.text
        assert c.closedByPeer(), "RFC 5321 3.8: the connection must close after a 421"


# -- the backend losing the transaction between RCPT and DATA -----------------------------------

def test_backend_idle_timeout_between_rcpt_and_data_replays_the_envelope(grey, e2e):
    """The real server's idle timeout (421, close) strikes after RCPT: the proxy reconnects,
    replays MAIL and RCPT and the message is delivered; the client never sees the backend's
    503 for a DATA without an envelope."""
    backend = e2e.Backend(timeout=1)
    try:
        g = grey(backend, allowed_senders=["127.0.0.1"])
        with g.connect() as c:
            c.banner()
            c.expect("EHLO client.test", 250)
            c.expect("MAIL FROM:<a@example.net>", 250)
            c.expect("RCPT TO:<b@example.org>", 250)
            c.expect("RCPT TO:<c@example.org>", 250)
            e2e.waitFor(lambda: backend.handler.disconnects >= 1, deadline=5,
                        message="the backend's idle timeout")
            c.expect("DATA", 354)
            c.send(e2e.dotStuff(e2e.message("replayed")))
            assert c.reply().code == 250
        [(sender, recipients, _)] = backend.waitForMessages(1)
        assert (sender, recipients) == ("a@example.net", ["b@example.org", "c@example.org"])
    finally:
        backend.down()


def test_backend_restarted_between_rcpt_and_data_replays_the_envelope(grey, backend, e2e):
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        backend.down()
        backend.start()
        e2e.waitFor(lambda: backend.handler.disconnects >= 1, message="the old connection closed")
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("after restart")))
        assert c.reply().code == 250
    assert len(backend.waitForMessages(1)) == 1


def test_a_replay_the_backend_refuses_gives_a_4xx_never_a_5xx(grey, backend, e2e):
    """After the restart the real server refuses the sender: the client gets 451 for DATA."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        backend.down()
        backend.handler.refuseSenders["a@example.net"] = "550 5.7.1 not any more"
        backend.start()
        e2e.waitFor(lambda: backend.handler.disconnects >= 1, message="the old connection closed")
        reply = c.command("DATA")
        assert 400 <= reply.code < 500, reply
        c.expect("RSET", 250)
        c.expect("NOOP", 250)
    assert backend.messages == []
