"""Tests for Kamaelia.Apps.Grey.GreylistVerdict: the pure greylist decision."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from Kamaelia.Apps.Grey.GreylistVerdict import (
    DEFAULT_AWL,
    KAMAELIA,
    POSTGREY,
    PROFILES,
    AwlParameters,
    AwlRecord,
    DomainAwlRecord,
    Record,
    TimingProfile,
    countDomainPass,
    countPass,
    decide,
    isDomainListed,
    isListed,
    keyDigest,
    normaliseClient,
    normaliseRecipient,
    normaliseSender,
    seenDomainListed,
    seenListed,
    senderDomain,
    tripletKey,
)

T0 = 1_000_000.0


def run(times, profile=KAMAELIA, record=None):
    """Feed attempts at the given times; return [(action, reason)] and the record."""
    outcomes = []
    for now in times:
        verdict = decide(record, now, profile)
        outcomes.append((verdict.action, verdict.reason))
        record = verdict.record
    return outcomes, record


def test_kamaelia_profile_is_the_originals_constants():
    assert KAMAELIA == TimingProfile(180, 3600, 25000, 3000000)
    assert PROFILES["kamaelia"] is KAMAELIA


def test_postgrey_profile_maps_delay_retry_window_and_max_age():
    assert POSTGREY == TimingProfile(0, 300, 2 * 86400, 35 * 86400)
    assert PROFILES["postgrey"] is POSTGREY


def test_profile_rejects_inconsistent_limits():
    with pytest.raises(ValueError):
        TimingProfile(10, 5, 100, 100)
    with pytest.raises(ValueError):
        TimingProfile(0, 500, 100, 100)
    with pytest.raises(ValueError):
        TimingProfile(-1, 5, 100, 100)


def test_full_life_of_a_triplet():
    """new -> too soon (reset) -> early retry -> pass -> refresh -> expired."""
    outcomes, record = run([
        T0,                      # new
        T0 + 100,                # under too_soon: clock restarts at T0+100
        T0 + 100 + 1000,         # early: 2600 s to go
        T0 + 100 + 3600,         # exactly min_defer after the reset: passes
        T0 + 100 + 3600 + 2_999_000,              # refreshes last_pass
        T0 + 100 + 3600 + 2_999_000 + 3_000_001,  # unused > max_grey: expired
    ])
    assert outcomes == [
        ("defer", "new"),
        ("defer", "too soon, clock reset"),
        ("defer", "early retry (2600 s to go)"),
        ("pass", "passed"),
        ("pass", "known (refreshed)"),
        ("defer", "expired"),
    ]
    assert record == Record(T0 + 100 + 3600 + 2_999_000 + 3_000_001, None)


def test_new_triplet_is_deferred_and_remembered():
    verdict = decide(None, T0, KAMAELIA)
    assert verdict.action == "defer" and not verdict.passed
    assert verdict.reason == "new"
    assert verdict.record == Record(first_seen=T0, last_pass=None)


def test_empty_record_counts_as_new():
    assert decide(Record(), T0).reason == "new"


def test_retry_under_too_soon_resets_first_seen():
    verdict = decide(Record(T0, None), T0 + 179.9)
    assert verdict.reason == "too soon, clock reset"
    assert verdict.record.first_seen == T0 + 179.9


def test_retry_at_exactly_too_soon_keeps_the_clock():
    verdict = decide(Record(T0, None), T0 + 180)
    assert verdict.reason == "early retry (3420 s to go)"
    assert verdict.record == Record(T0, None)


def test_early_retry_rounds_the_wait_up():
    assert decide(Record(T0, None), T0 + 3599.5).reason == "early retry (1 s to go)"


def test_retry_at_min_defer_and_at_max_defer_pass():
    assert decide(Record(T0, None), T0 + 3600).reason == "passed"
    verdict = decide(Record(T0, None), T0 + 25000)
    assert verdict.reason == "passed"
    assert verdict.record == Record(T0, T0 + 25000)


def test_retry_after_max_defer_restarts():
    """A retry too late for the window starts a new wait, then passes normally."""
    outcomes, record = run([T0, T0 + 25000.5, T0 + 25000.5 + 3600])
    assert outcomes == [("defer", "new"), ("defer", "too late, restarted"),
                        ("pass", "passed")]
    assert record == Record(T0 + 25000.5, T0 + 25000.5 + 3600)


def test_passed_triplet_refreshes_on_every_use_and_never_expires_in_use():
    record = Record(T0, T0)
    now = T0
    for _ in range(5):
        now += 2_999_999
        verdict = decide(record, now)
        assert verdict.reason == "known (refreshed)"
        assert verdict.record == Record(T0, now)
        record = verdict.record


def test_expiry_boundary_is_strictly_more_than_max_grey():
    assert decide(Record(T0, T0), T0 + 3_000_000).reason == "known (refreshed)"
    expired = decide(Record(T0, T0), T0 + 3_000_000.001)
    assert expired.reason == "expired" and expired.action == "defer"
    assert expired.record == Record(T0 + 3_000_000.001, None)


def test_passed_record_without_first_seen_still_passes():
    """Imported greylisted.dbm entries may have no attempt time."""
    verdict = decide(Record(None, T0), T0 + 10)
    assert verdict.passed
    assert verdict.record == Record(None, T0 + 10)


def test_hammering_sender_never_passes():
    """A client retrying every 179 s keeps resetting its own clock."""
    outcomes, _ = run([T0 + 179 * i for i in range(100)])
    assert all(action == "defer" for action, _ in outcomes)


def test_postgrey_profile_passes_after_five_minutes_without_reset():
    outcomes, _ = run([T0, T0 + 10, T0 + 299, T0 + 300], profile=POSTGREY)
    assert outcomes == [("defer", "new"), ("defer", "early retry (290 s to go)"),
                        ("defer", "early retry (1 s to go)"), ("pass", "passed")]


def test_postgrey_profile_retry_window_is_two_days():
    assert decide(Record(T0, None), T0 + 172800, POSTGREY).passed
    assert decide(Record(T0, None), T0 + 172801, POSTGREY).reason == "too late, restarted"


@given(st.lists(st.floats(min_value=0, max_value=10_000_000, allow_nan=False),
                min_size=1, max_size=30))
def test_state_machine_invariants(gaps):
    """Passing requires a wait inside [min_defer, max_defer] or a live pass."""
    record, now = None, T0
    for gap in gaps:
        now += gap
        verdict = decide(record, now, KAMAELIA)
        new = verdict.record
        if verdict.passed:
            assert new.last_pass == now
            if record is None or record.last_pass is None:
                assert KAMAELIA.min_defer <= now - record.first_seen <= KAMAELIA.max_defer
            else:
                assert now - record.last_pass <= KAMAELIA.max_grey
        else:
            assert new.last_pass is None
            assert new.first_seen is not None
        record = new


# -- triplet keys -------------------------------------------------------------

def test_kamaelia_key_is_the_raw_tokens_case_sensitive():
    key = tripletKey("192.0.2.7", "<Alice@Example.org>", "<bob@example.net>", "kamaelia")
    assert key == ("192.0.2.7", "<Alice@Example.org>", "<bob@example.net>")
    assert tripletKey("192.0.2.7", "<a@b>", "<c@d>") == ("192.0.2.7", "<a@b>", "<c@d>")
    assert tripletKey("192.0.2.7", "<A@B>", "<c@d>") != tripletKey("192.0.2.7", "<a@b>", "<c@d>")


def test_unknown_key_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown key mode"):
        tripletKey("192.0.2.7", "<a@b>", "<c@d>", "fancy")


@pytest.mark.parametrize("ip, expected", [
    ("192.0.2.77", "192.0.2.0/24"),
    ("::ffff:192.0.2.77", "192.0.2.0/24"),
    ("2001:db8:1:2:3::9", "2001:db8:1:2::/64"),
    ("[2001:DB8::1]", "2001:db8::/64"),
    ("Unix-Socket", "unix-socket"),
])
def test_normalized_client_is_the_24_or_64(ip, expected):
    assert normaliseClient(ip) == expected


def test_normalized_recipient_strips_brackets_and_lowercases():
    assert normaliseRecipient(" <Bob@Example.NET> ") == "bob@example.net"
    assert normaliseRecipient("<postmaster>") == "postmaster"


@pytest.mark.parametrize("sender, recipient, expected", [
    ("<Alice@Example.org>", "", "alice@example.org"),
    ("<>", "", ""),
    ("<SRS0=HHH=TT=orig.example=alice@fwd.example>", "",
     "srs0=#=#=orig.example=alice@fwd.example"),
    ("SRS0+x1y2=ab=orig.example=alice@fwd.example", "",
     "srs0=#=#=orig.example=alice@fwd.example"),
    ("SRS1=HHH=fwd1.example==HHH=TT=orig.example=alice@fwd2.example", "",
     "srs1=#=fwd1.example==#=#=orig.example=alice@fwd2.example"),
    ("prvs=0123abcdef=alice@example.org", "", "alice@example.org"),
    ("msprvs1=17abc=alice@example.org", "", "alice@example.org"),
    ("alice+lists@example.org", "", "alice@example.org"),
    ("bounce-bob=example.net@lists.example.org", "bob@example.net",
     "bounce-#rcpt#@lists.example.org"),
    ("bounce-1234-5678@lists.example.org", "", "bounce-#-#@lists.example.org"),
    ("user42@example.org", "", "user42@example.org"),
    ("42@mail123.example.org", "", "#@mail123.example.org"),
    ("no-at-sign-12", "", "no-at-sign-#"),
])
def test_normalized_sender_rules(sender, recipient, expected):
    assert normaliseSender(sender, recipient) == expected


def test_normalized_key_folds_verp_senders_from_one_network_together():
    first = tripletKey("192.0.2.10", "<bounce-1001-bob=example.net@lists.example.org>",
                       "<Bob@Example.net>", "normalized")
    retry = tripletKey("192.0.2.200", "<bounce-1002-bob=example.net@lists.example.org>",
                       "<bob@example.net>", "normalized")
    assert first == retry == ("192.0.2.0/24", "bounce-#-#rcpt#@lists.example.org",
                              "bob@example.net")


# -- auto-whitelisting ----------------------------------------------------------

AWL = AwlParameters(clients=3, maxAge=10 * 86400, domains=True)
HOUR = 3600


def test_awl_defaults_are_postgreys():
    assert DEFAULT_AWL == AwlParameters(clients=5, maxAge=35 * 86400, domains=False,
                                        interval=3600)


def test_awl_parameters_reject_nonsense():
    with pytest.raises(ValueError):
        AwlParameters(clients=-1)
    with pytest.raises(ValueError):
        AwlParameters(maxAge=0)


def test_client_is_listed_after_n_passes_counted_at_most_once_an_hour():
    record, listedAt = None, []
    for i, now in enumerate([T0, T0 + 10, T0 + HOUR - 1, T0 + HOUR, T0 + HOUR + 5,
                             T0 + 2 * HOUR, T0 + 2 * HOUR + 1]):
        counted = countPass(record, now, AWL)
        record = counted or record
        if isListed(record, now, AWL):
            listedAt.append(i)
    assert record == AwlRecord(3, T0 + 2 * HOUR)
    assert listedAt == [5, 6]          # the third hourly count makes it listed


def test_count_pass_returns_none_when_nothing_changes():
    assert countPass(AwlRecord(1, T0), T0 + HOUR - 0.5, AWL) is None
    assert countPass(AwlRecord(1, T0), T0 + HOUR, AWL) == AwlRecord(2, T0 + HOUR)


def test_listed_client_stays_listed_until_unseen_for_max_age():
    record = AwlRecord(3, T0)
    assert isListed(record, T0 + AWL.maxAge, AWL)
    assert not isListed(record, T0 + AWL.maxAge + 0.001, AWL)
    assert countPass(record, T0 + AWL.maxAge + 1, AWL) == AwlRecord(1, T0 + AWL.maxAge + 1)


def test_seen_listed_refreshes_hourly_and_counts_for_statistics():
    record = AwlRecord(3, T0)
    assert seenListed(record, T0 + 100, AWL) is None
    assert seenListed(record, T0 + HOUR, AWL) == AwlRecord(4, T0 + HOUR)


def test_a_clock_that_went_back_never_blocks_a_count_or_refresh():
    assert countPass(AwlRecord(1, T0 + 5000), T0, AWL) == AwlRecord(2, T0)
    assert seenListed(AwlRecord(3, T0 + 5000), T0, AWL) == AwlRecord(4, T0)


def test_client_awl_off_lists_nobody():
    off = AwlParameters(clients=0)
    assert not isListed(AwlRecord(1000, T0), T0, off)


def test_domain_pair_is_listed_once_two_different_senders_passed():
    record = countDomainPass(None, "a@example.org", T0, AWL)
    assert record == DomainAwlRecord("a@example.org", 1, T0)
    assert not isDomainListed(record, T0, AWL)
    assert countDomainPass(record, "a@example.org", T0 + 10, AWL) is None     # same sender
    second = countDomainPass(record, "b@example.org", T0 + 20, AWL)
    assert second == DomainAwlRecord("a@example.org", 2, T0 + 20)
    assert isDomainListed(second, T0 + 20, AWL)
    assert not isDomainListed(second, T0 + 20 + AWL.maxAge + 1, AWL)
    assert not isDomainListed(second, T0 + 20, AwlParameters(domains=False))


def test_domain_pair_refreshes_hourly_and_restarts_when_stale():
    listed = DomainAwlRecord("a@x", 2, T0)
    assert seenDomainListed(listed, T0 + 10, AWL) is None
    assert seenDomainListed(listed, T0 + HOUR, AWL) == DomainAwlRecord("a@x", 2, T0 + HOUR)
    assert countDomainPass(listed, "c@x", T0 + HOUR, AWL) == DomainAwlRecord("a@x", 2, T0 + HOUR)
    stale = T0 + AWL.maxAge + 1
    assert countDomainPass(listed, "c@x", stale, AWL) == DomainAwlRecord("c@x", 1, stale)


@pytest.mark.parametrize("sender, domain", [
    ("<Alice@Example.ORG>", "example.org"), ("alice@example.org.", "example.org"),
    ("<>", ""), ("", ""), ("postmaster", ""), ("@example.org", ""),
])
def test_sender_domain(sender, domain):
    assert senderDomain(sender) == domain


def test_key_digest_is_sha256_of_the_fields_joined_by_nul():
    import hashlib
    assert keyDigest("a", "b") == hashlib.sha256(b"a\x00b").hexdigest()
    assert keyDigest("a", "b") != keyDigest("ab")
    assert keyDigest("a\ud800") == hashlib.sha256("a\ud800".encode("utf-8", "surrogatepass")).hexdigest()


@given(st.lists(st.floats(min_value=0, max_value=20 * 86400, allow_nan=False),
                min_size=1, max_size=40))
def test_client_counts_never_exceed_one_per_interval(gaps):
    """However passes arrive, a count needs an hour since the last (or a stale record)."""
    record, now = None, T0
    for gap in gaps:
        now += gap
        counted = countPass(record, now, AWL)
        if counted is not None and record is not None and counted.count > 1:
            assert now - record.last_seen >= AWL.interval
        record = counted or record


@given(st.ip_addresses(v=4))
def test_normalised_ipv4_client_is_exactly_the_ipaddress_network(address):
    """The fast path for dotted quads gives what ipaddress gives."""
    import ipaddress
    assert normaliseClient(str(address)) == str(ipaddress.ip_network((address, 24), strict=False))


@pytest.mark.parametrize("text", ["01.2.3.4", "256.1.1.1", "1.2.3", " 192.0.2.7 "])
def test_text_that_is_not_a_plain_dotted_quad_takes_the_careful_path(text):
    expected = "192.0.2.0/24" if text.strip() == "192.0.2.7" else text.strip().lower()
    assert normaliseClient(text) == expected


class RowsAccess(object):
    """decideMessage's rows in dictionaries, its writes kept."""

    def __init__(self, client, pair, records, profile):
        self.clients = {"net": client} if client is not None else {}
        self.pairs = {("net", "d"): pair} if pair is not None else {}
        self.records = {("net", "s", str(i)): r for i, r in enumerate(records) if r is not None}
        self.profile = profile

    def readClient(self, key):
        return self.clients.get(key)

    def writeClient(self, key, record):
        self.clients[key] = record

    def readDomain(self, key):
        return self.pairs.get(key)

    def writeDomain(self, key, record):
        self.pairs[key] = record

    def checkKeys(self, keys, now):
        verdicts = tuple(decide(self.records.get(k), now, self.profile) for k in keys)
        for k, v in zip(keys, verdicts):
            self.records[k] = v.record
        return verdicts


