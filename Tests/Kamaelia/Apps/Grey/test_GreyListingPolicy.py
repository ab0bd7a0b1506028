"""GreyListingPolicy: the 1.x policy order with the fixes, driven on a fake clock."""

import logging

import pytest

from Axon.Testing import ComponentHarness, FakeClock
from Kamaelia.Apps.Grey.Capabilities import CapabilityCache
from Kamaelia.Apps.Grey.ClientName import OK, ClientName
from Kamaelia.Apps.Grey.GreyListingPolicy import GreyListingPolicy
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA, AwlParameters
from Kamaelia.Apps.Grey.Policy import GreylistPolicy, PolicySettings
from Kamaelia.Apps.Grey.PolicyService import SERVICE_NAME, PolicyService
from Kamaelia.Apps.Grey.Whitelists import ClientWhitelist, RecipientWhitelist


class RecordingStore(object):
    """A real store that records the questions the policy asks it (or fails, if broken)."""

    def __init__(self, broken=False, settings=None):
        self.store = (settings or PolicySettings()).openStore(":memory:")
        self.profile = self.store.profile
        self.broken = broken
        self.queries = []

    def checkMessage(self, ip, sender, recipients, now):
        if self.broken:
            raise RuntimeError("store on fire")
        self.queries.append((ip, sender, list(recipients)))
        return self.store.checkMessage(ip, sender, recipients, now)

    def check(self, ip, sender, recipient, now):
        return self.store.check(ip, sender, recipient, now)

    def __getattr__(self, name):
        # The store's read-only lookups (awl, lookup, lookupClient ...) are not recorded.
        return getattr(self.store, name)


class InlinePolicyService(object):
    """PolicyService's interface, answering at once (no thread), over a recording store."""

    def __init__(self, broken=False, settings=None):
        settings = settings or PolicySettings()
        self.recorder = RecordingStore(broken, settings)
        self.policy = GreylistPolicy(settings, self.recorder)

    @property
    def queries(self):
        return self.recorder.queries

    def decide(self, asker, envelope, now=None, policy=None):
        yield 1
        now = asker.scheduler.wallclock() if now is None else now
        return (policy or self.policy).decide(envelope, now)

    def wouldDefer(self, asker, envelope, now=None, policy=None):
        yield 1
        now = asker.scheduler.wallclock() if now is None else now
        return (policy or self.policy).wouldDefer(envelope, now)


@pytest.fixture
def grey(proxy):
    """Start a policy conversation; ``service`` is the greylist the policy sees."""

    def start(service=None, clock=None, **attributes):
        service = service or InlinePolicyService()

        class Policy(GreyListingPolicy):
            peer, peerport, local, localport = "198.51.100.7", 40000, "127.0.0.1", 25
            servername = "mx.test"
            allowed_senders = ["127.0.0.1"]
            allowed_domains = ["example.org"]
            script = None

            def makeBackendClient(self):
                return proxy.FakeBackend(self.script)

            def policyService(self):
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
    service, clock = InlinePolicyService(), FakeClock()
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
    service, clock = InlinePolicyService(), FakeClock()
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
    h = grey(InlinePolicyService(broken=True))
    text = proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    assert text.splitlines()[-1].startswith("451 4.3.0")
    assert h.script.messages == []
    assert h.component.mailStatus == "ERROR"
    assert h.component.decision.reasonFor("bob@example.org") == "store-error"


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
    """PolicyService: questions go to its thread and answers wake the asking session."""
    import time
    store = GreylistStore(str(tmp_path / "g.sqlite"), KAMAELIA)
    service = PolicyService(GreylistPolicy(PolicySettings(), store))

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
    assert handler.decision.reasonFor("bob@example.org") == "new"


def test_x_greylist_header_only_after_a_delay_and_only_when_asked(proxy, grey):
    service, clock = InlinePolicyService(), FakeClock()
    assert send(proxy, grey(service, clock, x_greylist_header=True))[-1] == 451
    clock.advance(3700)
    h = grey(service, clock, x_greylist_header=True)
    assert send(proxy, h)[-1] == 250
    first = h.script.messages[0].split(b"\r\n")
    headers = [line for line in first if line.startswith(b"X-Greylist:")]
    assert len(headers) == 1
    assert headers[0].startswith(b"X-Greylist: delayed 3700 seconds by kamaelia-grey-")
    assert b" at mx.test; " in headers[0]
    clock.advance(60)                                   # known now: passes without a delay
    h = grey(service, clock, x_greylist_header=True)
    assert send(proxy, h)[-1] == 250
    assert b"X-Greylist:" not in h.script.messages[0]


