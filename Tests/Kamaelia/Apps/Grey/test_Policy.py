"""Tests for Kamaelia.Apps.Grey.Policy: envelope in, decision out, over a real SQLite store."""

import ast
import dataclasses
import importlib.util
import logging
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import SMTPReplies
from Kamaelia.Apps.Grey.Config import ConfigError, defaultConfig
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA, POSTGREY, AwlParameters
from Kamaelia.Apps.Grey.Policy import (
    ACCEPT,
    DEFER,
    GREYLISTING_REASONS,
    REASONS,
    REJECT,
    Decision,
    Envelope,
    GreylistPolicy,
    PolicySettings,
)
from Kamaelia.Apps.Grey.Whitelists import ClientWhitelist, RecipientWhitelist

T0 = 1_700_000_000.0
HOUR = 3600.0
CLIENT = "198.51.100.7"


def envelope(*recipients, client=CLIENT, name="unknown", helo="mx.sender.example",
             sender="alice@sender.example", instance=""):
    return Envelope(clientAddress=client, clientName=name, heloName=helo, sender=sender,
                    recipients=tuple(recipients or ("bob@example.org",)), instance=instance)


@pytest.fixture
def dbpath(tmp_path):
    return str(tmp_path / "greylist.sqlite")


@pytest.fixture
def make(dbpath):
    """``make(**settings)``: a policy over a fresh store on ``dbpath``; stores closed after."""
    stores = []

    def build(store=True, **fields):
        fields.setdefault("allowedDomains", ("example.org",))
        settings = PolicySettings(**fields)
        real = settings.openStore(dbpath) if store else None
        if real is not None:
            stores.append(real)
        return GreylistPolicy(settings, real)

    yield build
    for store in stores:
        store.close()


def touched(policy):
    return policy.store.stats()["triplets"]


# -- allowed senders and relaying ------------------------------------------------

@pytest.mark.parametrize("client, fields", [
    ("127.0.0.1", {}),
    ("::ffff:127.0.0.1", {}),
    ("10.20.30.40", {"allowedSenderNets": ("10",)}),
    ("2001:db8::5", {"allowedSenderNets": ("2001:db8::/32",)}),
])
def test_allowed_senders_may_send_anywhere_without_greylisting(make, client, fields):
    policy = make(**fields)
    decision = policy.decide(envelope("anyone@elsewhere.net", "bob@example.org", client=client), T0)
    assert decision.action == ACCEPT and decision.reply == SMTPReplies.OK
    assert decision.reasons == (("anyone@elsewhere.net", "allowed-sender"),
                                ("bob@example.org", "allowed-sender"))
    assert policy.relayCheck(envelope(client=client), "anyone@elsewhere.net") is None
    assert touched(policy) == 0


def test_octet_prefixes_match_whole_octets(make):
    policy = make(allowedSenderNets=("10",))
    decision = policy.relayCheck(envelope(client="100.1.2.3"), "anyone@elsewhere.net")
    assert decision.action == REJECT


@pytest.mark.parametrize("recipient, reason", [
    ("eve@elsewhere.net", "relay-denied"),
    ("eve@example.org.elsewhere.net", "relay-denied"),
    ("nodomain", "relay-denied"),
    ("victim%elsewhere.net@example.org", "routing-denied"),
    ("elsewhere.net!victim@example.org", "routing-denied"),
    ('"victim@elsewhere.net"@example.org', "routing-denied"),
])
def test_relay_check_refuses_other_domains_and_routes(make, recipient, reason):
    policy = make()
    decision = policy.relayCheck(envelope(), recipient)
    assert (decision.action, decision.reply) == (REJECT, SMTPReplies.RELAY_DENIED)
    assert decision.reasons == ((recipient, reason),)
    assert decision.perRecipient == {recipient: REJECT}


@pytest.mark.parametrize("recipient", [
    "bob@example.org", "Bob@EXAMPLE.ORG", "bob@example.org.", "postmaster", "<Postmaster>",
])
def test_relay_check_accepts_our_domains_and_bare_postmaster(make, recipient):
    assert make().relayCheck(envelope(), recipient) is None


