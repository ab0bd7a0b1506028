"""
Kamaelia.Apps.Grey.GreylistStore: the greylist in SQLite
========================================================

Keeps the greylist of Kamaelia Grey in an SQLite database file and applies
the decisions of ``Kamaelia.Apps.Grey.GreylistVerdict`` to it: one call per
message (or per triplet) says whether it may pass and records the attempt,
and the auto-whitelists of client networks and sender domains are kept
beside the triplets.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.GreylistStore import GreylistStore

    store = GreylistStore("greylist.sqlite")
    verdict = store.check("192.0.2.7", "<alice@example.org>",
                          "<bob@example.net>", now=1000.0)
    assert (verdict.action, verdict.reason) == ("defer", "new")
    verdict = store.check("192.0.2.7", "<alice@example.org>",
                          "<bob@example.net>", now=1000.0 + 3600)
    assert verdict.passed

    # a whole message, with the client auto-whitelist
    answer = store.checkMessage("192.0.2.7", "<alice@example.org>",
                                ["<bob@example.net>", "<carol@example.net>"],
                                now=5000.0)
    print(answer.autoWhitelisted, [v.reason for v in answer.verdicts])
    print(store.expire(now=1000.0 + 4000000))  # Expired(attempts=1, passed=1, ...)
    store.close()

How does it work?
-----------------
Tables (schema version 3):

- ``greylist``: a row per triplet key (see ``tripletKey``; ``keyMode``
  chooses the original exact key or the normalised one) with the time of
  the first attempt of the current run and the time of the last pass;
- ``client_awl``: a row per client network (IPv4 /24, IPv6 /64, as the
  normalised key) with its count of passes and when it was last seen;
- ``domain_awl``: a row per (client network, sender domain) with the first
  sender that passed, how many distinct senders did, and when last seen;
- ``outcome_history``: a count per (hour, outcome), the hour as the
  epoch second it starts at (see "Outcome history" below);
- ``meta``: ``schema_version``, and the ``key_mode`` and ``privacy`` the
  file was last used with (a change of either makes every triplet new, so
  it is logged as a warning).

The version lives in a table, not only in SQLite's ``user_version``, so a
store on another database can keep it the same way; ``user_version`` is
kept equal to it. Opening a file of an older version migrates it in one
transaction: schema 1 (the greylist table alone, Kamaelia Grey 2.0's first
files) gains the other tables and keeps every triplet; schema 2 gains the
outcome history and keeps every row. A file newer than
this program is refused with ``RuntimeError``.

The database runs in WAL mode with ``synchronous=NORMAL``: a committed check
survives the process being killed (``kill -9``); after a power failure the
last few checks may be lost, which only means those senders are greylisted
once more.

Every read-decide-write runs inside one ``BEGIN IMMEDIATE`` transaction, so
two processes (two greylisters on one file, or a greylister and an expiry
job) never interleave a read and a write of the same row: no update is lost
and no pass is counted twice.

- ``check(ip, sender, recipient, now)`` decides one triplet.
- ``checkMessage(ip, sender, recipients, now)`` decides a message: if the
  client network (or, with ``awl.domains``, the network and the sender's
  domain) is auto-whitelisted, the message passes and the entry is
  refreshed; otherwise each recipient's triplet is decided, and if one of
  them passed greylisting just now the client network's count and the
  sender-domain entry are updated -- at most once an hour, as postgrey.
  It returns a ``MessageVerdict``.

A writer waiting for another one waits at most ``timeout`` seconds, then
``sqlite3.OperationalError`` ("database is locked") is raised: callers treat
that like any internal error and defer the message.

Privacy: with ``privacy=True`` no address is stored. A triplet's key columns
hold the SHA-256 of the whole key (in ``ip``; ``sender`` and ``recipient``
are empty), a client network its SHA-256, a sender-domain entry the SHA-256
of network and domain, and the first sender its SHA-256. Expiry, counting
and ``stats()`` work the same. (A hash of an IPv4 /24 is easily reversed by
trying all 16 million; it hides addresses from a casual reader only.)

``expire(now)`` deletes the attempts that never passed and are older than
``max_defer`` (a retry would restart them anyway), the passed triplets
unused for more than ``max_grey``, and the auto-whitelist entries unseen
for more than ``awl.maxAge``; it returns the counts. ``stats()`` counts the
rows.

Outcome history: ``countOutcomes(counts, now)`` adds ``{outcome: n}``
(outcomes of ``GreylistVerdict.OUTCOMES``: "deferred", "passed",
"whitelisted", "refused"; the caller decides what it counts) to the bucket
of the hour of ``now`` in one upsert; ``expire`` itself adds the attempts
it removes as "never-retried" (senders that never retried in time).
``outcomeHistory(since, until)`` returns ``[(hourStart, outcome, count)]``
for the buckets with ``since <= hourStart < until``, sorted, and
``summary(now)`` the greylist at a glance: ``pending`` and ``passed``
triplets, ``whitelistedClients`` and ``whitelistedDomains`` (listed at
``now``), and ``lastDay``, the total per outcome over the hour of ``now``
and the 23 before.

``iterRows(table)`` and ``loadRows(table, rows)`` move rows of ``TABLES``
as stored (keys already hashed or normalised) to another store:
``StoreMigration`` uses them; rows whose key is already there are kept.

``importDbm(directory)`` brings in the state of Kamaelia Grey 1.x, the
``greylisted.dbm`` (passed triplets, time of last use) and ``attempters.dbm``
(time of first attempt) files in ``directory``. Their keys are the ``repr``
of the tuple ``(ip, sender, recipient)``, written by Python 2 or 3, possibly
with ``b'...'`` fields; the values are ``str(time.time())``. Only triplets
not yet in the store are imported; an entry that cannot be read is skipped
with a logged warning. The number of triplets imported is returned.

Threads: the object may be created in one thread and used from others (the
greylister calls it from a worker thread so that disk waits never stall the
scheduler). Every operation holds a lock for just its own transaction.

Termination
-----------
``close()`` closes the connection (idempotent); the object can also be used
as a context manager. Any later call raises ``sqlite3.ProgrammingError``.

Configuration
-------------
``greylist_db`` (the file), ``greylist_profile`` and the ``greylist_*``
timings (the ``profile``), ``greylist_key`` (``keyMode``), ``privacy``,
``auto_whitelist_clients``, ``auto_whitelist_max_age`` and
``auto_whitelist_domains`` (``awl``) and ``import_dbm_dir`` in greylist.conf.
"""

