"""The greylisting policy of the running program, seen from real SMTP clients over loopback."""

import concurrent.futures
import email
import email.utils
import re
import smtplib
import time

from Kamaelia.Apps.Grey import SMTPReplies as R

RESULT_LINE = re.compile(
    r"^(\d{14}\.\d{3}) \| (\S+) \| ([0-9a-f.:]+) \| (\S+) \| ([^|]+) \| ([A-Z0-9 ]+) \| ([0-9A-F]{10})$")

# 8-bit bytes, lines that need dot-stuffing, a lone "." line, trailing blanks, a 998-octet line
AWKWARD_BODY = (b"Caf\xc3\xa9 \xff\xfe\x80 raw 8-bit bytes\r\n"
                b".leading dot\r\n"
                b"..two leading dots\r\n"
                b".\r\n"
                b"\r\n"
                b"trailing blanks   \t\r\n"
                b"tab\there\r\n"
                + b"x" * 998 + b"\r\n"
                b"last line\r\n")


def test_first_attempt_deferred_then_retry_delivered_byte_exact(grey, backend, e2e):
    """A new triplet gets 451 4.7.1 at DATA and nothing reaches the backend; the retry is
    relayed with its content byte for byte (8-bit, dot-stuffed lines) under a Received: header."""
    g = grey(backend)
    content = e2e.message("greylisted", AWKWARD_BODY)
    with g.connect() as c:
        c.banner()
        replies = c.transaction("alice@example.net", ["bob@example.org"], content)
        assert [r.code for r in replies] == [250, 250, 250, R.GREYLISTED.code]
        assert replies[-1].lines == [str(R.GREYLISTED)[4:]]
        c.expect("NOOP", 250)          # the connection stays usable after a deferral
        c.expect("QUIT", 221)
    assert backend.messages == []
    with g.connect() as c:
        c.banner()
        replies = c.transaction("alice@example.net", ["bob@example.org"], content)
        assert [r.code for r in replies] == [250, 250, 250, 354, 250]
        c.expect("QUIT", 221)
    [(sender, recipients, received)] = backend.waitForMessages(1)
    assert (sender, recipients) == ("alice@example.net", ["bob@example.org"])
    assert e2e.withoutReceived(received) == content
    assert b"[127.0.0.1]" in received.split(b"\r\n\r\n", 1)[0]


def test_greylisted_sessions_open_no_connection_to_the_backend(grey, backend, e2e):
    """Only the first session meets the backend (at EHLO, to learn what it offers); new
    triplets after it are deferred without a connection; their retries are relayed."""
    g = grey(backend)
    senders = ["new%d@example.net" % i for i in range(5)]
    for sender in senders:
        with g.connect() as c:
            c.banner()
            replies = c.transaction(sender, ["bob@example.org", "carol@example.org"],
                                    e2e.message("new"))
            assert [r.code for r in replies] == [250, 250, 250, 250, R.GREYLISTED.code]
            c.expect("QUIT", 221)
    assert backend.handler.connections == 1
    assert [c for c in backend.handler.commands if c[0] in ("MAIL", "RCPT")] == []
    with g.connect() as c:
        c.banner()
        replies = c.transaction(senders[0], ["bob@example.org", "carol@example.org"],
                                e2e.message("retry"))
        assert [r.code for r in replies] == [250, 250, 250, 250, 354, 250]
    [(sender, recipients, _)] = backend.waitForMessages(1)
    assert (sender, recipients) == (senders[0], ["bob@example.org", "carol@example.org"])


