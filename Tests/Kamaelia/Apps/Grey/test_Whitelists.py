"""Tests for Kamaelia.Apps.Grey.Whitelists: postgrey's whitelist files, read as they are."""

import os

import pytest

from Kamaelia.Apps.Grey.Config import ConfigError
from Kamaelia.Apps.Grey.Whitelists import (
    ClientWhitelist,
    Entry,
    RecipientWhitelist,
    WhitelistError,
    readEntries,
)

CLIENTS = ClientWhitelist.fromLines([
    "# postgrey-style client whitelist",
    "",
    "example.net",
    "Mail.Example.COM.          # a trailing dot and a comment",
    "/^mta[0-9]+\\.big\\.example$/",
    "192.0.2.15",
    "198.51.100",
    "203.0.113.",
    "172.16.",
    "10.9.0.0/16",
    "2001:db8:5::/48",
    "2001:db8:9::1",
], "clients.txt")


@pytest.mark.parametrize("name", [
    "example.net", "out.example.net", "a.b.example.net", "EXAMPLE.NET.",
    "mail.example.com", "x.mail.example.com", "mta7.big.example", "MTA12.Big.Example",
])
def test_client_names_and_their_subdomains_match(name):
    assert CLIENTS.matches("192.0.2.200", name)


@pytest.mark.parametrize("name", [
    "notexample.net", "example.net.evil.test", "example.com", "mta.big.example",
    "xmta7.big.example.org",
])
def test_other_client_names_do_not_match(name):
    assert not CLIENTS.matches("192.0.2.200", name)


@pytest.mark.parametrize("name", ["unknown", "UNKNOWN", "", "[UNAVAILABLE]", "[TEMPUNAVAIL]"])
def test_an_unverified_client_name_matches_no_name_entry(name):
    """Only a verified name may whitelist: not even an entry "unknown" or /.*/ matches it."""
    whitelist = ClientWhitelist.fromLines(["unknown", "/.*/", "[unavailable]"], "w")
    assert not whitelist.matches("192.0.2.200", name)


@pytest.mark.parametrize("address, listed", [
    ("192.0.2.15", True), ("192.0.2.16", False),
    ("198.51.100.1", True), ("198.51.101.1", False),
    ("203.0.113.250", True), ("172.16.4.4", True), ("172.17.4.4", False),
    ("10.9.200.1", True), ("10.10.0.1", False),
    ("2001:db8:5:1::7", True), ("2001:db8:6::7", False),
    ("2001:db8:9::1", True), ("2001:DB8:9:0:0:0:0:1", True), ("2001:db8:9::2", False),
    ("::ffff:192.0.2.15", True), ("not-an-address", False),
])
def test_client_addresses_prefixes_and_networks(address, listed):
    assert CLIENTS.matches(address, "unknown") is listed


def test_prefixes_match_whole_octets():
    """"192.168." is 192.168.0.0/16: it does not cover 192.16.8.1 or 192.168x."""
    whitelist = ClientWhitelist.fromLines(["192.168.", "10"], "w")
    assert whitelist.matches("192.168.77.1", "unknown")
    assert not whitelist.matches("192.16.8.1", "unknown")
    assert whitelist.matches("10.1.2.3", "unknown")
    assert not whitelist.matches("100.1.2.3", "unknown")


def test_match_names_the_entry_and_where_it_is():
    entry = CLIENTS.match("192.0.2.1", "a.example.net")
    assert entry == Entry("example.net", "clients.txt", 3)


def errorOf(maker, lines):
    with pytest.raises(WhitelistError) as info:
        maker(lines, "wl.txt")
    return info.value


@pytest.mark.parametrize("line, words", [
    ("two words", "one entry a line"),
    ("/[unclosed/", "bad regular expression"),
    ("/no-end", "written /like this/"),
    ("//", "written /like this/"),
    ("300.1.2.3", "over 255"),
    ("1.2.3.4.5", "not a network"),
    ("192.0.2.0/33", "not a valid network"),
    ("2001:db8::zz", "not a"),
])
def test_a_bad_client_line_is_an_error_with_file_and_line(line, words):
    error = errorOf(ClientWhitelist.fromLines, ["# header", "example.org", line])
    assert isinstance(error, ConfigError)
    assert (error.filename, error.line, error.key) == ("wl.txt", 3, "whitelist_clients")
    assert words in error.problem
    assert str(error).startswith("wl.txt:3: whitelist_clients: ")


def test_a_line_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "wl"
    path.write_bytes(b"example.org\nb\xe9d.example\n# caf\xe9 in a comment is fine\n")
    with pytest.raises(WhitelistError) as info:
        ClientWhitelist.fromFiles([str(path)])
    assert info.value.line == 2 and "UTF-8" in info.value.problem


