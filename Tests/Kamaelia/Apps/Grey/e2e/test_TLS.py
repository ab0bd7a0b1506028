"""STARTTLS on the running greylister (RFC 3207), with a throwaway certificate made here."""

import asyncio
import email.message
import smtplib
import socket
import ssl

import aiosmtplib
import pytest


@pytest.fixture
def tlsGrey(grey, backend, certificate):
    return grey(backend, allowed_senders=["127.0.0.1"], tls_certificate=certificate[0],
                tls_key=certificate[1])


def test_smtplib_starttls_then_ehlo_no_longer_offers_starttls(tlsGrey, backend, clientContext, e2e):
    """EHLO offers STARTTLS; after the handshake the client must EHLO again, which no longer
    offers it; mail sent inside TLS is relayed and its Received: header says ESMTPS."""
    with smtplib.SMTP("127.0.0.1", tlsGrey.port, timeout=10) as client:
        client.ehlo("tls.client.test")
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=clientContext)
        assert code == 220
        assert isinstance(client.sock, ssl.SSLSocket)
        code, _ = client.ehlo("tls.client.test")
        assert code == 250 and not client.has_extn("starttls")
        assert client.docmd("STARTTLS")[0] == 503
        client.sendmail("a@example.net", ["b@example.org"], e2e.message("encrypted"))
    [(_, _, received)] = backend.waitForMessages(1)
    assert e2e.withoutReceived(received) == e2e.message("encrypted")
    assert b"with ESMTPS" in received.split(b"\r\n\r\n", 1)[0]


def test_aiosmtplib_start_tls(tlsGrey, backend, clientContext, e2e):
    """aiosmtplib's start_tls=True works against the greylister."""
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.net", "b@example.org", "aio tls"
    msg.set_content("Sent by aiosmtplib over STARTTLS.\n")

    async def send():
        return await aiosmtplib.send(msg, hostname="127.0.0.1", port=tlsGrey.port, start_tls=True,
                                     tls_context=clientContext, timeout=10)

    errors, response = asyncio.run(send())
    assert errors == {} and "accepted" in response
    [(_, _, received)] = backend.waitForMessages(1)
    assert b"Subject: aio tls" in received


def test_plaintext_pipelined_after_starttls_is_discarded(tlsGrey, backend, clientContext, e2e):
    """"STARTTLS\\r\\nNOOP\\r\\n" in one packet: one reply (220) before the handshake, and the
    NOOP is never answered (CVE-2011-0411 class): the first reply inside TLS is the EHLO's."""
    with tlsGrey.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.send(b"STARTTLS\r\nNOOP\r\nMAIL FROM:<injected@example.net>\r\n")
        ready = c.reply()
        assert ready.code == 220
        assert c.buffer == b""
        c.sock.settimeout(10)
        tls = clientContext.wrap_socket(c.sock, server_hostname="localhost")
        c.sock = tls
        ehlo = c.command("EHLO client.test")
        assert ehlo.code == 250 and "STARTTLS" not in ehlo.lines
        assert "PIPELINING" in ehlo.lines
        # the injected MAIL was thrown away: a MAIL now is the first of the transaction
        c.expect("MAIL FROM:<real@example.net>", 250)
        c.expect("QUIT", 221)
    assert [line[:3] for line in c.replyLines].count(b"220") == 2


def test_starttls_is_not_offered_without_a_certificate(grey, backend):
    """No tls_certificate: EHLO does not offer STARTTLS and the command gets 502."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        assert "STARTTLS" not in c.expect("EHLO client.test", 250).lines
        c.expect("STARTTLS", 502)
        c.expect("NOOP", 250)


def test_failed_handshake_closes_only_that_session(tlsGrey, e2e):
    """Garbage instead of a TLS ClientHello ends that connection; the server carries on."""
    with tlsGrey.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("STARTTLS", 220)
        c.send(b"this is not TLS\r\n" * 20)
        assert c.closedByPeer(10)
    with tlsGrey.connect() as c:
        c.banner()
        c.expect("QUIT", 221)


def test_starttls_with_a_plain_client_socket_left_idle_is_not_a_crash(tlsGrey):
    """A client that says STARTTLS and then hangs up does not disturb the server."""
    c = tlsGrey.connect()
    c.banner()
    c.expect("EHLO client.test", 250)
    c.expect("STARTTLS", 220)
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    with tlsGrey.connect() as again:
        again.banner()
        again.expect("QUIT", 221)