def test_retry_on_the_same_connection_also_passes(grey, backend, e2e):
    """The connection stays open after a 451: the client may retry at once (window 0)."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        first = c.transaction("carol@example.net", ["dave@example.org"], e2e.message("again"))
        assert first[-1].code == 451
        second = c.transaction("carol@example.net", ["dave@example.org"], e2e.message("again"), helo=None)
        assert [r.code for r in second] == [250, 250, 354, 250]
    assert len(backend.waitForMessages(1)) == 1


def test_a_policy_still_inside_its_delay_keeps_deferring(grey, backend, e2e):
    """With the 1.x delay (greylist_min_defer 3600) an immediate retry is deferred again."""
    g = grey(backend, greylist_too_soon=0, greylist_min_defer=3600)
    for attempt in range(3):
        with g.connect() as c:
            c.banner()
            replies = c.transaction("eve@example.net", ["frank@example.org"], e2e.message("wait"))
            assert replies[-1].code == 451, attempt
    assert backend.messages == []


def test_allowed_sender_relays_anywhere_at_once(grey, backend, e2e):
    """An address in allowed_senders is neither greylisted nor limited to allowed_domains."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with smtplib.SMTP("127.0.0.1", g.port, timeout=10) as client:
        refused = client.sendmail("me@example.org", ["you@elsewhere.example", "u@example.org"],
                                  e2e.message("trusted"))
    assert refused == {}
    [(_, recipients, received)] = backend.waitForMessages(1)
    assert recipients == ["you@elsewhere.example", "u@example.org"]
    assert e2e.withoutReceived(received) == e2e.message("trusted")


def test_allowed_sender_nets_match_cidr_and_whole_octets(grey, backend, e2e):
    """'127.1' (1.x octet prefix) covers 127.1.x.x but not 127.10.x.x or 127.100.x.x (as "10"
    must not match 100.x); '127.2.0.0/16' (CIDR) covers 127.2.x.x; others are greylisted."""
    g = grey(backend, allowed_sender_nets=["127.1", "127.2.0.0/16"])
    expectations = {
        "127.1.0.5": True, "127.1.255.254": True, "127.2.9.9": True,
        "127.10.0.1": False, "127.100.0.1": False, "127.11.0.1": False, "127.3.0.1": False,
        "127.0.0.1": False,
    }
    for source, allowed in expectations.items():
        with g.connect(source=source) as c:
            c.banner()
            c.expect("EHLO client.test", 250)
            c.expect("MAIL FROM:<s@example.net>", 250)
            foreign = c.command("RCPT TO:<someone@elsewhere.example>")
            assert foreign.code == (250 if allowed else R.RELAY_DENIED.code), (source, foreign)
            local = c.command("RCPT TO:<user@example.org>")
            assert local.code == 250, (source, local)
            c.expect("DATA", 354 if allowed else 451)
            if allowed:
                c.send(e2e.dotStuff(e2e.message("from " + source)))
                assert c.reply().code == 250, source
            c.expect("QUIT", 221)
    delivered = backend.waitForMessages(3)
    assert sorted(m[2].split(b"Subject: ")[1].split(b"\r\n")[0] for m in delivered) == \
        [b"from 127.1.0.5", b"from 127.1.255.254", b"from 127.2.9.9"]


def test_whitelisted_triple_skips_greylisting_for_that_triple_only(grey, backend, e2e):
    """A whitelisted (ip, sender, recipient) is relayed on the first attempt; the same sender
    to another recipient, or another sender, is still greylisted (a long delay here, so a
    retry does not pass)."""
    g = grey(backend, greylist_min_defer=3600,
             whitelisted_triples=[("127.0.0.1", "<friend@example.net>", "<user@example.org>")])
    with g.connect() as c:
        c.banner()
        assert [r.code for r in c.transaction("friend@example.net", ["user@example.org"],
                                              e2e.message("friend"))] == [250, 250, 250, 354, 250]
        assert c.transaction("friend@example.net", ["other@example.org"], e2e.message("x"),
                             helo=None)[-1].code == 451
        assert c.transaction("stranger@example.net", ["user@example.org"], e2e.message("y"),
                             helo=None)[-1].code == 451
        assert c.transaction("friend@example.net", ["user@example.org", "other@example.org"],
                             e2e.message("z"), helo=None)[-1].code == 451
    assert [m[1] for m in backend.messages] == [["user@example.org"]]


