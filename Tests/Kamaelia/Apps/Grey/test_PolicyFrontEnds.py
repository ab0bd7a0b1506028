"""One policy test suite, run against every front end of the greylist policy.

The same greylist.conf settings drive the SMTP proxy (``makeProtocol``, the
class the application serves) and the Postfix policy server
(``PolicyHandler``, greylisting at DATA and at RCPT), each over a real
SQLite store and one shared ``GreylistPolicy``, on a fake clock. Each test
says what a sender sees, in front-end-neutral terms: the message is
accepted (with an X-Greylist header or not), deferred (greylisted, or a
temporary failure) or rejected. Where the front ends differ by design --
the policy server at RCPT answers per recipient -- the test says so.
"""

import dataclasses
import re

import pytest

from Axon.Testing import ComponentHarness, FakeClock
from Kamaelia.Apps.Grey import Config
from Kamaelia.Apps.Grey.Application import makeProtocol
from Kamaelia.Apps.Grey.ClientName import OK, UNKNOWN_CLIENT, ClientName
from Kamaelia.Apps.Grey.Policy import GreylistPolicy, PolicySettings
from Kamaelia.Apps.Grey.PolicyServer import PolicyHandler, PolicyServerSettings

ACCEPT, DEFER, REJECT = "accept", "defer", "reject"
FRONT_ENDS = ["proxy", "policy-data", "policy-rcpt"]


@dataclasses.dataclass
class Outcome:
    action: str                      # the message's: accept, defer or reject
    perRecipient: dict               # recipient -> accept, defer or reject
    header: str = None               # the X-Greylist header added, if any
    temporaryFailure: bool = False   # deferred for an internal reason, not greylisting


class InlineService:
    """The PolicyService interface without its thread: decides at once, on the asker's clock."""

    def __init__(self, policy):
        self.policy = policy
        self.broken = False

    def decide(self, asker, envelope, now=None, policy=None):
        yield 1
        if self.broken:
            raise RuntimeError("the store is on fire")
        now = asker.scheduler.wallclock() if now is None else now
        return (policy or self.policy).decide(envelope, now)

    def wouldDefer(self, asker, envelope, now=None, policy=None):
        yield 1
        now = asker.scheduler.wallclock() if now is None else now
        try:
            if self.broken:
                raise RuntimeError("the store is on fire")
            return (policy or self.policy).wouldDefer(envelope, now)
        except Exception:
            return False     # as PolicyService: cannot tell, so DATA decides


