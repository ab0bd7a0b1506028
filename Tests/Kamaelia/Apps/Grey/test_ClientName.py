"""ClientName: forward-confirmed reverse DNS as Postfix does it, against a real DNS server.

Every lookup here goes over UDP (or TCP) to the ``dnsServer`` fixture on
127.0.0.1; the tests check both the result and which questions were asked.
"""

import dataclasses
import time

import pytest

from Kamaelia.Apps.Grey.ClientName import (
    MAX_PTR_NAMES,
    OK,
    TEMPORARY,
    TEMPUNAVAIL,
    UNAVAILABLE,
    UNKNOWN_CLIENT,
    ClientName,
    HostsFile,
    isValidHostName,
    loadHostsFile,
    lookupClientName,
    makeResolver,
    parseClientAddress,
)

LIFETIME = 1.0
# Generous: the lookup must come back, not come back fast.
RETURN_BOUND = LIFETIME + 5.0


@pytest.fixture
def resolve(dnsServer):
    """lookupClientName against the test server, with LIFETIME."""
    resolver = makeResolver([dnsServer.address], port=dnsServer.port, lifetime=LIFETIME)

    def lookup(address, lifetime=LIFETIME):
        return lookupClientName(address, resolver, lifetime)
    return lookup


def forwardQueries(dnsServer):
    return [q for q in dnsServer.queries if q[1] in ("A", "AAAA")]


# -- the value ----------------------------------------------------------------------------

def test_verified_name_gives_itself_for_both_xclient_attributes():
    name = ClientName("mail.example.org", "mail.example.org", OK)
    assert name.verified
    assert name.reverseStatus == OK
    assert (name.xclientName, name.xclientReverseName) == ("mail.example.org", "mail.example.org")


def test_unverified_name_keeps_the_reverse_name_for_reverse_name_only():
    name = ClientName("unknown", "mail.example.org", UNAVAILABLE)
    assert not name.verified
    assert (name.xclientName, name.xclientReverseName) == ("[UNAVAILABLE]", "mail.example.org")


def test_constants_say_unavailable_and_tempunavail_for_both():
    assert (UNKNOWN_CLIENT.xclientName, UNKNOWN_CLIENT.xclientReverseName) == (
        "[UNAVAILABLE]", "[UNAVAILABLE]")
    assert (TEMPORARY.xclientName, TEMPORARY.xclientReverseName) == (
        "[TEMPUNAVAIL]", "[TEMPUNAVAIL]")
    assert not UNKNOWN_CLIENT.verified and not TEMPORARY.verified


def test_client_name_is_frozen_and_checks_its_status():
    with pytest.raises(dataclasses.FrozenInstanceError):
        UNKNOWN_CLIENT.name = "x"
    with pytest.raises(ValueError):
        ClientName("unknown", "unknown", "maybe")


@pytest.mark.parametrize("name", [
    "mail.example.org", "a", "MX-1.Example.ORG", "host_1.example.org", "123.example.org",
    "a" * 63 + ".example",
])
def test_valid_host_names(name):
    assert isValidHostName(name)


@pytest.mark.parametrize("name", [
    "", "bad name.example", "-lead.example", "trail-.example", "a..example", ".example",
    "192.0.2.7", "12345", "a" * 64 + ".example", ".".join(["abcdefg"] * 40),
    "caf\u00e9.example", "x\\001.example", "semi;colon.example", "example.org.",
])
def test_invalid_host_names(name):
    assert not isValidHostName(name)


@pytest.mark.parametrize("text, expected", [
    ("192.0.2.7", "192.0.2.7"), ("::ffff:192.0.2.7", "192.0.2.7"), ("[2001:db8::5]", "2001:db8::5"),
    ("IPv6:2001:DB8::5", "2001:db8::5"), ("fe80::1%eth0", "fe80::1"), (" 192.0.2.7 ", "192.0.2.7"),
])
def test_client_addresses_are_parsed_and_ipv4_mapped_is_unwrapped(text, expected):
    assert str(parseClientAddress(text)) == expected