def test_untrusted_routing_can_be_allowed(make):
    policy = make(allowUntrustedRouting=True)
    assert policy.relayCheck(envelope(), "victim%elsewhere.net@example.org") is None


def test_refused_recipients_do_not_block_the_others(make):
    policy = make(recipientWhitelist=RecipientWhitelist(["bob@example.org"]))
    decision = policy.decide(envelope("eve@elsewhere.net", "bob@example.org"), T0)
    assert decision.action == ACCEPT
    assert decision.perRecipient == {"eve@elsewhere.net": REJECT, "bob@example.org": ACCEPT}
    only = policy.decide(envelope("eve@elsewhere.net"), T0)
    assert (only.action, only.reply) == (REJECT, SMTPReplies.RELAY_DENIED)


def test_without_relay_control_every_domain_is_greylisted_not_refused(make):
    policy = make(relayControl=False, allowedDomains=())
    assert policy.relayCheck(envelope(), "eve@elsewhere.net") is None
    decision = policy.decide(envelope("eve@elsewhere.net"), T0)
    assert decision.reasons == (("eve@elsewhere.net", "new"),)
    postmaster = policy.decide(envelope("postmaster@anywhere.test"), T0)
    assert postmaster.reasons == (("postmaster@anywhere.test", "postmaster"),)


# -- greylisting -------------------------------------------------------------------

def test_a_new_triplet_is_deferred_and_passes_on_a_retry_in_the_window(make):
    policy = make()
    first = policy.decide(envelope(), T0)
    assert (first.action, first.reply) == (DEFER, SMTPReplies.GREYLISTED)
    assert first.reasons == (("bob@example.org", "new"),)
    assert first.details == (("bob@example.org", "new"),)
    assert first.retryAfter == KAMAELIA.min_defer and first.delay is None
    early = policy.decide(envelope(), T0 + 600)
    assert early.reasons == (("bob@example.org", "early-retry"),)
    assert early.details == (("bob@example.org", "early retry (3000 s to go)"),)
    assert early.retryAfter == 3000
    passed = policy.decide(envelope(), T0 + HOUR)
    assert (passed.action, passed.reply, passed.delay) == (ACCEPT, SMTPReplies.OK, HOUR)
    assert passed.reasons == (("bob@example.org", "passed"),)
    again = policy.decide(envelope(), T0 + 2 * HOUR)
    assert again.action == ACCEPT and again.delay is None          # no second X-Greylist
    assert again.details == (("bob@example.org", "known (refreshed)"),)


def test_a_too_soon_retry_is_an_early_retry_and_a_late_one_too_late(make):
    policy = make()
    policy.decide(envelope(), T0)
    assert policy.decide(envelope(), T0 + 60).reasons[0][1] == "early-retry"   # clock reset
    assert policy.decide(envelope(), T0 + 60 + 30000).reasons[0][1] == "too-late"


def test_the_postgrey_profile_passes_after_five_minutes(make):
    policy = make(profile=POSTGREY)
    assert policy.decide(envelope(), T0).action == DEFER
    decision = policy.decide(envelope(), T0 + 300)
    assert decision.action == ACCEPT and decision.delay == 300


def test_one_deferred_recipient_defers_the_whole_message(make):
    """The proxy's all-or-nothing rule; each recipient's own outcome is kept."""
    policy = make()
    policy.decide(envelope("a@example.org"), T0)
    decision = policy.decide(envelope("a@example.org", "b@example.org"), T0 + HOUR)
    assert decision.action == DEFER and decision.delay is None
    assert decision.perRecipient == {"a@example.org": ACCEPT, "b@example.org": DEFER}
    assert decision.reasons == (("a@example.org", "passed"), ("b@example.org", "new"))


