"""
Kamaelia.Apps.Grey.Config: greylist.conf, strictly
==================================================

The configuration loader the greylister uses. It reads the same file syntax
as Kamaelia Grey 1.x (see ``Kamaelia.Apps.Grey.Support``), but knows every
key, converts and checks each value, and reports the first mistake with the
file name and line number instead of starting with a wrong setting.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Config import (
        ConfigError, changedOptions, findConfig, loadConfig, overrideOption)

    path = findConfig()            # first readable file of SEARCH_PATH, or None
    try:
        config = loadConfig(path)  # None: the built-in defaults
        overrideOption(config, "port", "2525", "--port")
    except ConfigError as error:
        raise SystemExit(str(error))   # e.g. "greylist.conf:12: port: not an integer: 'abc'"
    print(config["port"], config["allowed_sender_nets"])

    fresh = loadConfig(path)       # on SIGHUP
    reloadable, restartNeeded = changedOptions(config, fresh)

How does it work?
-----------------
``SCHEMA`` is the single table of options: name, type, default, help text,
value checks and whether a SIGHUP can apply a new value (``reloadable``).
``DEFAULT_CONFIG`` is built from it, and so is ``describeOptions()``, which
the documentation prints.

``loadConfig(path)`` reads the file as bytes and hands the lines to
``parseConfig(lines, filename)``, which starts from a copy of the defaults
and applies each line:

- blank lines and lines whose first non-blank character is ``#`` are skipped
  (also inside a list); such a comment line may hold any bytes, so 1.x
  files with Latin-1 comments load;
- elsewhere a ``#`` that follows a blank or a tab starts a comment that runs
  to the end of the line (``port = 25   # the SMTP port``); a ``#`` right
  after another character is part of the value (``serverid = Grey#2``);
- ``key = value`` sets a scalar option (everything after the first ``=``,
  stripped, is the value; an empty value gives the empty string, or "use
  the profile" for the optional greylist timings);
- ``key:`` starts a list option, replacing its default; the indented lines
  that follow are its items. In a list of tuples each item is a line of
  blank-separated fields.

What is not a comment must be UTF-8. Only the part of a line before its
comment is decoded, so the bytes of a comment never matter.

Types: ``int`` (decimal), ``str``, ``bool`` (yes/no, true/false, on/off,
1/0, any case), ``list`` (one value per item) and ``tuples`` (a fixed number
of fields per item). ``ConfigError`` (a ``ValueError``), whose text is
``"<file>:<line>: <key>: <problem>"`` (``"<file>: <key>: <problem>"`` when
no single line is to blame), is raised for a line that is not UTF-8, an
unknown key, a key set twice (naming both lines), a bad integer or boolean,
a value not among an option's choices, an address that is not an IP
address (``listen_address``, ``smtp_ip``, ``allowed_senders``,
``dns_servers``) or a bad network in ``allowed_sender_nets`` (see
``Kamaelia.Apps.Grey.Networks``), a triple with the wrong number of fields
or a bad address/network field, a list item with blanks in a one-value list,
``key = value`` for a list option or ``key:`` for a scalar one, an indented
line with no list option above it, a line that is none of these, one of
``tls_certificate``/``tls_key`` without the other, greylist timings that
do not satisfy too_soon <= min_defer <= max_defer, a ``policy_defer_action``
that would not defer (greylisting must never accept or reject by mistake),
a ``greylist_text`` that is not printable ASCII, and an
``optout_recipients`` entry that is not ``user@domain``, ``user@``, a
domain or a ``/regex/``.

``overrideOption(config, key, text, source)`` applies one command-line
value with the same conversion and checks, naming ``source`` (the option,
e.g. ``--port``) in its error. ``changedOptions(old, new)`` lists the keys
whose values differ, split into those a SIGHUP applies and those that need
a restart. ``findConfig(searchPath)`` returns the first file of the search
path that can be opened for reading; the default path is the original's.
``timingProfile(config)`` turns ``greylist_profile`` and the optional
``greylist_*`` timing overrides into a ``TimingProfile``.

What only the running system can tell (a log directory that does not
exist, an unreadable TLS key, a greylist database that is not one) is
checked by ``Kamaelia.Apps.Grey.StartupChecks``; this module reads nothing
but the config file. The whitelist files that ``whitelist_clients`` and
``whitelist_recipients`` name are read (and their mistakes reported, as
``ConfigError`` too) by ``Kamaelia.Apps.Grey.Whitelists``, when
``Policy.PolicySettings.fromConfig`` builds the policy's settings.

Configuration
-------------
Every option, with its default, is listed by ``describeOptions()`` and in
``Examples/Greylister/greylist.conf.dist``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from Kamaelia.Apps.Grey.GreylistVerdict import KEY_MODES, PROFILES, TimingProfile
from Kamaelia.Apps.Grey.HTTPProtocol import checkListenAddress
from Kamaelia.Apps.Grey.Networks import parseAddress, parseNetwork

__all__ = [
    "DEFAULT_CONFIG",
    "OPTIONS",
    "RELOADABLE_KEYS",
    "SCHEMA",
    "SEARCH_PATH",
    "ConfigError",
    "Option",
    "changedOptions",
    "defaultConfig",
    "describeOptions",
    "findConfig",
    "loadConfig",
    "overrideOption",
    "parseConfig",
    "timingProfile",
]

INT, STR, BOOL, LIST, TUPLES = "int", "str", "bool", "list", "tuples"


@dataclass(frozen=True)
class Option:
    """One configuration key.

    ``check`` (if any) is called with the converted value -- for lists,
    with each item -- and raises ``ValueError`` with the problem; what it
    returns replaces the value. ``fields`` is the size of each tuple of a
    ``tuples`` option and ``fieldNames`` names them for messages.
    ``reloadable`` says that a running greylister applies a new value on
    SIGHUP; any other change needs a restart.
    """

    name: str
    kind: str
    default: Any
    help: str
    check: Callable[[Any], Any] | None = None
    optional: bool = False
    fields: int = 0
    fieldNames: tuple[str, ...] = ()
    reloadable: bool = False


def _intRange(low: int | None = None,
              high: int | None = None) -> Callable[[int | None], int | None]:
    def check(value: int | None) -> int | None:
        if value is None:
            return value
        if low is not None and value < low:
            raise ValueError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise ValueError(f"must be at most {high}, got {value}")
        return value
    return check


def _choice(*choices: str,
            fold: Callable[[str], str] = str.lower) -> Callable[[str], str]:
    def check(value: str) -> str:
        folded = fold(value)
        if folded not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
        return folded
    return check


def _address(value: str) -> str:
    """An IP address literal, returned without any [brackets]."""
    try:
        parseAddress(value)
    except ValueError:
        raise ValueError(f"not an IP address: {value!r}") from None
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return value


def _optionalAddress(value: str) -> str:
    return _address(value) if value else value


def _network(value: str) -> str:
    parseNetwork(value)
    return value


def _domain(value: str) -> str:
    return value.lower()


def _triple(value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        parseAddress(value[0])
    except ValueError as error:
        raise ValueError(f"ip field: {error}") from None
    return value


def _nonstandardTriple(value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        parseNetwork(value[1])
    except ValueError as error:
        raise ValueError(f"network field: {error}") from None
    return value


_TEMPORARY_ACTION = re.compile(
    r"^(?:(DEFER_IF_PERMIT|DEFER_IF_REJECT|DEFER)|(4[0-9][0-9])(?: (4\.[0-9]{1,3}\.[0-9]{1,3}))?)$",
    re.IGNORECASE)


def _deferAction(value: str) -> str:
    """A Postfix access(5) action that defers: never one that accepts or rejects."""
    match = _TEMPORARY_ACTION.match(value.strip())
    if match is None:
        raise ValueError("must be DEFER_IF_PERMIT, DEFER_IF_REJECT, DEFER or a 4xx "
                         f"code (450, 451 4.7.1), got {value!r}")
    return match.group(1).upper() if match.group(1) else " ".join(
        part for part in match.groups()[1:] if part)


def _badRequestAction(value: str) -> str:
    if value.strip().upper() == "DUNNO":
        return "DUNNO"
    try:
        return _deferAction(value)
    except ValueError:
        raise ValueError("must be DUNNO or an action that defers (DEFER_IF_PERMIT, "
                         f"DEFER, 451 ...), got {value!r}") from None


def _replyText(value: str) -> str:
    if re.search(r"[^\x20-\x7e]", value):
        raise ValueError(f"must be printable ASCII (it goes into an SMTP reply), got {value!r}")
    return value


def _recipientEntry(value: str) -> str:
    """A recipient entry: user@domain, user@, domain or /regex/ (see Whitelists)."""
    if value.startswith("/"):
        if len(value) < 3 or not value.endswith("/"):
            raise ValueError(f"a regular expression is written /like this/, got {value!r}")
        try:
            re.compile(value[1:-1])
        except re.error as error:
            raise ValueError(f"bad regular expression {value!r}: {error}") from None
        return value
    user, at, domain = value.partition("@")
    if "@" in domain:
        raise ValueError(f"more than one '@' in {value!r}")
    if at and not user:
        raise ValueError(f"no user before the '@' in {value!r}; write a domain without '@'")
    return value.lower()


_PORT = _intRange(0, 65535)
_POSITIVE = _intRange(1)
_NONNEGATIVE = _intRange(0)

SCHEMA: tuple[Option, ...] = (
    Option("port", INT, 25, "TCP port to listen on for incoming SMTP", _PORT),
    Option("listen_address", STR, "",
           "address to listen on: empty for every IPv4 address (as the "
           "original), '::' for IPv6 and IPv4, or one literal address",
           _optionalAddress),
    Option("servername", STR, "mail.example.com",
           "host name used in the greeting, the HELO/EHLO reply and 221"),
    Option("serverid", STR, "Kamaelia-SMTP 1.0",
           "software name shown in the greeting"),
    Option("smtp_ip", STR, "",
           "IP address of the real mail server that accepted mail is passed "
           "to; empty: deliver into the built-in Maildir backend instead",
           _optionalAddress),
    Option("smtp_port", INT, 8025, "port of the real mail server", _PORT),
    Option("inactivity_timeout", INT, 300,
           "seconds a client may stay silent before it is disconnected "
           "(RFC 5321 4.5.3.2.7 asks for at least 5 minutes)", _POSITIVE),
    Option("greylist_log", STR, "greylist.log",
           "file for the one-line-per-session result log"),
    Option("greylist_debuglog", STR, "greylist-debug.log",
           "file for the debug log"),
    Option("allowed_senders", LIST, ["127.0.0.1"],
           "client addresses that may send to any destination (exact "
           "IPv4/IPv6 addresses)", _address, reloadable=True),
    Option("allowed_sender_nets", LIST, [],
           "client networks that may send to any destination: CIDR "
           "(10.0.0.0/8, 2001:db8::/32) or leading IPv4 octets (10, "
           "192.168.2), matched on whole octets", _network, reloadable=True),
    Option("allowed_domains", LIST, [],
           "recipient domains we accept (greylisted) mail for", _domain,
           reloadable=True),
    Option("allow_untrusted_routing", BOOL, False,
           "accept recipients whose local part carries a route ('%', '!' or "
           "a quoted '@', as in <user%elsewhere@ours>) from clients that are "
           "not allowed senders (as Postfix's allow_untrusted_routing)"),
    Option("whitelisted_triples", TUPLES, [],
           "'ip sender recipient' lines that skip greylisting; sender and "
           "recipient as the client sends them, e.g. <a@example.org>",
           _triple, fields=3, fieldNames=("ip", "sender", "recipient"),
           reloadable=True),
    Option("whitelisted_nonstandard_triples", TUPLES, [],
           "'heloname network recipient' lines that skip greylisting, for "
           "sender farms that retry from many hosts",
           _nonstandardTriple, fields=3,
           fieldNames=("heloname", "network", "recipient"), reloadable=True),
    Option("greylist_db", STR, "greylist.sqlite",
           "the greylist: an SQLite file, or a PostgreSQL database shared by "
           "several hosts, postgresql://user@host:port/dbname (the password "
           "from ~/.pgpass, PGPASSFILE or ?passfile=PATH)"),
    Option("greylist_profile", STR, "kamaelia",
           "greylist timings: 'kamaelia' (retry after 1 h, within 6.9 h) or "
           "'postgrey' (retry after 5 min, within 2 days)",
           _choice(*PROFILES)),
    Option("greylist_too_soon", INT, None,
           "a retry sooner than this many seconds restarts the wait "
           "(unset: from the profile)", _NONNEGATIVE, optional=True),
    Option("greylist_min_defer", INT, None,
           "seconds a new triplet must wait before a retry passes "
           "(unset: from the profile)", _NONNEGATIVE, optional=True),
    Option("greylist_max_defer", INT, None,
           "a retry later than this many seconds after the first attempt "
           "starts over (unset: from the profile)", _NONNEGATIVE,
           optional=True),
    Option("greylist_max_grey", INT, None,
           "seconds a passed triplet stays known after its last use "
           "(unset: from the profile)", _NONNEGATIVE, optional=True),
    Option("greylist_key", STR, "kamaelia",
           "triplet key: 'kamaelia' (full IP, addresses exactly as sent) or "
           "'normalized' (IPv4 /24, IPv6 /64, lower case, SRS/BATV/VERP "
           "and +extensions folded)", _choice(*KEY_MODES)),
    Option("import_dbm_dir", STR, ".",
           "directory searched at start-up for the original's "
           "greylisted.dbm/attempters.dbm to import (empty: never)"),
    Option("privacy", BOOL, False,
           "store SHA-256 digests of addresses in greylist_db instead of the "
           "addresses (as postgrey's --privacy)"),
    Option("auto_whitelist_clients", INT, 5,
           "passes of greylisting (at most one counted an hour) after which a "
           "client network (IPv4 /24, IPv6 /64) is no longer greylisted, as "
           "postgrey's --auto-whitelist-clients; 0: off", _NONNEGATIVE),
    Option("auto_whitelist_max_age", INT, 35,
           "days an auto-whitelisted client network (or sender domain) stays "
           "listed without being seen (postgrey's --max-age)", _POSITIVE),
    Option("auto_whitelist_domains", BOOL, False,
           "also stop greylisting a sender domain from a client network once "
           "two different senders of it passed greylisting from there "
           "(sqlgrey's domain auto-whitelist)"),
    Option("whitelist_clients", LIST, [],
           "postgrey whitelist_clients files (each PATH.local too, if present): "
           "client names and their subdomains, /regex/, addresses, prefixes, "
           "CIDR networks never greylisted", reloadable=True),
    Option("whitelist_recipients", LIST, [],
           "postgrey whitelist_recipients files (each PATH.local too, if "
           "present): user@, domain, user@domain, /regex/; empty: postgrey's "
           "defaults postmaster@ and abuse@", reloadable=True),
    Option("optout_recipients", LIST, [],
           "recipients never greylisted, for time-sensitive mail: "
           "user@domain, domain (and its subdomains) or user@ (any domain); "
           "user also covers user+extension", _recipientEntry, reloadable=True),
    Option("greylist_text", STR, "Greylisted, please try again later",
           "text of a greylisting deferral in policy mode "
           "(DEFER_IF_PERMIT <text>)", _replyText),
    Option("x_greylist_header", BOOL, False,
           "proxy mode: add 'X-Greylist: delayed N seconds by "
           "kamaelia-grey-<version> at <servername>; <date>' to a message that "
           "passed greylisting after a delay (the policy server always "
           "PREPENDs it, as postgrey)"),
    Option("max_message_size", INT, 10240000,
           "largest message accepted, in bytes (advertised as SIZE)",
           _POSITIVE),
    Option("bare_newline", STR, "normalize",
           "message content with a bare LF or CR (as Postfix's "
           "smtpd_forbid_bare_newline): 'normalize' (a bare LF ends a line "
           "and is relayed as CRLF) or 'reject' (refused with 554)",
           _choice("normalize", "reject")),
    Option("max_recipients", INT, 100,
           "recipients accepted per message (RFC 5321 asks for 100)",
           _POSITIVE),
    Option("max_sessions", INT, 1000, "concurrent client sessions",
           _POSITIVE),
    Option("tls_certificate", STR, "",
           "PEM certificate file for STARTTLS (empty: no STARTTLS)"),
    Option("tls_key", STR, "", "PEM private key file for STARTTLS"),
    Option("xclient", BOOL, True,
           "tell the real mail server the client's address and HELO name "
           "with XCLIENT when it offers it"),
    Option("client_name_lookup", BOOL, True,
           "look up each client's forward-confirmed reverse DNS name (for "
           "XCLIENT NAME= and the logs); no: every client is [UNAVAILABLE]"),
    Option("dns_servers", LIST, [],
           "IP addresses of the DNS servers for client name lookups "
           "(empty: the servers of /etc/resolv.conf)", _address),
    Option("dns_port", INT, 53, "port of those DNS servers", _intRange(1, 65535)),
    Option("dns_timeout", INT, 5,
           "seconds one client name lookup may take in all", _POSITIVE),
    Option("maildir", STR, "Maildir",
           "Maildir of the built-in backend (used when smtp_ip is empty)"),
    Option("backend_timeout", INT, 300,
           "seconds to wait for each reply of the real mail server",
           _POSITIVE),
    Option("connect_timeout", INT, 30,
           "seconds to wait for a connection to the real mail server",
           _POSITIVE),
    Option("log_level", STR, "INFO",
           "logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL",
           _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
                   fold=str.upper)),
    Option("pid_file", STR, "", "file to write the process id to (empty: none)"),
    Option("mode", STR, "proxy",
           "'proxy': an SMTP proxy in front of the real mail server; 'policy': "
           "a Postfix policy server (check_policy_service), as postgrey",
           _choice("proxy", "policy")),
    Option("workers", INT, 1,
           "processes serving the listening port (a parent opens it and forks "
           "them; each has its own core, store connection and log writer)",
           _POSITIVE),
    Option("metrics_listen", STR, "",
           "address:port of the HTTP endpoint serving Prometheus metrics "
           "(/metrics), the status page (/) and /status.json, e.g. "
           "127.0.0.1:9101 or [::1]:9101; empty: off", checkListenAddress),
    Option("policy_socket", STR, "",
           "policy mode: unix socket to listen on instead of listen_address "
           "and port (empty: TCP)"),
    Option("policy_greylist_at", STR, "rcpt",
           "policy mode: 'rcpt' decides each recipient on its own (as "
           "postgrey); 'data' decides the whole message at DATA or "
           "END-OF-MESSAGE, all or nothing (as the proxy)",
           _choice("rcpt", "data")),
    Option("policy_defer_action", STR, "DEFER_IF_PERMIT",
           "policy mode: the Postfix action for greylisted mail: "
           "DEFER_IF_PERMIT, DEFER_IF_REJECT, DEFER or a 4xx code "
           "(450, '451 4.7.1')", _deferAction),
    Option("policy_bad_request_action", STR, "DUNNO",
           "policy mode: the answer to a malformed request: DUNNO or an "
           "action that defers", _badRequestAction),
    Option("policy_one_per_connection", BOOL, False,
           "policy mode: close the connection after each answer, for "
           "clients that read until the server closes (postgrey's --exim)"),
)

OPTIONS: dict[str, Option] = {option.name: option for option in SCHEMA}
DEFAULT_CONFIG: dict[str, Any] = {option.name: option.default for option in SCHEMA}
RELOADABLE_KEYS: tuple[str, ...] = tuple(
    option.name for option in SCHEMA if option.reloadable)

_BASENAMES = (
    "/usr/local/etc/Kamaelia/greylist",
    "/usr/local/etc/greylist",
    "/etc/Kamaelia/greylist",
    "/etc/greylist",
    "./greylist",
)
SEARCH_PATH: tuple[str, ...] = tuple(
    base + suffix for suffix in (".conf", ".conf.dist") for base in _BASENAMES)

_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")
_TIMING_KEYS = ("greylist_too_soon", "greylist_min_defer",
                "greylist_max_defer", "greylist_max_grey")
# A comment starts at a "#" that follows a blank; "#" and blanks are ASCII,
# so this is safe to search for in undecoded UTF-8 (or any other) bytes.
_INLINE_COMMENT = re.compile(rb"[ \t]#")
_UTF8_BOM = b"\xef\xbb\xbf"


class ConfigError(ValueError):
    """A mistake in a config file (or a command-line value), with where it is.

    ``line`` is ``None`` (or 0) when no single line is to blame, e.g. for a
    command-line override or a file named by a setting; the text then has
    no line number.
    """

    def __init__(self, filename: str, line: int | None, key: str, problem: str):
        super().__init__(filename, line, key, problem)
        self.filename = filename
        self.line = line
        self.key = key
        self.problem = problem

    def __str__(self) -> str:
        if self.line:
            return f"{self.filename}:{self.line}: {self.key}: {self.problem}"
        return f"{self.filename}: {self.key}: {self.problem}"


class ConfigDict(dict):
    """A configuration: every option's value; ``explicit`` names those set in a file or by
    ``overrideOption`` (so a caller can tell a default from a deliberate setting)."""

    explicit: frozenset = frozenset()


def defaultConfig() -> dict[str, Any]:
    """A fresh (deep) copy of ``DEFAULT_CONFIG`` (a ``ConfigDict`` with nothing explicit)."""
    return ConfigDict(copy.deepcopy(DEFAULT_CONFIG))


def findConfig(searchPath: Iterable[str] = SEARCH_PATH) -> str | None:
    """The first file of ``searchPath`` that can be opened, else ``None``."""
    for path in searchPath:
        try:
            with open(path, "rb"):
                return path
        except OSError:
            continue
    return None


def loadConfig(path: str | None = None,
               searchPath: Iterable[str] = SEARCH_PATH) -> dict[str, Any]:
    """Load a config file into a dict of every option.

    With ``path=None`` the search path is tried (``findConfig``); when no
    file is found the defaults are returned. Raises ``ConfigError`` for a
    mistake in the file and ``OSError`` if ``path`` cannot be read.
    """
    if path is None:
        path = findConfig(searchPath)
        if path is None:
            return defaultConfig()
    with open(path, "rb") as handle:
        data = handle.read()
    return parseConfig(data.removeprefix(_UTF8_BOM).splitlines(), path)


def _convertScalar(option: Option, value: str) -> Any:
    if option.kind == INT:
        if option.optional and value == "":
            return None
        try:
            return int(value, 10)
        except ValueError:
            raise ValueError(f"not an integer: {value!r}") from None
    if option.kind == BOOL:
        folded = value.lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise ValueError(
            f"not a boolean (yes/no, true/false, on/off, 1/0): {value!r}")
    return value


def _convertItem(option: Option, text: str) -> Any:
    words = text.split()
    if option.kind == LIST:
        if len(words) != 1:
            raise ValueError(f"one value per line expected, got {text!r}")
        return words[0]
    if len(words) != option.fields:
        raise ValueError(f"expected {option.fields} fields "
                         f"({' '.join(option.fieldNames)}), got {len(words)}: "
                         f"{text!r}")
    return tuple(words)


def _checkedScalar(option: Option, text: str) -> Any:
    value = _convertScalar(option, text)
    if option.check is not None:
        value = option.check(value)
    return value


def _asBytes(raw: str | bytes) -> bytes:
    if isinstance(raw, bytes):
        return raw
    try:
        # A text file opened with errors="surrogateescape" gets its bytes back.
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogatepass")


def _keyForUndecodable(prefix: bytes, listKey: str | None) -> str:
    """The key a line that is not UTF-8 sets, from its decodable start."""
    if listKey is not None and prefix[:1] in (b" ", b"\t"):
        return listKey
    head, equals, _ = prefix.partition(b"=")
    if equals and head.strip() and prefix[:1] not in (b" ", b"\t"):
        return head.strip().decode("utf-8")
    return "(line)"


def _lineText(raw: str | bytes, number: int, filename: str,
              listKey: str | None) -> str | None:
    """The meaningful text of a line, or None for a blank or comment line.

    The line ending and any inline comment are removed before decoding, so
    only what the parser will read has to be UTF-8.
    """
    data = _asBytes(raw).rstrip(b"\r\n")
    body = data.strip()
    if not body or body.startswith(b"#"):
        return None
    comment = _INLINE_COMMENT.search(data)
    if comment is not None:
        data = data[:comment.start()]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            filename, number, _keyForUndecodable(data[:error.start], listKey),
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at column "
            f"{error.start + 1}); save the file as UTF-8") from None


def parseConfig(lines: Iterable[str | bytes],
                filename: str = "<config>") -> dict[str, Any]:
    """Apply config lines (str or bytes) to a copy of the defaults.

    See the module documentation for the syntax; raises ``ConfigError``.
    """
    config = defaultConfig()
    setAt: dict[str, int] = {}
    listKey: str | None = None

    def claim(key: str, number: int) -> None:
        if key in setAt:
            raise ConfigError(filename, number, key,
                              f"set twice (first at line {setAt[key]})")
        setAt[key] = number

    for number, raw in enumerate(lines, start=1):
        line = _lineText(raw, number, filename, listKey)
        if line is None:
            continue
        stripped = line.strip()

        if line[0] in " \t":
            if listKey is None:
                raise ConfigError(filename, number, stripped,
                                  "indented line with no 'key:' list above it")
            option = OPTIONS[listKey]
            try:
                item = _convertItem(option, stripped)
                if option.check is not None:
                    item = option.check(item)
            except ValueError as error:
                raise ConfigError(filename, number, listKey, str(error)) from None
            config[listKey].append(item)
            continue

        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            scalar = OPTIONS.get(key)
            if scalar is None:
                raise ConfigError(filename, number, key, "unknown key")
            if scalar.kind in (LIST, TUPLES):
                raise ConfigError(filename, number, key,
                                  f"is a list: write '{key}:' followed by one "
                                  "indented line per item")
            claim(key, number)
            try:
                config[key] = _checkedScalar(scalar, value)
            except ValueError as error:
                raise ConfigError(filename, number, key, str(error)) from None
            listKey = None
        elif stripped.endswith(":") and " " not in stripped[:-1].strip() \
                and stripped[:-1].strip():
            key = stripped[:-1].strip()
            header = OPTIONS.get(key)
            if header is None:
                raise ConfigError(filename, number, key, "unknown key")
            if header.kind not in (LIST, TUPLES):
                raise ConfigError(filename, number, key,
                                  f"is not a list: write '{key} = value'")
            claim(key, number)
            config[key] = []
            listKey = key
        else:
            raise ConfigError(filename, number, stripped,
                              "neither 'key = value', 'key:' nor an "
                              "indented list item")

    _crossCheck(config, setAt, filename)
    result = ConfigDict(config)
    result.explicit = frozenset(setAt)
    return result


def _crossCheck(config: dict[str, Any], setAt: Mapping[str, int | None],
                filename: str) -> None:
    certificate, key = config["tls_certificate"], config["tls_key"]
    if bool(certificate) != bool(key):
        present = "tls_certificate" if certificate else "tls_key"
        missing = "tls_key" if certificate else "tls_certificate"
        raise ConfigError(filename, setAt.get(present), present,
                          f"set without {missing}: STARTTLS needs both")
    try:
        timingProfile(config)
    except ValueError as error:
        culprits = [k for k in _TIMING_KEYS + ("greylist_profile",) if k in setAt]
        culprit = (max(culprits, key=lambda k: setAt[k] or 0) if culprits
                   else "greylist_profile")
        raise ConfigError(filename, setAt.get(culprit), culprit,
                          str(error)) from None


def overrideOption(config: dict[str, Any], key: str, text: str,
                   source: str) -> Any:
    """Set ``config[key]`` from a command-line value, checked as in a file.

    ``text`` goes through the option's conversion and checks (and the
    checks between options) exactly as ``key = text`` in the file would.
    On success the value is stored and returned; otherwise ``config`` is
    unchanged and ``ConfigError(source, None, key, problem)`` is raised,
    whose text is e.g. ``"--port: port: must be at most 65535, got 99999"``.
    List options cannot be set this way.
    """
    option = OPTIONS.get(key)
    if option is None:
        raise ConfigError(source, None, key, "unknown key")
    if option.kind in (LIST, TUPLES):
        raise ConfigError(source, None, key,
                          "is a list: set it in the config file, one "
                          "indented line per item")
    try:
        value = _checkedScalar(option, text.strip())
    except ValueError as error:
        raise ConfigError(source, None, key, str(error)) from None
    previous = config.get(key, option.default)
    config[key] = value
    try:
        _crossCheck(config, {key: None}, source)
    except ConfigError:
        config[key] = previous
        raise
    if isinstance(config, ConfigDict):
        config.explicit = config.explicit | {key}
    return value


def changedOptions(old: Mapping[str, Any],
                   new: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The keys whose values differ: (reloadable, restartNeeded).

    Both lists are in ``SCHEMA`` order; ``reloadable`` holds the keys a
    SIGHUP applies (``Option.reloadable``), ``restartNeeded`` the others.
    """
    reloadable: list[str] = []
    restartNeeded: list[str] = []
    for option in SCHEMA:
        if old.get(option.name) != new.get(option.name):
            (reloadable if option.reloadable else restartNeeded).append(option.name)
    return reloadable, restartNeeded


