"""
Kamaelia.Apps.Grey.Whitelists: postgrey's whitelist files
=========================================================

Reads the ``whitelist_clients`` and ``whitelist_recipients`` files of
postgrey as they are, with their ``.local`` companions, and answers "is
this client (or this recipient) exempt from greylisting?". Sites moving
from postgrey point the greylister at their existing files.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Whitelists import ClientWhitelist, RecipientWhitelist

    clients = ClientWhitelist.fromLines([
        "# big senders that retry from many hosts",
        "example.net",                 # the name and every subdomain
        "/^mta[0-9]+\\.mail\\.example\\.com$/",
        "192.0.2.15", "198.51.100.", "203.0.113.0/24", "2001:db8:5::/48",
    ], "whitelist_clients")
    assert clients.matches("192.0.2.99", "out7.example.net")
    assert clients.matches("198.51.100.7", "unknown")
    assert not clients.matches("192.0.2.99", "notexample.net")

    recipients = RecipientWhitelist.defaults()       # postmaster@ and abuse@
    assert recipients.matches("abuse+reports@example.org")

    # postgrey's own files, and the .local files beside them:
    #   ClientWhitelist.fromFiles(["/etc/postgrey/whitelist_clients"])
    #   RecipientWhitelist.fromFiles(["/etc/postgrey/whitelist_recipients"])

How does it work?
-----------------
A file holds one entry a line. A ``#`` starts a comment that runs to the
end of the line (anywhere on it, as postgrey); blank lines are skipped; an
entry is one word (a line with two is an error). ``fromFiles(paths)`` reads
each file and then, if it exists, the same name with ``.local`` appended
(postgrey's place for local additions); a file named in ``paths`` must
exist, a missing ``.local`` file is not an error.

Client entries, matched against the client's address and its *verified*
name (``unknown``, an empty name and a bracketed one such as
``[UNAVAILABLE]`` match no name entry):

- ``example.net`` -- that name and every name under it (``a.example.net``),
  case-insensitively; a trailing dot is ignored;
- ``/regex/`` -- a Python regular expression searched for in the name,
  ignoring case (postgrey's are Perl's; the ones it ships work unchanged);
- ``192.0.2.15`` or ``2001:db8::15`` -- that address;
- ``198.51.100`` or ``198.51.100.`` -- a prefix of whole octets (here
  198.51.100.0/24; postgrey reads the three-octet form only);
- ``203.0.113.0/24``, ``2001:db8:5::/48`` -- a network.

Recipient entries, matched against the address (without angle brackets),
ignoring case; ``user`` also covers ``user+extension``:

- ``user@example.org`` -- that address;
- ``user@`` -- that user at any domain (``postmaster@``, ``abuse@``);
- ``example.org`` -- every address at that domain or a subdomain of it;
- ``/regex/`` -- a regular expression searched for in the whole address.

``RecipientWhitelist.defaults()`` holds postgrey's default entries,
``postmaster@`` and ``abuse@`` (what its shipped file lists).

Lookups cost a few set probes (one per label of the name or domain) plus
the regular expressions and networks, so postgrey's list of hundreds of
names stays cheap.

Errors
------
A line that is not an entry (two words, a ``/regex/`` that does not
compile, an address or network that is not one, a line that is not UTF-8)
raises ``WhitelistError``, a ``Config.ConfigError`` whose text is
``"<file>:<line>: <setting>: <problem>"``; an unreadable file raises it
without a line number. postgrey only warned and went on; a greylister that
silently ignores half a whitelist greylists mail its operator meant to let
through, so here the file must be fixed (the running configuration stays in
place when this happens on SIGHUP).

Configuration
-------------
``whitelist_clients`` and ``whitelist_recipients`` in greylist.conf list the
files; ``optout_recipients`` takes recipient entries directly
(``RecipientWhitelist.fromEntries``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from Kamaelia.Apps.Grey.Config import ConfigError
from Kamaelia.Apps.Grey.Networks import Network, normaliseAddress, parseNetwork

__all__ = [
    "WhitelistError", "Entry", "ClientWhitelist", "RecipientWhitelist",
    "readEntries", "DEFAULT_RECIPIENT_ENTRIES", "LOCAL_SUFFIX",
]

LOCAL_SUFFIX = ".local"
DEFAULT_RECIPIENT_ENTRIES = ("postmaster@", "abuse@")

_NUMERIC = re.compile(r"^[0-9.]+(?:/[0-9]+)?$")
_UNVERIFIED = ("", "unknown")


class WhitelistError(ConfigError):
    """A whitelist line or file that cannot be used (see the module docstring)."""


@dataclass(frozen=True)
class Entry:
    """One whitelist entry and where it came from (``line`` is 0 if from no file)."""

    text: str
    source: str = "<entries>"
    line: int = 0

    def error(self, key: str, problem: str) -> WhitelistError:
        return WhitelistError(self.source, self.line or None, key, problem)


def _lines(data: bytes, source: str, key: str) -> Iterator[Entry]:
    for number, raw in enumerate(data.splitlines(), start=1):
        body = raw.split(b"#", 1)[0].strip()
        if not body:
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WhitelistError(source, number, key,
                                 f"not valid UTF-8 (byte 0x{body[error.start]:02x})") from None
        yield Entry(text, source, number)


def readEntries(paths: Iterable[str], key: str) -> list[Entry]:
    """The entries of each file of ``paths`` and of its ``.local`` file, in order."""
    entries: list[Entry] = []
    for path in paths:
        candidates = [path] if path.endswith(LOCAL_SUFFIX) else [path, path + LOCAL_SUFFIX]
        for candidate in candidates:
            try:
                with open(candidate, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                if candidate.endswith(LOCAL_SUFFIX):
                    continue
                raise WhitelistError(candidate, None, key, "no such file") from None
            except OSError as error:
                raise WhitelistError(candidate, None, key,
                                     f"cannot read: {error.strerror or error}") from None
            entries.extend(_lines(data, candidate, key))
    return entries


def _asEntries(items: Iterable[Entry | str], source: str) -> list[Entry]:
    return [item if isinstance(item, Entry) else Entry(item.strip(), source)
            for item in items]


def _word(entry: Entry, key: str) -> str:
    text = entry.text.strip()
    if not text or len(text.split()) != 1:
        raise entry.error(key, f"one entry a line expected, got {entry.text!r}")
    return text


def _regex(entry: Entry, text: str, key: str) -> re.Pattern[str] | None:
    """The compiled ``/regex/``, None if ``text`` is not one."""
    if not text.startswith("/"):
        return None
    if len(text) < 3 or not text.endswith("/"):
        raise entry.error(key, f"a regular expression is written /like this/, got {text!r}")
    try:
        return re.compile(text[1:-1], re.IGNORECASE)
    except re.error as error:
        raise entry.error(key, f"bad regular expression {text!r}: {error}") from None


def _suffixes(name: str) -> Iterator[str]:
    """``a.b.c`` -> ``a.b.c``, ``b.c``, ``c``."""
    while name:
        yield name
        name = name.partition(".")[2]


def _domain(text: str) -> str:
    return text.lower().strip(".")


class ClientWhitelist:
    """postgrey's client whitelist (see the module docstring)."""

    def __init__(self, entries: Iterable[Entry | str] = (),
                 key: str = "whitelist_clients") -> None:
        self.entries: tuple[Entry, ...] = tuple(_asEntries(entries, key))
        self._names: dict[str, Entry] = {}
        self._patterns: list[tuple[re.Pattern[str], Entry]] = []
        self._networks: list[tuple[Network, Entry]] = []
        for entry in self.entries:
            text = _word(entry, key)
            pattern = _regex(entry, text, key)
            if pattern is not None:
                self._patterns.append((pattern, entry))
            elif ":" in text or _NUMERIC.match(text):
                try:
                    self._networks.append((parseNetwork(text), entry))
                except ValueError as error:
                    raise entry.error(key, str(error)) from None
            else:
                self._names.setdefault(_domain(text), entry)

    @classmethod
    def fromLines(cls, lines: Iterable[str], source: str,
                  key: str = "whitelist_clients") -> "ClientWhitelist":
        """Parse the lines of one file named ``source`` (comments allowed)."""
        data = "\n".join(lines).encode("utf-8", "surrogateescape")
        return cls(_lines(data, source, key), key)

    @classmethod
    def fromFiles(cls, paths: Iterable[str],
                  key: str = "whitelist_clients") -> "ClientWhitelist":
        """Read the files (and their ``.local`` files)."""
        return cls(readEntries(paths, key), key)

    def match(self, address: str, name: str) -> Entry | None:
        """The entry that exempts this client, or None."""
        name = name.strip().lower().rstrip(".")
        if name not in _UNVERIFIED and not name.startswith("["):
            for suffix in _suffixes(name):
                found = self._names.get(suffix)
                if found is not None:
                    return found
            for pattern, entry in self._patterns:
                if pattern.search(name):
                    return entry
        if self._networks:
            ip = normaliseAddress(address)
            if ip is not None:
                for network, entry in self._networks:
                    if ip.version == network.version and ip in network:
                        return entry
        return None

    def matches(self, address: str, name: str) -> bool:
        """True if the client (address, verified name) is whitelisted."""
        return self.match(address, name) is not None

    def __len__(self) -> int:
        return len(self.entries)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ClientWhitelist)
                and [e.text for e in self.entries] == [e.text for e in other.entries])

    def __hash__(self) -> int:
        return hash(tuple(e.text for e in self.entries))

    def __repr__(self) -> str:
        return "ClientWhitelist(%d entries)" % len(self.entries)