def test_would_defer_foresees_decide_and_records_nothing(make):
    """wouldDefer reads the store only: it agrees with the decision that follows it."""
    policy = make()
    assert policy.wouldDefer(envelope(), T0) and touched(policy) == 0
    policy.decide(envelope(), T0)
    assert policy.wouldDefer(envelope(), T0 + 600)                 # early retry
    assert not policy.wouldDefer(envelope(), T0 + HOUR)            # would pass
    assert policy.store.lookup(CLIENT, "<alice@sender.example>", "<bob@example.org>").last_pass is None
    assert policy.decide(envelope(), T0 + HOUR).action == ACCEPT
    assert policy.wouldDefer(envelope("bob@example.org", "new@example.org"), T0 + HOUR)
    assert not policy.wouldDefer(envelope("postmaster@example.org"), T0)   # exempt
    assert not policy.wouldDefer(envelope("eve@elsewhere.example"), T0)    # refused, not deferred
    assert not policy.wouldDefer(envelope(client="127.0.0.1"), T0)         # allowed sender
    assert touched(policy) == 1
    assert not policy.needsStore(envelope("postmaster@example.org"))
    assert policy.needsStore(envelope("bob@example.org"))


def test_would_defer_honours_the_client_auto_whitelist(make):
    policy = make(awl=AwlParameters(clients=1, interval=0))
    policy.decide(envelope(), T0)
    policy.decide(envelope(), T0 + HOUR)                           # one pass: network listed
    assert not policy.wouldDefer(envelope("new@example.org"), T0 + HOUR + 1)
    assert policy.decide(envelope("new@example.org"), T0 + HOUR + 1).action == ACCEPT


def test_would_defer_without_a_store_says_deferred(make):
    assert make(store=False).wouldDefer(envelope(), T0)


def test_every_recipient_is_recorded_at_once(make):
    policy = make()
    rcpts = ("a@example.org", "b@example.org", "c@example.org")
    assert policy.decide(envelope(*rcpts), T0).action == DEFER
    decision = policy.decide(envelope(*rcpts), T0 + HOUR)
    assert decision.action == ACCEPT and decision.delay == HOUR


def test_duplicate_recipients_are_decided_once(make):
    policy = make()
    decision = policy.decide(envelope("a@example.org", "a@example.org"), T0)
    assert decision.reasons == (("a@example.org", "new"),)
    assert policy.decide(envelope("a@example.org"), T0 + HOUR).action == ACCEPT


def test_the_store_sees_bracketed_tokens_so_old_greylist_files_keep_matching(make, dbpath):
    with GreylistStore(dbpath) as old:
        old.check(CLIENT, "<alice@sender.example>", "<bob@example.org>", T0)
        old.check(CLIENT, "<>", "<bob@example.org>", T0)
    policy = make()
    assert policy.decide(envelope(), T0 + HOUR).action == ACCEPT
    assert policy.decide(envelope(sender=""), T0 + HOUR).action == ACCEPT


def test_the_delay_is_the_longest_wait_among_recipients_that_passed_now(make):
    policy = make()
    policy.decide(envelope("a@example.org"), T0)
    policy.decide(envelope("b@example.org"), T0 + 600)
    decision = policy.decide(envelope("a@example.org", "b@example.org"), T0 + 600 + HOUR)
    assert decision.action == ACCEPT and decision.delay == 600 + HOUR


# -- exemptions --------------------------------------------------------------------

def exemptions(policy, *recipients, **env):
    decision = policy.decide(envelope(*recipients, **env), T0)
    return decision.action, [reason for _, reason in decision.reasons]


def test_postmaster_of_our_domains_is_never_greylisted(make):
    policy = make()
    assert exemptions(policy, "postmaster", "Postmaster@Example.org") == (
        ACCEPT, ["postmaster", "postmaster"])
    assert touched(policy) == 0


def test_whitelisted_triples_as_written_in_the_config(make):
    policy = make(whitelistedTriples=(("198.51.100.7", "<alice@sender.example>",
                                       "<bob@example.org>"),))
    assert exemptions(policy, "bob@example.org") == (ACCEPT, ["whitelisted"])
    assert exemptions(policy, "bob@example.org", client="::ffff:198.51.100.7") == (
        ACCEPT, ["whitelisted"])
    assert exemptions(policy, "bob@example.org", "new@example.org") == (
        DEFER, ["whitelisted", "new"])
    assert exemptions(policy, "bob@example.org", sender="mallory@sender.example")[0] == DEFER