def test_files_are_read_with_their_local_files(tmp_path):
    main = tmp_path / "whitelist_clients"
    main.write_text("example.net\n")
    (tmp_path / "whitelist_clients.local").write_text("# ours\nlocal.example\n")
    other = tmp_path / "more"
    other.write_text("192.0.2.1\n")
    whitelist = ClientWhitelist.fromFiles([str(main), str(other)])
    assert [e.text for e in whitelist.entries] == ["example.net", "local.example", "192.0.2.1"]
    assert whitelist.entries[1] == Entry("local.example", str(main) + ".local", 2)
    assert whitelist.matches("203.0.113.1", "mx.local.example")


def test_a_missing_file_is_an_error_but_a_missing_local_file_is_not(tmp_path):
    with pytest.raises(WhitelistError) as info:
        readEntries([str(tmp_path / "absent")], "whitelist_clients")
    assert str(info.value) == "%s: whitelist_clients: no such file" % (tmp_path / "absent")
    assert readEntries([str(tmp_path / "absent.local")], "whitelist_clients") == []


def test_an_unreadable_file_is_an_error(tmp_path):
    with pytest.raises(WhitelistError, match="cannot read"):
        readEntries([str(tmp_path)], "whitelist_recipients")


POSTGREY_FILES = ("/usr/share/postgrey/whitelist_clients", "/etc/postgrey/whitelist_clients")


@pytest.mark.skipif(not any(os.path.exists(p) for p in POSTGREY_FILES),
                    reason="Debian's postgrey package is not installed")
def test_postgreys_shipped_client_whitelist_reads_without_error():
    path = next(p for p in POSTGREY_FILES if os.path.exists(p))
    whitelist = ClientWhitelist.fromFiles([path])
    assert len(whitelist) > 100
    with open(path) as handle:
        names = [line.split("#")[0].strip() for line in handle]
    plain = [n for n in names if n and not n.startswith("/") and not n[0].isdigit()]
    assert all(whitelist.matches("192.0.2.1", "mx1." + name) for name in plain)


# -- recipients --------------------------------------------------------------

RECIPIENTS = RecipientWhitelist.fromLines([
    "alice@example.org",
    "noc@",
    "Lists.Example.NET",
    "/^bounce-.*@news\\./",
], "rcpt.txt")


@pytest.mark.parametrize("address", [
    "alice@example.org", "ALICE@Example.Org", "alice+tag@example.org", "<alice@example.org>",
    "noc@anywhere.test", "noc+pager@x.test", "NOC@y.test",
    "anyone@lists.example.net", "a@sub.lists.example.net", "x@lists.example.net.",
    "bounce-77@news.example.com", "BOUNCE-1@News.x",
])
def test_recipient_entries_match(address):
    assert RECIPIENTS.matches(address)


@pytest.mark.parametrize("address", [
    "alice@sub.example.org", "alice@example.org.evil", "bob@example.org", "malice@example.org",
    "nocx@anywhere.test", "anyone@xlists.example.net", "lists.example.net@other.test",
    "hello-bounce-1@news.x",
])
def test_other_recipients_do_not_match(address):
    assert not RECIPIENTS.matches(address)


def test_defaults_are_postmaster_and_abuse():
    defaults = RecipientWhitelist.defaults()
    assert [e.text for e in defaults.entries] == ["postmaster@", "abuse@"]
    assert defaults.matches("postmaster@example.org")
    assert defaults.matches("Abuse+spam@example.org")
    assert defaults.matches("postmaster")
    assert not defaults.matches("webmaster@example.org")


@pytest.mark.parametrize("line, words", [
    ("a@b@c", "more than one '@'"),
    ("@example.org", "no user before the '@'"),
    ("two words", "one entry a line"),
    ("/(/", "bad regular expression"),
])
def test_a_bad_recipient_line_is_an_error(line, words):
    error = errorOf(RecipientWhitelist.fromLines, [line])
    assert (error.line, error.key) == (1, "whitelist_recipients")
    assert words in error.problem


def test_entries_from_a_config_list_name_the_setting():
    optout = RecipientWhitelist.fromEntries(["otp@example.org", "alerts.example.org", "ops@"],
                                            "optout_recipients")
    assert optout.matches("otp@example.org") and optout.matches("x@alerts.example.org")
    assert optout.matches("ops@anywhere.test")
    with pytest.raises(WhitelistError) as info:
        RecipientWhitelist.fromEntries(["a b"], "optout_recipients")
    assert str(info.value).startswith("optout_recipients: optout_recipients: ")


def test_whitelists_compare_by_their_entries():
    assert ClientWhitelist(["a.example"]) == ClientWhitelist.fromLines(["a.example"], "other")
    assert ClientWhitelist(["a.example"]) != ClientWhitelist(["b.example"])
    assert RecipientWhitelist.defaults() == RecipientWhitelist(["postmaster@", "abuse@"])
    assert hash(RecipientWhitelist.defaults()) == hash(RecipientWhitelist(["postmaster@", "abuse@"]))
