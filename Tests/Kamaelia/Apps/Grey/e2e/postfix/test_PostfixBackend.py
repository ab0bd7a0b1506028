"""Real Postfix behind the greylister, told who the client is with XCLIENT.

A private Postfix (fixture ``postfix``) listens on a loopback port with the
checks an operator would turn on -- ``reject_unknown_client_hostname``,
HELO checks, ``smtpd_helo_required`` -- and trusts the greylister with
XCLIENT. The greylister looks client names up in the test DNS server
(``dnsServer``) and greylists mail for example.org with no wait, so the
second attempt of a message passes. Clients connect from their own loopback
addresses (127.0.0.x), so each test's client has its own DNS records.

What these pin down: the name the greylister verifies, the client's address
and its HELO name all reach Postfix (its Received header and maillog show
them), and Postfix's own verdicts on them -- refusals and deferrals --
reach the client through the proxy unchanged, a DNS failure giving a
temporary refusal, never a permanent one. A first attempt that is
greylisted is answered by the proxy alone (it is deferred whatever Postfix
says); Postfix's checks judge the retry.
"""

import re

import pytest

from Kamaelia.Apps.Grey import SMTPReplies as R

SENDER = "alice@sender.example"
RECIPIENT = "bob@example.org"
BAD_HELO = "bad.helo.test"
BAD_HELO_TEXT = "Refused by the test's HELO check"

POSTFIX_CHECKS = {
    "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
    "smtpd_helo_required": "yes",
    "smtpd_client_restrictions": "reject_unknown_client_hostname",
    "smtpd_helo_restrictions": ("reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, "
                                "check_helo_access inline:{ { %s = REJECT %s } }"
                                % (BAD_HELO, BAD_HELO_TEXT)),
}


@pytest.fixture
def proxy(grey, postfix, dnsServer):
    """Factory: ``proxy(**postfixMain)`` -> (greylister, Postfix), the greylister in front."""

    def make(**postfixMain):
        backend = postfix(main=dict(POSTFIX_CHECKS, **postfixMain))
        g = grey(backend.port, client_name_lookup=True, dns_servers=["127.0.0.1"],
                 dns_port=dnsServer.port, dns_timeout=2)
        return g, backend

    return make


def attempt(g, e2e, client, helo, subject):
    """One transaction from ``client``: EHLO, MAIL, RCPT, DATA and content, stopping at the
    first refusal; returns the replies."""
    with g.connect(source=client) as c:
        c.banner()
        replies = []
        for line in ("EHLO " + helo, "MAIL FROM:<%s>" % SENDER, "RCPT TO:<%s>" % RECIPIENT,
                     "DATA"):
            replies.append(c.command(line))
            if replies[-1].code not in (250, 354):
                break
        else:
            c.send(e2e.dotStuff(e2e.message(subject)))
            replies.append(c.reply())
        c.expect("QUIT", 221)
        return replies


def afterGreylisting(g, e2e, client, helo, subject):
    """The retry's replies, after a first attempt that is greylisted without Postfix judging it
    (the proxy knows at RCPT that the message will be deferred, so it answers itself)."""
    first = attempt(g, e2e, client, helo, subject)
    assert codes(first) == [250, 250, 250, R.GREYLISTED.code], first
    return attempt(g, e2e, client, helo, subject)


def headerBlock(delivered):
    """The header section of a message as Postfix's virtual agent stored it (LF line ends)."""
    return delivered.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n", 1)[0]


def warningsAbout(g, word):
    return [line for line in g.stderr().splitlines() if " WARNING " in line and word in line]


def codes(replies):
    return [r.code for r in replies]