def test_nonstandard_triples_match_helo_name_and_network(make):
    policy = make(whitelistedNonstandardTriples=(("farm.example", "198.51.100",
                                                  "<bob@example.org>"),))
    assert exemptions(policy, "bob@example.org", helo="farm.example",
                      client="198.51.100.200") == (ACCEPT, ["whitelisted"])
    assert exemptions(policy, "bob@example.org", helo="other.example")[0] == DEFER
    assert exemptions(policy, "bob@example.org", helo="farm.example",
                      client="198.51.101.1")[0] == DEFER


def test_client_whitelist_by_verified_name_or_address(make):
    policy = make(clientWhitelist=ClientWhitelist(["bigsender.example", "203.0.113.0/24"]))
    assert exemptions(policy, "a@example.org", "b@example.org", name="mx9.bigsender.example") == (
        ACCEPT, ["client-whitelist", "client-whitelist"])
    assert exemptions(policy, "a@example.org", client="203.0.113.9") == (
        ACCEPT, ["client-whitelist"])
    assert exemptions(policy, "a@example.org", name="unknown",
                      helo="mx9.bigsender.example")[0] == DEFER
    assert touched(policy) == 1


def test_recipient_whitelist_defaults_are_postgreys(make):
    policy = make()
    assert exemptions(policy, "abuse@example.org") == (ACCEPT, ["recipient-whitelist"])
    assert exemptions(policy, "webmaster@example.org") == (DEFER, ["new"])


def test_opt_out_recipients_are_never_greylisted(make):
    optOut = RecipientWhitelist.fromEntries(["otp@example.org", "alerts.example.org", "reset@"],
                                            "optout_recipients")
    policy = make(optOut=optOut, allowedDomains=("example.org", "alerts.example.org"))
    assert exemptions(policy, "otp+x@example.org", "x@alerts.example.org", "reset@example.org") == (
        ACCEPT, ["opt-out", "opt-out", "opt-out"])
    assert exemptions(policy, "bob@example.org") == (DEFER, ["new"])
    assert touched(policy) == 1


# -- auto-whitelists ---------------------------------------------------------------

def passMessage(policy, sender, now, client=CLIENT):
    """One message that is greylisted at ``now - 1 h`` and passes at ``now``."""
    policy.decide(envelope(sender=sender, client=client), now - HOUR)
    return policy.decide(envelope(sender=sender, client=client), now)


def test_a_client_network_is_auto_whitelisted_after_its_passes(make):
    policy = make(awl=AwlParameters(clients=3))
    for i in range(3):
        decision = passMessage(policy, "s@x%d.example" % i, T0 + 2 * i * HOUR,
                               client="198.51.100.%d" % (10 + i))
        assert decision.reasons[0][1] == "passed"
    decision = policy.decide(envelope("new@example.org", sender="other@y.example",
                                      client="198.51.100.250"), T0 + 6 * HOUR)
    assert decision.action == ACCEPT and decision.delay is None
    assert decision.reasons == (("new@example.org", "auto-whitelisted"),)
    assert decision.details == (("new@example.org", "client auto-whitelist"),)
    other = policy.decide(envelope(client="198.51.101.1"), T0 + 6 * HOUR)
    assert other.action == DEFER


def test_a_sender_domain_is_auto_whitelisted_per_network_when_enabled(make):
    policy = make(awl=AwlParameters(clients=0, domains=True))
    passMessage(policy, "alice@big.example", T0)
    passMessage(policy, "bob@big.example", T0 + 60)
    decision = policy.decide(envelope("x@example.org", sender="carol@big.example"), T0 + 120)
    assert decision.reasons == (("x@example.org", "auto-whitelisted"),)
    assert decision.details == (("x@example.org", "domain auto-whitelist"),)


# -- failures ----------------------------------------------------------------------