def test_no_x_greylist_header_by_default(proxy, grey):
    service, clock = InlinePolicyService(), FakeClock()
    send(proxy, grey(service, clock))
    clock.advance(3700)
    h = grey(service, clock)
    assert send(proxy, h)[-1] == 250
    assert b"X-Greylist:" not in h.script.messages[0]


def test_client_whitelist_by_verified_name_and_by_network(proxy, grey):
    settings = PolicySettings(clientWhitelist=ClientWhitelist(["trusted.example", "203.0.113.0/24"]))

    def named(name):
        return lambda self: setattr(self, "clientName", ClientName(name, name, OK))

    service = InlinePolicyService(settings=settings)
    h = grey(service, startClientNameLookup=named("mx1.trusted.example"))
    assert send(proxy, h)[-2:] == [354, 250]
    assert h.component.decision.reasonFor("bob@example.org") == "client-whitelist"
    assert service.queries == []
    h = grey(service, startClientNameLookup=named("mx1.untrusted.example"))
    assert send(proxy, h)[-1] == 451
    h = grey(service, peer="203.0.113.9")
    assert send(proxy, h)[-2:] == [354, 250]


def test_opt_out_and_recipient_whitelist_skip_greylisting(proxy, grey):
    settings = PolicySettings(optOut=RecipientWhitelist.fromEntries(["urgent@example.org"], "o"),
                              recipientWhitelist=RecipientWhitelist.fromEntries(["abuse@"], "w"))
    service = InlinePolicyService(settings=settings)
    h = grey(service)
    assert send(proxy, h, rcpts=("<urgent@example.org>", "<abuse@example.org>"))[-1] == 250
    assert h.component.decision.reasons == (("urgent@example.org", "opt-out"),
                                            ("abuse@example.org", "recipient-whitelist"))
    h = grey(service)
    assert send(proxy, h, rcpts=("<urgent@example.org>", "<bob@example.org>"))[-1] == 451


def test_a_client_network_is_auto_whitelisted_after_passed_deliveries(proxy, grey):
    settings = PolicySettings(awl=AwlParameters(clients=2, maxAge=35 * 86400, domains=False))
    service, clock = InlinePolicyService(settings=settings), FakeClock()
    for n in range(2):
        rcpt = "<r%d@example.org>" % n
        assert send(proxy, grey(service, clock), rcpts=(rcpt,))[-1] == 451
        clock.advance(3700)
        assert send(proxy, grey(service, clock), rcpts=(rcpt,))[-1] == 250
    h = grey(service, clock, peer="198.51.100.99")            # same /24, a new triplet
    assert send(proxy, h, rcpts=("<new@example.org>",))[-1] == 250
    assert h.component.decision.reasonFor("new@example.org") == "auto-whitelisted"


def test_a_1x_subclass_overriding_whiteListed_is_consulted(proxy, grey):
    def whiteListed(self, recipient):
        return recipient == "<vip@example.org>"

    service = InlinePolicyService()
    h = grey(service, whiteListed=whiteListed)
    assert send(proxy, h, rcpts=("<vip@example.org>",))[-1] == 250
    assert service.queries == []
    h = grey(service, whiteListed=whiteListed)
    assert send(proxy, h, rcpts=("<vip@example.org>", "<bob@example.org>"))[-1] == 451
    assert service.queries[-1][2] == ["<bob@example.org>"]


def test_a_1x_subclass_overriding_isGreylisted_decides_the_greylisting(proxy, grey):
    service = InlinePolicyService()
    h = grey(service, isGreylisted=lambda self, recipient: True)
    assert send(proxy, h)[-1] == 250
    h = grey(service, isGreylisted=lambda self, recipient: False)
    assert send(proxy, h)[-1] == 451


