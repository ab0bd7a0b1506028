"""Tests for Kamaelia.Apps.Grey.Networks: address and network matching."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from Kamaelia.Apps.Grey.Networks import (
    AddressSet,
    NetworkList,
    addressInNetwork,
    normaliseAddress,
    parseAddress,
    parseNetwork,
    sameAddress,
)


@pytest.mark.parametrize("entry, expected", [
    ("10.0.0.0/8", "10.0.0.0/8"),
    ("10.1.2.3/8", "10.0.0.0/8"),
    ("2001:db8::/32", "2001:db8::/32"),
    ("192.0.2.1", "192.0.2.1/32"),
    ("2001:db8::1", "2001:db8::1/128"),
    ("10", "10.0.0.0/8"),
    ("10.", "10.0.0.0/8"),
    ("172.16", "172.16.0.0/16"),
    ("192.168.2", "192.168.2.0/24"),
    ("192.168.2.", "192.168.2.0/24"),
    (" 192.168.2 ", "192.168.2.0/24"),
    ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
])
def test_parse_network_forms(entry, expected):
    assert parseNetwork(entry) == ipaddress.ip_network(expected)


@pytest.mark.parametrize("entry, words", [
    ("", "empty"),
    ("256", "over 255"),
    ("10.300", "over 255"),
    ("010", "leading zero"),
    ("mail.example.org", "not a network"),
    ("10.0.0.0/33", "not a valid network"),
    ("2001:db8:", "not a network"),
    ("1.2.3.4.5", "not a network"),
])
def test_bad_network_entries_raise_valueerror_with_a_clear_message(entry, words):
    with pytest.raises(ValueError) as info:
        parseNetwork(entry)
    assert words in str(info.value)
    assert "CIDR" in str(info.value)


def test_octet_prefix_does_not_match_across_an_octet_boundary():
    """The original's string prefix let '10' match 100.x and '192.168.2' 192.168.20.x."""
    nets = NetworkList(["10", "192.168.2"])
    assert "10.200.3.4" in nets
    assert "100.1.2.3" not in nets
    assert "192.168.2.77" in nets
    assert "192.168.20.1" not in nets
    assert "192.168.200.1" not in nets


def test_network_list_matches_ipv6_cidr_and_single_addresses():
    nets = NetworkList(["2001:db8::/32", "192.0.2.9"])
    assert "2001:db8:ffff::1" in nets
    assert "2001:DB8:0:0::7" in nets
    assert "2001:db9::1" not in nets
    assert "192.0.2.9" in nets
    assert "192.0.2.10" not in nets


def test_network_list_matches_ipv4_mapped_ipv6_clients():
    nets = NetworkList(["10.0.0.0/8"])
    assert "::ffff:10.1.2.3" in nets
    assert "::ffff:11.1.2.3" not in nets


def test_network_list_never_matches_garbage_or_non_strings():
    nets = NetworkList(["0.0.0.0/0", "::/0"])
    assert "not-an-ip" not in nets
    assert "" not in nets
    assert None not in nets
    assert len(nets) == 2


def test_network_list_rejects_a_bad_entry():
    with pytest.raises(ValueError):
        NetworkList(["10.0.0.0/8", "bogus"])


def test_address_set_compares_normalised_addresses():
    senders = AddressSet(["127.0.0.1", "2001:db8::1", "[::1]"])
    assert "127.0.0.1" in senders
    assert "::ffff:127.0.0.1" in senders
    assert "2001:0db8:0000::0001" in senders
    assert "0:0:0:0:0:0:0:1" in senders
    assert "127.0.0.2" not in senders
    assert "localhost" not in senders
    assert len(senders) == 3


def test_address_set_rejects_networks_and_names():
    with pytest.raises(ValueError, match="not an IP address"):
        AddressSet(["10.0.0.0/8"])
    with pytest.raises(ValueError, match="not an IP address"):
        AddressSet(["mail.example.org"])


def test_parse_and_normalise_address():
    assert parseAddress("::ffff:192.0.2.1") == ipaddress.ip_address("192.0.2.1")
    assert normaliseAddress("nonsense") is None
    assert sameAddress("2001:db8::1", "2001:0db8::0:1")
    assert sameAddress("::ffff:192.0.2.1", "192.0.2.1")
    assert not sameAddress("192.0.2.1", "192.0.2.2")
    assert not sameAddress("x", "x")


def test_address_in_network_for_nonstandard_triple_prefixes():
    assert addressInNetwork("192.168.2.5", "192.168.2")
    assert not addressInNetwork("192.168.20.5", "192.168.2")
    assert addressInNetwork("2001:db8::5", parseNetwork("2001:db8::/64"))
    assert not addressInNetwork("192.168.2.5", "2001:db8::/64")
    assert not addressInNetwork("junk", "10")


octet = st.integers(min_value=0, max_value=255)


@given(st.lists(octet, min_size=4, max_size=4), st.lists(octet, min_size=1, max_size=3),
       st.booleans())
def test_octet_prefix_agrees_with_ipaddress_networks(address, prefix, trailingDot):
    """'a.b' matches exactly the addresses of a.b.0.0/16, whatever a string prefix says."""
    ip = ".".join(map(str, address))
    entry = ".".join(map(str, prefix)) + ("." if trailingDot else "")
    network = ipaddress.ip_network(
        (".".join(map(str, prefix + [0] * (4 - len(prefix)))), 8 * len(prefix)))
    assert (ip in NetworkList([entry])) == (ipaddress.ip_address(ip) in network)
    assert (ip in NetworkList([entry])) == (address[:len(prefix)] == prefix)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_address_equals_its_mapped_ipv6_form(value):
    v4 = ipaddress.IPv4Address(value)
    mapped = "::ffff:%s" % v4
    assert str(v4) in AddressSet([mapped])
    assert mapped in AddressSet([str(v4)])
