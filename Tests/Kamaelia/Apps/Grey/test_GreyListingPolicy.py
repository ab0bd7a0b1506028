"""GreyListingPolicy: the 1.x policy order with the fixes, driven on a fake clock."""

import logging

import pytest

from Axon.Testing import ComponentHarness, FakeClock
from Kamaelia.Apps.Grey.GreyListingPolicy import GreyListingPolicy
from Kamaelia.Apps.Grey.GreylistService import SERVICE_NAME, GreylistService, GreylistUnavailable
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA


class InlineGreylist(object):
    """Same interface as GreylistService, answering at once (no thread) from a real store."""

    def __init__(self, store=None, broken=False):
        self.store = store or GreylistStore(":memory:", KAMAELIA)
        self.broken = broken
        self.queries = []

    def query(self, asker, ip, sender, recipients, now=None):
        yield 1
        if self.broken:
            raise GreylistUnavailable("store on fire")
        now = asker.scheduler.wallclock() if now is None else now
        self.queries.append((ip, sender, list(recipients)))
        return [self.store.check(ip, sender, r, now) for r in recipients]

    def sync(self, ip, sender, recipient, now):
        return self.store.check(ip, sender, recipient, now)


@pytest.fixture
def grey(proxy):
    """Start a policy conversation; ``service`` is the greylist the policy sees."""

    def start(service=None, clock=None, **attributes):
        service = service or InlineGreylist()

        class Policy(GreyListingPolicy):
            peer, peerport, local, localport = "198.51.100.7", 40000, "127.0.0.1", 25
            servername = "mx.test"
            allowed_senders = ["127.0.0.1"]
            allowed_domains = ["example.org"]
            script = None

            def makeBackendClient(self):
                return proxy.FakeBackend(self.script)

            def greylistService(self):
                return service

        for key, value in attributes.items():
            setattr(Policy, key, value)
        script = proxy.script()
        handler = Policy(script=script)
        h = ComponentHarness(handler, clock=clock)
        h.runUntilIdle()
        h.getAll("outbox")
        h.script, h.service = script, service
        return h

    return start


def send(proxy, h, rcpts=("<bob@example.org>",), sender="<alice@sender.example>", helo="c.example"):
    data = b"HELO %s\r\nMAIL FROM:%s\r\n" % (helo.encode(), sender.encode())
    data += b"".join(b"RCPT TO:%s\r\n" % r.encode() for r in rcpts)
    data += b"DATA\r\n"
    text = proxy.talk(h, data)
    if text.endswith("354 Enter message, ending with \".\" on a line by itself\r\n"):
        text += proxy.talk(h, b"Subject: x\r\n\r\nbody\r\n.\r\n")
    return [int(l[:3]) for l in text.split("\r\n") if l[3:4] == " "]


def test_first_attempt_deferred_retry_in_window_accepted(proxy, grey):
    """The 1.x timing profile: a retry after an hour passes; one after 2 minutes does not.

    Each attempt is a new connection, as a real sender's retry is.
    """
    service, clock = InlineGreylist(), FakeClock()
    assert send(proxy, grey(service, clock))[-1] == 451
    clock.advance(120)
    assert send(proxy, grey(service, clock))[-1] == 451     # too soon: resets the clock
    clock.advance(3599)
    assert send(proxy, grey(service, clock))[-1] == 451     # early retry (within min_defer)
    clock.advance(2)
    h = grey(service, clock)
    assert send(proxy, h)[-2:] == [354, 250]                # 3601 s after the reset: passes
    assert len(h.script.messages) == 1
    clock.advance(86400)
    assert send(proxy, grey(service, clock))[-2:] == [354, 250]   # known triplet, refreshed


def test_allowed_sender_address_and_network_skip_greylisting_and_may_relay(proxy, grey):
    h = grey(peer="127.0.0.1")
    assert send(proxy, h, rcpts=("<anyone@elsewhere.net>",))[-2:] == [354, 250]
    assert h.service.queries == []
    h = grey(peer="10.20.30.40", allowed_sender_nets=["10"])
    assert send(proxy, h, rcpts=("<anyone@elsewhere.net>",))[-2:] == [354, 250]
    h = grey(peer="2001:db8::5", allowed_sender_nets=["2001:db8::/32"])
    assert send(proxy, h)[-2:] == [354, 250]


def test_network_prefixes_match_whole_octets_only(proxy, grey):
    """"10" must not make 100.1.2.3 an allowed sender (1.x's open relay)."""
    h = grey(peer="100.1.2.3", allowed_sender_nets=["10"])
    codes = send(proxy, h, rcpts=("<anyone@elsewhere.net>",))
    assert 550 in codes


