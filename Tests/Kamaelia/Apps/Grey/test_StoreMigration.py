"""Copying a greylist between SQLite and PostgreSQL (StoreMigration).

Real stores on both sides: an SQLite file and a database on the private
PostgreSQL server of ``conftest.pgCluster``.
"""

import logging
import sqlite3

import pytest

from Kamaelia.Apps.Grey.GreylistStore import TABLES, GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import AwlParameters, Record
from Kamaelia.Apps.Grey.StoreMigration import MigrationRefused, migrateStore, runMigration
from Kamaelia.Apps.Grey.Stores import openStore

T0 = 1_700_000_000.0
IP, SENDER = "192.0.2.7", "<alice@example.org>"
AWL = AwlParameters(clients=2, domains=True)


@pytest.fixture
def sqlitePath(tmp_path):
    return str(tmp_path / "greylist.sqlite")


def fill(store):
    """Triplets pending and passed, client and domain AWL entries, history."""
    for n in range(3):
        store.checkMessage(IP, "<s%d@lists.example>" % n, ["<r%d@x>" % n], T0)
        store.checkMessage(IP, "<s%d@lists.example>" % n, ["<r%d@x>" % n], T0 + 3600 * (n + 1))
    store.check("198.51.100.1", SENDER, "<pending@x>", T0 + 0.125)
    store.countOutcomes({"deferred": 4, "passed": 3}, T0)
    store.countOutcomes({"refused": 1}, T0 + 7200)


def everything(store):
    return {table: list(store.iterRows(table)) for table in TABLES}


def test_sqlite_to_postgresql_and_back_copies_every_row(sqlitePath, pgDatabase, tmp_path):
    back = str(tmp_path / "back.sqlite")
    with openStore(sqlitePath, awl=AWL) as source, openStore(pgDatabase, awl=AWL) as shared:
        fill(source)
        expected = everything(source)
        assert all(expected.values()), "every table has rows to copy"
        added = migrateStore(source, shared)
        assert added == {table: len(rows) for table, rows in expected.items()}
        assert everything(shared) == expected
        assert shared.lookup(IP, "<s0@lists.example>", "<r0@x>") == Record(T0, T0 + 3600)
        assert shared.checkMessage("192.0.2.99", "<new@y>", ["<z@x>"],
                                   T0 + 4 * 3600).autoWhitelisted == "client"
        with openStore(back, awl=AWL) as again:
            migrateStore(shared, again)
            assert everything(again) == everything(shared)


def test_a_second_run_changes_nothing(sqlitePath, pgDatabase):
    with openStore(sqlitePath, awl=AWL) as source, openStore(pgDatabase, awl=AWL) as target:
        fill(source)
        migrateStore(source, target)
        before = everything(target)
        assert migrateStore(source, target) == dict.fromkeys(TABLES, 0)
        assert everything(target) == before


def test_rows_already_in_the_target_are_kept(sqlitePath, pgDatabase):
    with openStore(sqlitePath) as source, openStore(pgDatabase) as target:
        source.check(IP, SENDER, "<a@x>", T0)
        source.check(IP, SENDER, "<b@x>", T0)
        target.check(IP, SENDER, "<a@x>", T0 + 50)
        assert migrateStore(source, target)["greylist"] == 1
        assert target.lookup(IP, SENDER, "<a@x>") == Record(T0 + 50, None)
        assert target.lookup(IP, SENDER, "<b@x>") == Record(T0, None)


def test_more_rows_than_a_batch_are_all_copied(sqlitePath, pgDatabase):
    rows = [("192.0.2.%d" % (n % 250), "<s%d@x>" % n, "<r@x>", T0 + n, None)
            for n in range(2500)]
    with openStore(sqlitePath) as source, openStore(pgDatabase) as target:
        assert source.loadRows("greylist", rows) == 2500
        assert migrateStore(source, target)["greylist"] == 2500
        assert sorted(target.iterRows("greylist")) == sorted(rows)


@pytest.mark.parametrize("change", [{"keyMode": "normalized"}, {"privacy": True}])
def test_stores_of_different_key_mode_or_privacy_are_refused(sqlitePath, tmp_path, change):
    with openStore(sqlitePath) as source, openStore(str(tmp_path / "t.sqlite"), **change) as target:
        source.check(IP, SENDER, "<a@x>", T0)
        with pytest.raises(MigrationRefused, match="different"):
            migrateStore(source, target)
        assert list(target.iterRows("greylist")) == []


def meta(path):
    raw = sqlite3.connect(path)
    try:
        return dict(raw.execute("SELECT name, value FROM meta"))
    finally:
        raw.close()


def test_run_migration_copies_and_logs_counts(sqlitePath, pgDatabase, caplog):
    with openStore(sqlitePath, awl=AWL) as source:
        fill(source)
    with caplog.at_level(logging.INFO, logger="Kamaelia.Apps.Grey.StoreMigration"):
        assert runMigration(sqlitePath, pgDatabase, {}) == 0
    assert any("3 triplets, 1 client and 1 domain auto-whitelist entries, 3 history buckets"
               in r.getMessage() for r in caplog.records)
    with openStore(pgDatabase) as target:
        assert target.stats()["triplets"] == 3
    assert runMigration(sqlitePath, pgDatabase, {}) == 0


def test_run_migration_refuses_a_source_of_another_key_mode_and_leaves_it_alone(
        sqlitePath, pgDatabase, caplog):
    with GreylistStore(sqlitePath, keyMode="normalized") as source:
        source.check(IP, SENDER, "<a@x>", T0)
    with caplog.at_level(logging.ERROR):
        assert runMigration(sqlitePath, pgDatabase, {"greylist_key": "kamaelia"}) == 2
    assert any("key_mode is normalized there, kamaelia in the configuration" in r.getMessage()
               for r in caplog.records)
    assert meta(sqlitePath)["key_mode"] == "normalized"
    assert runMigration(sqlitePath, pgDatabase, {"greylist_key": "normalized"}) == 0


def test_run_migration_refuses_a_target_of_other_privacy(sqlitePath, pgDatabase):
    with openStore(sqlitePath) as source:
        source.check(IP, SENDER, "<a@x>", T0)
    openStore(pgDatabase, privacy=True).close()
    assert runMigration(sqlitePath, pgDatabase, {}) == 2
    with openStore(pgDatabase, privacy=True) as target:
        assert target.stats()["triplets"] == 0


def test_run_migration_refuses_a_missing_source_or_itself(sqlitePath, tmp_path):
    assert runMigration(str(tmp_path / "none.sqlite"), sqlitePath, {}) == 2
    openStore(sqlitePath).close()
    assert runMigration(sqlitePath, sqlitePath, {}) == 2


def test_an_unreachable_database_fails_with_status_1_and_no_password(sqlitePath, caplog):
    openStore(sqlitePath).close()
    dead = "postgresql://grey:s3cr3t@127.0.0.1:1/greylist"
    with caplog.at_level(logging.DEBUG):
        assert runMigration(sqlitePath, dead, {}, timeout=2) == 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "failed" in logged and "s3cr3t" not in logged


def test_a_file_that_is_not_a_greylist_fails_with_status_1(tmp_path, sqlitePath):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert runMigration(str(junk), sqlitePath, {}) == 1
