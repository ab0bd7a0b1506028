"""The proxy's SMTP client engine toward the real server, and what the client is offered.

Pure: replies are fed as bytes, the handshake is driven by hand, no sockets.
"""

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import Capabilities as capabilitiesModule
from Kamaelia.Apps.Grey import SMTPClientEngine as clientModule
from Kamaelia.Apps.Grey.Capabilities import CapabilityCache, offered_extensions, size_limit
from Kamaelia.Apps.Grey.SMTPClientEngine import (
    BANNER,
    CLIENT_HELLO,
    EHLO,
    FAILED,
    HANDSHAKE,
    HELO,
    NEED_CLIENT_NAME,
    READY,
    READY_STATE,
    XCLIENT,
    BackendProtocolError,
    ClientInfo,
    Failed,
    Send,
    SMTPClientEngine,
    envelope_commands,
    mail_command,
    rcpt_command,
    xclient_command,
    xtext,
)
from Kamaelia.Apps.Grey.SMTPProtocol import Path, SMTPStateError
from Kamaelia.Apps.Grey.SMTPReplies import Reply

CLIENT = ClientInfo("192.0.2.7", 40000, "client.example", esmtp=True)


def reply(engine, data):
    """Feed one reply's bytes; the reply parsed from them."""
    engine.receive_data(data)
    parsed = engine.next_reply()
    assert parsed is not None
    return parsed


def step(engine, data):
    return engine.handle(reply(engine, data))


def test_module_examples_run():
    for module in (clientModule, capabilitiesModule):
        failures, tried = doctest.testmod(module)
        assert tried > 3 and failures == 0, module.__name__


def test_the_handshake_table():
    """Pinned: a change to how a connection is opened must be made here too, on purpose."""
    assert HANDSHAKE == {
        (BANNER, 220): ("send EHLO", EHLO),
        (BANNER, "other"): ("fail", FAILED),
        (EHLO, 250): ("EHLO accepted", READY_STATE),
        (EHLO, "other"): ("send HELO", HELO),
        (HELO, 250): ("ready", READY_STATE),
        (HELO, "other"): ("fail", FAILED),
        (XCLIENT, "2xx"): ("send the client's HELO/EHLO", CLIENT_HELLO),
        (XCLIENT, "other"): ("XCLIENT refused", READY_STATE),
        (CLIENT_HELLO, 250): ("ready", READY_STATE),
        (CLIENT_HELLO, "other"): ("fail", FAILED),
    }


def test_banner_then_ehlo_is_ready_with_the_servers_extensions():
    engine = SMTPClientEngine("mx.test", CLIENT)
    assert step(engine, b"220 backend ESMTP\r\n") == Send("EHLO mx.test")
    assert step(engine, b"250-backend\r\n250-SIZE 1000\r\n250 8BITMIME\r\n") is READY
    assert engine.ready and engine.capabilities == {"SIZE": ("1000",), "8BITMIME": ()}
    assert not engine.xclient_used


@pytest.mark.parametrize("banner", [b"554 5.7.1 go away\r\n", b"421 busy\r\n", b"250 odd\r\n"])
def test_any_banner_but_220_is_a_refusal(banner):
    engine = SMTPClientEngine("mx.test")
    action = step(engine, banner)
    assert isinstance(action, Failed) and action.reply.code == int(banner[:3])
    assert engine.state == FAILED


def test_ehlo_refused_falls_back_to_helo_without_extensions():
    engine = SMTPClientEngine("mx.test", CLIENT)
    step(engine, b"220 old server\r\n")
    assert step(engine, b"502 5.5.1 what\r\n") == Send("HELO mx.test")
    assert step(engine, b"250 old server\r\n") is READY
    assert engine.capabilities == {}


def test_helo_refused_fails_the_connection():
    engine = SMTPClientEngine("mx.test")
    step(engine, b"220 x\r\n")
    step(engine, b"500 no\r\n")
    action = step(engine, b"550 not you either\r\n")
    assert isinstance(action, Failed) and action.why == "refused HELO"


def xclientEngine(client=CLIENT, keywords=b"NAME ADDR PORT PROTO HELO"):
    engine = SMTPClientEngine("mx.test", client)
    step(engine, b"220 x\r\n")
    assert step(engine, b"250-x\r\n250-XCLIENT " + keywords + b"\r\n250 SIZE 10\r\n") \
        is NEED_CLIENT_NAME
    return engine


def test_xclient_tells_the_server_the_client_then_greets_it_as_the_client():
    engine = xclientEngine()
    assert engine.client_name("[UNAVAILABLE]", "[UNAVAILABLE]") == Send(
        "XCLIENT NAME=[UNAVAILABLE] ADDR=192.0.2.7 PORT=40000 HELO=client.example PROTO=ESMTP")
    assert step(engine, b"220 x again\r\n") == Send("EHLO client.example")
    assert step(engine, b"250-x\r\n250 SIZE 20\r\n") is READY
    assert engine.xclient_used and engine.capabilities == {"SIZE": ("20",)}


def test_after_xclient_a_helo_client_is_greeted_with_helo_and_keeps_the_first_extensions():
    engine = xclientEngine(ClientInfo("192.0.2.7", 1, "old.client", esmtp=False))
    engine.client_name("n.example", "n.example")
    assert step(engine, b"250 ok\r\n") == Send("HELO old.client"), "any 2xx takes XCLIENT"
    assert step(engine, b"250 hello\r\n") is READY
    assert "XCLIENT" in engine.capabilities and "SIZE" in engine.capabilities