def test_relay_attempt_refused_with_550_and_never_reaches_the_backend(grey, backend):
    """A recipient outside allowed_domains from an ordinary client: 550 5.7.1 at RCPT (1.x
    deferred with 451); the backend never hears that RCPT; postmaster is always accepted."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<spammer@example.net>", 250)
        denied = c.command("RCPT TO:<victim@elsewhere.example>")
        assert (denied.code, denied.lines) == (R.RELAY_DENIED.code, [str(R.RELAY_DENIED)[4:]])
        assert c.command("DATA").code in (503, 554)
        c.expect("RCPT TO:<postmaster>", 250)
        c.expect("QUIT", 221)
    assert ("RCPT", "victim@elsewhere.example") not in backend.handler.commands
    assert backend.messages == []


def test_mail_to_postmaster_is_never_greylisted(grey, backend, e2e):
    """RFC 5321 4.5.1: <postmaster> must be reachable; the proxy does not greylist it."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        replies = c.transaction("someone@example.net", ["postmaster"], e2e.message("hello postmaster"))
        assert [r.code for r in replies] == [250, 250, 250, 354, 250]
    assert backend.waitForMessages(1)[0][1] == ["postmaster"]


def test_result_log_lines_have_the_1x_format(grey, backend, e2e):
    """One line per transaction in greylist_log: UTC stamp | helo | ip | sender | rcpts |
    outcome | session id -- DEFERRED, then ACCEPTED for the retry; a session without a
    transaction logs NO MESSAGE, with "-" for what it never said."""
    g = grey(backend)
    for _ in range(2):
        with g.connect() as c:
            c.banner()
            c.transaction("ann@example.net", ["bo@example.org", "cy@example.org"], e2e.message("log"),
                          helo="helo.name.test")
            c.expect("QUIT", 221)
    with g.connect() as c:
        c.banner()
        c.expect("HELO quiet.test", 250)
        c.expect("QUIT", 221)
    lines = g.waitForResults(3)
    parsed = [RESULT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [p.groups()[1:6] for p in parsed] == [
        ("helo.name.test", "127.0.0.1", "<ann@example.net>", "<bo@example.org>, <cy@example.org>",
         "DEFERRED"),
        ("helo.name.test", "127.0.0.1", "<ann@example.net>", "<bo@example.org>, <cy@example.org>",
         "ACCEPTED"),
        ("quiet.test", "127.0.0.1", "-", "-", "NO MESSAGE"),
    ]


def test_fifty_concurrent_clients_each_delivered_exactly_once(grey, backend, e2e):
    """50 clients sending at the same time through one proxy: each message arrives once, intact,
    with its own envelope."""
    g = grey(backend, allowed_senders=["127.0.0.1"])

    def send(n):
        with smtplib.SMTP("127.0.0.1", g.port, timeout=20) as client:
            return client.sendmail("s%d@example.net" % n, ["r%d@example.org" % n],
                                   e2e.message("concurrent %d" % n, b"payload %d\r\n" % n))

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        assert list(pool.map(send, range(50))) == [{}] * 50
    messages = backend.waitForMessages(50)
    assert len(messages) == 50
    for sender, recipients, received in messages:
        n = int(sender[1:].split("@")[0])
        assert recipients == ["r%d@example.org" % n]
        assert e2e.withoutReceived(received) == e2e.message("concurrent %d" % n, b"payload %d\r\n" % n)


def test_received_header_names_the_client_and_the_proxy(grey, backend, e2e):
    """The trace header (RFC 5321 4.4) says from <helo> (<verified name> [<ip>]) by <servername>
    with ESMTP; and a date that parses ("unknown" when no name is verified: here lookups are
    off)."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.transaction("a@example.net", ["b@example.org"], e2e.message("trace"), helo="sender.example.net")
    received = backend.waitForMessages(1)[0][2]
    header = email.message_from_bytes(received)["Received"]
    text = " ".join(header.split())
    assert text.startswith("from sender.example.net (unknown [127.0.0.1]) by mx.test.local (Kamaelia Grey) "
                           "with ESMTP;"), text
    stamp = email.utils.parsedate_to_datetime(text.rsplit(";", 1)[1].strip())
    assert abs(stamp.timestamp() - time.time()) < 60
