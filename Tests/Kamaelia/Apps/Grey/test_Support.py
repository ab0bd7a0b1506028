"""Tests for Kamaelia.Apps.Grey.Support: the original, lenient config API."""

import pytest

from Kamaelia.Apps.Grey.Support import SlurpFile, openConfig, parseConfigFile

DEFAULTS = {
    "port": 25,
    "servername": "mail.example.com",
    "allowed_senders": ["127.0.0.1"],
    "allowed_domains": [],
}


def test_slurpfile_returns_the_lines_with_their_endings(tmp_path):
    path = tmp_path / "greylist.conf"
    path.write_text("port = 25\nservername = x\n")
    assert SlurpFile(str(path)) == ["port = 25\n", "servername = x\n"]


def test_slurpfile_missing_file_raises_ioerror(tmp_path):
    with pytest.raises(IOError):
        SlurpFile(str(tmp_path / "absent.conf"))
    with pytest.raises(OSError):
        openConfig(str(tmp_path / "absent.conf"))


def test_openconfig_is_slurpfile():
    assert openConfig is SlurpFile


def test_scalar_values_and_int_conversion_of_the_default_int_keys():
    config = parseConfigFile(
        ["port = 2525\n", "smtp_port=8026\n", "inactivity_timeout =  90 \n",
         "servername = mail.example.org\n"], DEFAULTS)
    assert config["port"] == 2525
    assert config["smtp_port"] == 8026
    assert config["inactivity_timeout"] == 90
    assert config["servername"] == "mail.example.org"


def test_things_which_are_ints_can_be_chosen():
    config = parseConfigFile(["port = 2525\n", "other = 7\n"], DEFAULTS,
                             things_which_are_ints=["other"])
    assert config["port"] == "2525"
    assert config["other"] == 7


def test_bad_int_raises_valueerror():
    with pytest.raises(ValueError):
        parseConfigFile(["port = twenty-five\n"], DEFAULTS)


def test_defaults_are_deep_copied_not_modified():
    defaults = {"allowed_senders": ["127.0.0.1"], "port": 25}
    config = parseConfigFile(["port = 26\n"], defaults)
    config["allowed_senders"].append("192.0.2.1")
    assert defaults == {"allowed_senders": ["127.0.0.1"], "port": 25}


def test_comments_and_blank_lines_are_ignored():
    config = parseConfigFile(
        ["# port = 1\n", "\n", "   \n", "  # indented comment\n", "port = 2\n"],
        DEFAULTS)
    assert config["port"] == 2


def test_list_block_replaces_the_default_and_tuples_from_blanks():
    config = parseConfigFile([
        "allowed_senders:\n",
        "   127.0.0.1\n",
        "   192.0.2.5\n",
        "whitelisted_triples:\n",
        "\t192.0.2.7 <a@example.net> <b@example.org>\n",
        "port = 26\n",
    ], DEFAULTS)
    assert config["allowed_senders"] == ["127.0.0.1", "192.0.2.5"]
    assert config["whitelisted_triples"] == [
        ("192.0.2.7", "<a@example.net>", "<b@example.org>")]
    assert config["port"] == 26


def test_fixed_bug_value_containing_equals_is_kept_whole():
    """The original took split('=')[1] and lost everything after a second '='."""
    config = parseConfigFile(["serverid = a=b=c\n"], DEFAULTS)
    assert config["serverid"] == "a=b=c"


def test_fixed_bug_last_line_without_newline_is_not_truncated():
    """The original dropped the last character of every line, newline or not."""
    config = parseConfigFile(["port = 25\n", "servername = mail.example.org"],
                             DEFAULTS)
    assert config["servername"] == "mail.example.org"


def test_fixed_bug_runs_of_blanks_make_no_empty_tuple_fields():
    config = parseConfigFile(
        ["whitelisted_triples:\n", "   192.0.2.7   <a@x>  <b@y>  \n"], DEFAULTS)
    assert config["whitelisted_triples"] == [("192.0.2.7", "<a@x>", "<b@y>")]


def test_crlf_line_endings_are_accepted():
    config = parseConfigFile(["port = 27\r\n", "allowed_domains:\r\n",
                              "  example.org\r\n"], DEFAULTS)
    assert config["port"] == 27
    assert config["allowed_domains"] == ["example.org"]


def test_stray_lines_are_ignored_like_the_original():
    config = parseConfigFile(["   orphan item\n", "nonsense line\n", "port = 3\n"],
                             DEFAULTS)
    assert config["port"] == 3
    assert "nonsense line" not in config


def test_parses_a_real_file(tmp_path):
    path = tmp_path / "greylist.conf"
    path.write_text("port = 2500\nallowed_domains:\n    example.org\n")
    config = parseConfigFile(openConfig(str(path)), DEFAULTS)
    assert config["port"] == 2500
    assert config["allowed_domains"] == ["example.org"]


def test_a_1x_file_with_latin1_bytes_reads_and_parses(tmp_path):
    """1.x read config files as bytes; a Latin-1 comment or value must not raise."""
    path = tmp_path / "greylist.conf"
    path.write_bytes(b"# R\xe9glages\nport = 2526\nservername = caf\xe9.example\n"
                     b"allowed_domains:\n    # \xe0 voir\n    example.org\n")
    lines = openConfig(str(path))
    assert lines[0] == "# R\u00e9glages\n"
    config = parseConfigFile(lines, DEFAULTS)
    assert config["port"] == 2526
    assert config["servername"] == "caf\u00e9.example"
    assert config["allowed_domains"] == ["example.org"]


def test_utf8_lines_stay_utf8_next_to_latin1_lines(tmp_path):
    path = tmp_path / "greylist.conf"
    path.write_bytes("serverid = Gr\u00eby\n".encode() + b"# \xe9\n")
    assert SlurpFile(str(path)) == ["serverid = Gr\u00eby\n", "# \u00e9\n"]


def test_slurpfile_gives_newline_endings_for_crlf_and_cr_files(tmp_path):
    path = tmp_path / "greylist.conf"
    path.write_bytes(b"port = 1\r\nservername = a\rserverid = b")
    assert SlurpFile(str(path)) == ["port = 1\n", "servername = a\n", "serverid = b"]


def test_parse_config_file_takes_bytes_lines():
    config = parseConfigFile([b"port = 2527\r\n", b"servername = caf\xe9\n"], DEFAULTS)
    assert config["port"] == 2527
    assert config["servername"] == "caf\u00e9"
