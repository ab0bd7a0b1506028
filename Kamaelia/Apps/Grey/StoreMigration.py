"""
Kamaelia.Apps.Grey.StoreMigration: copy a greylist from one store to another
============================================================================

Moves a site from one SQLite file per host to a shared PostgreSQL database
(and back): every triplet, auto-whitelist entry and hour of outcome history
is copied as stored.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Config import loadConfig
    from Kamaelia.Apps.Grey.StoreMigration import runMigration

    status = runMigration("/var/lib/kamaelia-grey/greylist.sqlite",
                          "postgresql://grey@db.example.org/greylist",
                          loadConfig("/etc/kamaelia-grey/greylist.conf"))
    # logs e.g. "greylist: 1200 rows read, 1200 added"; status 0 on success

    # or with stores already open:
    from Kamaelia.Apps.Grey.StoreMigration import migrateStore
    added = migrateStore(sqliteStore, postgresStore)   # {"greylist": 1200, ...}

How does it work?
-----------------
``migrateStore(source, target)`` reads each table of
``GreylistStore.TABLES`` from the source in key order (``iterRows``, in
batches) and inserts into the target the rows whose key is not there yet
(``loadRows``). Keys are copied as they are stored -- normalised or hashed
already -- so both stores must use the same key mode and privacy, or every
copied triplet would be unreachable: ``MigrationRefused`` is raised if they
differ. A row already in the target is kept as it is, so a second run
changes nothing, and merging several hosts' files into one database keeps
the first copy of each triplet.

``runMigration(fromLocation, toLocation, config)`` is the command line's
``--migrate-store FROM TO``: it reads, without changing them, the key mode
and privacy each location was last used with and refuses (status 2) if
either differs from ``config``'s ``greylist_key`` and ``privacy`` (opening a
store would overwrite them), or if the source does not exist or is the
target; otherwise it opens both, migrates and logs the counts. A database
error gives status 1, with the reason logged (passwords redacted).

Configuration
-------------
``greylist_key`` and ``privacy`` in greylist.conf.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Optional

from Kamaelia.Apps.Grey.Config import DEFAULT_CONFIG
from Kamaelia.Apps.Grey.GreylistStore import TABLES
from Kamaelia.Apps.Grey.GreylistStore import recordedSettings as recordedFileSettings
from Kamaelia.Apps.Grey.Stores import (
    GreylistStoreInterface,
    describeLocation,
    isPostgresLocation,
    openStore,
)

__all__ = ["migrateStore", "runMigration", "MigrationRefused"]

_log = logging.getLogger(__name__)

OK, FAILED, REFUSED = 0, 1, 2


class MigrationRefused(ValueError):
    """The two stores cannot share rows (key mode or privacy differ)."""


class _Counted:
    """An iterable that counts what passes through it."""

    def __init__(self, rows: Iterable[tuple]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple]:
        for row in self.rows:
            self.count += 1
            yield row


def migrateStore(source: GreylistStoreInterface,
                 target: GreylistStoreInterface) -> dict[str, int]:
    """Copy every row of ``source`` missing from ``target``; rows added per table."""
    for name in ("keyMode", "privacy"):
        if getattr(source, name) != getattr(target, name):
            raise MigrationRefused("cannot migrate between stores of different %s (%r, %r)"
                                   % (name, getattr(source, name), getattr(target, name)))
    added = {}
    for table in TABLES:
        rows = _Counted(source.iterRows(table))
        added[table] = target.loadRows(table, rows)
        _log.info("%s: %d rows read, %d added (%d already there)",
                  table, rows.count, added[table], rows.count - added[table])
    return added


def _recorded(location: str, timeout: float) -> Optional[dict[str, str]]:
    if isPostgresLocation(location):
        from Kamaelia.Apps.Grey.PostgresStore import recordedSettings
        return recordedSettings(location, timeout)
    return recordedFileSettings(location)


def _mismatch(recorded: Optional[dict[str, str]], wanted: dict[str, str]) -> list[str]:
    return ["%s is %s there, %s in the configuration" % (name, recorded[name], value)
            for name, value in wanted.items()
            if recorded and name in recorded and recorded[name] != value]


def runMigration(fromLocation: str, toLocation: str, config: Mapping[str, Any],
                 timeout: float = 30.0) -> int:
    """Copy the greylist at ``fromLocation`` into ``toLocation``; an exit status.

    0: done; 1: a database error; 2: refused (see the module docstring).
    """
    source, target = describeLocation(fromLocation), describeLocation(toLocation)
    keyMode = config.get("greylist_key", DEFAULT_CONFIG["greylist_key"])
    privacy = bool(config.get("privacy", DEFAULT_CONFIG["privacy"]))
    wanted = {"key_mode": keyMode, "privacy": "yes" if privacy else "no"}
    if source == target:
        _log.error("migrate-store: %s is both the source and the target", source)
        return REFUSED
    stores: list[GreylistStoreInterface] = []
    try:
        found = _recorded(fromLocation, timeout)
        if found is None:
            _log.error("migrate-store: %s holds no greylist", source)
            return REFUSED
        problems = ([("source", p) for p in _mismatch(found, wanted)]
                    + [("target", p) for p in _mismatch(_recorded(toLocation, timeout),
                                                        wanted)])
        if problems:
            for which, problem in problems:
                _log.error("migrate-store: %s %s: %s",
                           which, source if which == "source" else target, problem)
            return REFUSED
        for location in (fromLocation, toLocation):
            stores.append(openStore(location, keyMode=keyMode, privacy=privacy,
                                    timeout=timeout))
        added = migrateStore(stores[0], stores[1])
    except MigrationRefused as error:
        _log.error("migrate-store: %s", error)
        return REFUSED
    except (sqlite3.Error, RuntimeError, OSError) as error:
        _log.error("migrate-store from %s to %s failed: %s", source, target, error)
        return FAILED
    finally:
        for store in stores:
            store.close()
    _log.info("migrate-store: %s -> %s: %d triplets, %d client and %d domain "
              "auto-whitelist entries, %d history buckets added",
              source, target, added["greylist"], added["client_awl"],
              added["domain_awl"], added["outcome_history"])
    return OK
