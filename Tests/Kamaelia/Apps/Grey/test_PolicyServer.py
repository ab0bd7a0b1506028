"""Tests for Kamaelia.Apps.Grey.PolicyServer: Kamaelia Grey as a Postfix policy server.

First the connection handler alone, through Axon.Testing (fake clock, a
policy service scripted by the test): which requests reach the policy, how
decisions become answers, greylisting at RCPT and at DATA, bad requests,
ordering, backpressure, timeouts, draining. Then the server on real
sockets (TCP and unix): many connections, Exim's one-shot queries, the
session cap. Then a hostile raw client: pipelined, partial, huge and
garbage requests, after which the server still answers everyone.
"""

import logging
import os
import select
import socket
import sqlite3
import stat
import threading
import time

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.Policy import ACCEPT, DEFER, REJECT, Decision
from Kamaelia.Apps.Grey.PolicyServer import (
    INTERNAL_ERROR_TEXT,
    UNAVAILABLE_TEXT,
    InstanceTable,
    PolicyHandler,
    PolicyServer,
    PolicyServerSettings,
    bindUnixSocket,
    makePolicyServer,
)
from Kamaelia.IPC import socketShutdown

DEADLINE = 10.0
GREYLIST_TEXT = PolicyServerSettings.greylistText
DEFERRED = b"action=DEFER_IF_PERMIT " + GREYLIST_TEXT.encode() + b"\n\n"
DUNNO = b"action=DUNNO\n\n"


def request(state="RCPT", recipient="bob@example.net", sender="alice@example.org",
            client="192.0.2.7", instance="1A.2B.3C", **extra):
    attributes = {"request": "smtpd_access_policy", "protocol_state": state,
                  "protocol_name": "ESMTP", "client_address": client,
                  "client_name": "mail.example.org", "reverse_client_name": "mail.example.org",
                  "helo_name": "helo.example.org", "queue_id": "", "sender": sender,
                  "recipient": recipient, "recipient_count": "0", "instance": instance,
                  "size": "0"}
    attributes.update(extra)
    return "".join("%s=%s\n" % item for item in attributes.items() if item[1] is not None) \
        .encode() + b"\n"


def passed(delay=None, recipients=("bob@example.net",)):
    return Decision(action=ACCEPT, reply=R.OK, delay=delay,
                    reasons=tuple((r, "passed" if delay else "whitelisted") for r in recipients),
                    perRecipient={r: ACCEPT for r in recipients})


def greylisted(recipients=("bob@example.net",), reason="new"):
    return Decision(action=DEFER, reply=R.GREYLISTED, delay=None,
                    reasons=tuple((r, reason) for r in recipients),
                    perRecipient={r: DEFER for r in recipients})


STORE_FAILED = Decision(action=DEFER, reply=R.LOCAL_ERROR, delay=None, reasons=(),
                        perRecipient={})