@pytest.mark.parametrize("text", ["", "unix:/tmp/sock", "mail.example.org", "192.0.2.300"])
def test_non_addresses_are_refused(text):
    assert parseClientAddress(text) is None


# -- lookups -----------------------------------------------------------------------------

def test_forward_confirmed_name_is_verified(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "mail.example.org")
    dnsServer.addA("mail.example.org", "192.0.2.7")
    assert resolve("192.0.2.7") == ClientName("mail.example.org", "mail.example.org", OK)
    assert dnsServer.queries == [(dnsServer.reverseName("192.0.2.7"), "PTR"),
                                 ("mail.example.org", "A")]


def test_confirmation_finds_the_address_among_several(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "pool.example.org")
    for ip in ("192.0.2.1", "192.0.2.7", "192.0.2.9"):
        dnsServer.addA("pool.example.org", ip)
    assert resolve("192.0.2.7").xclientName == "pool.example.org"


def test_no_ptr_record_is_unavailable_and_asks_nothing_forward(dnsServer, resolve):
    assert resolve("192.0.2.8") == UNKNOWN_CLIENT
    assert dnsServer.queries == [(dnsServer.reverseName("192.0.2.8"), "PTR")]


def test_ptr_name_that_does_not_exist_is_unavailable_but_reported_as_reverse_name(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "ghost.example.org")
    name = resolve("192.0.2.7")
    assert (name.status, name.name, name.reverseName) == (UNAVAILABLE, "unknown", "ghost.example.org")
    assert (name.xclientName, name.xclientReverseName) == ("[UNAVAILABLE]", "ghost.example.org")


def test_ptr_name_resolving_to_another_address_is_unavailable(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "liar.example.org")
    dnsServer.addA("liar.example.org", "198.51.100.1")
    name = resolve("192.0.2.7")
    assert (name.xclientName, name.xclientReverseName) == ("[UNAVAILABLE]", "liar.example.org")


def test_ipv4_client_needs_an_a_record_not_an_aaaa(dnsServer, resolve):
    """NoAnswer for A is permanent, and an AAAA record does not confirm an IPv4 client."""
    dnsServer.addPTR("192.0.2.7", "six.example.org")
    dnsServer.addAAAA("six.example.org", "::ffff:192.0.2.7")
    assert resolve("192.0.2.7").status == UNAVAILABLE
    assert forwardQueries(dnsServer) == [("six.example.org", "A")]


def test_servfail_on_the_ptr_lookup_is_tempunavail_for_both(dnsServer, resolve):
    dnsServer.servfail(dnsServer.reverseName("192.0.2.7"))
    assert resolve("192.0.2.7") == TEMPORARY


def test_servfail_on_the_forward_lookup_is_tempunavail_with_the_reverse_name(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "flaky.example.org")
    dnsServer.servfail("flaky.example.org")
    name = resolve("192.0.2.7")
    assert (name.xclientName, name.xclientReverseName) == ("[TEMPUNAVAIL]", "flaky.example.org")


def test_unanswered_ptr_query_is_tempunavail_within_the_lifetime(dnsServer, resolve):
    dnsServer.drop(dnsServer.reverseName("192.0.2.7"))
    started = time.monotonic()
    assert resolve("192.0.2.7") == TEMPORARY
    assert time.monotonic() - started < RETURN_BOUND


def test_unanswered_forward_query_is_tempunavail_within_the_lifetime(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "slow.example.org")
    dnsServer.drop("slow.example.org")
    started = time.monotonic()
    name = resolve("192.0.2.7")
    assert time.monotonic() - started < RETURN_BOUND
    assert (name.status, name.reverseName) == (TEMPUNAVAIL, "slow.example.org")


def test_no_time_left_is_tempunavail_without_asking(dnsServer, resolve):
    assert resolve("192.0.2.7", lifetime=0) == TEMPORARY
    assert dnsServer.queries == []