def timingProfile(config: Mapping[str, Any]) -> TimingProfile:
    """The ``TimingProfile`` chosen by a config dict.

    ``greylist_profile`` names the base profile; each ``greylist_*`` timing
    that is not ``None`` overrides one of its limits. Raises ``ValueError``
    if the result is inconsistent.
    """
    base = PROFILES[config.get("greylist_profile", "kamaelia")]
    overrides = {
        field: config.get(key)
        for field, key in zip(("too_soon", "min_defer", "max_defer", "max_grey"),
                              _TIMING_KEYS)
    }
    values = {field: getattr(base, field) if value is None else value
              for field, value in overrides.items()}
    return TimingProfile(**values)


def _formatDefault(option: Option) -> str:
    if option.default is None:
        return "(from the profile)"
    if option.kind == BOOL:
        return "yes" if option.default else "no"
    if option.kind in (LIST, TUPLES):
        return " ".join(str(item) for item in option.default) or "(empty)"
    if option.default == "":
        return "(empty)"
    return str(option.default)


def describeOptions() -> str:
    """Every option with its type, default and help, one paragraph each."""
    paragraphs = []
    for option in SCHEMA:
        kind = option.kind
        if kind == TUPLES:
            kind = f"list of '{' '.join(option.fieldNames)}'"
        reload = ", SIGHUP applies it" if option.reloadable else ""
        paragraphs.append(f"{option.name} ({kind}, default "
                          f"{_formatDefault(option)}{reload})\n    {option.help}")
    return "\n".join(paragraphs) + "\n"