class FrontEnd:
    """Runs one delivery attempt through a front end; see ``attempt``."""

    def __init__(self, kind, config, tmp_path, proxy):
        self.kind = kind
        self.proxy = proxy
        self.clock = FakeClock()
        self.config = config
        settings = PolicySettings.fromConfig(config)
        self.store = settings.openStore(str(tmp_path / "greylist.sqlite"))
        self.service = InlineService(GreylistPolicy(settings, self.store))

    def attempt(self, recipients, sender="alice@sender.example", client="198.51.100.7",
                name=None, helo="mta.sender.example"):
        if self.kind == "proxy":
            return self._proxy(recipients, sender, client, name, helo)
        return self._policy(recipients, sender, client, name, helo)

    # -- the SMTP proxy ----------------------------------------------------------------

    def _proxy(self, recipients, sender, client, name, helo):
        service, FakeBackend, replies = self.service, self.proxy.FakeBackend, self.proxy.replies
        script = self.proxy.script()
        clientName = ClientName(name, name, OK) if name else UNKNOWN_CLIENT

        class Proxy(makeProtocol(self.config)):
            peer, peerport, local, localport = client, 40000, "127.0.0.1", 25

            def makeBackendClient(self):
                return FakeBackend(script)

            def policyService(self):
                return service

            def startClientNameLookup(self):
                self.clientName = clientName

        h = ComponentHarness(Proxy(), clock=self.clock)
        h.runUntilIdle()
        h.getAll("outbox")

        def say(data):
            h.put(data)
            h.runUntilIdle()
            return [line for line in replies(h).split("\r\n") if line[3:4] == " "]

        say(b"EHLO %s\r\n" % helo.encode())
        say(b"MAIL FROM:<%s>\r\n" % sender.encode())
        perRecipient = {}
        for recipient in recipients:
            [reply] = say(b"RCPT TO:<%s>\r\n" % recipient.encode())
            if reply.startswith("5"):
                perRecipient[recipient] = REJECT
        [reply] = say(b"DATA\r\n")
        if reply.startswith("354"):
            [reply] = say(b"Subject: test\r\n\r\nhello\r\n.\r\n")
        say(b"QUIT\r\n")
        if reply.startswith("250"):
            action = ACCEPT
        elif reply.startswith("4"):
            action = DEFER
        else:
            action = REJECT
        for recipient in recipients:
            perRecipient.setdefault(recipient, action)
        header = None
        if script.messages:
            found = re.search(rb"^X-Greylist: [^\r\n]*", script.messages[0], re.M)
            header = found.group(0).decode() if found else None
        return Outcome(action, perRecipient, header, reply.startswith("451 4.3.0"))

    # -- the Postfix policy server -------------------------------------------------------

    def _policy(self, recipients, sender, client, name, helo):
        settings = dataclasses.replace(PolicyServerSettings.fromConfig(self.config),
                                       greylistAt="data" if self.kind == "policy-data" else "rcpt",
                                       version="9.9")
        h = ComponentHarness(PolicyHandler(service=self.service, settings=settings,
                                           peer="127.0.0.1", peerport=40000), clock=self.clock)
        h.runUntilIdle()
        self.instance = getattr(self, "instance", 0) + 1

        def ask(state, recipient):
            attributes = {"request": "smtpd_access_policy", "protocol_state": state,
                          "protocol_name": "ESMTP", "client_address": client,
                          "client_name": name or "unknown", "helo_name": helo,
                          "sender": sender, "recipient": recipient,
                          "recipient_count": str(len(recipients)) if state == "DATA" else "0",
                          "instance": "I%d" % self.instance}
            h.put("".join("%s=%s\n" % item for item in attributes.items()).encode() + b"\n")
            h.runUntilIdle()
            answer = b"".join(h.getAll("outbox")).decode()
            assert answer.startswith("action=") and answer.endswith("\n\n"), answer
            return answer[len("action="):-2]

        answers = {r: ask("RCPT", r) for r in recipients}
        if self.kind == "policy-data":
            dataAnswer = ask("DATA", "")
            answers = {r: dataAnswer for r in recipients}
        perRecipient, header, temporary = {}, None, False
        for recipient, answer in answers.items():
            verb, _, text = answer.partition(" ")
            if verb in ("DUNNO", "PREPEND"):
                perRecipient[recipient] = ACCEPT
                if verb == "PREPEND" and text.startswith("X-Greylist:"):
                    header = text
            elif verb.startswith("DEFER"):
                perRecipient[recipient] = DEFER
                temporary = temporary or text != settings.greylistText
            else:
                perRecipient[recipient] = REJECT
        actions = set(perRecipient.values())
        action = DEFER if DEFER in actions else (REJECT if actions == {REJECT} else ACCEPT)
        return Outcome(action, perRecipient, header, temporary)


def makeConfig(**settings):
    config = Config.defaultConfig()
    config.update(allowed_domains=["example.org"], allowed_senders=["127.0.0.1"],
                  greylist_profile="kamaelia", x_greylist_header=True, client_name_lookup=False,
                  servername="mx.test")
    config.update(settings)
    return config


@pytest.fixture(params=FRONT_ENDS)
def frontEnd(request, tmp_path, proxy):
    """``frontEnd(**config)``: a front end of the kind under test, on those settings."""
    made = []

    def make(**settings):
        where = tmp_path / ("store%d" % len(made))
        where.mkdir()
        made.append(FrontEnd(request.param, makeConfig(**settings), where, proxy))
        return made[-1]

    yield make
    for front in made:
        front.store.close()


# -- greylisting ----------------------------------------------------------------------

def test_a_new_triplet_is_deferred_and_a_retry_in_the_window_passes_with_a_header(frontEnd):
    front = frontEnd()
    first = front.attempt(["bob@example.org"])
    assert first.action == DEFER and not first.temporaryFailure
    front.clock.advance(600)
    assert front.attempt(["bob@example.org"]).action == DEFER           # too early
    front.clock.advance(3600)
    passed = front.attempt(["bob@example.org"])
    assert passed.action == ACCEPT
    assert passed.header is not None
    assert re.match(r"X-Greylist: delayed 4200 seconds by kamaelia-grey-\S+ at mx\.test; ",
                    passed.header)
    front.clock.advance(60)
    again = front.attempt(["bob@example.org"])
    assert again.action == ACCEPT and again.header is None              # known: no delay


def test_a_retry_after_the_window_starts_over(frontEnd):
    front = frontEnd()
    assert front.attempt(["bob@example.org"]).action == DEFER
    front.clock.advance(7 * 3600)                                        # > max_defer (6.9 h)
    assert front.attempt(["bob@example.org"]).action == DEFER


