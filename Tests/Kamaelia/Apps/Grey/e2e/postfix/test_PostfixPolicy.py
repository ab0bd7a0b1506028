"""Real Postfix asking kamaelia-grey --policy-server (check_policy_service), as postgrey's users do.

The greylister runs in policy mode (``mode = policy``) on a loopback port; a private Postfix
calls it from ``smtpd_recipient_restrictions`` (per recipient) or also from
``smtpd_data_restrictions`` (all or nothing, ``policy_greylist_at = data``). A client talks to
Postfix; Postfix's answers -- 450 4.7.1 from DEFER_IF_PERMIT, delivery after the window, the
X-Greylist header from PREPEND -- are the evidence.
"""

import smtplib
import time

import pytest

MIN_DEFER = 2
CLIENT = "127.0.0.5"
RETRY_DEADLINE = 30.0


def policyGrey(grey, e2e, **settings):
    return grey(None, mode="policy", port=e2e.freePort(), greylist_min_defer=MIN_DEFER,
                greylist_too_soon=0, allowed_senders=[], **settings)


def mx(postfix, g, dataStage=False):
    restriction = "check_policy_service inet:127.0.0.1:%d" % g.port
    main = {"smtpd_recipient_restrictions": "reject_unauth_destination, " + restriction,
            "smtpd_policy_service_timeout": "20s"}
    if dataStage:
        main["smtpd_data_restrictions"] = restriction
    return postfix(name="mx", main=main)


def attempt(port, recipients, subject, e2e):
    """One delivery attempt from CLIENT: {recipient: (code, text)} refused, or {} if all taken."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(CLIENT, 0)) as s:
        s.ehlo("client.example.net")
        try:
            return s.sendmail("alice@example.net", recipients, e2e.message(subject).decode())
        except smtplib.SMTPRecipientsRefused as e:
            return e.recipients
        except smtplib.SMTPDataError as e:
            return {"DATA": (e.smtp_code, e.smtp_error)}


def retryUntilAccepted(port, recipients, subject, e2e):
    deadline = time.monotonic() + RETRY_DEADLINE
    while True:
        refused = attempt(port, recipients, subject, e2e)
        if not refused:
            return
        assert all(400 <= code < 500 for code, _ in refused.values()), refused
        if time.monotonic() > deadline:
            pytest.fail("still refused after %.0f s: %r" % (RETRY_DEADLINE, refused))
        time.sleep(0.5)     # a sender's retry interval, not synchronisation


def test_first_delivery_is_deferred_by_postfix_and_the_retry_is_delivered(grey, postfix, e2e):
    g = policyGrey(grey, e2e)
    instance = mx(postfix, g)
    refused = attempt(instance.port, ["bob@example.org"], "first", e2e)
    code, text = refused["bob@example.org"]
    assert (code, text.split()[0]) == (450, b"4.7.1")
    assert b"Greylisted" in text
    retryUntilAccepted(instance.port, ["bob@example.org"], "second", e2e)
    [message] = instance.waitForDelivered(1)
    assert b"X-Greylist: delayed " in message and b"by kamaelia-grey" in message
    assert b"Subject: second" in message


def test_at_rcpt_each_recipient_is_greylisted_on_its_own(grey, postfix, e2e):
    g = policyGrey(grey, e2e)
    instance = mx(postfix, g)
    assert set(attempt(instance.port, ["bob@example.org"], "known", e2e)) == {"bob@example.org"}
    retryUntilAccepted(instance.port, ["bob@example.org"], "known", e2e)
    refused = attempt(instance.port, ["bob@example.org", "carol@example.org"], "mixed", e2e)
    assert set(refused) == {"carol@example.org"}, "a known triplet passes beside a new one"
    delivered = instance.waitForDelivered(2)
    assert b"Subject: mixed" in delivered[-1]


def test_at_data_the_whole_message_is_deferred_then_delivered(grey, postfix, e2e):
    g = policyGrey(grey, e2e, policy_greylist_at="data")
    instance = mx(postfix, g, dataStage=True)
    refused = attempt(instance.port, ["bob@example.org", "carol@example.org"], "all", e2e)
    assert list(refused) == ["DATA"] and refused["DATA"][0] == 450, refused
    retryUntilAccepted(instance.port, ["bob@example.org", "carol@example.org"], "all", e2e)
    delivered = instance.waitForDelivered(2)      # one copy per recipient in the one Maildir
    assert len(delivered) == 2
    assert all(m.count(b"X-Greylist: ") == 1 for m in delivered)


def test_postfix_as_the_sending_mta_delivers_on_its_own_retry(grey, postfix, e2e):
    g = policyGrey(grey, e2e)
    instance = mx(postfix, g)
    sender = postfix(name="sender", main={
        "queue_run_delay": "1s", "minimal_backoff_time": "3s", "maximal_backoff_time": "6s",
        "virtual_mailbox_domains": "", "relay_domains": "example.org",
        "transport_maps": "inline:{ example.org=smtp:[127.0.0.1]:%d }" % instance.port,
        "smtp_bind_address": "127.0.0.9",
    }, listeners={"submission": {"smtpd_recipient_restrictions": "permit_mynetworks,reject"}})
    with smtplib.SMTP("127.0.0.1", sender.port, timeout=10) as s:
        s.sendmail("carol@sender.example", ["dave@example.org"], e2e.message("queued").decode())
    [message] = instance.waitForDelivered(1, deadline=60)
    assert b"Subject: queued" in message and b"X-Greylist: delayed" in message
    assert sender.waitForMaillog(r"status=deferred .*450 4\.7\.1")