def test_a_verified_client_is_greylisted_then_delivered_with_its_name_address_and_helo(
        proxy, dnsServer, e2e):
    """The retry lands in Postfix's Maildir, and Postfix recorded the real client, not us."""
    client, name, helo = "127.0.0.5", "mx1.sender.example", "helo.sender.example"
    dnsServer.addPTR(client, name)
    dnsServer.addA(name, client)
    g, backend = proxy()

    first = attempt(g, e2e, client, helo, "verified")
    assert codes(first) == [250, 250, 250, R.GREYLISTED.code], first
    assert backend.delivered() == []

    second = attempt(g, e2e, client, helo, "verified")
    assert codes(second) == [250, 250, 250, 354, 250], second
    [delivered] = backend.waitForDelivered(1)
    headers = headerBlock(delivered)
    postfixReceived = r"^Received: from %s \(%s \[%s\]\)\n\s+by %s \(Postfix\)" % tuple(
        map(re.escape, (helo, name, client, backend.main["myhostname"])))
    assert re.search(postfixReceived, headers, re.M), headers
    assert "Subject: verified" in headers
    backend.waitForMaillog(r"client=%s\[%s\]" % (re.escape(name), re.escape(client)))
    assert warningsAbout(g, "XCLIENT") == []


def test_a_client_without_a_ptr_record_gets_postfixs_unknown_hostname_refusal(proxy, e2e):
    """reject_unknown_client_hostname sees NAME=[UNAVAILABLE]; its 450 reaches the client (RCPT)."""
    client = "127.0.0.6"
    g, backend = proxy()
    replies = afterGreylisting(g, e2e, client, "helo.noptr.example", "no ptr")
    assert codes(replies)[:3] == [250, 250, 450], replies
    rcpt = replies[2]
    assert rcpt.lines[-1].startswith("4.7.25 ") and "cannot find your hostname" in rcpt.text, rcpt
    backend.waitForMaillog(r"reject: RCPT from unknown\[%s\]: 450 4\.7\.25" % re.escape(client))
    assert backend.delivered() == []


@pytest.mark.parametrize("helo, refusal", [
    (BAD_HELO, r"5\d\d 5\.7\.1 <%s>: Helo command rejected: %s"
     % (re.escape(BAD_HELO), BAD_HELO_TEXT)),
    ("nodots", r"504 5\.5\.2 <nodots>: Helo command rejected: need fully-qualified hostname"),
], ids=["check_helo_access", "non-fqdn"])
def test_postfixs_helo_check_refuses_the_clients_own_helo_name(proxy, dnsServer, e2e, helo,
                                                              refusal):
    """The client's HELO (not the proxy's servername) reached Postfix: its HELO check refuses it."""
    client, name = "127.0.0.7", "mx.helo.example"
    dnsServer.addPTR(client, name)
    dnsServer.addA(name, client)
    g, backend = proxy()
    replies = afterGreylisting(g, e2e, client, helo, "bad helo")
    assert codes(replies)[:2] == [250, 250], replies
    rcpt = replies[2]
    assert re.match(refusal, "%d %s" % (rcpt.code, rcpt.text)), rcpt
    backend.waitForMaillog(r"reject: RCPT from %s\[%s\]: %s" % (re.escape(name), re.escape(client),
                                                               refusal))
    assert backend.delivered() == []


def test_a_dns_failure_makes_postfix_defer_never_refuse(proxy, dnsServer, e2e):
    """SERVFAIL for the PTR: NAME=[TEMPUNAVAIL] reaches Postfix, which says 4xx.

    Postfix's ``unknown_client_reject_code`` is set to 550 here: a name Postfix believed
    missing ([UNAVAILABLE]) would get that 550; only a temporary failure gets a 4xx.
    """
    client = "127.0.0.8"
    dnsServer.servfail(dnsServer.reverseName(client))
    g, backend = proxy(unknown_client_reject_code="550")
    replies = afterGreylisting(g, e2e, client, "helo.servfail.example", "servfail")
    assert all(r.code < 500 for r in replies), replies
    assert codes(replies)[:3] == [250, 250, 450], replies
    assert "cannot find your hostname" in replies[2].text, replies[2]
    backend.waitForMaillog(r"reject: RCPT from unknown\[%s\]: 450 4\.7\.25" % re.escape(client))
    assert backend.delivered() == []
