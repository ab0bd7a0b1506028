"""Tests for Kamaelia.Apps.Grey.Config: the strict greylist.conf loader."""

import os

import hypothesis
import pytest
from hypothesis import strategies

from Kamaelia.Apps.Grey import Config
from Kamaelia.Apps.Grey.Config import (
    DEFAULT_CONFIG,
    OPTIONS,
    SCHEMA,
    SEARCH_PATH,
    ConfigError,
    describeOptions,
    findConfig,
    loadConfig,
    parseConfig,
    timingProfile,
)
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA, POSTGREY, TimingProfile


def write(tmp_path, text, name="greylist.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def error(lines):
    with pytest.raises(ConfigError) as info:
        parseConfig(lines, "test.conf")
    return info.value


EXPECTED_DEFAULTS = {
    "port": 25, "listen_address": "", "servername": "mail.example.com",
    "serverid": "Kamaelia-SMTP 1.0", "smtp_ip": "", "smtp_port": 8025,
    "inactivity_timeout": 300, "greylist_log": "greylist.log",
    "greylist_debuglog": "greylist-debug.log", "allowed_senders": ["127.0.0.1"],
    "allowed_sender_nets": [], "allowed_domains": [], "whitelisted_triples": [],
    "whitelisted_nonstandard_triples": [], "greylist_db": "greylist.sqlite",
    "greylist_profile": "kamaelia", "greylist_too_soon": None,
    "greylist_min_defer": None, "greylist_max_defer": None,
    "greylist_max_grey": None, "greylist_key": "kamaelia",
    "import_dbm_dir": ".", "max_message_size": 10240000, "max_recipients": 100,
    "max_sessions": 1000, "tls_certificate": "", "tls_key": "", "xclient": True,
    "maildir": "Maildir", "backend_timeout": 300, "connect_timeout": 30,
    "log_level": "INFO", "pid_file": "",
    "bare_newline": "normalize", "allow_untrusted_routing": False,
    "client_name_lookup": True, "dns_servers": [], "dns_port": 53, "dns_timeout": 5,
    "privacy": False, "auto_whitelist_clients": 5, "auto_whitelist_max_age": 35,
    "auto_whitelist_domains": False, "whitelist_clients": [], "whitelist_recipients": [],
    "optout_recipients": [], "greylist_text": "Greylisted, please try again later",
    "x_greylist_header": False, "mode": "proxy", "policy_socket": "", "workers": 1, "metrics_listen": "",
    "policy_greylist_at": "rcpt", "policy_defer_action": "DEFER_IF_PERMIT",
    "policy_bad_request_action": "DUNNO", "policy_one_per_connection": False,
}


def test_defaults_are_exactly_the_documented_ones():
    assert DEFAULT_CONFIG == EXPECTED_DEFAULTS


def test_schema_is_one_table_with_help_for_every_key():
    assert [o.name for o in SCHEMA] == list(OPTIONS) == list(DEFAULT_CONFIG)
    assert all(o.help for o in SCHEMA)
    text = describeOptions()
    for option in SCHEMA:
        assert option.name + " (" in text


def test_search_path_is_the_originals():
    assert SEARCH_PATH == (
        "/usr/local/etc/Kamaelia/greylist.conf", "/usr/local/etc/greylist.conf",
        "/etc/Kamaelia/greylist.conf", "/etc/greylist.conf", "./greylist.conf",
        "/usr/local/etc/Kamaelia/greylist.conf.dist",
        "/usr/local/etc/greylist.conf.dist", "/etc/Kamaelia/greylist.conf.dist",
        "/etc/greylist.conf.dist", "./greylist.conf.dist")


def test_find_config_returns_the_first_readable_file(tmp_path):
    second = write(tmp_path, "port = 1\n", "b.conf")
    third = write(tmp_path, "port = 2\n", "c.conf")
    path = [str(tmp_path / "a.conf"), second, third]
    assert findConfig(path) == second
    assert findConfig([str(tmp_path / "none"), str(tmp_path)]) is None


def test_load_config_without_a_file_gives_fresh_defaults(tmp_path):
    config = loadConfig(None, searchPath=[str(tmp_path / "missing.conf")])
    assert config == DEFAULT_CONFIG
    config["allowed_senders"].append("192.0.2.1")
    assert DEFAULT_CONFIG["allowed_senders"] == ["127.0.0.1"]


def test_load_config_searches_when_no_path_is_given(tmp_path):
    found = write(tmp_path, "port = 2525\n")
    assert loadConfig(searchPath=[str(tmp_path / "x"), found])["port"] == 2525


def test_load_config_missing_explicit_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        loadConfig(str(tmp_path / "absent.conf"))


def test_full_file_is_converted(tmp_path):
    path = write(tmp_path, """\
# Kamaelia Grey
port = 2525
listen_address = ::
servername = mx.example.org
serverid = Grey = 2.0
smtp_ip = 127.0.0.1
smtp_port=10025
inactivity_timeout = 600
xclient = Off
log_level = debug
greylist_profile = Postgrey
greylist_key = normalized
greylist_min_defer = 600
tls_certificate = /etc/ssl/mx.pem
tls_key = /etc/ssl/mx.key
allowed_senders:
    127.0.0.1
    ::1
allowed_sender_nets:
    10
    # an indented comment inside a list
    192.168.2.

    2001:db8::/32
allowed_domains:
    Example.ORG
    localdomain
whitelisted_triples:
    192.0.2.7   <a@example.net> <b@example.org>
whitelisted_nonstandard_triples:
    mail.bigsender.example 198.51.100 <b@example.org>
""")
    config = loadConfig(path)
    assert config["port"] == 2525
    assert config["listen_address"] == "::"
    assert config["servername"] == "mx.example.org"
    assert config["serverid"] == "Grey = 2.0"
    assert config["smtp_port"] == 10025
    assert config["inactivity_timeout"] == 600
    assert config["xclient"] is False
    assert config["log_level"] == "DEBUG"
    assert config["greylist_profile"] == "postgrey"
    assert config["greylist_key"] == "normalized"
    assert config["greylist_min_defer"] == 600
    assert config["allowed_senders"] == ["127.0.0.1", "::1"]
    assert config["allowed_sender_nets"] == ["10", "192.168.2.", "2001:db8::/32"]
    assert config["allowed_domains"] == ["example.org", "localdomain"]
    assert config["whitelisted_triples"] == [
        ("192.0.2.7", "<a@example.net>", "<b@example.org>")]
    assert config["whitelisted_nonstandard_triples"] == [
        ("mail.bigsender.example", "198.51.100", "<b@example.org>")]
    assert config["greylist_db"] == "greylist.sqlite"
    assert timingProfile(config) == TimingProfile(0, 600, 172800, 3024000)


@pytest.mark.parametrize("text", ["yes", "true", "on", "1", "YES", "True"])
def test_true_booleans(text):
    assert parseConfig([f"xclient = {text}\n"])["xclient"] is True


@pytest.mark.parametrize("text", ["no", "false", "off", "0", "No"])
def test_false_booleans(text):
    assert parseConfig([f"xclient = {text}\n"])["xclient"] is False


def test_last_line_without_newline_and_crlf_endings():
    config = parseConfig(["port = 26\r\n", "servername = mx.example.org"])
    assert config["port"] == 26
    assert config["servername"] == "mx.example.org"


def test_list_header_replaces_default_and_empty_list_is_allowed():
    assert parseConfig(["allowed_senders:\n"])["allowed_senders"] == []


def test_empty_optional_int_means_from_the_profile():
    config = parseConfig(["greylist_max_grey =\n"])
    assert config["greylist_max_grey"] is None
    assert timingProfile(config) == KAMAELIA


def test_error_text_format_and_attributes():
    err = error(["# comment\n", "port = abc\n"])
    assert str(err) == "test.conf:2: port: not an integer: 'abc'"
    assert (err.filename, err.line, err.key) == ("test.conf", 2, "port")
    assert isinstance(err, ValueError)


def test_error_from_a_file_names_the_file(tmp_path):
    path = write(tmp_path, "port = 25\nbogus = 1\n")
    with pytest.raises(ConfigError) as info:
        loadConfig(path)
    assert str(info.value) == f"{path}:2: bogus: unknown key"


@pytest.mark.parametrize("lines, where, key, words", [
    (["bogus = 1\n"], 1, "bogus", "unknown key"),
    (["bogus:\n"], 1, "bogus", "unknown key"),
    (["port = 25\n", "xclient = maybe\n"], 2, "xclient", "not a boolean"),
    (["port = 70000\n"], 1, "port", "at most 65535"),
    (["inactivity_timeout = 0\n"], 1, "inactivity_timeout", "at least 1"),
    (["greylist_profile = fast\n"], 1, "greylist_profile", "must be one of"),
    (["greylist_key = hashed\n"], 1, "greylist_key", "must be one of"),
    (["log_level = chatty\n"], 1, "log_level", "must be one of"),
    (["listen_address = everywhere\n"], 1, "listen_address", "not an IP address"),
    (["allowed_senders:\n", "  127.0.0.1\n", "  10.0.0.0/8\n"], 3,
     "allowed_senders", "not an IP address"),
    (["allowed_sender_nets:\n", "  10.0.0.0/8\n", "  192.168.300\n"], 3,
     "allowed_sender_nets", "over 255"),
    (["allowed_sender_nets:\n", "  10.0.0.0/8 11.0.0.0/8\n"], 2,
     "allowed_sender_nets", "one value per line"),
    (["whitelisted_triples:\n", "  192.0.2.7 <a@example.net>\n"], 2,
     "whitelisted_triples", "expected 3 fields (ip sender recipient), got 2"),
    (["whitelisted_triples:\n", "  192.0.2.7 <a@x> <b@y> extra\n"], 2,
     "whitelisted_triples", "got 4"),
    (["whitelisted_triples:\n", "  mail.example.net <a@x> <b@y>\n"], 2,
     "whitelisted_triples", "ip field"),
    (["whitelisted_nonstandard_triples:\n", "  helo 10.300 <b@y>\n"], 2,
     "whitelisted_nonstandard_triples", "network field"),
    (["allowed_domains = example.org\n"], 1, "allowed_domains", "is a list"),
    (["port:\n"], 1, "port", "is not a list"),
    (["tls_certificate = /etc/ssl/c.pem\n"], 1, "tls_certificate", "without tls_key"),
    (["port = 25\n", "tls_key = /etc/ssl/k.pem\n"], 2, "tls_key", "without tls_certificate"),
    (["greylist_min_defer = 100\n", "greylist_max_defer = 50\n"], 2,
     "greylist_max_defer", "too_soon <= min_defer <= max_defer"),
    (["greylist_too_soon = -5\n"], 1, "greylist_too_soon", "at least 0"),
])
def test_errors_name_line_key_and_problem(lines, where, key, words):
    err = error(lines)
    assert (err.line, err.key) == (where, key)
    assert words in err.problem
    assert str(err).startswith(f"test.conf:{where}: {key}: ")


def test_indented_line_with_no_list_above_it():
    err = error(["   127.0.0.1\n"])
    assert err.line == 1 and "no 'key:' list above it" in err.problem
    err = error(["allowed_senders:\n", "  127.0.0.1\n", "port = 25\n", "  ::1\n"])
    assert err.line == 4 and "no 'key:' list above it" in err.problem


def test_a_line_that_is_neither():
    err = error(["port = 25\n", "this is not a setting\n"])
    assert err.line == 2
    assert err.key == "this is not a setting"
    assert "neither" in err.problem


def test_timing_profile_overrides_individual_limits():
    config = dict(DEFAULT_CONFIG, greylist_max_grey=86400)
    assert timingProfile(config) == TimingProfile(180, 3600, 25000, 86400)
    assert timingProfile(dict(DEFAULT_CONFIG, greylist_profile="postgrey")) == POSTGREY


def test_shipped_example_config_loads_and_lists_every_key():
    """greylist.conf.dist loads to exactly the defaults and mentions every option."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", "..", ".."))
    dist = os.path.join(root, "Examples", "Greylister", "greylist.conf.dist")
    with open(dist) as handle:
        text = handle.read()
    assert loadConfig(dist) == DEFAULT_CONFIG
    for option in SCHEMA:
        assert option.name in text, option.name
    # every commented-out setting is itself valid when uncommented
    for line in text.splitlines():
        if line.startswith("#") and "=" in line:
            candidate = line[1:].strip()
            key = candidate.split("=", 1)[0].strip()
            if key in Config.OPTIONS and Config.OPTIONS[key].kind not in ("list", "tuples") \
                    and not key.startswith("tls_"):
                parseConfig([candidate + "\n"])


# ------------------------------------------------- bytes that are not UTF-8

def writeBytes(tmp_path, data, name="greylist.conf"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def loadError(path):
    with pytest.raises(ConfigError) as info:
        loadConfig(path)
    return info.value


def test_latin1_comments_are_ignored_wherever_a_comment_may_be(tmp_path):
    """1.x files often carry Latin-1 comments: whole-line, indented and inline."""
    path = writeBytes(tmp_path, b"# R\xe9glages du serveur\n"
                                b"port = 2525   # le port d'\xe9coute\n"
                                b"allowed_domains:   # domaines re\xe7us\n"
                                b"    # \xe0 compl\xe9ter\n"
                                b"    example.org\t# principal \xa7\n")
    config = loadConfig(path)
    assert config["port"] == 2525
    assert config["allowed_domains"] == ["example.org"]


def test_a_value_that_is_not_utf8_names_line_key_byte_and_column(tmp_path):
    path = writeBytes(tmp_path, b"port = 25\nservername = caf\xe9.example\n")
    err = loadError(path)
    assert str(err) == (f"{path}:2: servername: not valid UTF-8 (byte 0xe9 at column 17); "
                        "save the file as UTF-8")
    assert (err.filename, err.line, err.key) == (path, 2, "servername")


def test_a_list_item_that_is_not_utf8_names_the_list(tmp_path):
    path = writeBytes(tmp_path, b"allowed_domains:\n  example.org\n  \xfcber.example\n")
    err = loadError(path)
    assert (err.line, err.key) == (3, "allowed_domains")
    assert "byte 0xfc at column 3" in err.problem


def test_a_key_that_is_not_utf8_is_reported_as_the_line(tmp_path):
    err = loadError(writeBytes(tmp_path, b"\n\nserv\xe9rname = x\n"))
    assert (err.line, err.key) == (3, "(line)")
    assert "byte 0xe9 at column 5" in err.problem


def test_utf8_values_are_accepted_and_a_bom_is_skipped(tmp_path):
    path = writeBytes(tmp_path, "\ufeffport = 26\nserverid = Gr\u00eby \u2014 2\n".encode())
    config = loadConfig(path)
    assert config["port"] == 26
    assert config["serverid"] == "Gr\u00eby \u2014 2"


def test_parse_config_takes_bytes_and_surrogate_escaped_text():
    assert parseConfig([b"port = 27\r\n"])["port"] == 27
    text = b"servername = caf\xe9\n".decode("utf-8", "surrogateescape")
    err = error([text])
    assert "byte 0xe9 at column 17" in err.problem


def test_arbitrary_bytes_give_a_config_or_a_config_error_never_another_exception():
    """Whatever the file holds, loading it fails only with ConfigError."""
    fragments = strategies.sampled_from([
        b"port", b" = ", b"=", b":", b"#", b" #", b"\t", b"  ", b"\xe9", b"\xff",
        b"\xc3", b"25", b"allowed_domains", b"whitelisted_triples", b"x", b"\r",
        b"tls_key", b"greylist_max_defer", b"\x00", b"[::1]", b"smtp_ip"])
    line = strategies.lists(fragments, max_size=8).map(b"".join)

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(strategies.lists(line, max_size=8))
    def check(lines):
        try:
            parseConfig(lines, "fuzz.conf")
        except ConfigError as err:
            assert str(err).startswith("fuzz.conf")

    check()


# ---------------------------------------------------------- inline comments

def test_inline_comments_after_values_headers_and_items():
    config = parseConfig([
        "port = 2525   # the port\n",
        "servername = mx.example.org\t# tab before the hash\n",
        "greylist_max_grey =   # unset: from the profile\n",
        "allowed_domains:   # ours\n",
        "    example.org  # main\n",
        "whitelisted_triples:  # exceptions\n",
        "    192.0.2.7 <a@x> <b@y>   # newsletter\n",
    ])
    assert config["port"] == 2525
    assert config["servername"] == "mx.example.org"
    assert config["greylist_max_grey"] is None
    assert config["allowed_domains"] == ["example.org"]
    assert config["whitelisted_triples"] == [("192.0.2.7", "<a@x>", "<b@y>")]


def test_a_hash_not_preceded_by_a_blank_is_part_of_the_value():
    config = parseConfig(["serverid = Grey#2 #the second\n", "servername =#x\n"])
    assert config["serverid"] == "Grey#2"
    assert config["servername"] == "#x"


def test_an_inline_comment_does_not_hide_a_bad_value():
    err = error(["port = 25x  # typo\n"])
    assert err.problem == "not an integer: '25x'"


# ---------------------------------------------------------- duplicate keys

def test_a_scalar_set_twice_names_both_lines():
    err = error(["port = 25\n", "# again\n", "port = 26\n"])
    assert str(err) == "test.conf:3: port: set twice (first at line 1)"


def test_a_list_given_twice_names_both_lines():
    err = error(["allowed_domains:\n", "  a.example\n", "port = 25\n",
                 "allowed_domains:\n", "  b.example\n"])
    assert (err.line, err.key, err.problem) == (
        4, "allowed_domains", "set twice (first at line 1)")


# ------------------------------------------------- errors without a line

@pytest.mark.parametrize("line", [None, 0])
def test_an_error_with_no_line_has_no_pseudo_line_number(line):
    err = ConfigError("/etc/ssl/mx.key", line, "tls_key", "cannot read: Permission denied")
    assert str(err) == "/etc/ssl/mx.key: tls_key: cannot read: Permission denied"
    assert (err.filename, err.line, err.key, err.problem) == (
        "/etc/ssl/mx.key", line, "tls_key", "cannot read: Permission denied")
    assert isinstance(err, ValueError)


def test_a_cross_check_names_the_line_that_set_the_key():
    err = error(["port = 25\n", "tls_key = /k.pem\n"])
    assert str(err) == "test.conf:2: tls_key: set without tls_certificate: STARTTLS needs both"


# ------------------------------------------------------------------ smtp_ip

def test_smtp_ip_must_be_an_ip_address():
    err = error(["smtp_ip = mail.example.org\n"])
    assert (err.line, err.key, err.problem) == (
        1, "smtp_ip", "not an IP address: 'mail.example.org'")


@pytest.mark.parametrize("text, stored", [
    ("192.0.2.25", "192.0.2.25"), ("::1", "::1"), ("[::1]", "::1"),
    ("[192.0.2.25]", "192.0.2.25"), ("", "")])
def test_smtp_ip_takes_ipv4_ipv6_or_bracketed_literals_or_empty(text, stored):
    assert parseConfig([f"smtp_ip = {text}\n"])["smtp_ip"] == stored


# -------------------------------------------------------------- new options

def test_new_options_defaults_and_conversions():
    config = parseConfig([
        "bare_newline = Reject\n", "allow_untrusted_routing = yes\n",
        "client_name_lookup = no\n", "dns_port = 5353\n", "dns_timeout = 2\n",
        "dns_servers:\n", "  192.0.2.53\n", "  [2001:db8::53]\n"])
    assert config["bare_newline"] == "reject"
    assert config["allow_untrusted_routing"] is True
    assert config["client_name_lookup"] is False
    assert config["dns_port"] == 5353
    assert config["dns_timeout"] == 2
    assert config["dns_servers"] == ["192.0.2.53", "2001:db8::53"]


@pytest.mark.parametrize("lines, key, words", [
    (["bare_newline = strip\n"], "bare_newline", "must be one of normalize, reject"),
    (["allow_untrusted_routing = perhaps\n"], "allow_untrusted_routing", "not a boolean"),
    (["client_name_lookup = 2\n"], "client_name_lookup", "not a boolean"),
    (["dns_servers:\n", "  ns1.example.org\n"], "dns_servers", "not an IP address"),
    (["dns_servers = 192.0.2.53\n"], "dns_servers", "is a list"),
    (["dns_port = 0\n"], "dns_port", "at least 1"),
    (["dns_port = 65536\n"], "dns_port", "at most 65535"),
    (["dns_timeout = 0\n"], "dns_timeout", "at least 1"),
])
def test_new_options_are_checked(lines, key, words):
    err = error(lines)
    assert err.key == key and words in err.problem


def test_exactly_the_lists_and_whitelist_files_are_reloadable():
    assert Config.RELOADABLE_KEYS == (
        "allowed_senders", "allowed_sender_nets", "allowed_domains",
        "whitelisted_triples", "whitelisted_nonstandard_triples",
        "whitelist_clients", "whitelist_recipients", "optout_recipients")
    assert [o.name for o in SCHEMA if o.reloadable] == list(Config.RELOADABLE_KEYS)
    text = describeOptions()
    assert "allowed_domains (list, default (empty), SIGHUP applies it)" in text
    assert "port (int, default 25)\n" in text


# --------------------------------------------------- command-line overrides

def overrideError(config, key, text, source):
    before = dict(config)
    with pytest.raises(ConfigError) as info:
        Config.overrideOption(config, key, text, source)
    assert config == before, "a rejected override must leave the config alone"
    assert info.value.line is None and info.value.filename == source
    return info.value


def test_override_converts_checks_and_stores_like_a_file_value():
    config = Config.defaultConfig()
    assert Config.overrideOption(config, "port", "2525", "--port") == 2525
    assert Config.overrideOption(config, "log_level", "debug", "--log-level") == "DEBUG"
    assert Config.overrideOption(config, "smtp_ip", "[::1]", "--smtp") == "::1"
    assert (config["port"], config["log_level"], config["smtp_ip"]) == (2525, "DEBUG", "::1")


def test_override_out_of_range_port_is_a_clear_error():
    err = overrideError(Config.defaultConfig(), "port", "99999", "--port")
    assert str(err) == "--port: port: must be at most 65535, got 99999"


def test_override_unknown_log_level_is_a_clear_error():
    err = overrideError(Config.defaultConfig(), "log_level", "LOUD", "--log-level")
    assert str(err) == ("--log-level: log_level: must be one of DEBUG, INFO, WARNING, "
                        "ERROR, CRITICAL, got 'LOUD'")


def test_override_rejects_lists_unknown_keys_and_inconsistent_timings():
    config = Config.defaultConfig()
    assert "is a list" in overrideError(config, "allowed_domains", "x", "--domain").problem
    assert overrideError(config, "bogus", "1", "--bogus").problem == "unknown key"
    assert overrideError(config, "port", "abc", "--port").problem == "not an integer: 'abc'"
    err = overrideError(config, "greylist_max_defer", "10", "--max-defer")
    assert err.key == "greylist_max_defer" and "too_soon <= min_defer" in err.problem


# ------------------------------------------------------- what changed on reload

def test_changed_options_split_by_reloadable_in_schema_order():
    old = Config.defaultConfig()
    new = Config.defaultConfig()
    new.update(dns_timeout=9, allowed_domains=["example.org"], port=2525,
               whitelisted_triples=[("192.0.2.1", "<a@x>", "<b@y>")])
    assert Config.changedOptions(old, new) == (
        ["allowed_domains", "whitelisted_triples"], ["port", "dns_timeout"])
    assert Config.changedOptions(old, Config.defaultConfig()) == ([], [])


# ------------------------------------------- policy server and postgrey options

def test_policy_and_auto_whitelist_options_are_converted():
    config = parseConfig([
        "mode = Policy\n", "policy_socket = /var/spool/postfix/private/grey\n",
        "policy_greylist_at = DATA\n", "policy_defer_action = 451 4.7.1\n",
        "policy_bad_request_action = defer_if_permit\n", "policy_one_per_connection = yes\n",
        "greylist_text = Greylisted, see https://example.org/grey\n",
        "x_greylist_header = yes\n", "privacy = on\n", "auto_whitelist_clients = 0\n",
        "auto_whitelist_max_age = 7\n", "auto_whitelist_domains = true\n",
        "whitelist_clients:\n", "  /etc/postgrey/whitelist_clients\n",
        "whitelist_recipients:\n", "  /etc/postgrey/whitelist_recipients\n",
        "optout_recipients:\n", "  OTP@Bank.Example\n", "  alerts.example.org\n",
        "  ops@\n", "  /^reset-.*@/\n"])
    assert config["mode"] == "policy"
    assert config["policy_socket"] == "/var/spool/postfix/private/grey"
    assert config["policy_greylist_at"] == "data"
    assert config["policy_defer_action"] == "451 4.7.1"
    assert config["policy_bad_request_action"] == "DEFER_IF_PERMIT"
    assert config["policy_one_per_connection"] is True
    assert config["greylist_text"] == "Greylisted, see https://example.org/grey"
    assert (config["x_greylist_header"], config["privacy"]) == (True, True)
    assert (config["auto_whitelist_clients"], config["auto_whitelist_max_age"],
            config["auto_whitelist_domains"]) == (0, 7, True)
    assert config["whitelist_clients"] == ["/etc/postgrey/whitelist_clients"]
    assert config["whitelist_recipients"] == ["/etc/postgrey/whitelist_recipients"]
    assert config["optout_recipients"] == ["otp@bank.example", "alerts.example.org", "ops@",
                                           "/^reset-.*@/"]


@pytest.mark.parametrize("text, stored", [
    ("DEFER_IF_PERMIT", "DEFER_IF_PERMIT"), ("defer", "DEFER"),
    ("Defer_If_Reject", "DEFER_IF_REJECT"), ("450", "450"), ("451 4.7.1", "451 4.7.1"),
])
def test_defer_actions_that_defer_are_accepted(text, stored):
    assert parseConfig(["policy_defer_action = %s\n" % text])["policy_defer_action"] == stored


@pytest.mark.parametrize("lines, key, words", [
    (["mode = milter\n"], "mode", "must be one of proxy, policy"),
    (["policy_greylist_at = mail\n"], "policy_greylist_at", "must be one of rcpt, data"),
    (["policy_defer_action = DUNNO\n"], "policy_defer_action", "DEFER_IF_PERMIT"),
    (["policy_defer_action = REJECT\n"], "policy_defer_action", "4xx"),
    (["policy_defer_action = 550\n"], "policy_defer_action", "4xx"),
    (["policy_defer_action = 451 5.7.1\n"], "policy_defer_action", "4xx"),
    (["policy_defer_action = OK\n"], "policy_defer_action", "4xx"),
    (["policy_bad_request_action = OK\n"], "policy_bad_request_action", "DUNNO or"),
    (["greylist_text = caf\u00e9\n"], "greylist_text", "printable ASCII"),
    (["auto_whitelist_clients = -1\n"], "auto_whitelist_clients", "at least 0"),
    (["auto_whitelist_max_age = 0\n"], "auto_whitelist_max_age", "at least 1"),
    (["privacy = maybe\n"], "privacy", "not a boolean"),
    (["optout_recipients:\n", "  a@b@c\n"], "optout_recipients", "more than one '@'"),
    (["optout_recipients:\n", "  @example.org\n"], "optout_recipients", "no user"),
    (["optout_recipients:\n", "  /(/\n"], "optout_recipients", "bad regular expression"),
    (["optout_recipients:\n", "  /x\n"], "optout_recipients", "/like this/"),
    (["whitelist_clients = /etc/postgrey/whitelist_clients\n"], "whitelist_clients",
     "is a list"),
])
def test_policy_and_auto_whitelist_options_are_checked(lines, key, words):
    err = error(lines)
    assert err.key == key and words in err.problem


def test_a_loaded_configuration_knows_which_keys_were_set_explicitly():
    from Kamaelia.Apps.Grey.Config import defaultConfig, overrideOption, parseConfig
    config = parseConfig(["port = 25\n", "allowed_domains:\n", "    example.org\n"], "x.conf")
    assert config.explicit == {"port", "allowed_domains"}
    overrideOption(config, "listen_address", "127.0.0.1", "--listen")
    assert "listen_address" in config.explicit
    assert defaultConfig().explicit == frozenset()
    import copy
    assert copy.deepcopy(config).explicit == config.explicit