from __future__ import annotations

import ast
import dbm
import logging
import math
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Optional

from Kamaelia.Apps.Grey.GreylistVerdict import (
    DEFAULT_AWL,
    DOMAIN_AWL_SENDERS,
    KAMAELIA,
    NEVER_RETRIED,
    AwlParameters,
    AwlRecord,
    DomainAwlRecord,
    Expired,
    KeyBuilder,
    MessageVerdict,
    Record,
    TimingProfile,
    Verdict,
    decide,
    decideMessage,
    hourStart,
    lastDay,
    outcomeCounts,
    senderDomain,
    summaryOf,
)

__all__ = ["GreylistStore", "Expired", "SCHEMA_VERSION", "TABLES", "dbmRows",
           "pagedRows", "recordedSettings"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

_WAL_RETRY = 0.05

# Every table a store keeps, with its columns; the first ``keyColumns`` of
# them are the primary key. Both stores use these names and this order, so
# rows move between them unchanged (``iterRows``/``loadRows``).
TABLES: dict[str, tuple[int, tuple[str, ...]]] = {
    "greylist": (3, ("ip", "sender", "recipient", "first_seen", "last_pass")),
    "client_awl": (1, ("client", "count", "last_seen")),
    "domain_awl": (2, ("client", "domain", "first_sender", "senders", "last_seen")),
    "outcome_history": (2, ("hour", "outcome", "count")),
}

# The statements that take a file from version N-1 to version N.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE IF NOT EXISTS greylist (
            ip         TEXT NOT NULL,
            sender     TEXT NOT NULL,
            recipient  TEXT NOT NULL,
            first_seen REAL,
            last_pass  REAL,
            PRIMARY KEY (ip, sender, recipient)
        ) WITHOUT ROWID""",
        """CREATE INDEX IF NOT EXISTS greylist_pending
            ON greylist (first_seen) WHERE last_pass IS NULL""",
        """CREATE INDEX IF NOT EXISTS greylist_passed
            ON greylist (last_pass) WHERE last_pass IS NOT NULL""",
    ),
    2: (
        """CREATE TABLE IF NOT EXISTS meta (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS client_awl (
            client    TEXT PRIMARY KEY,
            count     INTEGER NOT NULL,
            last_seen REAL NOT NULL
        ) WITHOUT ROWID""",
        """CREATE INDEX IF NOT EXISTS client_awl_seen ON client_awl (last_seen)""",
        """CREATE TABLE IF NOT EXISTS domain_awl (
            client       TEXT NOT NULL,
            domain       TEXT NOT NULL,
            first_sender TEXT NOT NULL,
            senders      INTEGER NOT NULL,
            last_seen    REAL NOT NULL,
            PRIMARY KEY (client, domain)
        ) WITHOUT ROWID""",
        """CREATE INDEX IF NOT EXISTS domain_awl_seen ON domain_awl (last_seen)""",
    ),
    3: (
        """CREATE TABLE IF NOT EXISTS outcome_history (
            hour    INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            count   INTEGER NOT NULL,
            PRIMARY KEY (hour, outcome)
        ) WITHOUT ROWID""",
    ),
}


class GreylistStore:
    """The greylist, in an SQLite file (see the module docstring)."""

    def __init__(self, path: str, profile: TimingProfile = KAMAELIA,
                 keyMode: str = "kamaelia", timeout: float = 5.0,
                 privacy: bool = False, awl: AwlParameters = DEFAULT_AWL) -> None:
        self.keys = KeyBuilder(keyMode, privacy)
        self.timeout = timeout
        self.path = path
        self.profile = profile
        self.keyMode = keyMode
        self.privacy = privacy
        self.awl = awl
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
        try:
            self._setUp()
        except BaseException:
            self._db.close()
            raise

    # -- schema --------------------------------------------------------------------

    def _setUp(self) -> None:
        db = self._db
        mode = self._walMode()
        if mode.lower() != "wal" and self.path != ":memory:":
            _log.warning("%s: SQLite refused WAL mode (journal_mode=%s)",
                         self.path, mode)
        db.execute("PRAGMA synchronous=NORMAL")
        if self._schemaVersion() < SCHEMA_VERSION:
            with self._transaction():
                self._migrate(self._schemaVersion())
        self._noteSettings()

    def _walMode(self) -> str:
        """Switch to WAL; returns the journal mode the file is in.

        Two processes opening a new file at once both try the switch, and
        SQLite answers "database is locked" at once, without waiting as it
        does for a transaction: so the switch is tried again, every
        ``_WAL_RETRY`` seconds, until ``timeout`` has passed.
        """
        pause = threading.Event()
        for _ in range(max(1, math.ceil(self.timeout / _WAL_RETRY))):
            try:
                return self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                pause.wait(_WAL_RETRY)
        return self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]

    def _schemaVersion(self) -> int:
        """The file's schema version: the meta table's, else ``user_version``."""
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        hasMeta = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                             "AND name='meta'").fetchone()
        if hasMeta:
            row = db.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
            if row is not None:
                version = int(row[0])
        if version > SCHEMA_VERSION:
            raise RuntimeError("%s: greylist schema version %d is newer "
                               "than this program's (%d)"
                               % (self.path, version, SCHEMA_VERSION))
        return version

    def _migrate(self, current: int) -> None:
        """Apply every step from ``current`` to ``SCHEMA_VERSION`` (in a transaction)."""
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                self._db.execute(statement)
            if current > 0:
                _log.info("%s: greylist schema upgraded from version %d to %d",
                          self.path, version - 1, version)
        self._setMeta("schema_version", str(SCHEMA_VERSION))
        self._db.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)

    def _setMeta(self, name: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (name, value) VALUES (?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET value=excluded.value",
                         (name, value))

    def _noteSettings(self) -> None:
        """Record key mode and privacy; warn when they differ from the file's."""
        wanted = {"key_mode": self.keyMode, "privacy": "yes" if self.privacy else "no"}
        rows = dict(self._db.execute(
            "SELECT name, value FROM meta WHERE name IN ('key_mode', 'privacy')").fetchall())
        if rows == wanted:
            return
        for name, value in wanted.items():
            if name in rows and rows[name] != value:
                _log.warning("%s: %s was %s and is now %s: every triplet recorded before "
                             "is new again", self.path, name, rows[name], value)
        with self._transaction():
            for name, value in wanted.items():
                self._setMeta(name, value)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _tripletKey(self, ip: str, sender: str, recipient: str) -> tuple[str, str, str]:
        return self.keys.triplet(ip, sender, recipient)

    # -- triplets --------------------------------------------------------------------

    def _checkKey(self, key: tuple[str, str, str], now: float) -> Verdict:
        """Read, decide and write one triplet (inside the caller's transaction)."""
        row = self._db.execute(
            "SELECT first_seen, last_pass FROM greylist "
            "WHERE ip=? AND sender=? AND recipient=?", key).fetchone()
        record = Record(*row) if row is not None else None
        verdict = decide(record, now, self.profile)
        new = verdict.record
        self._db.execute(
            "INSERT INTO greylist (ip, sender, recipient, first_seen, last_pass) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (ip, sender, recipient) DO UPDATE SET "
            "first_seen=excluded.first_seen, last_pass=excluded.last_pass",
            key + (new.first_seen, new.last_pass))
        return verdict.withKey(key)

    def check(self, ip: str, sender: str, recipient: str, now: float) -> Verdict:
        """Decide one delivery attempt and record it (one transaction).

        The auto-whitelists are neither consulted nor counted: that is
        ``checkMessage``.
        """
        key = self._tripletKey(ip, sender, recipient)
        with self._lock, self._transaction():
            return self._checkKey(key, now)

    def lookup(self, ip: str, sender: str, recipient: str) -> Optional[Record]:
        """The stored record of a triplet, or ``None``; changes nothing."""
        key = self._tripletKey(ip, sender, recipient)
        with self._lock:
            row = self._db.execute(
                "SELECT first_seen, last_pass FROM greylist "
                "WHERE ip=? AND sender=? AND recipient=?", key).fetchone()
        return Record(*row) if row is not None else None

    # -- messages and auto-whitelists ------------------------------------------------

    def checkMessage(self, ip: str, sender: str, recipients: Iterable[str],
                     now: float) -> MessageVerdict:
        """Decide a message for ``recipients`` and record it (one transaction).

        See the module docstring; ``sender`` and ``recipients`` are as for
        ``check`` (for the original key, as the client wrote them).
        """
        keys = self.keys.message(ip, sender, recipients, self.awl)
        with self._lock, self._transaction():
            return decideMessage(_Access(self), keys, now, self.awl)

    def _readClient(self, key: str) -> Optional[AwlRecord]:
        row = self._db.execute("SELECT count, last_seen FROM client_awl WHERE client=?",
                               (key,)).fetchone()
        return AwlRecord(*row) if row is not None else None

    def _writeClient(self, key: str, record: AwlRecord) -> None:
        self._db.execute(
            "INSERT INTO client_awl (client, count, last_seen) VALUES (?, ?, ?) "
            "ON CONFLICT (client) DO UPDATE SET count=excluded.count, "
            "last_seen=excluded.last_seen", (key, record.count, record.last_seen))

    def _readDomain(self, key: tuple[str, str]) -> Optional[DomainAwlRecord]:
        row = self._db.execute(
            "SELECT first_sender, senders, last_seen FROM domain_awl "
            "WHERE client=? AND domain=?", key).fetchone()
        return DomainAwlRecord(*row) if row is not None else None

    def _writeDomain(self, key: tuple[str, str], record: DomainAwlRecord) -> None:
        self._db.execute(
            "INSERT INTO domain_awl (client, domain, first_sender, senders, last_seen) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client, domain) DO UPDATE SET "
            "first_sender=excluded.first_sender, senders=excluded.senders, "
            "last_seen=excluded.last_seen",
            key + (record.first_sender, record.senders, record.last_seen))

    def lookupClient(self, ip: str) -> Optional[AwlRecord]:
        """The auto-whitelist record of ``ip``'s network, or ``None``; changes nothing."""
        with self._lock:
            return self._readClient(self.keys.client(ip))

    def lookupDomain(self, ip: str, sender: str) -> Optional[DomainAwlRecord]:
        """The sender-domain record for ``ip``'s network and ``sender``'s domain, or ``None``."""
        domain = senderDomain(sender)
        if not domain:
            return None
        with self._lock:
            return self._readDomain(self.keys.domain(ip, domain))

    # -- housekeeping ----------------------------------------------------------------

    def expire(self, now: float) -> Expired:
        """Delete stale attempts, long-unused passed triplets and stale AWL entries.

        The attempts removed (never passed, first seen more than
        ``max_defer`` ago) are added to the history as "never-retried" in
        the hour of ``now``, in the same transaction.
        """
        with self._lock, self._transaction():
            attempts = self._db.execute(
                "DELETE FROM greylist WHERE last_pass IS NULL AND first_seen < ?",
                (now - self.profile.max_defer,)).rowcount
            if attempts:
                self._addOutcomes([(NEVER_RETRIED, attempts)], now)
            passed = self._db.execute(
                "DELETE FROM greylist WHERE last_pass IS NOT NULL AND last_pass < ?",
                (now - self.profile.max_grey,)).rowcount
            oldest = now - self.awl.maxAge
            clients = self._db.execute("DELETE FROM client_awl WHERE last_seen < ?",
                                       (oldest,)).rowcount
            domains = self._db.execute("DELETE FROM domain_awl WHERE last_seen < ?",
                                       (oldest,)).rowcount
        return Expired(attempts, passed, clients, domains)

    def stats(self) -> dict:
        """Row counts: ``triplets`` (all), ``passed``, ``pending``, ``clients``
        (auto-whitelist entries), ``whitelistedClients`` (those at the
        threshold), ``domains`` and ``whitelistedDomains``."""
        threshold = self.awl.clients or None
        with self._lock:
            total, passed = self._db.execute(
                "SELECT COUNT(*), COUNT(last_pass) FROM greylist").fetchone()
            clients, listed = self._db.execute(
                "SELECT COUNT(*), COUNT(CASE WHEN count >= ? THEN 1 END) FROM client_awl",
                (threshold,)).fetchone()
            domains, listedDomains = self._db.execute(
                "SELECT COUNT(*), COUNT(CASE WHEN senders >= 2 THEN 1 END) "
                "FROM domain_awl").fetchone()
        return {"triplets": total, "passed": passed, "pending": total - passed,
                "clients": clients, "whitelistedClients": listed,
                "domains": domains, "whitelistedDomains": listedDomains,
                "path": self.path, "keyMode": self.keyMode, "privacy": self.privacy,
                "profile": self.profile, "awl": self.awl}

    # -- outcome history -------------------------------------------------------------

    def countOutcomes(self, counts: Mapping[str, int], now: float) -> None:
        """Add ``counts`` (outcome -> number) to the hour bucket of ``now``."""
        pairs = outcomeCounts(counts)
        if pairs:
            with self._lock, self._transaction():
                self._addOutcomes(pairs, now)

    def _addOutcomes(self, pairs: list[tuple[str, int]], now: float) -> None:
        hour = int(hourStart(now))
        self._db.executemany(
            "INSERT INTO outcome_history (hour, outcome, count) VALUES (?, ?, ?) "
            "ON CONFLICT (hour, outcome) DO UPDATE SET count=count+excluded.count",
            [(hour, outcome, count) for outcome, count in pairs])

    def outcomeHistory(self, since: float, until: float) -> list[tuple[float, str, int]]:
        """``[(hourStart, outcome, count), ...]`` for ``since <= hourStart < until``, sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT hour, outcome, count FROM outcome_history "
                "WHERE hour >= ? AND hour < ? ORDER BY hour, outcome",
                (since, until)).fetchall()
        return [(float(hour), outcome, count) for hour, outcome, count in rows]

    def summary(self, now: float) -> dict:
        """The greylist at a glance (see ``GreylistVerdict.summaryOf``).

        ``pending`` triplets never passed, ``passed`` ones did,
        ``whitelistedClients`` networks and ``whitelistedDomains`` pairs are
        auto-whitelisted at ``now``, and ``lastDay`` is outcome -> total over
        the hour of ``now`` and the 23 before.
        """
        oldest = now - self.awl.maxAge
        with self._lock:
            total, passed = self._db.execute(
                "SELECT COUNT(*), COUNT(last_pass) FROM greylist").fetchone()
            clients = self._db.execute(
                "SELECT COUNT(*) FROM client_awl WHERE count >= ? AND last_seen >= ?",
                (self.awl.clients, oldest)).fetchone()[0] if self.awl.clients else 0
            domains = self._db.execute(
                "SELECT COUNT(*) FROM domain_awl WHERE senders >= ? AND last_seen >= ?",
                (DOMAIN_AWL_SENDERS, oldest)).fetchone()[0] if self.awl.domains else 0
        return summaryOf(total - passed, passed, clients, domains,
                         self.outcomeHistory(*lastDay(now)))

    # -- moving rows between stores --------------------------------------------------

    def iterRows(self, table: str, batch: int = 1000) -> Iterator[tuple]:
        """Every row of ``table`` (one of ``TABLES``), in key order, as stored."""
        def fetch(query: str, params: tuple) -> list[tuple]:
            with self._lock:
                return self._db.execute(query, params).fetchall()
        return pagedRows(fetch, table, batch, "?")

    def loadRows(self, table: str, rows: Iterable[tuple]) -> int:
        """Insert the rows of ``table`` whose key is not here yet; returns how many."""
        _keyColumns, columns = TABLES[table]
        statement = "INSERT OR IGNORE INTO %s (%s) VALUES (%s)" % (
            table, ", ".join(columns), ", ".join("?" * len(columns)))
        added = 0
        with self._lock, self._transaction():
            for row in rows:
                added += self._db.execute(statement, tuple(row)).rowcount
        return added

    def importDbm(self, directory: str) -> int:
        """Import Kamaelia Grey 1.x's dbm files from ``directory``."""
        rows = dbmRows(directory, self.keys)
        count = self.loadRows("greylist", rows) if rows else 0
        _log.info("imported %d of %d triplets from dbm files in %s",
                  count, len(rows), directory)
        return count

    def close(self) -> None:
        """Close the database (safe to call more than once)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> "GreylistStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return "GreylistStore(%r, keyMode=%r, privacy=%r)" % (
            self.path, self.keyMode, self.privacy)


class _Access:
    """The store's rows for ``decideMessage``, inside the store's transaction."""

    def __init__(self, store: GreylistStore) -> None:
        self.store = store

    def readClient(self, key: str) -> Optional[AwlRecord]:
        return self.store._readClient(key)

    def writeClient(self, key: str, record: AwlRecord) -> None:
        self.store._writeClient(key, record)

    def readDomain(self, key: tuple[str, str]) -> Optional[DomainAwlRecord]:
        return self.store._readDomain(key)

    def writeDomain(self, key: tuple[str, str], record: DomainAwlRecord) -> None:
        self.store._writeDomain(key, record)

    def checkKeys(self, keys: tuple[tuple[str, str, str], ...],
                  now: float) -> tuple[Verdict, ...]:
        return tuple(self.store._checkKey(key, now) for key in keys)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back if the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, excType, exc, tb) -> None:
        if excType is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value
    raise ValueError("field is %s, not a string" % type(value).__name__)


def _parseKey(raw: bytes | str) -> tuple:
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "surrogateescape")
    value = ast.literal_eval(text)
    if isinstance(value, bytes):
        value = ast.literal_eval(value.decode("utf-8", "surrogateescape"))
    if not isinstance(value, tuple) or len(value) != 3:
        raise ValueError("not a 3-tuple")
    return tuple(_text(field) for field in value)


def pagedRows(fetch: Callable[[str, tuple], list[tuple]], table: str, batch: int,
              mark: str) -> Iterator[tuple]:
    """Every row of ``table`` in key order, ``batch`` rows per ``fetch(query, params)``.

    Each batch starts after the last key of the one before (keyset paging),
    so no cursor stays open between batches. ``mark`` is the driver's
    placeholder (``?`` for sqlite3, ``%s`` for psycopg).
    """
    keyColumns, columns = TABLES[table]
    keyNames = ", ".join(columns[:keyColumns])
    select = "SELECT %s FROM %s" % (", ".join(columns), table)
    after: Optional[tuple] = None
    while True:
        if after is None:
            rows = fetch("%s ORDER BY %s LIMIT %s" % (select, keyNames, mark), (batch,))
        else:
            rows = fetch("%s WHERE (%s) > (%s) ORDER BY %s LIMIT %s"
                         % (select, keyNames, ", ".join([mark] * keyColumns), keyNames, mark),
                         after + (batch,))
        yield from rows
        if len(rows) < batch:
            return
        after = tuple(rows[-1][:keyColumns])


def recordedSettings(path: str) -> Optional[dict[str, str]]:
    """The ``key_mode`` and ``privacy`` a file was last used with, read-only.

    ``None`` if there is no such file, ``{}`` if it records none (schema 1).
    Opening a ``GreylistStore`` would record its own settings instead.
    """
    if not os.path.exists(path):
        return None
    raw = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(path)),
                          uri=True)
    try:
        if raw.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                       "AND name='meta'").fetchone() is None:
            return {}
        return dict(raw.execute("SELECT name, value FROM meta "
                                "WHERE name IN ('key_mode', 'privacy')").fetchall())
    finally:
        raw.close()


def dbmRows(directory: str, keys: KeyBuilder) -> list[tuple]:
    """The greylist rows of Kamaelia Grey 1.x's dbm files in ``directory``.

    Rows as ``TABLES["greylist"]`` orders them, keyed by ``keys``; triplets
    that fall together (normalised keys) keep the earliest first attempt and
    the latest pass.
    """
    imported: dict[tuple, list] = {}
    for name, column in (("attempters.dbm", 0), ("greylisted.dbm", 1)):
        for (ip, sender, recipient), when in _readDbm(os.path.join(directory, name)):
            times = imported.setdefault(keys.triplet(ip, sender, recipient), [None, None])
            old = times[column]
            if old is None:
                times[column] = when
            else:
                times[column] = min(old, when) if column == 0 else max(old, when)
    return [triplet + tuple(times) for triplet, times in imported.items()]


def _readDbm(path: str):
    """Yield ((ip, sender, recipient), time) from one original dbm file."""
    kind = dbm.whichdb(path)
    if kind is None:
        return
    name = os.path.basename(path)
    if kind == "":
        _log.warning("%s: not a dbm file this Python can recognise; skipped",
                     path)
        return
    try:
        db = dbm.open(path, "r")
    except (dbm.error[0], OSError, ImportError) as error:
        _log.warning("%s: cannot open (%s: %s); skipped", path, kind, error)
        return
    try:
        for raw in db.keys():
            try:
                key = _parseKey(raw)
                when = float(db[raw].decode("ascii"))
                if not math.isfinite(when):
                    raise ValueError("time %r is not finite" % when)
            except (ValueError, SyntaxError, TypeError, UnicodeDecodeError,
                    MemoryError, RecursionError, KeyError) as error:
                _log.warning("%s: skipping unreadable entry %r: %s",
                             name, raw[:200], error)
                continue
            yield key, when
    finally:
        db.close()
