"""
Kamaelia.Apps.Grey.PostgresStore: the greylist in PostgreSQL, shared by MX hosts
================================================================================

The same greylist as ``GreylistStore`` (same tables, same decisions from
``GreylistVerdict``), kept in a PostgreSQL database that several greylisters
and policy servers use at once: a sender deferred by one MX host passes when
it retries through another.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.PostgresStore import PostgresStore

    store = PostgresStore("postgresql://grey@db.example.org:5432/greylist")
    verdict = store.checkMessage("192.0.2.7", "<alice@example.org>",
                                 ["<bob@example.net>"], now=1000.0)
    print(verdict.verdicts[0].reason)          # new
    store.countOutcomes({"deferred": 1}, now=1000.0)
    print(store.summary(now=1000.0)["lastDay"]["deferred"])   # 1
    store.close()

How does it work?
-----------------
Tables (schema version 3, numbered as SQLite's): ``greylist``,
``client_awl``, ``domain_awl``, ``outcome_history`` and ``meta``, with the
columns of ``GreylistStore.TABLES``. The first store to start creates them
(``CREATE TABLE IF NOT EXISTS`` under a transaction-level advisory lock, so
hosts starting together create them once) and writes ``schema_version``; a
database of a newer version is refused with ``RuntimeError``. Key mode and
privacy are recorded in ``meta`` and a change is logged as a warning, as in
SQLite.

Atomic across hosts, under READ COMMITTED: every call is one transaction.

- A triplet is locked as a row: ``INSERT ... ON CONFLICT DO NOTHING`` makes
  sure it exists (a row with no times is "never seen"), ``SELECT ... FOR
  UPDATE`` locks it, the verdict is decided and the row written. A message's
  triplets are locked in key order, so two messages never deadlock.
- An auto-whitelist entry is locked with ``pg_advisory_xact_lock`` on its
  key before it is read (the row may not exist yet), the client entry before
  the sender-domain entry, both before the triplets.
- ``countOutcomes`` is one upsert per bucket (``count = count + n``).
- ``expire`` deletes in batches of ``expireBatch`` (1000) rows, one
  transaction each, so a large greylist never runs into
  ``statement_timeout``; a batch takes only rows no one else has locked
  (``FOR UPDATE SKIP LOCKED``), so it is safe on every host at once: each
  stale row is deleted, and counted as "never-retried", by exactly one of
  them, and expiry never waits for (or deadlocks with) a check.

So N processes checking the same triplets never lose an update and never
count a pass twice.

Bounded waits, all from ``timeout`` (seconds, default 5): a connection from
the pool within ``timeout`` (``psycopg_pool`` ``timeout``), a new connection
within ``connect_timeout`` (``timeout`` rounded up, at least 2 s, libpq's
minimum), each statement within ``statement_timeout`` = ``timeout``, and a
TCP peer that vanished within ``tcp_user_timeout`` = ``timeout``. A database
that is down or restarted makes a call raise ``StoreError`` after at most
``timeout`` (waiting for a connection); one that is slow, after at most
``timeout`` for the statement that is slow -- a call makes a handful of
statements (about three per recipient), each bounded so. The policy turns
any store error into a defer. Connections are
checked when taken from the pool, so one broken by a restart is replaced;
the pool reconnects by itself, giving up a reconnection run after
``4 * timeout`` and starting a new one on the next call.

Opening: the schema is made over a connection of its own, so a database
that cannot be reached, a wrong password or a missing database raises
``StoreError`` at once with libpq's reason ("password authentication
failed", "does not exist"); a program should treat that as a start-up
failure.

Text: PostgreSQL text holds neither NUL characters nor lone surrogates (an
address of undecodable bytes). Keys never have them (``KeyBuilder`` makes
every key storable); any other such text raises ``StoreError`` ("cannot
store the key").

Location and passwords: ``location`` is a libpq URL,
``postgresql://user@host:port/dbname`` (or ``postgres://``) with any libpq
parameters in the query, such as ``?passfile=/etc/kamaelia-grey/pgpass``.
The password normally comes from ``PGPASSWORD``, ``~/.pgpass`` or
``PGPASSFILE``; one written in the URL works, but ``redactLocation`` hides
it in ``repr``, ``stats()["path"]``, error messages and logs.

Threads: one store object serves any number of threads; the pool holds up
to ``poolSize`` connections.

Termination
-----------
``close()`` closes the pool (idempotent); later calls raise ``StoreError``.

Configuration
-------------
``greylist_db`` set to a ``postgresql://`` URL (see ``Stores.openStore``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Optional, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from Kamaelia.Apps.Grey.GreylistStore import TABLES, dbmRows, pagedRows
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
from Kamaelia.Apps.Grey.Stores import StoreError, isPostgresLocation

__all__ = ["PostgresStore", "StoreError", "SCHEMA_VERSION", "redactLocation",
           "recordedSettings"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

# The statements that take a database to version N (a fresh one runs all).
_STEPS: dict[int, tuple[str, ...]] = {
    3: (
        """CREATE TABLE IF NOT EXISTS meta (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS greylist (
            ip         TEXT NOT NULL,
            sender     TEXT NOT NULL,
            recipient  TEXT NOT NULL,
            first_seen DOUBLE PRECISION,
            last_pass  DOUBLE PRECISION,
            PRIMARY KEY (ip, sender, recipient))""",
        """CREATE INDEX IF NOT EXISTS greylist_pending
            ON greylist (first_seen) WHERE last_pass IS NULL""",
        """CREATE INDEX IF NOT EXISTS greylist_passed
            ON greylist (last_pass) WHERE last_pass IS NOT NULL""",
        """CREATE TABLE IF NOT EXISTS client_awl (
            client    TEXT PRIMARY KEY,
            count     INTEGER NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL)""",
        """CREATE INDEX IF NOT EXISTS client_awl_seen ON client_awl (last_seen)""",
        """CREATE TABLE IF NOT EXISTS domain_awl (
            client       TEXT NOT NULL,
            domain       TEXT NOT NULL,
            first_sender TEXT NOT NULL,
            senders      INTEGER NOT NULL,
            last_seen    DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (client, domain))""",
        """CREATE INDEX IF NOT EXISTS domain_awl_seen ON domain_awl (last_seen)""",
        """CREATE TABLE IF NOT EXISTS outcome_history (
            hour    BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            count   BIGINT NOT NULL,
            PRIMARY KEY (hour, outcome))""",
    ),
}

# pg_advisory_xact_lock's key for creating and migrating the schema.
_SCHEMA_LOCK = 0x4B47_5245_5953_4348

T = TypeVar("T")


def redactLocation(location: str) -> str:
    """``location`` with any password (in the user part or ``password=``) as ``***``."""
    parts = urlsplit(location)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            netloc = "%s:***@%s" % (user.split(":", 1)[0], host)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs],
                          safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def recordedSettings(location: str, timeout: float = 5.0) -> Optional[dict[str, str]]:
    """The ``key_mode`` and ``privacy`` the database was last used with, read-only.

    ``None`` if it has no greylist tables yet. Raises ``StoreError``.
    """
    try:
        with psycopg.connect(location, connect_timeout=max(2, math.ceil(timeout)),
                             autocommit=True) as db:
            if _one(db, "SELECT to_regclass('meta')")[0] is None:
                return None
            return dict(db.execute("SELECT name, value FROM meta "
                                   "WHERE name IN ('key_mode', 'privacy')").fetchall())
    except psycopg.Error as error:
        raise StoreError("%s: %s" % (redactLocation(location), _oneLine(error))) from error


class PostgresStore:
    """The greylist in a PostgreSQL database (see the module docstring)."""

    expireBatch = 1000

    def __init__(self, location: str, profile: TimingProfile = KAMAELIA,
                 keyMode: str = "kamaelia", timeout: float = 5.0,
                 privacy: bool = False, awl: AwlParameters = DEFAULT_AWL,
                 poolSize: int = 4) -> None:
        if not isPostgresLocation(location):
            raise ValueError("not a postgresql:// URL: %s" % redactLocation(location))
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self.keys = KeyBuilder(keyMode, privacy)
        self.path = redactLocation(location)
        self.profile = profile
        self.keyMode = keyMode
        self.privacy = privacy
        self.awl = awl
        self.timeout = timeout
        milliseconds = max(1, int(timeout * 1000))
        settings: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(2, math.ceil(timeout)),
            "tcp_user_timeout": milliseconds,
            "keepalives": 1,
            "keepalives_idle": max(1, math.ceil(timeout)),
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "application_name": "kamaelia-grey",
            "options": "-c statement_timeout=%d -c idle_in_transaction_session_timeout=%d"
                       % (milliseconds, 4 * milliseconds),
        }
        try:
            with psycopg.connect(location, **settings) as db:
                with db.transaction():
                    self._setUp(db)
        except psycopg.Error as error:
            raise StoreError("%s: %s" % (self.path, _oneLine(error))) from error
        self._pool: ConnectionPool = ConnectionPool(
            location, kwargs=settings, min_size=1, max_size=max(1, poolSize),
            timeout=timeout, check=ConnectionPool.check_connection,
            reconnect_timeout=4 * timeout, name=self.path, open=False)
        self._pool.open(wait=False)

    # -- running a transaction -------------------------------------------------------

    def _run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """``work(connection)`` in one transaction; database trouble -> StoreError."""
        try:
            with self._pool.connection() as connection:
                with connection.transaction():
                    return work(connection)
        except psycopg.Error as error:
            raise StoreError("%s: %s" % (self.path, _oneLine(error))) from error
        except UnicodeEncodeError as error:
            raise StoreError("%s: cannot store the key: %s" % (self.path, error)) from error

    # -- schema --------------------------------------------------------------------

    def _setUp(self, db: psycopg.Connection) -> None:
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        current = 0
        if _one(db, "SELECT to_regclass('meta')")[0] is not None:
            row = db.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
            current = int(row[0]) if row is not None else 0
        if current > SCHEMA_VERSION:
            raise RuntimeError("%s: greylist schema version %d is newer than this "
                               "program's (%d)" % (self.path, current, SCHEMA_VERSION))
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _STEPS.get(version, ()):
                db.execute(statement)
        if current < SCHEMA_VERSION:
            if current:
                _log.info("%s: greylist schema upgraded from version %d to %d",
                          self.path, current, SCHEMA_VERSION)
            _setMeta(db, "schema_version", str(SCHEMA_VERSION))
        wanted = {"key_mode": self.keyMode, "privacy": "yes" if self.privacy else "no"}
        rows: dict[str, str] = dict(db.execute("SELECT name, value FROM meta "
                               "WHERE name IN ('key_mode', 'privacy')").fetchall())
        for name, value in wanted.items():
            if name in rows and rows[name] != value:
                _log.warning("%s: %s was %s and is now %s: every triplet recorded before "
                             "is new again", self.path, name, rows[name], value)
            if rows.get(name) != value:
                _setMeta(db, name, value)

    def schemaVersion(self) -> int:
        """The version recorded in the database's ``meta`` table."""
        return self._run(lambda db: int(_one(
            db, "SELECT value FROM meta WHERE name='schema_version'")[0]))

    # -- triplets --------------------------------------------------------------------

    def check(self, ip: str, sender: str, recipient: str, now: float) -> Verdict:
        """Decide one delivery attempt and record it (one transaction, row locked).

        The auto-whitelists are neither consulted nor counted: that is
        ``checkMessage``.
        """
        key = self.keys.triplet(ip, sender, recipient)
        return self._run(lambda db: _Access(db, self.profile).checkKeys((key,), now)[0])

    def lookup(self, ip: str, sender: str, recipient: str) -> Optional[Record]:
        """The stored record of a triplet, or ``None``; changes nothing."""
        key = self.keys.triplet(ip, sender, recipient)
        row = self._run(lambda db: db.execute(
            "SELECT first_seen, last_pass FROM greylist "
            "WHERE ip=%s AND sender=%s AND recipient=%s", key).fetchone())
        return Record(*row) if row is not None and row != (None, None) else None

    # -- messages and auto-whitelists ------------------------------------------------

    def checkMessage(self, ip: str, sender: str, recipients: Iterable[str],
                     now: float) -> MessageVerdict:
        """Decide a message for ``recipients`` and record it (one transaction).

        As ``GreylistStore.checkMessage`` (``GreylistVerdict.decideMessage``).
        """
        keys = self.keys.message(ip, sender, recipients, self.awl)
        return self._run(lambda db: decideMessage(_Access(db, self.profile), keys, now,
                                                  self.awl))

    def lookupClient(self, ip: str) -> Optional[AwlRecord]:
        """The auto-whitelist record of ``ip``'s network, or ``None``; changes nothing."""
        key = self.keys.client(ip)
        return self._run(lambda db: _readClient(db, key))

    def lookupDomain(self, ip: str, sender: str) -> Optional[DomainAwlRecord]:
        """The sender-domain record for ``ip``'s network and ``sender``'s domain, or ``None``."""
        domain = senderDomain(sender)
        if not domain:
            return None
        key = self.keys.domain(ip, domain)
        return self._run(lambda db: _readDomain(db, key))

    # -- housekeeping ----------------------------------------------------------------

    def expire(self, now: float) -> Expired:
        """Delete stale attempts, long-unused passed triplets and stale AWL entries.

        Safe on every host at once (see the module docstring). The attempts
        removed are added to the history as "never-retried" in the hour of
        ``now``, each batch in the transaction that deletes it.
        """
        oldest = now - self.awl.maxAge
        parts = (("greylist", "last_pass IS NULL AND first_seen < %s",
                  now - self.profile.max_defer),
                 ("greylist", "last_pass IS NOT NULL AND last_pass < %s",
                  now - self.profile.max_grey),
                 ("client_awl", "last_seen < %s", oldest),
                 ("domain_awl", "last_seen < %s", oldest))
        counts = []
        for index, (table, condition, limit) in enumerate(parts):
            batch = _DeleteBatch(table, condition, limit, self.expireBatch,
                                 now if index == 0 else None)
            total = 0
            while True:
                deleted = self._run(batch)
                total += deleted
                if deleted < self.expireBatch:
                    break
            counts.append(total)
        return Expired(*counts)

    def stats(self) -> dict:
        """Row counts, as ``GreylistStore.stats`` (``path`` is the redacted URL)."""
        threshold = self.awl.clients or None

        def work(db: psycopg.Connection) -> dict:
            total, passed = _one(db, "SELECT COUNT(*), COUNT(last_pass) FROM greylist")
            clients, listed = _one(
                db, "SELECT COUNT(*), COUNT(CASE WHEN count >= %s THEN 1 END) FROM client_awl",
                (threshold,))
            domains, listedDomains = _one(
                db, "SELECT COUNT(*), COUNT(CASE WHEN senders >= %s THEN 1 END) FROM domain_awl",
                (DOMAIN_AWL_SENDERS,))
            return {"triplets": total, "passed": passed, "pending": total - passed,
                    "clients": clients, "whitelistedClients": listed,
                    "domains": domains, "whitelistedDomains": listedDomains}
        counts = self._run(work)
        counts.update({"path": self.path, "keyMode": self.keyMode, "privacy": self.privacy,
                       "profile": self.profile, "awl": self.awl})
        return counts

    # -- outcome history -------------------------------------------------------------

    def countOutcomes(self, counts: Mapping[str, int], now: float) -> None:
        """Add ``counts`` (outcome -> number) to the hour bucket of ``now`` (upserts)."""
        pairs = outcomeCounts(counts)
        if pairs:
            self._run(lambda db: _addOutcomes(db, pairs, now))

    def outcomeHistory(self, since: float, until: float) -> list[tuple[float, str, int]]:
        """``[(hourStart, outcome, count), ...]`` for ``since <= hourStart < until``, sorted."""
        rows = self._run(lambda db: db.execute(
            "SELECT hour, outcome, count FROM outcome_history "
            "WHERE hour >= %s AND hour < %s ORDER BY hour, outcome",
            (since, until)).fetchall())
        return [(float(hour), outcome, int(count)) for hour, outcome, count in rows]

    def summary(self, now: float) -> dict:
        """The greylist at a glance, as ``GreylistStore.summary``."""
        oldest = now - self.awl.maxAge

        def work(db: psycopg.Connection) -> tuple[int, int, int, int]:
            total, passed = _one(db, "SELECT COUNT(*), COUNT(last_pass) FROM greylist")
            clients = _one(
                db, "SELECT COUNT(*) FROM client_awl WHERE count >= %s AND last_seen >= %s",
                (self.awl.clients, oldest))[0] if self.awl.clients else 0
            domains = _one(
                db, "SELECT COUNT(*) FROM domain_awl WHERE senders >= %s AND last_seen >= %s",
                (DOMAIN_AWL_SENDERS, oldest))[0] if self.awl.domains else 0
            return total - passed, passed, clients, domains
        pending, passed, clients, domains = self._run(work)
        return summaryOf(pending, passed, clients, domains,
                         self.outcomeHistory(*lastDay(now)))

    # -- moving rows between stores --------------------------------------------------

    def iterRows(self, table: str, batch: int = 1000) -> Iterator[tuple]:
        """Every row of ``table`` (one of ``GreylistStore.TABLES``), in key order."""
        return pagedRows(lambda query, params: self._run(_fetchAll(query, params)),
                         table, batch, "%s")

    def loadRows(self, table: str, rows: Iterable[tuple], batch: int = 1000) -> int:
        """Insert the rows of ``table`` whose key is not here yet; returns how many."""
        _keyColumns, columns = TABLES[table]
        statement = "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT DO NOTHING" % (
            table, ", ".join(columns), ", ".join(["%s"] * len(columns)))
        added = 0
        pending: list[tuple] = []

        def flush(db: psycopg.Connection) -> int:
            cursor = db.cursor()
            cursor.executemany(statement, pending)
            return cursor.rowcount
        for row in rows:
            pending.append(tuple(row))
            if len(pending) >= batch:
                added += self._run(flush)
                pending = []
        if pending:
            added += self._run(flush)
        return added

    def importDbm(self, directory: str) -> int:
        """Import Kamaelia Grey 1.x's dbm files from ``directory`` (as GreylistStore)."""
        rows = dbmRows(directory, self.keys)
        count = self.loadRows("greylist", rows) if rows else 0
        _log.info("imported %d of %d triplets from dbm files in %s",
                  count, len(rows), directory)
        return count

    def close(self) -> None:
        """Close the pool (safe to call more than once)."""
        self._pool.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "PostgresStore(%r, keyMode=%r, privacy=%r)" % (
            self.path, self.keyMode, self.privacy)


class _Access:
    """One transaction's rows for ``decideMessage`` (see the module docstring)."""

    def __init__(self, db: psycopg.Connection, profile: TimingProfile) -> None:
        self.db = db
        self.profile = profile

    def _lock(self, *parts: str) -> None:
        self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        ("\n".join(parts),))

    def readClient(self, key: str) -> Optional[AwlRecord]:
        self._lock("client", key)
        return _readClient(self.db, key)

    def writeClient(self, key: str, record: AwlRecord) -> None:
        self.db.execute(
            "INSERT INTO client_awl (client, count, last_seen) VALUES (%s, %s, %s) "
            "ON CONFLICT (client) DO UPDATE SET count=excluded.count, "
            "last_seen=excluded.last_seen", (key, record.count, record.last_seen))

    def readDomain(self, key: tuple[str, str]) -> Optional[DomainAwlRecord]:
        self._lock("domain", *key)
        return _readDomain(self.db, key)

    def writeDomain(self, key: tuple[str, str], record: DomainAwlRecord) -> None:
        self.db.execute(
            "INSERT INTO domain_awl (client, domain, first_sender, senders, last_seen) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (client, domain) DO UPDATE SET "
            "first_sender=excluded.first_sender, senders=excluded.senders, "
            "last_seen=excluded.last_seen",
            key + (record.first_sender, record.senders, record.last_seen))

    def checkKeys(self, keys: tuple[tuple[str, str, str], ...],
                  now: float) -> tuple[Verdict, ...]:
        """Lock every triplet (in key order), decide each in turn, write them."""
        db = self.db
        records: dict[tuple[str, str, str], Optional[Record]] = {}
        for key in sorted(set(keys)):
            db.execute("INSERT INTO greylist (ip, sender, recipient) VALUES (%s, %s, %s) "
                       "ON CONFLICT DO NOTHING", key)
            row = db.execute("SELECT first_seen, last_pass FROM greylist "
                             "WHERE ip=%s AND sender=%s AND recipient=%s FOR UPDATE",
                             key).fetchone()
            records[key] = Record(*row) if row is not None else None
        verdicts = []
        for key in keys:
            verdict = decide(records[key], now, self.profile)
            records[key] = verdict.record
            verdicts.append(verdict.withKey(key))
        for key in sorted(records):
            record = records[key]
            assert record is not None
            db.execute(
                "INSERT INTO greylist (ip, sender, recipient, first_seen, last_pass) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (ip, sender, recipient) "
                "DO UPDATE SET first_seen=excluded.first_seen, last_pass=excluded.last_pass",
                key + (record.first_seen, record.last_pass))
        return tuple(verdicts)