class FakePolicyService:
    """Stands in for PolicyService: records envelopes, answers ``script(envelope)``.

    ``wait`` seconds (of the scheduler's clock) pass before the answer, as
    with the real service's worker thread; ``fail`` makes it raise.
    """

    def __init__(self, script=None, wait=0.0, fail=None):
        self.script = script or (lambda envelope: greylisted(envelope.recipients))
        self.wait = wait
        self.fail = fail
        self.envelopes = []
        self.lock = threading.Lock()

    def decide(self, asker, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        if self.wait:
            due = asker.scheduler.clock() + self.wait
            asker.scheduler.callLater(self.wait, asker._deliveryWake)
            while asker.scheduler.clock() < due:
                asker.pause()
                yield 1
        if self.fail is not None:
            raise self.fail
        return self.script(envelope)


def handler(service=None, settings=None, **attributes):
    """A harnessed PolicyHandler; returns (harness, service)."""
    service = service if service is not None else FakePolicyService()
    h = ComponentHarness(PolicyHandler(service=service,
                                       settings=settings or PolicyServerSettings(
                                           servername="mx.test", version="9.9"),
                                       peer="127.0.0.1", peerport=40000, **attributes))
    h.runUntilIdle()
    return h, service


def talk(h, data, chunk=None):
    chunk = chunk or len(data) or 1
    for i in range(0, len(data), chunk):
        h.put(data[i:i + chunk])
        h.runUntilIdle()
    return b"".join(h.getAll("outbox"))


def closedByHandler(h):
    return any(isinstance(m, producerFinished) for m in h.getAll("signal"))


# -- which requests are decided, and how answers are made --------------------------------

def test_a_new_triplet_at_rcpt_is_deferred_with_the_envelope_postfix_described():
    h, service = handler()
    assert talk(h, request(sender="", client_name="unknown")) == DEFERRED
    [envelope] = service.envelopes
    assert (envelope.clientAddress, envelope.clientName, envelope.heloName, envelope.sender,
            envelope.recipients, envelope.instance) == (
        "192.0.2.7", "unknown", "helo.example.org", "", ("bob@example.net",), "1A.2B.3C")


def test_a_missing_client_name_reads_as_unknown():
    h, service = handler()
    talk(h, request(client_name=None))
    assert service.envelopes[0].clientName == "unknown"


def test_a_pass_after_a_delay_prepends_x_greylist_with_version_host_and_date():
    h, _ = handler(FakePolicyService(lambda e: passed(delay=3725.4)))
    answer = talk(h, request())
    assert answer == (b"action=PREPEND X-Greylist: delayed 3725 seconds by kamaelia-grey-9.9 "
                      b"at mx.test; Tue, 14 Nov 2023 22:30:00 GMT\n\n")


def test_a_pass_without_a_delay_is_dunno():
    h, _ = handler(FakePolicyService(lambda e: passed(delay=None)))
    assert talk(h, request()) == DUNNO


def test_defer_action_and_text_are_settings():
    settings = PolicyServerSettings(deferAction="450 4.7.1", greylistText="Come back in 5 min")
    h, _ = handler(settings=settings)
    assert talk(h, request()) == b"action=450 4.7.1 Come back in 5 min\n\n"


@pytest.mark.parametrize("reason", ["new", "early-retry", "too-late"])
def test_every_greylisting_deferral_uses_the_greylist_text(reason):
    h, _ = handler(FakePolicyService(lambda e: greylisted(e.recipients, reason)))
    assert talk(h, request()) == DEFERRED


def test_a_store_failure_is_deferred_with_its_own_text_not_the_greylist_text():
    h, _ = handler(FakePolicyService(lambda e: STORE_FAILED))
    assert talk(h, request()) == b"action=DEFER_IF_PERMIT " + R.LOCAL_ERROR.text.encode() + b"\n\n"


def test_a_relay_rejection_of_the_policy_is_a_reject_greylisting_never_is():
    decision = Decision(action=REJECT, reply=R.RELAY_DENIED, delay=None,
                        reasons=(("x@elsewhere", "relay-denied"),), perRecipient={})
    h, _ = handler(FakePolicyService(lambda e: decision))
    assert talk(h, request()) == b"action=REJECT relay not permitted\n\n"


def test_a_failing_policy_service_answers_a_deferral_and_is_logged(caplog):
    h, _ = handler(FakePolicyService(fail=RuntimeError("database on fire")))
    with caplog.at_level(logging.ERROR, "Kamaelia.Apps.Grey.PolicyServer"):
        answer = talk(h, request())
    assert answer == b"action=DEFER_IF_PERMIT " + INTERNAL_ERROR_TEXT.encode() + b"\n\n"
    assert "database on fire" in caplog.text
    assert talk(h, request()) == answer, "the connection carries on"


def test_no_policy_service_answers_a_deferral():
    h = ComponentHarness(PolicyHandler(service=None))
    assert talk(h, request()).startswith(b"action=DEFER_IF_PERMIT Temporary failure")


@pytest.mark.parametrize("state", ["CONNECT", "EHLO", "HELO", "MAIL", "DATA", "END-OF-MESSAGE",
                                   "VRFY", "ETRN"])
def test_other_protocol_states_are_dunno_without_asking_the_policy(state):
    h, service = handler()
    assert talk(h, request(state=state)) == DUNNO
    assert service.envelopes == []


def test_a_request_without_protocol_state_but_with_a_recipient_is_a_rcpt_check():
    """As a hand-written Exim ACL may send it."""
    h, service = handler()
    assert talk(h, request(state=None)) == DEFERRED
    assert len(service.envelopes) == 1


def test_unknown_attributes_are_ignored():
    h, service = handler()
    assert talk(h, request(future_attribute="x", another="y=z")) == DEFERRED


# -- bad requests ---------------------------------------------------------------------------

@pytest.mark.parametrize("data, logged", [
    (b"this is not a policy request\n\n", "not name=value"),
    (b"\n", "empty request"),
    (request(request="something_else"), "not smtpd_access_policy"),
    (request(request=None), "not smtpd_access_policy"),
    (request(client=""), "no client_address"),
    (b"request=smtpd_access_policy\nclient_name=" + b"x" * 10000 + b"\n\n", "bytes long"),
])
def test_a_bad_request_is_answered_dunno_and_logged_and_the_connection_carries_on(
        caplog, data, logged):
    h, service = handler()
    with caplog.at_level(logging.WARNING, "Kamaelia.Apps.Grey.PolicyServer"):
        assert talk(h, data + request()) == DUNNO + DEFERRED
    assert logged in caplog.text
    assert len(service.envelopes) == 1
    assert not closedByHandler(h)


def test_the_answer_to_a_bad_request_is_a_setting():
    h, _ = handler(settings=PolicyServerSettings(badRequestAction="DEFER_IF_PERMIT"))
    assert talk(h, b"garbage\n\n") == b"action=DEFER_IF_PERMIT\n\n"


def test_settings_refuse_actions_that_cannot_be_sent_and_unknown_modes():
    with pytest.raises(ValueError):
        PolicyServerSettings(greylistAt="mail")
    with pytest.raises(Exception):
        PolicyServerSettings(deferAction="DEFER\nOK")


# -- ordering and framing ---------------------------------------------------------------------

def script(envelope):
    return passed() if envelope.recipients[0].startswith("ok") else greylisted(envelope.recipients)


def test_pipelined_requests_are_answered_in_order():
    h, _ = handler(FakePolicyService(script, wait=0.5))
    data = request(recipient="ok1@x") + request(recipient="no@x") + b"junk\n\n" + \
        request(recipient="ok2@x")
    h.put(data)
    h.advance(5)
    assert b"".join(h.getAll("outbox")) == DUNNO + DEFERRED + DUNNO + DUNNO


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_any_chunking_gives_the_same_answers(chunk):
    data = request(recipient="ok1@x") + request(recipient="no@x") + b"junk\n\n"
    h, _ = handler(FakePolicyService(script))
    assert talk(h, data, chunk) == DUNNO + DEFERRED + DUNNO


def test_the_handler_takes_no_more_input_while_its_answers_cannot_be_sent():
    """Backpressure: a full connection queue stops the reading of further requests."""

    class SlowSocket(component):
        def main(self):
            while True:
                self.pause()
                yield 1

    h, _ = handler()
    sink = SlowSocket()
    sink.setInboxSize("inbox", 2)
    sink.activate(h.scheduler)
    h.component.link((h.component, "outbox"), (sink, "inbox"))
    for _ in range(10):
        h.put(request())
    h.runUntilIdle()
    assert len(sink.inboxes["inbox"]) == 2
    assert h.component.answered == 2
    assert len(h.component.inboxes["inbox"]) >= 7, "requests were read ahead of the answers"
    sink.recv("inbox")
    sink.recv("inbox")
    h.runUntilIdle()
    assert h.component.answered == 4


# -- greylisting at DATA: all or nothing --------------------------------------------------

def dataMode(service=None):
    return handler(service, PolicyServerSettings(greylistAt="data", servername="mx.test",
                                                 version="9.9"))


def test_data_mode_records_recipients_at_rcpt_and_decides_them_together_at_data():
    h, service = dataMode()
    assert talk(h, request(recipient="a@x") + request(recipient="b@x")) == DUNNO + DUNNO
    assert service.envelopes == []
    assert talk(h, request(state="DATA", recipient="", recipient_count="2")) == DEFERRED
    [envelope] = service.envelopes
    assert envelope.recipients == ("a@x", "b@x")


def test_data_mode_end_of_message_after_a_data_decision_is_dunno_without_a_second_check():
    h, service = dataMode(FakePolicyService(lambda e: passed(delay=None, recipients=e.recipients)))
    talk(h, request(recipient="a@x"))
    assert talk(h, request(state="DATA", recipient="")) == DUNNO
    assert talk(h, request(state="END-OF-MESSAGE", recipient="")) == DUNNO
    assert len(service.envelopes) == 1


def test_data_mode_decides_at_end_of_message_when_data_is_not_asked_and_cannot_prepend():
    h, service = dataMode(FakePolicyService(lambda e: passed(delay=400, recipients=e.recipients)))
    talk(h, request(recipient="a@x"))
    assert talk(h, request(state="END-OF-MESSAGE", recipient="")) == DUNNO
    assert service.envelopes[0].recipients == ("a@x",)


def test_data_mode_prepends_at_data_after_a_delay():
    h, _ = dataMode(FakePolicyService(lambda e: passed(delay=400, recipients=e.recipients)))
    talk(h, request(recipient="a@x"))
    assert talk(h, request(state="DATA", recipient="")).startswith(
        b"action=PREPEND X-Greylist: delayed 400 seconds")


def test_data_mode_keeps_each_message_apart_by_instance():
    h, service = dataMode()
    talk(h, request(recipient="a@x", instance="one") + request(recipient="b@x", instance="two"))
    talk(h, request(state="DATA", instance="two", recipient=""))
    assert service.envelopes[0].recipients == ("b@x",)


def test_data_mode_with_one_recipient_known_only_from_the_data_request():
    h, service = dataMode()
    talk(h, request(state="DATA", recipient="solo@x", instance="fresh"))
    assert service.envelopes[0].recipients == ("solo@x",)


def test_data_mode_with_no_recipient_known_still_greylists_and_warns(caplog):
    h, service = dataMode()
    with caplog.at_level(logging.WARNING, "Kamaelia.Apps.Grey.PolicyServer"):
        assert talk(h, request(state="DATA", recipient="", instance="lost")) == DEFERRED
    assert "no recipient known" in caplog.text
    assert service.envelopes[0].recipients == ("",)


def test_rcpt_mode_prepends_x_greylist_once_per_message():
    h, _ = handler(FakePolicyService(lambda e: passed(delay=400, recipients=e.recipients)))
    first = talk(h, request(recipient="a@x"))
    assert first.startswith(b"action=PREPEND ")
    assert talk(h, request(recipient="b@x")) == DUNNO
    assert talk(h, request(recipient="c@x", instance="next")).startswith(b"action=PREPEND ")


def test_instance_table_is_bounded_in_number_age_and_recipients():
    table = InstanceTable(maxInstances=3, maxRecipients=2, lifetime=100)
    for i in range(5):
        table.addRecipient("i%d" % i, "r@x", now=0)
    assert len(table) == 3 and table.recipients("i0") == () and table.recipients("i4") == ("r@x",)
    assert table.addRecipient("i4", "s@x", 0) and not table.addRecipient("i4", "t@x", 0)
    assert table.addRecipient("i4", "r@x", 0), "a recipient given twice is not counted twice"
    table.addRecipient("new", "r@x", now=101)
    assert table.recipients("i4") == () and len(table) == 1


def test_instance_table_bounds_the_recipients_of_all_messages_together():
    table = InstanceTable(maxInstances=100, maxRecipients=10, lifetime=100, maxTotal=25)
    for i in range(5):
        for r in range(10):
            table.addRecipient("m%d" % i, "r%d@x" % r, now=0)
    assert table.total <= 25
    assert table.recipients("m0") == () and len(table.recipients("m4")) == 10
    table.forget("m4")
    assert table.total == sum(len(table.recipients("m%d" % i)) for i in range(5))


def test_peer_text_reaches_the_logs_as_printable_ascii_only(caplog):
    h, _ = handler()
    with caplog.at_level(logging.INFO):
        talk(h, request(sender="evil\r@x", helo_name="h\x1b[31m") + b"bad\x00\rline\n\n")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "\r" not in text and "\x1b" not in text and "\x00" not in text
    assert "evil?@x" in text and "h?[31m" in text


# -- life of a connection ----------------------------------------------------------------

def test_one_per_connection_mode_closes_after_the_first_answer():
    h, service = handler(settings=PolicyServerSettings(onePerConnection=True))
    assert talk(h, request() + request()) == DEFERRED
    assert closedByHandler(h)
    assert len(service.envelopes) == 1


def test_the_client_closing_its_side_gets_every_answer_then_the_close():
    """Exim's readsocket: the request, then a shutdown of its sending side."""
    h, _ = handler()
    h.put(request() + request())
    h.put(b"")
    h.runUntilIdle()
    assert b"".join(h.getAll("outbox")) == DEFERRED + DEFERRED
    assert closedByHandler(h) and h.finished


def test_a_request_cut_off_by_the_close_is_logged_not_answered(caplog):
    h, _ = handler()
    with caplog.at_level(logging.WARNING, "Kamaelia.Apps.Grey.PolicyServer"):
        h.put(request()[:40])
        h.put(b"")
        h.runUntilIdle()
    assert h.getAll("outbox") == []
    assert "middle of a request" in caplog.text
    assert h.finished


def test_draining_answers_what_was_received_then_closes():
    h, _ = handler(FakePolicyService(wait=1.0))
    h.put(request() + request())
    h.runUntilIdle()
    h.put(producerFinished(), "control")
    h.advance(5)
    assert b"".join(h.getAll("outbox")) == DEFERRED + DEFERRED
    assert closedByHandler(h) and h.finished


def test_a_vanished_connection_stops_the_handler_without_a_close():
    h, _ = handler()
    h.put(socketShutdown(), "control")
    h.runUntilIdle()
    assert h.finished and h.getAll("signal") == []


def test_an_idle_connection_is_closed_after_the_idle_timeout():
    h, _ = handler(settings=PolicyServerSettings(idleTimeout=60))
    h.advance(30)
    talk(h, request())
    h.advance(59)
    assert not h.finished
    h.advance(2)
    assert closedByHandler(h) and h.finished


def test_crash_notice_answers_the_request_in_flight_only():
    h, _ = handler(FakePolicyService(wait=10))
    assert h.component.crashNotice() == b""
    h.put(request())
    h.runUntilIdle()
    assert h.component.crashNotice() == \
        b"action=DEFER_IF_PERMIT " + INTERNAL_ERROR_TEXT.encode() + b"\n\n"


def test_a_refused_connection_gets_one_deferral_and_is_closed():
    h, service = handler(refusal=UNAVAILABLE_TEXT)
    assert talk(h, request() + request()) == \
        b"action=DEFER_IF_PERMIT " + UNAVAILABLE_TEXT.encode() + b"\n\n"
    assert closedByHandler(h) and service.envelopes == []


def test_a_refused_connection_that_says_nothing_is_closed_after_the_refusal_timeout():
    h, _ = handler(refusal=UNAVAILABLE_TEXT, settings=PolicyServerSettings(refusalTimeout=10))
    h.advance(11)
    assert closedByHandler(h) and h.finished


def test_new_settings_apply_from_the_next_request():
    class Server:
        settings = PolicyServerSettings()
        service = FakePolicyService()

    server = Server()
    h = ComponentHarness(PolicyHandler(server=server))
    assert talk(h, request()) == DEFERRED
    server.settings = PolicyServerSettings(greylistText="Changed")
    assert talk(h, request()) == b"action=DEFER_IF_PERMIT Changed\n\n"


def test_decisions_go_to_the_result_log_in_the_proxys_format(caplog):
    h, _ = handler()
    with caplog.at_level(logging.INFO, "Kamaelia.Apps.Grey.result"):
        talk(h, request(queue_id="4XyZ"))
    [line] = [r.getMessage() for r in caplog.records if r.name == "Kamaelia.Apps.Grey.result"]
    fields = line.split(" | ")
    assert fields[1:] == ["helo.example.org", "192.0.2.7", "<alice@example.org>",
                          "<bob@example.net>", "DEFERRED", "4XyZ"]
    assert fields[0].startswith("20231114")


def test_fromconfig_reads_the_policy_keys():
    settings = PolicyServerSettings.fromConfig({
        "servername": "mx.example.org", "policy_greylist_at": "data",
        "policy_defer_action": "DEFER", "greylist_text": "Later"})
    assert (settings.servername, settings.greylistAt, settings.deferAction,
            settings.greylistText) == ("mx.example.org", "data", "DEFER", "Later")


# -- real sockets -----------------------------------------------------------------------------

class PolicyClient:
    """A raw policy-protocol client with a deadline on every read."""

    def __init__(self, address, family=socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(address)
        self.pending = b""

    def send(self, data):
        self.sock.sendall(data)

    def answer(self):
        """One answer (bytes, the blank line included)."""
        while b"\n\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed with %r pending" % self.pending)
            self.pending += chunk
        answer, _, self.pending = self.pending.partition(b"\n\n")
        return answer + b"\n\n"

    def answers(self, count):
        return [self.answer() for _ in range(count)]

    def ask(self, data):
        self.send(data)
        return self.answer()

    def readToEnd(self):
        data = self.pending
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def close(self):
        self.sock.close()


class Keeper(component):
    """Keeps the test's scheduler running after the servers under test have stopped."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


@pytest.fixture
def policyServer(system):
    """Start a PolicyServer in the running system: start(**attributes) -> (server, service)."""
    started = []
    system.activate(Keeper())

    def start(service=None, **attributes):
        service = service if service is not None else FakePolicyService(script)
        attributes.setdefault("host", "127.0.0.1")
        attributes.setdefault("port", 0)
        server = system.call(lambda: PolicyServer(service=service, **attributes).activate())
        started.append(server)
        return server, service

    yield start
    for server in started:
        system.call(lambda s=server: s._isStopped() or s.stop())


def test_many_concurrent_connections_each_with_many_requests(policyServer):
    server, service = policyServer()
    errors = []

    def client(n):
        try:
            c = PolicyClient(("127.0.0.1", server.port))
            for i in range(20):
                expected = DUNNO if i % 2 else DEFERRED
                recipient = ("ok%d-%d@x" if i % 2 else "no%d-%d@x") % (n, i)
                got = c.ask(request(recipient=recipient))
                if got != expected:
                    errors.append((n, i, got))
            c.close()
        except Exception as e:
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE * 2)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(service.envelopes) == 400


def test_exim_readsocket_style_request_then_shutdown_gets_the_answer_and_eof(policyServer):
    server, _ = policyServer()
    c = PolicyClient(("127.0.0.1", server.port))
    c.send(request(recipient="no@x"))
    c.sock.shutdown(socket.SHUT_WR)
    assert c.readToEnd() == DEFERRED


def test_one_per_connection_mode_on_a_real_socket(policyServer):
    server, _ = policyServer(settings=PolicyServerSettings(onePerConnection=True))
    c = PolicyClient(("127.0.0.1", server.port))
    c.send(request(recipient="ok@x"))
    assert c.readToEnd() == DUNNO


def test_over_max_sessions_a_client_gets_a_deferral_not_a_silent_close(policyServer, system):
    server, _ = policyServer(max_sessions=2)
    held = [PolicyClient(("127.0.0.1", server.port)) for _ in range(2)]
    for c in held:
        assert c.ask(request(recipient="ok@x")) == DUNNO
    extra = PolicyClient(("127.0.0.1", server.port))
    extra.send(request(recipient="ok@x"))
    assert extra.readToEnd() == b"action=DEFER_IF_PERMIT " + UNAVAILABLE_TEXT.encode() + b"\n\n"
    assert system.call(lambda: server.refused) == 1
    for c in held:
        c.close()


def test_drain_lets_open_connections_finish_their_request_and_closes_them(policyServer, system):
    server, _ = policyServer(FakePolicyService(script))
    c = PolicyClient(("127.0.0.1", server.port))
    assert c.ask(request(recipient="ok@x")) == DUNNO
    system.call(server.drain, 5)
    assert c.readToEnd() == b""


def test_unix_socket_server_answers_and_cleans_up(policyServer, system, tmp_path):
    path = str(tmp_path / "policy.sock")
    server, _ = policyServer(path=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
    c = PolicyClient(path, socket.AF_UNIX)
    assert c.ask(request(recipient="no@x")) == DEFERRED
    assert c.ask(request(recipient="ok@x")) == DUNNO
    c.close()
    system.call(server.stop)
    deadline = time.monotonic() + DEADLINE
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(path)


def test_a_stale_unix_socket_is_replaced_a_live_one_is_not(tmp_path):
    path = str(tmp_path / "policy.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()                                # the file stays, nobody listens
    live = bindUnixSocket(path)
    try:
        with pytest.raises(OSError) as error:
            bindUnixSocket(path)
        assert "another server" in str(error.value)
    finally:
        live.close()


def test_a_file_that_is_not_a_socket_is_never_removed(tmp_path):
    path = tmp_path / "important"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        bindUnixSocket(str(path))
    assert path.read_text() == "keep me"


def test_a_unix_socket_that_cannot_be_bound_fails_the_start(system, tmp_path):
    path = str(tmp_path / "missing-dir" / "policy.sock")
    server = PolicyServer(service=FakePolicyService(), path=path)
    assert server.server.listener is None and server.server.bindError is not None


def test_make_policy_server_from_a_config(system, tmp_path):
    config = {"servername": "mx.cfg", "policy_greylist_at": "data", "listen_address": "127.0.0.1",
              "port": 0, "policy_socket": "", "max_sessions": 7}
    server = makePolicyServer(config, FakePolicyService())
    try:
        assert server.port > 0 and server.max_sessions == 7
        assert server.settings.greylistAt == "data" and server.settings.servername == "mx.cfg"
    finally:
        server.server.listener.close()
    path = str(tmp_path / "cfg.sock")
    server = makePolicyServer(dict(config, policy_socket=path), FakePolicyService())
    try:
        assert server.port == path and os.path.exists(path)
    finally:
        server.server.listener.close()


# -- a hostile raw client -------------------------------------------------------------------

def test_hostile_client_pipelined_partial_huge_and_garbage_all_answered(policyServer):
    """Every complete request is answered, in order, whatever surrounds it."""
    server, _ = policyServer()
    c = PolicyClient(("127.0.0.1", server.port))
    # 500 pipelined requests in one write.
    c.send(b"".join(request(recipient="ok%d@x" % i if i % 3 else "no%d@x" % i)
                    for i in range(500)))
    got = c.answers(500)
    assert got == [DEFERRED if i % 3 == 0 else DUNNO for i in range(500)]
    # A request dribbled a few bytes at a time.
    data = request(recipient="no-drip@x")
    for i in range(0, len(data), 7):
        c.send(data[i:i + 7])
    assert c.answer() == DEFERRED
    # Huge attributes: a 2 MB value, then 5,000 attributes, then a normal request.
    c.send(b"request=smtpd_access_policy\nclient_name=" + b"h" * 2_000_000 + b"\n\n")
    c.send(b"".join(b"a%d=v\n" % i for i in range(5000)) + b"\n")
    c.send(request(recipient="ok-after@x"))
    assert c.answers(3) == [DUNNO, DUNNO, DUNNO]
    # Garbage: binary bytes, NULs, CRs, lines without "=", lone blank lines.
    garbage = bytes(range(256)).replace(b"\n", b"") * 40
    c.send(garbage + b"\n\n\n\x00=\x00\n\n" + b"\r\n\r\n")    # five requests
    assert c.answers(5) == [DUNNO] * 5
    assert c.ask(request(recipient="no-end@x")) == DEFERRED
    c.close()


def test_hostile_clients_leave_the_server_answering_everyone_else(policyServer, system):
    server, _ = policyServer(settings=PolicyServerSettings(greylistText="long " * 600))
    address = ("127.0.0.1", server.port)
    deferred = b"action=DEFER_IF_PERMIT " + ("long " * 600).strip().encode() + b"\n\n"
    # Hang up mid-request, mid-line, and straight after connecting.
    for data in (request()[:50], b"request=smtpd_acc", b""):
        c = PolicyClient(address)
        if data:
            c.send(data)
        c.close()
    # Reset the connection with unread answers queued.
    c = PolicyClient(address)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.send(request() * 50)
    c.close()
    # A client that floods small requests (with big answers) and never reads them: the
    # server must stop reading it, holding only bounded queues, not its whole output.
    flood = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    flood.connect(address)
    flood.setblocking(False)
    small = b"request=smtpd_access_policy\nclient_address=192.0.2.9\nrecipient=no@x\n\n"
    sent, chunk, limit, blocked = 0, small * 1000, 100_000_000, False
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and sent < limit:
        if not select.select([], [flood], [], 0.5)[1]:
            blocked = True                       # the server has stopped reading
            break
        try:
            sent += flood.send(chunk)
        except BlockingIOError:
            continue
    assert blocked and sent < limit, "the server kept reading from a client that never reads"

    def queues():
        handlers = [h for h in server.children if isinstance(h, PolicyHandler)]
        return [(len(h.inboxes["inbox"]), h.connection.buffered) for h in handlers]

    for inboxLength, buffered in system.call(queues):
        assert inboxLength <= PolicyHandler.inboxSize
        assert buffered <= 2 * 65536 + 4096
    # Everyone else is still answered promptly.
    other = PolicyClient(address)
    assert other.ask(request(recipient="no-other@x")) == deferred
    assert other.ask(request(recipient="ok-other@x")) == DUNNO
    other.close()
    flood.close()


# -- with the real policy, store and service ---------------------------------------------------

T0 = 1_700_000_000.0


@pytest.fixture
def realPolicy(system, policyServer, tmp_path):
    """start(**config) -> (server, clock): our server over PolicyService, GreylistPolicy, SQLite.

    The scheduler's wall clock is ``clock[0]``, set by the test (the policy's "now").
    """
    from Kamaelia.Apps.Grey import Config
    from Kamaelia.Apps.Grey.Policy import GreylistPolicy, PolicySettings
    from Kamaelia.Apps.Grey.PolicyService import PolicyService

    clock = [T0]
    system.scheduler.wallclock = lambda: clock[0]
    services = []

    def start(serviceTimeout=None, storeTimeout=5.0, **overrides):
        config = Config.defaultConfig()
        config.update(mode="policy", greylist_profile="postgrey", greylist_key="normalized",
                      greylist_db=str(tmp_path / "greylist.sqlite"), servername="mx.test")
        config.update(overrides)
        settings = PolicySettings.fromConfig(config)
        policy = GreylistPolicy(settings, settings.openStore(config["greylist_db"],
                                                             timeout=storeTimeout))
        service = system.call(lambda: PolicyService(policy, timeout=serviceTimeout).activate())
        services.append(service)
        server, _ = policyServer(service=service,
                                 settings=PolicyServerSettings.fromConfig(config))
        return server, clock

    yield start
    for service in services:
        system.call(lambda s=service: s._deliver(producerFinished(), "control"))


def test_real_policy_defers_a_new_triplet_then_prepends_after_the_delay_then_dunno(realPolicy):
    server, clock = realPolicy()
    c = PolicyClient(("127.0.0.1", server.port))
    assert c.ask(request()) == DEFERRED
    clock[0] = T0 + 100
    assert c.ask(request()) == DEFERRED, "an early retry is still deferred"
    clock[0] = T0 + 400
    assert c.ask(request()) == (b"action=PREPEND X-Greylist: delayed 400 seconds by kamaelia-grey-"
                                + PolicyServerSettings().version.encode()
                                + b" at mx.test; Tue, 14 Nov 2023 22:20:00 GMT\n\n")
    clock[0] = T0 + 500
    assert c.ask(request()) == DUNNO
    assert c.ask(request(recipient="postmaster@example.net")) == DUNNO, "recipient whitelist"
    c.close()


def test_real_policy_at_data_decides_all_recipients_of_a_message_together(realPolicy):
    server, clock = realPolicy(policy_greylist_at="data")
    c = PolicyClient(("127.0.0.1", server.port))
    first = request(recipient="a@example.net", instance="m1") + \
        request(recipient="b@example.net", instance="m1") + \
        request(state="DATA", recipient="", instance="m1", recipient_count="2")
    c.send(first)
    assert c.answers(3) == [DUNNO, DUNNO, DEFERRED]
    clock[0] = T0 + 400
    retry = first.replace(b"instance=m1", b"instance=m2")
    c.send(retry)
    answers = c.answers(3)
    assert answers[:2] == [DUNNO, DUNNO]
    assert answers[2].startswith(b"action=PREPEND X-Greylist: delayed 400 seconds")
    c.send(request(state="END-OF-MESSAGE", recipient="", instance="m2"))
    assert c.answer() == DUNNO
    c.close()


def test_real_policy_with_a_locked_database_answers_a_deferral_quickly(realPolicy, tmp_path):
    """Another process holds the SQLite write lock: a deferral within the store's timeout."""
    server, _ = realPolicy(storeTimeout=0.3)
    blocker = sqlite3.connect(str(tmp_path / "greylist.sqlite"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        c = PolicyClient(("127.0.0.1", server.port))
        started = time.monotonic()
        answer = c.ask(request())
        assert time.monotonic() - started < 5.0
        assert answer == b"action=DEFER_IF_PERMIT " + R.LOCAL_ERROR.text.encode() + b"\n\n"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert c.ask(request()) == DEFERRED, "once the lock is gone, greylisting resumes"
    c.close()


def test_real_policy_that_does_not_answer_in_time_gives_a_deferral_not_a_hang(realPolicy, tmp_path):
    """The service's own timeout: the store waits 5 s for a lock, the service 0.3 s."""
    server, _ = realPolicy(serviceTimeout=0.3, storeTimeout=5.0)
    blocker = sqlite3.connect(str(tmp_path / "greylist.sqlite"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        c = PolicyClient(("127.0.0.1", server.port))
        started = time.monotonic()
        answer = c.ask(request())
        assert time.monotonic() - started < 3.0
        assert answer.startswith(b"action=DEFER_IF_PERMIT ") and answer != DEFERRED
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    c.close()
