"""Real SMTP client programs and libraries through the greylister: defer, then deliver on retry."""

import asyncio
import email.message
import shutil
import smtplib
import subprocess

import aiosmtplib
import pytest

SWAKS = shutil.which("swaks")
needsSwaks = pytest.mark.skipif(SWAKS is None, reason="swaks is not installed (Debian package "
                                "'swaks'; .ci/run installs it when apt-get is available)")


def swaksHasTLS():
    if SWAKS is None:
        return False
    support = subprocess.run([SWAKS, "--support"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    return "=== TLS supported" in support.stdout + support.stderr


def emailMessage(subject):
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "sender@example.net", "rcpt@example.org", subject
    msg.set_content("Body of %s.\n" % subject)
    return msg


def test_smtplib_is_deferred_then_delivered(grey, backend):
    """smtplib: the first sendmail raises SMTPDataError 451; the retry returns {} and arrives."""
    g = grey(backend)
    with smtplib.SMTP("127.0.0.1", g.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            client.send_message(emailMessage("smtplib"))
        assert deferred.value.smtp_code == 451
    with smtplib.SMTP("127.0.0.1", g.port, timeout=10) as client:
        assert client.send_message(emailMessage("smtplib")) == {}
    assert b"Subject: smtplib" in backend.waitForMessages(1)[0][2]


def test_aiosmtplib_is_deferred_then_delivered(grey, backend):
    """aiosmtplib: the first send raises a 451 response error; the retry succeeds and arrives."""
    g = grey(backend)

    async def send():
        return await aiosmtplib.send(emailMessage("aiosmtplib"), hostname="127.0.0.1", port=g.port,
                                     start_tls=False, timeout=10)

    with pytest.raises(aiosmtplib.SMTPResponseException) as deferred:
        asyncio.run(send())
    assert deferred.value.code == 451
    errors, response = asyncio.run(send())
    assert errors == {} and response.startswith("2.0.0")
    assert b"Subject: aiosmtplib" in backend.waitForMessages(1)[0][2]


def swaks(port, *options, timeout=30):
    return subprocess.run([SWAKS, "--server", "127.0.0.1:%d" % port, "--from", "sender@example.net",
                           "--to", "rcpt@example.org", "--timeout", "10", *options],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@needsSwaks
@pytest.mark.parametrize("options", [(), ("--pipeline",), ("--protocol", "SMTP")],
                         ids=["ehlo", "pipeline", "helo-only"])
def test_swaks_is_deferred_then_delivered(grey, backend, options):
    """swaks (EHLO, --pipeline, and plain HELO): the first run gets 451 4.7.1 at DATA and fails,
    the second delivers."""
    g = grey(backend)
    first = swaks(g.port, "--h-Subject", "swaks", *options)
    assert first.returncode != 0
    assert "451 4.7.1" in first.stdout, first.stdout
    second = swaks(g.port, "--h-Subject", "swaks", *options)
    assert second.returncode == 0, second.stdout + second.stderr
    [(sender, recipients, received)] = backend.waitForMessages(1)
    assert (sender, recipients) == ("sender@example.net", ["rcpt@example.org"])
    assert b"Subject: swaks" in received


@needsSwaks
def test_swaks_over_starttls(grey, backend, certificate):
    """swaks --tls negotiates STARTTLS with the greylister and delivers."""
    if not swaksHasTLS():
        pytest.skip("swaks has no TLS support here (Debian package 'libnet-ssleay-perl')")
    g = grey(backend, allowed_senders=["127.0.0.1"], tls_certificate=certificate[0],
             tls_key=certificate[1])
    result = swaks(g.port, "--tls", "--h-Subject", "swaks tls")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started" in result.stdout
    assert b"with ESMTPS" in backend.waitForMessages(1)[0][2]