def test_a_store_failure_defers_with_451_4_3_0_and_is_logged(tmp_path, caplog):
    """A real lock held elsewhere makes the store time out: the policy defers, never accepts."""
    path = str(tmp_path / "locked.sqlite")
    settings = PolicySettings(allowedDomains=("example.org",))
    store = settings.openStore(path, timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        policy = GreylistPolicy(settings, store)
        policy.decide(envelope(), T0)
        with caplog.at_level(logging.ERROR, logger="Kamaelia.Apps.Grey.Policy"):
            decision = policy.decide(envelope("bob@example.org", "abuse@example.org"), T0)
        assert (decision.action, decision.reply) == (DEFER, SMTPReplies.LOCAL_ERROR)
        assert decision.reply.code == 451 and decision.reply.enhanced == "4.3.0"
        assert decision.reasons == (("bob@example.org", "store-error"),
                                    ("abuse@example.org", "recipient-whitelist"))
        assert decision.retryAfter is None
        assert any("greylist store unavailable (database is locked)" in r.getMessage()
                   and CLIENT in r.getMessage() and r.exc_info is None for r in caplog.records)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()


def test_no_store_defers_what_needs_one_and_passes_what_does_not(make):
    policy = make(store=False)
    assert policy.decide(envelope("bob@example.org"), T0).reply == SMTPReplies.LOCAL_ERROR
    assert policy.decide(envelope("postmaster"), T0).action == ACCEPT


# -- settings ------------------------------------------------------------------------

def test_with_settings_swaps_the_settings_over_the_same_store(make):
    policy = make()
    assert policy.decide(envelope("carol@example.net"), T0).action == REJECT
    wider = policy.withSettings(dataclasses.replace(
        policy.settings, allowedDomains=("example.org", "example.net")))
    assert wider.store is policy.store
    assert wider.decide(envelope("carol@example.net"), T0).action == DEFER
    assert policy.decide(envelope("carol@example.net"), T0).action == REJECT


def test_settings_from_the_default_config():
    settings = PolicySettings.fromConfig(defaultConfig())
    assert settings == PolicySettings(allowedDomains=())
    assert settings.awl == AwlParameters(clients=5, maxAge=35 * 86400, domains=False)
    assert settings.recipientWhitelist == RecipientWhitelist.defaults()
    assert PolicySettings.fromConfig({}) == settings


def test_settings_from_a_config_read_the_whitelist_files(tmp_path):
    clients = tmp_path / "whitelist_clients"
    clients.write_text("bigsender.example\n")
    (tmp_path / "whitelist_clients.local").write_text("192.0.2.0/24\n")
    recipients = tmp_path / "whitelist_recipients"
    recipients.write_text("noc@\n")
    config = defaultConfig()
    config.update(
        allowed_senders=["192.0.2.1"], allowed_sender_nets=["10.0.0.0/8"],
        allowed_domains=["example.org"], allow_untrusted_routing=True,
        whitelisted_triples=[("192.0.2.7", "<a@x>", "<b@example.org>")],
        whitelisted_nonstandard_triples=[("farm.example", "198.51.100", "<b@example.org>")],
        whitelist_clients=[str(clients)], whitelist_recipients=[str(recipients)],
        optout_recipients=["otp@example.org"], auto_whitelist_clients=2,
        auto_whitelist_max_age=7, auto_whitelist_domains=True, greylist_profile="postgrey",
        greylist_key="normalized", privacy=True)
    settings = PolicySettings.fromConfig(config)
    assert settings.allowedSenders == ("192.0.2.1",)
    assert settings.allowedSenderNets == ("10.0.0.0/8",)
    assert settings.allowedDomains == ("example.org",)
    assert settings.allowUntrustedRouting and settings.relayControl
    assert settings.whitelistedTriples == (("192.0.2.7", "<a@x>", "<b@example.org>"),)
    assert [e.text for e in settings.clientWhitelist.entries] == ["bigsender.example",
                                                                  "192.0.2.0/24"]
    assert [e.text for e in settings.recipientWhitelist.entries] == ["noc@"]
    assert settings.optOut.matches("otp@example.org")
    assert settings.awl == AwlParameters(clients=2, maxAge=7 * 86400, domains=True)
    assert (settings.profile, settings.keyMode, settings.privacy) == (POSTGREY, "normalized", True)


def test_policy_mode_has_relay_control_only_with_allowed_domains():
    config = defaultConfig()
    config["mode"] = "policy"
    assert not PolicySettings.fromConfig(config).relayControl
    config["allowed_domains"] = ["Example.ORG."]
    settings = PolicySettings.fromConfig(config)
    assert settings.relayControl and settings.allowedDomains == ("example.org",)


def test_a_bad_whitelist_file_is_a_config_error_naming_file_and_line(tmp_path):
    bad = tmp_path / "whitelist_clients"
    bad.write_text("good.example\n/[broken/\n")
    config = defaultConfig()
    config["whitelist_clients"] = [str(bad)]
    with pytest.raises(ConfigError) as info:
        PolicySettings.fromConfig(config)
    assert str(info.value).startswith("%s:2: whitelist_clients: bad regular expression" % bad)


def test_open_store_agrees_with_the_settings(dbpath):
    settings = PolicySettings(profile=POSTGREY, keyMode="normalized", privacy=True,
                              awl=AwlParameters(clients=9))
    with settings.openStore(dbpath) as store:
        assert (store.profile, store.keyMode, store.privacy, store.awl) == (
            POSTGREY, "normalized", True, AwlParameters(clients=9))


def test_privacy_through_the_policy(make, dbpath):
    policy = make(privacy=True)
    policy.decide(envelope(), T0)
    assert policy.decide(envelope(), T0 + HOUR).action == ACCEPT
    raw = sqlite3.connect(dbpath)
    try:
        keys = raw.execute("SELECT ip, sender, recipient FROM greylist").fetchall()
    finally:
        raw.close()
    assert len(keys) == 1 and keys[0][1:] == ("", "") and "198.51" not in keys[0][0]


# -- the values ----------------------------------------------------------------------

def test_envelope_settings_and_decision_are_frozen_and_hashable(make):
    decision = make().decide(envelope(), T0)
    for value in (envelope(), PolicySettings(), decision):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.heloName = "x"
        hash(value)
    assert decision.reasonFor("bob@example.org") == "new"
    assert decision.reasonFor("nobody@example.org") is None


def test_every_reason_given_is_a_documented_one(make):
    policy = make(clientWhitelist=ClientWhitelist(["203.0.113.1"]))
    seen = set()
    for env, now in [(envelope("a@example.org", "eve@x.test", "postmaster", "abuse@example.org",
                               "b%c@example.org"), T0),
                     (envelope("a@example.org"), T0 + HOUR),
                     (envelope(client="203.0.113.1"), T0), (envelope(client="127.0.0.1"), T0)]:
        seen |= {reason for _, reason in policy.decide(env, now).reasons}
    assert seen <= REASONS
    assert GREYLISTING_REASONS <= REASONS
    assert isinstance(Decision(ACCEPT, SMTPReplies.OK), Decision)


PURE = ["Policy", "Whitelists", "GreylistVerdict"]


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_axon_socket_or_clock(name):
    spec = importlib.util.find_spec("Kamaelia.Apps.Grey." + name)
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported, "the scanner found the imports"
    tops = {module.split(".")[0] for module in imported}
    assert not tops & {"Axon", "socket", "time", "datetime", "selectors", "asyncio", "threading"}


@settings(max_examples=200, deadline=None)
@given(client=st.text(max_size=60), name=st.text(max_size=60), helo=st.text(max_size=60),
       sender=st.text(max_size=60), recipients=st.lists(st.text(max_size=60), max_size=4),
       relayControl=st.booleans())
def test_any_envelope_gets_a_decision_never_an_exception(client, name, helo, sender,
                                                         recipients, relayControl):
    """A policy server passes on whatever Postfix (or a hostile client) sent."""
    settings = PolicySettings(allowedDomains=("example.org",), relayControl=relayControl,
                              awl=AwlParameters(clients=2, domains=True),
                              clientWhitelist=ClientWhitelist(["example.net", "/^mx/",
                                                               "192.0.2.0/24"]))
    with settings.openStore(":memory:") as store:
        policy = GreylistPolicy(settings, store)
        decision = policy.decide(Envelope(client, name, helo, sender, tuple(recipients)), T0)
    assert decision.action in (ACCEPT, DEFER, REJECT)
    assert {reason for _, reason in decision.reasons} <= REASONS
    assert set(decision.perRecipient) == set(recipients)
    assert decision.reply.code in (250, 451, 550)