def _one(db: psycopg.Connection, query: str, params: tuple = ()) -> tuple:
    """The single row of a query that always returns one (an aggregate)."""
    row = db.execute(query, params).fetchone()
    if row is None:
        raise StoreError("no row from %s" % query.split()[0])
    return row


def _fetchAll(query: str, params: tuple) -> Callable[[psycopg.Connection], list[tuple]]:
    return lambda db: db.execute(query, params).fetchall()


def _readClient(db: psycopg.Connection, key: str) -> Optional[AwlRecord]:
    row = db.execute("SELECT count, last_seen FROM client_awl WHERE client=%s",
                     (key,)).fetchone()
    return AwlRecord(*row) if row is not None else None


def _readDomain(db: psycopg.Connection, key: tuple[str, str]) -> Optional[DomainAwlRecord]:
    row = db.execute("SELECT first_sender, senders, last_seen FROM domain_awl "
                     "WHERE client=%s AND domain=%s", key).fetchone()
    return DomainAwlRecord(*row) if row is not None else None


class _DeleteBatch:
    """One transaction of ``expire``: up to ``size`` stale rows of ``table``.

    ``SKIP LOCKED``: rows another host is expiring, or a check is updating,
    are left to that transaction (never waited for, so never a deadlock);
    ``countAt`` (for the never-passed attempts) adds the rows deleted to the
    history as "never-retried" in the same transaction.
    """

    def __init__(self, table: str, condition: str, limit: float, size: int,
                 countAt: Optional[float]) -> None:
        keyColumns, columns = TABLES[table]
        keys = ", ".join(columns[:keyColumns])
        self.statement = (
            "DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s WHERE %s LIMIT %%s "
            "FOR UPDATE SKIP LOCKED)" % (table, keys, keys, table, condition))
        self.params = (limit, size)
        self.countAt = countAt

    def __call__(self, db: psycopg.Connection) -> int:
        deleted = db.execute(self.statement, self.params).rowcount
        if deleted and self.countAt is not None:
            _addOutcomes(db, [(NEVER_RETRIED, deleted)], self.countAt)
        return deleted


def _addOutcomes(db: psycopg.Connection, pairs: list[tuple[str, int]], now: float) -> None:
    hour = int(hourStart(now))
    for outcome, count in pairs:
        db.execute(
            "INSERT INTO outcome_history (hour, outcome, count) VALUES (%s, %s, %s) "
            "ON CONFLICT (hour, outcome) DO UPDATE "
            "SET count = outcome_history.count + excluded.count", (hour, outcome, count))


def _setMeta(db: psycopg.Connection, name: str, value: str) -> None:
    db.execute("INSERT INTO meta (name, value) VALUES (%s, %s) "
               "ON CONFLICT (name) DO UPDATE SET value=excluded.value", (name, value))


def _oneLine(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
