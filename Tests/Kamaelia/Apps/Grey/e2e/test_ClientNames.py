"""The client's verified name, as Postfix would compute it, told to the real server.

The real program looks names up in a real DNS server on loopback (``dnsServer``); the backend
is the recording aiosmtpd server, offering Postfix's XCLIENT where a test says so.
"""

import email
import time

import pytest

CLIENT = "127.0.0.5"
PTR_NAME = "client.example.net"


def lookupSettings(dnsServer, **extra):
    settings = {"client_name_lookup": True, "dns_servers": ["127.0.0.1"],
                "dns_port": dnsServer.port, "dns_timeout": 2,
                "allowed_sender_nets": ["127.0.0.0/8"]}
    settings.update(extra)
    return settings


def send(g, e2e, helo="real.client.test", source=CLIENT):
    with g.connect(source=source) as c:
        c.banner()
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("name"), helo=helo)
        assert [r.code for r in replies] == [250, 250, 250, 354, 250], replies


def xclientFields(backend):
    [xclient] = backend.handler.xclients
    return dict(word.split("=", 1) for word in xclient.split())


@pytest.fixture
def xclientBackend(backend):
    backend.handler.offerXclient = True
    backend.handler.xclientAttributes = "NAME REVERSE_NAME ADDR PORT PROTO HELO"
    return backend


def test_a_forward_confirmed_name_is_sent_with_xclient(grey, xclientBackend, e2e, dnsServer):
    dnsServer.addPTR(CLIENT, PTR_NAME)
    dnsServer.addA(PTR_NAME, CLIENT)
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e)
    fields = xclientFields(xclientBackend)
    assert (fields["NAME"], fields["REVERSE_NAME"]) == (PTR_NAME, PTR_NAME)
    assert (fields["ADDR"], fields["HELO"]) == (CLIENT, "real.client.test")


def test_after_xclient_the_backend_is_greeted_with_the_clients_own_name(grey, xclientBackend, e2e,
                                                                       dnsServer):
    """Postfix's HELO checks and Received header see the client's HELO, not the proxy's."""
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e, helo="real.client.test")
    assert xclientBackend.handler.greetings == [("EHLO", "mx.test.local"),
                                                ("EHLO", "real.client.test")]


def test_a_helo_client_is_greeted_with_helo_after_xclient(grey, xclientBackend, dnsServer):
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    with g.connect(source=CLIENT) as c:
        c.banner()
        c.expect("HELO old.client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
    assert xclientBackend.handler.greetings[-1] == ("HELO", "old.client.test")
    assert xclientFields(xclientBackend)["PROTO"] == "SMTP"


def test_no_ptr_record_is_unavailable(grey, xclientBackend, e2e, dnsServer):
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e)
    fields = xclientFields(xclientBackend)
    assert (fields["NAME"], fields["REVERSE_NAME"]) == ("[UNAVAILABLE]", "[UNAVAILABLE]")


def test_a_name_that_does_not_resolve_back_is_unavailable_but_its_reverse_name_is_told(
        grey, xclientBackend, e2e, dnsServer):
    dnsServer.addPTR(CLIENT, "forged.example.com")
    dnsServer.addA("forged.example.com", "192.0.2.99")
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e)
    fields = xclientFields(xclientBackend)
    assert (fields["NAME"], fields["REVERSE_NAME"]) == ("[UNAVAILABLE]", "forged.example.com")


def test_a_failing_dns_server_is_tempunavail(grey, xclientBackend, e2e, dnsServer):
    dnsServer.servfail("5.0.0.127.in-addr.arpa")
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e)
    assert xclientFields(xclientBackend)["NAME"] == "[TEMPUNAVAIL]"


def test_a_silent_dns_server_delays_the_session_only_by_dns_timeout(grey, xclientBackend, e2e,
                                                                   dnsServer):
    dnsServer.drop("5.0.0.127.in-addr.arpa")
    g = grey(xclientBackend, **lookupSettings(dnsServer, dns_timeout=1))
    started = time.monotonic()
    send(g, e2e)
    assert time.monotonic() - started < 10, "bounded by dns_timeout, with a wide margin"
    assert xclientFields(xclientBackend)["NAME"] == "[TEMPUNAVAIL]"


def test_a_silent_lookup_for_one_client_does_not_hold_up_another(grey, backend, e2e, dnsServer):
    """Lookups run off the scheduler's thread: a session whose DNS hangs does not stall others."""
    dnsServer.drop("5.0.0.127.in-addr.arpa")
    g = grey(backend, **lookupSettings(dnsServer, dns_timeout=5))
    with g.connect(source=CLIENT) as stuck:
        stuck.banner()
        stuck.expect("EHLO stuck.test", 250)
        stuck.expect("MAIL FROM:<a@example.net>", 250)
        stuck.expect("RCPT TO:<b@example.org>", 250)
        stuck.send("DATA\r\n")                      # waits for the name for its Received header
        started = time.monotonic()
        send(g, e2e, source="127.0.0.6")
        assert time.monotonic() - started < 4, "the other session waited for the stuck lookup"
        assert stuck.reply().code == 354


def test_an_xclient_answered_250_is_accepted_without_a_warning(grey, xclientBackend, e2e,
                                                              dnsServer):
    """smtp-sink answers XCLIENT with 250, Postfix with 220: both mean accepted."""
    xclientBackend.handler.xclientReply = "250 2.0.0 Ok"
    g = grey(xclientBackend, **lookupSettings(dnsServer))
    send(g, e2e)
    send(g, e2e)
    assert len(xclientBackend.handler.xclients) >= 1
    assert "XCLIENT" not in g.stderr()
    received = xclientBackend.waitForMessages(2)[0][2]
    assert not received.startswith(b"Received:"), "XCLIENT was taken as refused"


def test_the_received_header_carries_the_verified_name_without_xclient(grey, backend, e2e,
                                                                      dnsServer):
    dnsServer.addPTR(CLIENT, PTR_NAME)
    dnsServer.addA(PTR_NAME, CLIENT)
    g = grey(backend, **lookupSettings(dnsServer))
    send(g, e2e, helo="helo.given.test")
    received = backend.waitForMessages(1)[0][2]
    header = " ".join(email.message_from_bytes(received)["Received"].split())
    assert header.startswith("from helo.given.test (%s [%s]) by mx.test.local" % (PTR_NAME, CLIENT))


def test_names_are_cached_between_sessions(grey, backend, e2e, dnsServer):
    dnsServer.addPTR(CLIENT, PTR_NAME)
    dnsServer.addA(PTR_NAME, CLIENT)
    g = grey(backend, **lookupSettings(dnsServer))
    send(g, e2e)
    send(g, e2e)
    ptrQueries = [q for q in dnsServer.queries if q[1] == "PTR"]
    assert len(ptrQueries) == 1, dnsServer.queries
