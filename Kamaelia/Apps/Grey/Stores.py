"""
Kamaelia.Apps.Grey.Stores: one interface for every greylist store
=================================================================

Kamaelia Grey keeps its greylist either in an SQLite file
(``GreylistStore``, the embedded default) or in a PostgreSQL database that
several MX hosts share (``PostgresStore``). Both have the methods of
``GreylistStoreInterface``; ``openStore`` picks one from the ``greylist_db``
setting.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.GreylistVerdict import DEFAULT_AWL, POSTGREY
    from Kamaelia.Apps.Grey.Stores import openStore

    store = openStore("/var/lib/kamaelia-grey/greylist.sqlite", POSTGREY)
    shared = openStore("postgresql://grey@db.example.org/greylist?passfile=/etc/grey.pgpass",
                       POSTGREY, keyMode="normalized", awl=DEFAULT_AWL, timeout=3.0)
    print(shared)     # PostgresStore('postgresql://grey@db.example.org/greylist?...')

How does it work?
-----------------
A location that starts with ``postgresql://`` or ``postgres://`` is a libpq
URL and opens a ``PostgresStore`` (psycopg is imported only then); anything
else is a file path for a ``GreylistStore``. Both are given the same timing
profile, key mode, privacy and auto-whitelist limits, and ``timeout``: how
long one call may wait for the database (SQLite: a writer's lock;
PostgreSQL: the pool, connecting and each statement).

A password written in the URL is accepted, but ``describeLocation`` (and
the stores' ``repr`` and ``stats()["path"]``) show it as ``***``; put it in
``~/.pgpass``, ``PGPASSFILE`` or a file named by ``?passfile=`` instead.

Errors: a store raises an exception when the database fails
(``sqlite3.Error``, or ``StoreError`` from PostgreSQL); callers defer the
message. ``STORE_ERRORS`` is the tuple of both, for an ``except``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Optional, Protocol

from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import (
    DEFAULT_AWL,
    KAMAELIA,
    AwlParameters,
    AwlRecord,
    DomainAwlRecord,
    Expired,
    MessageVerdict,
    Record,
    TimingProfile,
    Verdict,
)

__all__ = ["GreylistStoreInterface", "openStore", "isPostgresLocation",
           "describeLocation", "StoreError", "STORE_ERRORS"]


class StoreError(RuntimeError):
    """The database could not do what was asked (down, slow, or refused the data)."""


STORE_ERRORS = (sqlite3.Error, StoreError)

_SCHEMES = ("postgresql://", "postgres://")


class GreylistStoreInterface(Protocol):
    """What every greylist store offers (``GreylistStore``, ``PostgresStore``)."""

    profile: TimingProfile
    keyMode: str
    privacy: bool
    awl: AwlParameters
    path: str

    def check(self, ip: str, sender: str, recipient: str, now: float) -> Verdict: ...

    def checkMessage(self, ip: str, sender: str, recipients: Iterable[str],
                     now: float) -> MessageVerdict: ...

    def lookup(self, ip: str, sender: str, recipient: str) -> Optional[Record]: ...

    def lookupClient(self, ip: str) -> Optional[AwlRecord]: ...

    def lookupDomain(self, ip: str, sender: str) -> Optional[DomainAwlRecord]: ...

    def expire(self, now: float) -> Expired: ...

    def stats(self) -> dict: ...

    def countOutcomes(self, counts: Mapping[str, int], now: float) -> None: ...

    def outcomeHistory(self, since: float,
                       until: float) -> list[tuple[float, str, int]]: ...

    def summary(self, now: float) -> dict: ...

    def iterRows(self, table: str, batch: int = 1000) -> Iterator[tuple]: ...

    def loadRows(self, table: str, rows: Iterable[tuple]) -> int: ...

    def importDbm(self, directory: str) -> int: ...

    def close(self) -> None: ...


def isPostgresLocation(location: str) -> bool:
    """True if ``location`` names a PostgreSQL database (a libpq URL)."""
    return location.lower().startswith(_SCHEMES)


def describeLocation(location: str) -> str:
    """``location`` fit for a log line: a URL's password becomes ``***``."""
    if isPostgresLocation(location):
        from Kamaelia.Apps.Grey.PostgresStore import redactLocation
        return redactLocation(location)
    return location


def openStore(location: str, profile: TimingProfile = KAMAELIA,
              keyMode: str = "kamaelia", privacy: bool = False,
              awl: AwlParameters = DEFAULT_AWL,
              timeout: float = 5.0) -> GreylistStoreInterface:
    """A ``PostgresStore`` for a ``postgresql://`` URL, else a ``GreylistStore``."""
    if isPostgresLocation(location):
        from Kamaelia.Apps.Grey.PostgresStore import PostgresStore
        return PostgresStore(location, profile, keyMode, timeout=timeout,
                             privacy=privacy, awl=awl)
    return GreylistStore(location, profile, keyMode, timeout=timeout,
                         privacy=privacy, awl=awl)