def test_xclient_refused_leaves_the_proxy_as_the_client_and_says_how():
    engine = xclientEngine()
    engine.client_name("n", "n")
    assert step(engine, b"550 5.7.0 not authorized\r\n") is READY
    assert not engine.xclient_used and engine.xclient_refusal.code == 550


def test_the_clients_hello_refused_after_xclient_fails_the_connection():
    engine = xclientEngine()
    engine.client_name("n", "n")
    step(engine, b"220 again\r\n")
    action = step(engine, b"550 bad helo\r\n")
    assert isinstance(action, Failed) and "after XCLIENT" in action.why


def test_no_xclient_without_the_client_or_its_helo_name():
    for client in (None, ClientInfo("192.0.2.7", 1, None, True)):
        engine = SMTPClientEngine("mx.test", client)
        step(engine, b"220 x\r\n")
        assert step(engine, b"250-x\r\n250 XCLIENT NAME ADDR\r\n") is READY


def test_using_the_handshake_out_of_order_is_our_bug():
    engine = SMTPClientEngine("mx.test")
    with pytest.raises(SMTPStateError):
        engine.client_name("n", "n")
    step(engine, b"220 x\r\n")
    step(engine, b"250 x\r\n")
    with pytest.raises(SMTPStateError):
        engine.handle(Reply(250, None, "a reply nobody asked for"))


MULTILINE = b"250-backend.test Hello\r\n250-PIPELINING\r\n250-SIZE 20000000\r\n250 8BITMIME\r\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(MULTILINE) - 1), max_size=10))
def test_replies_are_assembled_whatever_the_chunking(cuts):
    points = sorted(set(cuts))
    engine = SMTPClientEngine("mx.test")
    found = []
    for a, b in zip([0] + points, points + [len(MULTILINE)]):
        engine.receive_data(MULTILINE[a:b])
        parsed = engine.next_reply()
        if parsed is not None:
            found.append(parsed)
    assert found == [Reply(250, None, "backend.test Hello", "PIPELINING", "SIZE 20000000",
                           "8BITMIME")]
    assert engine.buffered == 0


@pytest.mark.parametrize("data", [b"hello there\r\n", b"250" + b"x" * 3000 + b"\r\n",
                                  b"250-a\r\n251 b\r\n"])
def test_what_is_not_an_smtp_reply_is_the_servers_fault(data):
    engine = SMTPClientEngine("mx.test")
    engine.receive_data(data)
    with pytest.raises(BackendProtocolError):
        engine.next_reply()


def test_bytes_the_server_sent_unasked_are_visible():
    engine = SMTPClientEngine("mx.test")
    engine.receive_data(b"421 4.4.2 idle too long\r\n")
    assert engine.buffered > 0


def test_xtext_encodes_plus_equals_and_everything_unprintable():
    assert xtext("mail.example.org") == "mail.example.org"
    assert xtext("a+b=c d\xe9") == "a+2Bb+3Dc+20d+C3+A9"


def test_xclient_sends_only_what_the_server_takes_and_nothing_empty():
    client = ClientInfo("2001:db8::7", 25, "", esmtp=False)
    line = xclient_command(["ADDR", "NAME", "PROTO", "HELO"], client, "n.example", "r.example")
    assert line == "XCLIENT NAME=n.example ADDR=IPV6:2001:db8::7 PROTO=SMTP"


def test_commands_carry_their_parameters_and_replay_the_envelope():
    sender = Path("a@b.example", {"SIZE": "10", "BODY": "8BITMIME"})
    recipients = [Path("c@d.example", {"NOTIFY": "NEVER"}), Path("postmaster", {})]
    assert mail_command(sender) == "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME"
    assert rcpt_command(Path("x@y.example", {"SMTPUTF8": None})) == "RCPT TO:<x@y.example> SMTPUTF8"
    assert envelope_commands(sender, recipients) == [
        "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME", "RCPT TO:<c@d.example> NOTIFY=NEVER",
        "RCPT TO:<postmaster>"]


# -- what the client is offered ---------------------------------------------------------------

def test_the_client_is_offered_only_what_both_sides_support():
    server = {"SIZE": ("50000",), "8BITMIME": (), "DSN": (), "CHUNKING": (), "AUTH": ("PLAIN",)}
    assert offered_extensions(server, 10000, tls_available=True) == [
        "PIPELINING", "SIZE 10000", "8BITMIME", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS"]
    assert offered_extensions({"SIZE": ("5000",)}, 10000, False) == [
        "PIPELINING", "SIZE 5000", "ENHANCEDSTATUSCODES"]
    assert offered_extensions({"SIZE": ("0",)}, 10000, False)[1] == "SIZE 10000", "0: no limit"
    assert offered_extensions({"SIZE": ()}, 10000, False)[1] == "SIZE 10000"


def test_size_limit_reads_the_offered_size_back():
    assert size_limit(["PIPELINING", "SIZE 4242"], 99) == 4242
    assert size_limit(["PIPELINING"], 99) == 99


def test_the_capability_cache_remembers_per_server_and_warns_once():
    cache = CapabilityCache()
    offered = {"SIZE": ("1",)}
    cache.remember(("127.0.0.1", 25), offered)
    offered["8BITMIME"] = ()
    assert cache.recall(("127.0.0.1", 25)) == {"SIZE": ("1",)}, "a copy is kept"
    assert cache.recall(("127.0.0.1", 2525)) == {}
    assert CapabilityCache().recall(("127.0.0.1", 25)) == {}, "each cache is its own"
    assert [cache.first_xclient_refusal("s"), cache.first_xclient_refusal("s"),
            cache.first_xclient_refusal("t")] == [True, False, True]