def test_each_part_of_the_triplet_counts(frontEnd):
    front = frontEnd()
    front.attempt(["bob@example.org"])
    front.clock.advance(3700)
    assert front.attempt(["bob@example.org"], sender="mallory@sender.example").action == DEFER
    assert front.attempt(["carol@example.org"]).action == DEFER
    assert front.attempt(["bob@example.org"], client="198.51.100.8").action == DEFER
    assert front.attempt(["bob@example.org"]).action == ACCEPT


def test_several_recipients(frontEnd):
    """One known and one new recipient: all or nothing at DATA, per recipient at RCPT."""
    front = frontEnd()
    front.attempt(["bob@example.org"])
    front.clock.advance(3700)
    outcome = front.attempt(["bob@example.org", "new@example.org"])
    if front.kind == "policy-rcpt":
        assert outcome.perRecipient == {"bob@example.org": ACCEPT, "new@example.org": DEFER}
    else:
        assert outcome.perRecipient == {"bob@example.org": DEFER, "new@example.org": DEFER}
    front.clock.advance(3700)
    assert front.attempt(["bob@example.org", "new@example.org"]).action == ACCEPT


# -- who is never greylisted -----------------------------------------------------------

def test_an_allowed_sender_passes_at_once(frontEnd):
    front = frontEnd(allowed_sender_nets=["198.51.100.0/24"])
    outcome = front.attempt(["bob@example.org"])
    assert outcome.action == ACCEPT and outcome.header is None


def test_whitelist_clients_by_verified_name_and_by_network(frontEnd, tmp_path):
    listing = tmp_path / "whitelist_clients"
    listing.write_text("# ours\ntrusted.example\n203.0.113.0/24\n/^mx[0-9]+\\.farm\\.example$/\n")
    front = frontEnd(whitelist_clients=[str(listing)])
    assert front.attempt(["bob@example.org"], name="mx1.trusted.example").action == ACCEPT
    assert front.attempt(["bob@example.org"], name="mx7.farm.example").action == ACCEPT
    assert front.attempt(["bob@example.org"], client="203.0.113.50").action == ACCEPT
    assert front.attempt(["bob@example.org"], name="mx1.untrusted.example").action == DEFER


def test_recipient_whitelist_defaults_and_opt_out(frontEnd):
    front = frontEnd(optout_recipients=["urgent@example.org"])
    assert front.attempt(["postmaster@example.org"]).action == ACCEPT
    assert front.attempt(["abuse@example.org"]).action == ACCEPT
    assert front.attempt(["urgent@example.org"]).action == ACCEPT
    assert front.attempt(["bob@example.org"]).action == DEFER


def test_a_client_network_is_auto_whitelisted_after_enough_passes(frontEnd):
    front = frontEnd(auto_whitelist_clients=2)
    for n in range(2):
        front.attempt(["r%d@example.org" % n])
        front.clock.advance(3700)
        assert front.attempt(["r%d@example.org" % n]).action == ACCEPT
    outcome = front.attempt(["new@example.org"], client="198.51.100.99")
    assert outcome.action == ACCEPT
    assert front.attempt(["new@example.org"], client="192.0.2.1").action == DEFER


def test_auto_whitelist_off(frontEnd):
    front = frontEnd(auto_whitelist_clients=0)
    for n in range(3):
        front.attempt(["r%d@example.org" % n])
        front.clock.advance(3700)
        front.attempt(["r%d@example.org" % n])
    assert front.attempt(["new@example.org"]).action == DEFER


# -- relaying, failures, privacy -------------------------------------------------------------

def test_a_recipient_outside_our_domains_is_rejected_not_greylisted(frontEnd):
    front = frontEnd()
    outcome = front.attempt(["victim@elsewhere.example"])
    assert outcome.action == REJECT
    outcome = front.attempt(["victim%elsewhere.example@example.org"])
    assert outcome.action == REJECT


def test_a_failing_store_defers_never_accepts(frontEnd):
    front = frontEnd()
    front.service.broken = True
    outcome = front.attempt(["bob@example.org"])
    assert outcome.action == DEFER and outcome.temporaryFailure
    front.service.broken = False
    front.store.close()
    outcome = front.attempt(["bob@example.org"])
    assert outcome.action == DEFER and outcome.temporaryFailure


def test_privacy_stores_no_address(frontEnd, tmp_path):
    front = frontEnd(privacy=True)
    front.attempt(["bob@example.org"])
    front.clock.advance(3700)
    assert front.attempt(["bob@example.org"]).action == ACCEPT
    front.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("greylist.sqlite*"))
    for secret in (b"bob@example.org", b"alice@sender.example", b"198.51.100.7"):
        assert secret not in raw
