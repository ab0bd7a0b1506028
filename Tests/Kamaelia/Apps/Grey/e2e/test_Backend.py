"""What the client hears when the real mail server is down, refuses, or is slow.

The greylister never says 250 for a message the real server did not accept
(DESIGN.md decision 8): every failure there becomes a 4xx/5xx to the client.
"""

import socket
import threading
import time

import pytest

from Kamaelia.Apps.Grey import SMTPReplies as R


def test_backend_down_gives_451_at_rcpt_and_the_session_goes_on(grey, e2e):
    """Nothing listening at smtp_ip:smtp_port: EHLO and MAIL are still answered (the real server
    hears of the sender with the first recipient), RCPT gets 451 4.4.1, and the client may try
    again on the same connection."""
    g = grey(e2e.freePort(), allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        failed = c.command("RCPT TO:<b@example.org>")
        assert (failed.code, failed.lines) == (451, [str(R.BACKEND_UNAVAILABLE)[4:]])
        again = c.command("RCPT TO:<b@example.org>")
        assert again.code == 451
        assert c.command("DATA").code == 554     # no valid recipients
        c.expect("RSET", 250)
        c.expect("NOOP", 250)
        c.expect("QUIT", 221)
    assert g.running()


def test_backend_coming_back_is_used_again(grey, e2e):
    """After a failed attempt, the next MAIL connects again; once the server is up the mail goes
    through, exactly once."""
    backend = e2e.Backend()
    backend.down()
    g = grey(backend, allowed_senders=["127.0.0.1"])
    try:
        with g.connect() as c:
            c.banner()
            c.expect("EHLO client.test", 250)
            c.expect("MAIL FROM:<a@example.net>", 250)
            c.expect("RCPT TO:<b@example.org>", 451)
            c.expect("RSET", 250)
            backend.start()
            replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("back"), helo=None)
            assert [r.code for r in replies] == [250, 250, 354, 250]
        assert len(backend.waitForMessages(1)) == 1
    finally:
        backend.down()


def test_backend_refusing_a_recipient_reaches_the_client(grey, backend, e2e):
    """The real server's 550 for one recipient is relayed to the client at RCPT; the message goes
    to the other recipients only."""
    backend.handler.refuseRecipients["nobody@example.org"] = "550 5.1.1 <nobody@example.org>: user unknown"
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        refused = c.command("RCPT TO:<nobody@example.org>")
        assert refused.code == 550 and "user unknown" in refused.text
        c.expect("RCPT TO:<somebody@example.org>", 250)
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("partial")))
        assert c.reply().code == 250
        c.expect("QUIT", 221)
    [(_, recipients, _)] = backend.waitForMessages(1)
    assert recipients == ["somebody@example.org"]


def test_backend_refusing_every_recipient_makes_data_fail(grey, backend, e2e):
    """If the real server refused every recipient, DATA is not accepted (503/554) and nothing is
    sent."""
    backend.handler.refuseRecipients["nobody@example.org"] = "550 5.1.1 user unknown"
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<nobody@example.org>", 550)
        assert c.command("DATA").code in (503, 554)
        c.expect("NOOP", 250)
    assert backend.messages == []


def test_backend_refusing_at_end_of_data_reaches_the_client_and_nothing_is_accepted(grey, backend, e2e):
    """The real server's 554 after the final dot is what the client hears; the result log does
    not say ACCEPTED, and the message is not at the backend."""
    backend.handler.dataReply = "554 5.7.1 Content rejected by policy"
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["b@example.org"], e2e.message("bad"))[-1].code == 451
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("bad"), helo=None)
        assert [r.code for r in replies] == [250, 250, 354, 554]
        assert "Content rejected by policy" in replies[-1].text
        c.expect("NOOP", 250)
    assert backend.messages == [] and len(backend.handler.refusedAtData) == 1
    lines = g.waitForResults(2)
    assert lines[0].split(" | ")[5] == "DEFERRED"
    assert "ACCEPTED" not in lines[1] and "554" in lines[1], lines[1]