class RecipientWhitelist:
    """postgrey's recipient whitelist (see the module docstring)."""

    def __init__(self, entries: Iterable[Entry | str] = (),
                 key: str = "whitelist_recipients") -> None:
        self.entries: tuple[Entry, ...] = tuple(_asEntries(entries, key))
        self._addresses: dict[tuple[str, str], Entry] = {}
        self._users: dict[str, Entry] = {}
        self._domains: dict[str, Entry] = {}
        self._patterns: list[tuple[re.Pattern[str], Entry]] = []
        for entry in self.entries:
            text = _word(entry, key)
            pattern = _regex(entry, text, key)
            if pattern is not None:
                self._patterns.append((pattern, entry))
                continue
            user, at, domain = text.lower().partition("@")
            if "@" in domain:
                raise entry.error(key, f"more than one '@' in {text!r}")
            if at and not user:
                raise entry.error(key, f"no user before the '@' in {text!r}; "
                                       "write a domain without '@'")
            if not at:
                self._domains.setdefault(_domain(user), entry)
            elif domain:
                self._addresses.setdefault((user, _domain(domain)), entry)
            else:
                self._users.setdefault(user, entry)

    @classmethod
    def fromLines(cls, lines: Iterable[str], source: str,
                  key: str = "whitelist_recipients") -> "RecipientWhitelist":
        """Parse the lines of one file named ``source`` (comments allowed)."""
        data = "\n".join(lines).encode("utf-8", "surrogateescape")
        return cls(_lines(data, source, key), key)

    @classmethod
    def fromFiles(cls, paths: Iterable[str],
                  key: str = "whitelist_recipients") -> "RecipientWhitelist":
        """Read the files (and their ``.local`` files)."""
        return cls(readEntries(paths, key), key)

    @classmethod
    def fromEntries(cls, entries: Iterable[str], key: str) -> "RecipientWhitelist":
        """Entries given directly, e.g. a config list; errors name ``key``."""
        return cls([Entry(text, key) for text in entries], key)

    @classmethod
    def defaults(cls) -> "RecipientWhitelist":
        """postgrey's default entries: ``postmaster@`` and ``abuse@``."""
        return cls.fromEntries(DEFAULT_RECIPIENT_ENTRIES, "whitelist_recipients")

    def match(self, recipient: str) -> Entry | None:
        """The entry that exempts ``recipient`` (an address), or None."""
        address = recipient.strip()
        if address.startswith("<") and address.endswith(">"):
            address = address[1:-1]
        lowered = address.lower()
        local, at, domain = lowered.rpartition("@")
        if not at:
            local, domain = lowered, ""
        domain = domain.rstrip(".")
        user = local.partition("+")[0] or local
        for candidate in (local,) if user == local else (local, user):
            found = self._users.get(candidate)
            if found is None and domain:
                found = self._addresses.get((candidate, domain))
            if found is not None:
                return found
        for suffix in _suffixes(domain):
            found = self._domains.get(suffix)
            if found is not None:
                return found
        for pattern, entry in self._patterns:
            if pattern.search(address):
                return entry
        return None

    def matches(self, recipient: str) -> bool:
        """True if ``recipient`` is whitelisted."""
        return self.match(recipient) is not None

    def __len__(self) -> int:
        return len(self.entries)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, RecipientWhitelist)
                and [e.text for e in self.entries] == [e.text for e in other.entries])

    def __hash__(self) -> int:
        return hash(tuple(e.text for e in self.entries))

    def __repr__(self) -> str:
        return "RecipientWhitelist(%d entries)" % len(self.entries)
