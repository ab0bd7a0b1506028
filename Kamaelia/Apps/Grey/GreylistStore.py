"""
Kamaelia.Apps.Grey.GreylistStore: the greylist in SQLite
========================================================

Keeps the greylist of Kamaelia Grey in an SQLite database file and applies
the decision of ``Kamaelia.Apps.Grey.GreylistVerdict`` to it: one call per
(client, sender, recipient) triplet says whether the message may pass and
records the attempt.

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
    print(store.expire(now=1000.0 + 4000000))   # Expired(attempts=0, passed=1)
    store.close()

How does it work?
-----------------
One table, ``greylist``, has a row per triplet key (see ``tripletKey``;
``keyMode`` chooses the original exact key or the normalised one) with the
time of the first attempt of the current run and the time of the last pass.
The database runs in WAL mode with ``synchronous=NORMAL``: a committed check
survives the process being killed (``kill -9``); after a power failure the
last few checks may be lost, which only means those senders are greylisted
once more.

``check(ip, sender, recipient, now)`` reads the row, calls ``decide()`` and
writes the new row inside one ``BEGIN IMMEDIATE`` transaction, so two
processes (for example two greylisters, or a greylister and an expiry job)
sharing the file never interleave a read and a write of the same triplet.
A writer waiting for another one waits at most ``timeout`` seconds, then
``sqlite3.OperationalError`` ("database is locked") is raised: callers treat
that like any internal error and defer the message.

``expire(now)`` deletes the attempts that never passed and are older than
``max_defer`` (a retry would restart them anyway) and the passed triplets
unused for more than ``max_grey``; it returns the two counts. ``stats()``
counts the rows.

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
timings (the ``profile``), ``greylist_key`` (``keyMode``) and
``import_dbm_dir`` in greylist.conf.
"""

from __future__ import annotations

import ast
import dbm
import logging
import math
import os
import sqlite3
import threading
from typing import NamedTuple, Optional

from Kamaelia.Apps.Grey.GreylistVerdict import (
    KAMAELIA,
    KEY_MODES,
    Record,
    TimingProfile,
    Verdict,
    decide,
    tripletKey,
)

__all__ = ["GreylistStore", "Expired", "SCHEMA_VERSION"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_CREATE = """
CREATE TABLE IF NOT EXISTS greylist (
    ip         TEXT NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    first_seen REAL,
    last_pass  REAL,
    PRIMARY KEY (ip, sender, recipient)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS greylist_pending
    ON greylist (first_seen) WHERE last_pass IS NULL;
CREATE INDEX IF NOT EXISTS greylist_passed
    ON greylist (last_pass) WHERE last_pass IS NOT NULL;
"""


class Expired(NamedTuple):
    """How many rows ``expire()`` removed."""

    attempts: int
    passed: int


class GreylistStore:
    """The greylist, in an SQLite file (see the module docstring)."""

    def __init__(self, path: str, profile: TimingProfile = KAMAELIA,
                 keyMode: str = "kamaelia", timeout: float = 5.0) -> None:
        if keyMode not in KEY_MODES:
            raise ValueError("unknown key mode %r (expected one of %s)"
                             % (keyMode, ", ".join(KEY_MODES)))
        self.path = path
        self.profile = profile
        self.keyMode = keyMode
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
        try:
            self._setUp()
        except BaseException:
            self._db.close()
            raise

    def _setUp(self) -> None:
        db = self._db
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal" and self.path != ":memory:":
            _log.warning("%s: SQLite refused WAL mode (journal_mode=%s)",
                         self.path, mode)
        db.execute("PRAGMA synchronous=NORMAL")
        if self._schemaVersion() == SCHEMA_VERSION:
            return
        with self._transaction():
            if self._schemaVersion() < SCHEMA_VERSION:
                for statement in _CREATE.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)

    def _schemaVersion(self) -> int:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError("%s: greylist schema version %d is newer "
                               "than this program's (%d)"
                               % (self.path, version, SCHEMA_VERSION))
        return version

    def _transaction(self):
        return _Transaction(self._db)

    def check(self, ip: str, sender: str, recipient: str, now: float) -> Verdict:
        """Decide one delivery attempt and record it (one transaction)."""
        key = tripletKey(ip, sender, recipient, self.keyMode)
        with self._lock, self._transaction():
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

    def lookup(self, ip: str, sender: str, recipient: str) -> Optional[Record]:
        """The stored record of a triplet, or ``None``; changes nothing."""
        key = tripletKey(ip, sender, recipient, self.keyMode)
        with self._lock:
            row = self._db.execute(
                "SELECT first_seen, last_pass FROM greylist "
                "WHERE ip=? AND sender=? AND recipient=?", key).fetchone()
        return Record(*row) if row is not None else None

    def expire(self, now: float) -> Expired:
        """Delete stale attempts and long-unused passed triplets."""
        with self._lock, self._transaction():
            attempts = self._db.execute(
                "DELETE FROM greylist WHERE last_pass IS NULL AND first_seen < ?",
                (now - self.profile.max_defer,)).rowcount
            passed = self._db.execute(
                "DELETE FROM greylist WHERE last_pass IS NOT NULL AND last_pass < ?",
                (now - self.profile.max_grey,)).rowcount
        return Expired(attempts, passed)

    def stats(self) -> dict:
        """Row counts: ``triplets`` (all), ``passed`` and ``pending``."""
        with self._lock:
            total, passed = self._db.execute(
                "SELECT COUNT(*), COUNT(last_pass) FROM greylist").fetchone()
        return {"triplets": total, "passed": passed, "pending": total - passed,
                "path": self.path, "keyMode": self.keyMode,
                "profile": self.profile}

    def importDbm(self, directory: str) -> int:
        """Import Kamaelia Grey 1.x's dbm files from ``directory``."""
        imported: dict[tuple, list] = {}
        for name, column in (("attempters.dbm", 0), ("greylisted.dbm", 1)):
            for key, when in _readDbm(os.path.join(directory, name)):
                ip, sender, recipient = key
                triplet = tripletKey(ip, sender, recipient, mode=self.keyMode)
                times = imported.setdefault(triplet, [None, None])
                old = times[column]
                if old is None:
                    times[column] = when
                else:
                    times[column] = min(old, when) if column == 0 else max(old, when)
        if not imported:
            return 0
        count = 0
        with self._lock, self._transaction():
            for triplet, (firstSeen, lastPass) in imported.items():
                count += self._db.execute(
                    "INSERT OR IGNORE INTO greylist "
                    "(ip, sender, recipient, first_seen, last_pass) "
                    "VALUES (?, ?, ?, ?, ?)",
                    triplet + (firstSeen, lastPass)).rowcount
        _log.info("imported %d of %d triplets from dbm files in %s",
                  count, len(imported), directory)
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
        return "GreylistStore(%r, keyMode=%r)" % (self.path, self.keyMode)


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