def test_1x_methods_answer_from_the_policy(proxy, grey):
    h = grey(peer="10.1.2.3", allowed_sender_nets=["10.0.0.0/8"], allowed_senders=["192.0.2.1"])
    policy = h.component
    assert policy.sentFromAllowedNetwork() and not policy.sentFromAllowedIPAddress()
    h = grey(peer="192.0.2.1", allowed_senders=["192.0.2.1"])
    assert h.component.sentFromAllowedIPAddress()
    proxy.talk(h, b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bob@example.org>\r\n")
    assert h.component.sentToADomainWeForwardFor()
    assert h.component.isGreylisted("<bob@example.org>") is False    # first attempt: recorded


def test_the_class_lists_override_the_services_settings_and_follow_a_swap(proxy, grey):
    """A 1.x subclass's own lists win; the service's other settings still apply."""
    service = InlinePolicyService(settings=PolicySettings(
        allowedDomains=("other.example",), optOut=RecipientWhitelist.fromEntries(["bob@"], "o")))
    h = grey(service)                                  # the class says example.org
    assert send(proxy, h)[-1] == 250                   # ours, and opted out
    first = h.component.currentPolicy()
    assert first.settings.allowedDomains == ("example.org",)
    assert h.component.currentPolicy() is first        # made once per distinct lists
    service.policy = service.policy.withSettings(PolicySettings(allowedDomains=("example.org",)))
    h = grey(service)
    assert send(proxy, h)[-1] == 451                   # the swapped settings: no opt-out


# -- a greylisted attempt is answered without the real server ------------------------------------

SERVER = ("127.0.0.1", 25)


def knownServer():
    """A capability cache that has met the handler's real server before."""
    cache = CapabilityCache()
    cache.remember(SERVER, {"PIPELINING": (), "SIZE": ("20000000",), "8BITMIME": ()})
    return cache


def test_a_greylisted_attempt_never_connects_to_the_real_server(proxy, grey):
    """EHLO is answered from what the server offered before; the new triplet is deferred at DATA
    with no connection made; the retry is relayed, and the first attempt was recorded once."""
    service, clock, cache = InlinePolicyService(), FakeClock(), knownServer()
    h = grey(service, clock, capabilityCache=cache)
    assert send(proxy, h) == [250, 250, 250, 451]
    assert (h.script.connections, h.script.commands) == (0, [])
    assert len(service.queries) == 1, "recorded once, at DATA"
    clock.advance(3700)
    h = grey(service, clock, capabilityCache=cache)
    assert send(proxy, h)[-2:] == [354, 250]
    assert h.script.connections == 1 and len(h.script.messages) == 1
    assert [c.split(":")[0] for c in h.script.commands[1:4]] == ["MAIL FROM", "RCPT TO", "DATA"]


def test_the_first_session_meets_the_real_server_at_ehlo(proxy, grey):
    """With nothing known of the server, EHLO connects to learn what to offer the client."""
    h = grey(capabilityCache=CapabilityCache())
    text = proxy.talk(h, b"EHLO c.example\r\n")
    assert h.script.connections == 1 and "8BITMIME" in text
    assert h.component.capabilityCache.knows(SERVER)


def test_deferred_at_rcpt_stays_deferred_if_the_window_opens_before_data(proxy, grey):
    """The real server never judged the recipients, so a pass found at DATA is still a 451;
    the pass is recorded, and the next attempt is relayed."""
    service, clock, cache = InlinePolicyService(), FakeClock(), knownServer()
    assert send(proxy, grey(service, clock, capabilityCache=cache))[-1] == 451
    clock.advance(3599)
    h = grey(service, clock, capabilityCache=cache)
    proxy.talk(h, b"HELO c.example\r\nMAIL FROM:<alice@sender.example>\r\n"
               b"RCPT TO:<bob@example.org>\r\n")
    clock.advance(2)
    assert proxy.talk(h, b"DATA\r\n").startswith("451 4.7.1")
    assert h.script.connections == 0 and h.component.decision.action == "accept"
    h = grey(service, clock, capabilityCache=cache)
    assert send(proxy, h)[-2:] == [354, 250]


def test_a_new_recipient_after_a_relayed_one_defers_the_message(proxy, grey):
    """Known then new: once the real server holds the transaction it judges every recipient;
    the new one makes the message deferred, and the server's transaction is reset."""
    service, clock, cache = InlinePolicyService(), FakeClock(), knownServer()
    assert send(proxy, grey(service, clock, capabilityCache=cache))[-1] == 451
    clock.advance(3700)
    h = grey(service, clock, capabilityCache=cache)
    assert send(proxy, h, rcpts=("<bob@example.org>", "<new@example.org>")) == [
        250, 250, 250, 250, 451]
    verbs = [c.split(":")[0].split(" ")[0] for c in h.script.commands]
    assert verbs.count("RCPT") == 2 and "DATA" not in verbs and verbs[-1] == "RSET"


def test_a_1x_subclass_policy_is_asked_at_data_only(proxy, grey):
    """An overridden shouldWeAcceptMail cannot be known early: every RCPT goes to the server."""
    h = grey(capabilityCache=knownServer(), shouldWeAcceptMail=lambda self: False)
    assert send(proxy, h) == [250, 250, 250, 451]
    assert h.script.connections == 1
    assert any(c.startswith("RCPT TO:") for c in h.script.commands)


def test_the_real_servers_refusal_of_the_sender_comes_at_rcpt(proxy, grey):
    """MAIL is answered here; the server hears of the sender with the first recipient it must
    judge, and its refusal (here 553) is that recipient's answer."""
    h = grey(peer="127.0.0.1", capabilityCache=knownServer())
    h.script.replies["MAIL"] = "553 5.7.1 sender banned"
    codes = send(proxy, h)
    assert codes == [250, 250, 553, 554], "and DATA has no valid recipient"