def test_backend_slower_than_backend_timeout_gives_451_and_nothing_is_lost_or_duplicated(grey, backend, e2e):
    """A backend that takes longer than backend_timeout to answer RCPT: the client gets 451 (the
    slow connection is dropped; the client's transaction stays open, with no recipient, so DATA
    gets 554 as for any transaction whose recipients all failed); a retry once the backend is
    quick again is delivered exactly once, even after the slow answer has come and gone."""
    backend.handler.delays["RCPT"] = 2.5
    g = grey(backend, allowed_senders=["127.0.0.1"], backend_timeout=1)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<slow@example.net>", 250)
        started = time.monotonic()
        timedOut = c.command("RCPT TO:<x@example.org>")
        assert timedOut.code == 451, timedOut
        assert 0.9 <= time.monotonic() - started < 2.4
        assert c.command("DATA").code == 554     # no valid recipients
        c.expect("RSET", 250)
        backend.handler.delays.clear()
        replies = c.transaction("slow@example.net", ["x@example.org"], e2e.message("once"), helo=None)
        assert [r.code for r in replies] == [250, 250, 354, 250]
    backend.waitForMessages(1)
    # the slow RCPT was answered on a connection the proxy had already dropped
    e2e.waitFor(lambda: len([cmd for cmd in backend.handler.commands if cmd[0] == "RCPT"]) == 2,
                message="both RCPTs at the backend")
    e2e.waitFor(lambda: time.monotonic() - started > 2.6, deadline=5, message="the slow reply's time")
    assert len(backend.messages) == 1


def test_slow_final_reply_is_waited_for_and_delivered_once(grey, backend, e2e):
    """backend_timeout is per command; the reply after the final dot may take longer (RFC 5321
    allows 10 minutes): the client waits and hears the real 250, and the message arrives once."""
    backend.handler.delays["DATA"] = 2
    g = grey(backend, allowed_senders=["127.0.0.1"], backend_timeout=1)
    with g.connect() as c:
        c.banner()
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("patience"))
        assert [r.code for r in replies] == [250, 250, 250, 354, 250]
        c.expect("QUIT", 221)
    assert len(backend.waitForMessages(1)) == 1


def test_backend_gone_before_data_gives_451_not_250(grey, backend, e2e):
    """The real server disappears between RCPT and DATA: the client hears a 4xx, never 250."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        backend.down()
        reply = c.command("DATA")
        if reply.code == 354:
            c.send(e2e.dotStuff(e2e.message("lost?")))
            reply = c.reply()
        assert 400 <= reply.code < 500, reply
    assert backend.messages == []


@pytest.fixture
def silentBackend():
    """A port that accepts connections (the kernel completes them) but never says anything."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(50)
        yield s.getsockname()[1]


def test_backend_that_never_greets_gives_451_within_the_timeouts(grey, silentBackend):
    """A real server that accepts but never sends its banner: EHLO and MAIL are still answered,
    RCPT gets a 451 once connect_timeout + backend_timeout have passed, and nothing hangs."""
    g = grey(silentBackend, allowed_senders=["127.0.0.1"], connect_timeout=1, backend_timeout=1)
    with g.connect() as c:
        c.banner()
        started = time.monotonic()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        reply = c.command("RCPT TO:<b@example.org>")
        assert reply.code == 451, reply
        assert time.monotonic() - started < 8
        c.expect("QUIT", 221)


def test_backend_hanging_up_at_once_gives_451(grey):
    """A real server that closes every connection straight away: 451 at RCPT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    stop = threading.Event()

    def hangUp():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.close()

    thread = threading.Thread(target=hangUp, daemon=True)
    thread.start()
    try:
        g = grey(listener.getsockname()[1], allowed_senders=["127.0.0.1"])
        with g.connect() as c:
            c.banner()
            c.expect("EHLO client.test", 250)
            c.expect("MAIL FROM:<a@example.net>", 250)
            c.expect("RCPT TO:<b@example.org>", 451)
            c.expect("QUIT", 221)
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_backend_restarted_between_transactions_is_reconnected(grey, backend, e2e):
    """The real server restarts while a client session is idle between two messages: the next
    transaction opens a new connection to it and is delivered (no spurious 451)."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["b@example.org"], e2e.message("one"))[-1].code == 250
        backend.down()
        backend.start()
        e2e.waitFor(lambda: backend.handler.disconnects >= 1, message="the old connection closed")
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("two"), helo=None)
        assert [r.code for r in replies] == [250, 250, 354, 250]
    assert len(backend.waitForMessages(2)) == 2


def test_backend_closing_an_idle_connection_with_421_is_reconnected(grey, e2e):
    """The real server closes the proxy's idle connection after its own timeout, saying 421 as
    Postfix does: that 421 is not taken as the reply to the client's next command; the proxy
    reconnects and the next message is delivered."""
    backend = e2e.Backend(timeout=1)
    try:
        g = grey(backend, allowed_senders=["127.0.0.1"])
        with g.connect() as c:
            c.banner()
            assert c.transaction("a@example.net", ["b@example.org"], e2e.message("one"))[-1].code == 250
            e2e.waitFor(lambda: backend.handler.disconnects >= 1, deadline=5,
                        message="the backend's idle timeout")
            replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("two"), helo=None)
            assert [r.code for r in replies] == [250, 250, 354, 250]
        assert len(backend.waitForMessages(2)) == 2
    finally:
        backend.down()