HOURS = st.floats(min_value=0, max_value=60 * 86400, allow_nan=False)
OPTIONAL_RECORD = st.one_of(st.none(), st.builds(
    Record, st.one_of(st.none(), HOURS.map(lambda h: T0 - h)),
    st.one_of(st.none(), HOURS.map(lambda h: T0 - h))))


@given(st.one_of(st.none(), st.builds(AwlRecord, st.integers(0, 8), HOURS.map(lambda h: T0 - h))),
       st.one_of(st.none(), st.builds(DomainAwlRecord, st.just("a@d"), st.integers(0, 3),
                                      HOURS.map(lambda h: T0 - h))),
       st.lists(OPTIONAL_RECORD, min_size=1, max_size=4),
       st.booleans(), st.booleans(), st.sampled_from([KAMAELIA, POSTGREY]))
def test_wouldDeferMessage_says_what_decideMessage_then_decides(client, pair, records, clients,
                                                               domains, profile):
    from Kamaelia.Apps.Grey.GreylistVerdict import MessageKeys, decideMessage, wouldDeferMessage
    awl = AwlParameters(clients=5 if clients else 0, domains=domains)
    keys = MessageKeys(triplets=tuple(("net", "s", str(i)) for i in range(len(records))),
                       client="net" if clients else None,
                       domain=("net", "d") if domains else None, senderId="a@d")
    predicted = wouldDeferMessage(client if clients else None, pair if domains else None,
                                  records, T0, awl, profile)
    verdict = decideMessage(RowsAccess(client, pair, records, profile), keys, T0, awl)
    deferred = verdict.autoWhitelisted is None and not all(v.passed for v in verdict.verdicts)
    assert predicted == deferred