def test_relaying_is_refused_with_550_and_other_recipients_continue(proxy, grey):
    h = grey()
    codes = send(proxy, h, rcpts=("<eve@elsewhere.net>", "<bob@example.org>"))
    assert codes[2:4] == [550, 250]
    assert codes[-1] == 451                           # bob still greylisted
    assert h.service.queries[0][2] == ["<bob@example.org>"]


def test_postmaster_is_accepted_and_not_greylisted(proxy, grey):
    h = grey()
    assert send(proxy, h, rcpts=("<postmaster>",))[-2:] == [354, 250]
    assert h.service.queries == []


def test_all_new_recipients_are_recorded_in_one_round(proxy, grey):
    """1.x stopped at the first; now every recipient's triplet is recorded at once."""
    service, clock = InlineGreylist(), FakeClock()
    h = grey(service, clock)
    assert send(proxy, h, rcpts=("<a@example.org>", "<b@example.org>", "<c@example.org>"))[-1] == 451
    assert h.service.queries == [("198.51.100.7", "<alice@sender.example>",
                                  ["<a@example.org>", "<b@example.org>", "<c@example.org>"])]
    clock.advance(3700)
    h = grey(service, clock)
    assert send(proxy, h, rcpts=("<a@example.org>", "<b@example.org>", "<c@example.org>"))[-1] == 250


def test_whitelisted_triple_is_accepted_but_does_not_carry_other_recipients(proxy, grey):
    triple = ("198.51.100.7", "<alice@sender.example>", "<bob@example.org>")
    h = grey(whitelisted_triples=[triple])
    assert send(proxy, h)[-2:] == [354, 250]
    assert h.service.queries == []
    h = grey(whitelisted_triples=[triple])
    assert send(proxy, h, rcpts=("<bob@example.org>", "<new@example.org>"))[-1] == 451
    assert h.service.queries[0][2] == ["<new@example.org>"]


def test_nonstandard_triple_matches_helo_name_and_network(proxy, grey):
    entry = ("sender.farm.example", "198.51.100", "<bob@example.org>")
    h = grey(whitelisted_nonstandard_triples=[entry])
    assert send(proxy, h, helo="sender.farm.example")[-2:] == [354, 250]
    h = grey(whitelisted_nonstandard_triples=[entry])
    assert send(proxy, h, helo="other.example")[-1] == 451


def test_greylist_failure_defers_never_accepts(proxy, grey):
    h = grey(InlineGreylist(broken=True))
    text_codes = send(proxy, h)
    assert text_codes[-1] == 451
    assert h.script.messages == []
    assert h.component.mailStatus in ("ERROR", "")


def test_result_line_has_the_1x_format(proxy, grey, caplog):
    h = grey()
    with caplog.at_level(logging.INFO, logger="Kamaelia.Apps.Grey.result"):
        send(proxy, h)
    lines = [r.getMessage() for r in caplog.records if r.name == "Kamaelia.Apps.Grey.result"]
    assert lines, "a result line was written"
    fields = lines[0].split(" | ")
    assert len(fields[0]) == 18 and fields[0][14] == "."
    assert fields[1:6] == ["c.example", "198.51.100.7", "<alice@sender.example>",
                           "<bob@example.org>", "DEFERRED"]
    assert fields[6] == h.component.sessionId and len(fields) == 7


def test_the_real_service_answers_from_its_thread(proxy, tmp_path):
    """GreylistService: questions go to its thread and answers wake the asking session."""
    import time
    store = GreylistStore(str(tmp_path / "g.sqlite"), KAMAELIA)
    service = GreylistService(store=store)

    class Policy(GreyListingPolicy):
        peer, peerport, local, localport = "198.51.100.7", 40000, "127.0.0.1", 25
        allowed_domains = ["example.org"]
        script = None

        def makeBackendClient(self):
            return proxy.FakeBackend(self.script)

    handler = Policy(script=proxy.script())
    h = ComponentHarness(handler)
    service.registerAsService(handler.tracker)
    service.activate(h.scheduler)
    h.put(b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    deadline = time.monotonic() + 10
    while "451" not in "".join(x if isinstance(x, str) else x.decode() for x in
                               list(h.component.outboxes["outbox"].storage)):
        assert time.monotonic() < deadline, "no greylist answer"
        h.step()
        time.sleep(0.001)
    assert handler.tracker.retrieveService(SERVICE_NAME)[0] is service
    assert store.lookup("198.51.100.7", "<a@b.c>", "<bob@example.org>") is not None
