"""Real Postfix as the sending MTA: greylisted at first, delivered by its own retry.

A private Postfix takes a message on a submission listener and relays mail
for example.org to the greylister, from 127.0.0.9 (``smtp_bind_address``),
retrying deferred mail after a few seconds. The greylister (new triplets
wait ``greylist_min_defer`` seconds) relays accepted mail to the recording
aiosmtpd ``backend``. Nothing in the test resends: the second attempt is
Postfix's queue manager at work, which is what greylisting relies on.
"""

import re
import smtplib
import time

SENDER_ADDRESS = "127.0.0.9"
MIN_DEFER = 2
RETRY_DEADLINE = 60.0
FROM, TO = "carol@sender.example", "dave@example.org"


def resultFields(line):
    """A result log line as a dict: time, helo, ip, sender, recipients, outcome, session."""
    fields = line.split(" | ")
    return dict(zip(("time", "helo", "ip", "sender", "recipients", "outcome", "session"),
                    fields, strict=True))


def accepted(g):
    """The result lines so far, parsed, once one of them is ACCEPTED; else None."""
    outcomes = [resultFields(line) for line in g.resultLines()]
    return outcomes if any(r["outcome"] == "ACCEPTED" for r in outcomes) else None


def test_postfix_is_deferred_then_delivers_on_its_own_retry(grey, backend, postfix, e2e):
    g = grey(backend, greylist_min_defer=MIN_DEFER, greylist_too_soon=0)
    sender = postfix(name="sender", main={
        "queue_run_delay": "1s",
        "minimal_backoff_time": "3s",
        "maximal_backoff_time": "6s",
        "virtual_mailbox_domains": "",
        "relay_domains": "example.org",
        "transport_maps": "inline:{ example.org=smtp:[127.0.0.1]:%d }" % g.port,
        "smtp_bind_address": SENDER_ADDRESS,
    }, listeners={"submission": {"smtpd_recipient_restrictions": "permit_mynetworks,reject"}})

    submitted = time.monotonic()
    with smtplib.SMTP("127.0.0.1", sender.port, timeout=10) as s:
        s.sendmail(FROM, [TO], e2e.message("retried by postfix").decode())

    [(mailFrom, rcptTos, content)] = backend.waitForMessages(1, deadline=RETRY_DEADLINE)
    took = time.monotonic() - submitted
    assert (mailFrom, rcptTos) == (FROM, [TO])
    assert b"Subject: retried by postfix" in content
    assert took >= MIN_DEFER, "delivered %.1f s after submission: not greylisted?" % took

    # Postfix may come back before the window ends, and be deferred once more.
    outcomes = e2e.waitFor(lambda: accepted(g), message="an ACCEPTED result line")
    assert [r["outcome"] for r in outcomes] == ["DEFERRED"] * (len(outcomes) - 1) + ["ACCEPTED"]
    assert len(outcomes) >= 2, outcomes
    assert {(r["helo"], r["ip"], r["sender"], r["recipients"]) for r in outcomes} == {
        (sender.main["myhostname"], SENDER_ADDRESS, "<%s>" % FROM, "<%s>" % TO)}, outcomes

    sent = sender.waitForMaillog(r"to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent"
                                 % (re.escape(TO), g.port))
    deferred = re.search(r"to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=deferred "
                         r"\(host .* said: 451 4\.7\.1 " % (re.escape(TO), g.port),
                         sender.maillog())
    assert deferred and deferred.start() < sent.start(), sender.maillog()
    assert len(backend.messages) == 1
