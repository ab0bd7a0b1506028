"""The pure parts every store shares (GreylistVerdict): keys, hour buckets, summaries."""

import pytest

from Kamaelia.Apps.Grey.GreylistVerdict import (
    MAX_KEY_FIELD,
    OUTCOMES,
    AwlParameters,
    KeyBuilder,
    hourStart,
    keyDigest,
    lastDay,
    outcomeCounts,
    storableText,
    summaryOf,
)


def test_storable_text_leaves_ordinary_addresses_alone():
    for text in ("<alice@example.org>", "<jörg@exämple.de>", "", "192.0.2.0/24"):
        assert storableText(text) == text


def test_storable_text_replaces_nul_and_lone_surrogates_deterministically():
    assert storableText("<a\x00b@x>") == "<a\ufffdb@x>"
    undecodable = b"<\xff\xfe@x>".decode("utf-8", "surrogateescape")
    assert "\udcff" in undecodable
    stored = storableText(undecodable)
    stored.encode("utf-8")
    assert stored == storableText(undecodable) and "\ufffd" in stored


def test_storable_text_digests_a_huge_field():
    huge = "a" * (MAX_KEY_FIELD + 1)
    assert storableText(huge) == "sha256:" + keyDigest(huge)
    assert storableText("a" * MAX_KEY_FIELD) == "a" * MAX_KEY_FIELD


def test_key_builder_keeps_modes_and_privacy_apart():
    clear, normal = KeyBuilder(), KeyBuilder("normalized")
    private = KeyBuilder("normalized", privacy=True)
    envelope = ("192.0.2.7", "<Alice+x@Example.org>", "<Bob@example.net>")
    assert clear.triplet(*envelope) == envelope
    assert normal.triplet(*envelope) == ("192.0.2.0/24", "alice@example.org", "bob@example.net")
    assert private.triplet(*envelope) == (keyDigest(*normal.triplet(*envelope)), "", "")
    assert private.client("192.0.2.7") == keyDigest("192.0.2.0/24")
    assert private.domain("192.0.2.7", "example.org") == (
        keyDigest("192.0.2.0/24", "example.org"), "")
    with pytest.raises(ValueError, match="unknown key mode"):
        KeyBuilder("hashed")


def test_message_keys_follow_the_awl_settings():
    keys = KeyBuilder().message("192.0.2.7", "<a@example.org>", ["<b@x>", "<c@x>"],
                                AwlParameters(clients=0, domains=True))
    assert keys.client is None and keys.domain == ("192.0.2.0/24", "example.org")
    assert keys.senderId == "a@example.org" and len(keys.triplets) == 2
    bounce = KeyBuilder().message("192.0.2.7", "<>", ["<b@x>"], AwlParameters(domains=True))
    assert bounce.client == "192.0.2.0/24" and bounce.domain is None


def test_hour_buckets_and_the_last_day():
    assert hourStart(7199.9) == 3600.0 and hourStart(7200) == 7200.0
    assert hourStart(-1) == -3600.0
    since, until = lastDay(100 * 3600 + 5)
    assert (since, until) == (77 * 3600.0, 101 * 3600.0)
    assert (until - since) / 3600 == 24


def test_outcome_counts_are_checked_sorted_and_without_zeros():
    assert outcomeCounts({"passed": 2, "deferred": 1, "refused": 0}) == [
        ("deferred", 1), ("passed", 2)]
    for bad in ({"accepted": 1}, {"passed": -1}, {"passed": 1.0}, {"passed": False}):
        with pytest.raises(ValueError):
            outcomeCounts(bad)


def test_summary_totals_every_outcome():
    summary = summaryOf(1, 2, 3, 4, [(0.0, "passed", 5), (3600.0, "passed", 1),
                                     (0.0, "never-retried", 2)])
    assert summary["lastDay"] == dict(dict.fromkeys(OUTCOMES, 0), passed=6,
                                      **{"never-retried": 2})
    assert (summary["pending"], summary["passed"], summary["whitelistedClients"],
            summary["whitelistedDomains"]) == (1, 2, 3, 4)