def test_ipv6_client_is_looked_up_under_ip6_arpa_and_compared_by_value(dnsServer, resolve):
    dnsServer.addPTR("2001:db8::5", "v6.example.org")
    dnsServer.addAAAA("v6.example.org", "2001:0db8:0000::0005")
    assert resolve("2001:db8:0::5").xclientName == "v6.example.org"
    assert dnsServer.queries[0] == (dnsServer.reverseName("2001:db8::5"), "PTR")
    assert dnsServer.queries[0][0].endswith(".ip6.arpa")
    assert forwardQueries(dnsServer) == [("v6.example.org", "AAAA")]


def test_ipv6_loopback_client(dnsServer, resolve):
    dnsServer.addPTR("::1", "localhost")
    dnsServer.addAAAA("localhost", "::1")
    assert resolve("::1") == ClientName("localhost", "localhost", OK)


def test_ipv6_client_is_not_confirmed_by_an_a_record(dnsServer, resolve):
    dnsServer.addPTR("2001:db8::5", "v4only.example.org")
    dnsServer.addA("v4only.example.org", "192.0.2.5")
    assert resolve("2001:db8::5").status == UNAVAILABLE


def test_ipv4_mapped_client_is_looked_up_as_ipv4(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "mail.example.org")
    dnsServer.addA("mail.example.org", "192.0.2.7")
    assert resolve("::ffff:192.0.2.7").xclientName == "mail.example.org"
    assert dnsServer.queries == [("7.2.0.192.in-addr.arpa", "PTR"), ("mail.example.org", "A")]


@pytest.mark.parametrize("ptr", ["bad name.example.org", "-dash.example.org", "192.0.2.7",
                                 "nul\x00.example.org", "caf\\233.example.org"])
def test_invalid_ptr_name_is_unavailable_for_both_and_never_looked_up(dnsServer, resolve, ptr):
    """Even a name that would confirm: it must not reach XCLIENT."""
    dnsServer.addPTR("192.0.2.7", ptr)
    assert resolve("192.0.2.7") == UNKNOWN_CLIENT
    assert forwardQueries(dnsServer) == []


def test_underscore_in_a_ptr_name_is_tolerated_as_postfix_does(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "dhcp_7.example.org")
    dnsServer.addA("dhcp_7.example.org", "192.0.2.7")
    assert resolve("192.0.2.7").xclientName == "dhcp_7.example.org"


def test_several_ptr_names_the_first_that_confirms_wins(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "old.example.org")
    dnsServer.addPTR("192.0.2.7", "bad name.example.org")
    dnsServer.addPTR("192.0.2.7", "mail.example.org")
    dnsServer.addA("old.example.org", "192.0.2.99")
    dnsServer.addA("mail.example.org", "192.0.2.7")
    assert resolve("192.0.2.7") == ClientName("mail.example.org", "mail.example.org", OK)
    assert forwardQueries(dnsServer) == [("old.example.org", "A"), ("mail.example.org", "A")]


def test_several_ptr_names_none_confirming_reports_the_first(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "one.example.org")
    dnsServer.addPTR("192.0.2.7", "two.example.org")
    name = resolve("192.0.2.7")
    assert (name.status, name.reverseName) == (UNAVAILABLE, "one.example.org")


def test_several_ptr_names_a_temporary_failure_makes_it_tempunavail(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "flaky.example.org")
    dnsServer.addPTR("192.0.2.7", "other.example.org")
    dnsServer.servfail("flaky.example.org")
    dnsServer.addA("other.example.org", "192.0.2.99")
    name = resolve("192.0.2.7")
    assert (name.status, name.reverseName) == (TEMPUNAVAIL, "flaky.example.org")


def test_at_most_a_few_ptr_names_are_tried(dnsServer, resolve):
    for i in range(MAX_PTR_NAMES + 3):
        dnsServer.addPTR("192.0.2.7", f"n{i}.example.org")
    dnsServer.addA(f"n{MAX_PTR_NAMES + 2}.example.org", "192.0.2.7")
    assert resolve("192.0.2.7").status == UNAVAILABLE
    assert len(forwardQueries(dnsServer)) == MAX_PTR_NAMES


def test_truncated_answer_is_retried_over_tcp(dnsServer, resolve):
    dnsServer.addPTR("192.0.2.7", "big.example.org")
    for i in range(200):
        dnsServer.addA("big.example.org", f"10.0.0.{i + 1}")
    dnsServer.addA("big.example.org", "192.0.2.7")
    assert resolve("192.0.2.7").xclientName == "big.example.org"
    assert dnsServer.tcpQueries == [("big.example.org", "A")]


def test_not_an_address_is_unavailable_without_asking(dnsServer, resolve):
    assert resolve("not-an-address") == UNKNOWN_CLIENT
    assert dnsServer.queries == []


# -- the resolver --------------------------------------------------------------------------

def test_make_resolver_uses_the_given_servers_port_and_lifetime():
    resolver = makeResolver(["192.0.2.53", "2001:db8::53"], port=5353, lifetime=3.0)
    assert list(resolver.nameservers) == ["192.0.2.53", "2001:db8::53"]
    assert (resolver.port, resolver.lifetime) == (5353, 3.0)
    assert resolver.timeout <= 3.0


def test_make_resolver_reads_resolv_conf_when_no_servers_given(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.org\nnameserver 192.0.2.53\n")
    assert list(makeResolver(None, resolvConf=str(conf)).nameservers) == ["192.0.2.53"]
    assert list(makeResolver([], resolvConf=str(conf)).nameservers) == ["192.0.2.53"]


@pytest.mark.parametrize("content", [None, "search example.org\n"])
def test_missing_or_serverless_resolv_conf_gives_quick_tempunavail(tmp_path, content, caplog):
    conf = tmp_path / "resolv.conf"
    if content is not None:
        conf.write_text(content)
    resolver = makeResolver(None, resolvConf=str(conf), lifetime=30.0)
    assert "no DNS servers" in caplog.text
    started = time.monotonic()
    assert lookupClientName("192.0.2.7", resolver, 30.0) == TEMPORARY
    assert time.monotonic() - started < 5.0


def test_unreachable_server_is_tempunavail_within_the_lifetime(dnsServer):
    """A port with nothing behind it: no server reachable."""
    port = dnsServer.port
    dnsServer.stop()
    resolver = makeResolver(["127.0.0.1"], port=port, lifetime=LIFETIME)
    started = time.monotonic()
    assert lookupClientName("192.0.2.7", resolver, LIFETIME) == TEMPORARY
    assert time.monotonic() - started < RETURN_BOUND


# -- the hosts file first, as the system resolver does for Postfix -------------------------

HOSTS = """# comment
127.0.0.1\tlocalhost
::1 localhost ip6-localhost
192.0.2.7  lan-printer.example.lan printer   # a LAN client
192.0.2.8  bad_name!  good.example.lan
fe80::1%eth0 router.lan
"""


def test_an_address_in_the_hosts_file_is_verified_without_asking_dns(dnsServer):
    resolver = makeResolver([dnsServer.address], port=dnsServer.port, lifetime=LIFETIME)
    hosts = HostsFile(HOSTS)
    found = lookupClientName("192.0.2.7", resolver, LIFETIME, hosts=hosts)
    assert (found.name, found.status) == ("lan-printer.example.lan", OK)
    assert lookupClientName("::ffff:127.0.0.1", resolver, LIFETIME, hosts=hosts).name == "localhost"
    assert lookupClientName("192.0.2.8", resolver, LIFETIME, hosts=hosts).name == "good.example.lan"
    assert lookupClientName("fe80::1", resolver, LIFETIME, hosts=hosts).name == "router.lan"
    assert dnsServer.queries == []
    assert lookupClientName("192.0.2.9", resolver, LIFETIME, hosts=hosts) == UNKNOWN_CLIENT
    assert dnsServer.queries, "an address not in the file is looked up in DNS"


def test_an_unreadable_hosts_file_is_an_empty_table(tmp_path):
    assert loadHostsFile(str(tmp_path / "missing")).names == {}
    path = tmp_path / "hosts"
    path.write_text(HOSTS)
    assert loadHostsFile(str(path)).nameOf(parseClientAddress("192.0.2.7")) == "lan-printer.example.lan"
