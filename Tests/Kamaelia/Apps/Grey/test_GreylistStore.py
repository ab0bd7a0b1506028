"""Tests for Kamaelia.Apps.Grey.GreylistStore: the SQLite greylist."""

import dbm
import json
import logging
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading

import pytest

from Kamaelia.Apps.Grey.GreylistStore import SCHEMA_VERSION, Expired, GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import (
    KAMAELIA,
    POSTGREY,
    AwlParameters,
    AwlRecord,
    Record,
    keyDigest,
)

T0 = 1_700_000_000.0
IP, SENDER, RCPT = "192.0.2.7", "<alice@example.org>", "<bob@example.net>"


@pytest.fixture
def dbpath(tmp_path):
    return str(tmp_path / "greylist.sqlite")


@pytest.fixture
def store(dbpath):
    s = GreylistStore(dbpath)
    yield s
    s.close()


def readLine(proc, deadline=30.0):
    """One line of the child's stdout, failing the test after ``deadline`` s."""
    ready, _, _ = select.select([proc.stdout], [], [], deadline)
    assert ready, "child process did not answer in time"
    return proc.stdout.readline()


def test_full_state_machine_through_the_store(store):
    """new -> too soon reset -> early -> pass -> refresh -> expired, all persisted."""
    times_reasons = [
        (T0, "new"),
        (T0 + 60, "too soon, clock reset"),
        (T0 + 60 + 600, "early retry (3000 s to go)"),
        (T0 + 60 + 3600, "passed"),
        (T0 + 60 + 3600 + 86400, "known (refreshed)"),
        (T0 + 60 + 3600 + 86400 + 3_000_001, "expired"),
    ]
    for now, reason in times_reasons:
        verdict = store.check(IP, SENDER, RCPT, now)
        assert verdict.reason == reason
        assert store.lookup(IP, SENDER, RCPT) == verdict.record
    assert verdict.key == (IP, SENDER, RCPT)


def test_too_late_retry_restarts_in_the_store(store):
    assert store.check(IP, SENDER, RCPT, T0).reason == "new"
    assert store.check(IP, SENDER, RCPT, T0 + 30000).reason == "too late, restarted"
    assert store.lookup(IP, SENDER, RCPT) == Record(T0 + 30000, None)
    assert store.check(IP, SENDER, RCPT, T0 + 33600).passed


def test_triplets_are_independent_and_keys_are_exact_by_default(store):
    store.check(IP, SENDER, RCPT, T0)
    assert store.check(IP, SENDER, "<carol@example.net>", T0 + 3600).reason == "new"
    assert store.check(IP, "<Alice@example.org>", RCPT, T0 + 3600).reason == "new"
    assert store.check(IP, SENDER, RCPT, T0 + 3600).passed


def test_database_is_in_wal_mode(store, dbpath):
    other = sqlite3.connect(dbpath)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_state_survives_close_and_reopen(dbpath):
    with GreylistStore(dbpath) as first:
        first.check(IP, SENDER, RCPT, T0)
    with GreylistStore(dbpath) as second:
        assert second.lookup(IP, SENDER, RCPT) == Record(T0, None)
        assert second.check(IP, SENDER, RCPT, T0 + 3600).reason == "passed"
    with GreylistStore(dbpath) as third:
        assert third.check(IP, SENDER, RCPT, T0 + 7200).reason == "known (refreshed)"


CHILD_WRITER = r"""
import sys
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
store = GreylistStore(sys.argv[1])
for i in range(20):
    store.check("192.0.2.%d" % i, "<a@example.org>", "<b@example.net>", 1000.0)
store.check("192.0.2.1", "<a@example.org>", "<b@example.net>", 4600.0)
sys.stdout.write("written\n")
sys.stdout.flush()
sys.stdin.read()
"""


def test_committed_checks_survive_kill_minus_9(dbpath):
    proc = subprocess.Popen([sys.executable, "-c", CHILD_WRITER, dbpath],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert readLine(proc) == "written\n"
        assert os.path.exists(dbpath + "-wal")   # nothing checkpointed on close
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()
    with GreylistStore(dbpath) as store:
        assert store.stats()["triplets"] == 20
        assert store.lookup("192.0.2.1", "<a@example.org>", "<b@example.net>") == \
            Record(1000.0, 4600.0)
        assert store.check("192.0.2.5", "<a@example.org>", "<b@example.net>",
                           4600.0).reason == "passed"


def test_two_connections_on_one_file_see_each_other(dbpath):
    with GreylistStore(dbpath) as a, GreylistStore(dbpath) as b:
        assert a.check(IP, SENDER, RCPT, T0).reason == "new"
        assert b.check(IP, SENDER, RCPT, T0 + 3600).reason == "passed"
        assert a.check(IP, SENDER, RCPT, T0 + 3700).reason == "known (refreshed)"


CHILD_RACER = r"""
import json, sys
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
store = GreylistStore(sys.argv[1], timeout=30)
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
reasons = [store.check("198.51.100.%d" % (i % 250), "<s%d@example.org>" % i,
                       "<r@example.net>", 1000.0).reason for i in range(300)]
sys.stdout.write(json.dumps(reasons) + "\n"); sys.stdout.flush()
"""


def test_two_processes_never_both_see_a_triplet_as_new(dbpath):
    """Read-decide-write is one transaction: each triplet is 'new' exactly once."""
    GreylistStore(dbpath).close()
    proc = subprocess.Popen([sys.executable, "-c", CHILD_RACER, dbpath],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert readLine(proc) == "ready\n"
        with GreylistStore(dbpath, timeout=30) as store:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            mine = [store.check("198.51.100.%d" % (i % 250), "<s%d@example.org>" % i,
                                "<r@example.net>", 1000.0).reason for i in range(300)]
            theirs = json.loads(readLine(proc))
            assert proc.wait(timeout=30) == 0
            for own, other in zip(mine, theirs):
                assert sorted([own, other]) == ["new", "too soon, clock reset"]
            assert store.stats()["triplets"] == 300
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()


def test_created_in_one_thread_used_from_several(store):
    """check_same_thread is off and a lock serialises the threads."""
    results, errors = [], []

    def worker():
        try:
            for i in range(50):
                results.append(store.check("203.0.113.%d" % i, SENDER, RCPT, T0).reason)
        except Exception as error:   # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert results.count("new") == 50
    assert results.count("too soon, clock reset") == 150
    assert store.stats()["triplets"] == 50


def test_a_locked_database_fails_after_the_timeout_instead_of_hanging(dbpath):
    GreylistStore(dbpath).close()
    holder = sqlite3.connect(dbpath, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with GreylistStore(dbpath, timeout=0.1) as store:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                store.check(IP, SENDER, RCPT, T0)
            holder.execute("ROLLBACK")
            assert store.check(IP, SENDER, RCPT, T0).reason == "new"
    finally:
        holder.close()


def test_expire_removes_stale_attempts_and_unused_passes(store):
    now = T0 + 10_000_000
    store.check("192.0.2.1", SENDER, RCPT, now - 25001)          # stale attempt
    store.check("192.0.2.2", SENDER, RCPT, now - 24999)          # young attempt
    store.check("192.0.2.3", SENDER, RCPT, now - 3_000_001 - 3600)
    store.check("192.0.2.3", SENDER, RCPT, now - 3_000_001)      # passed, unused too long
    store.check("192.0.2.4", SENDER, RCPT, now - 2_999_999 - 3600)
    store.check("192.0.2.4", SENDER, RCPT, now - 2_999_999)      # passed, still fresh
    assert store.stats()["triplets"] == 4
    assert store.expire(now) == Expired(attempts=1, passed=1)
    assert store.lookup("192.0.2.1", SENDER, RCPT) is None
    assert store.lookup("192.0.2.3", SENDER, RCPT) is None
    assert store.lookup("192.0.2.2", SENDER, RCPT) is not None
    assert store.lookup("192.0.2.4", SENDER, RCPT) is not None
    assert store.expire(now) == Expired(0, 0)


def test_expire_uses_the_store_profile(dbpath):
    with GreylistStore(dbpath, profile=POSTGREY) as store:
        store.check(IP, SENDER, RCPT, T0)
        assert store.expire(T0 + 172800) == Expired(0, 0)
        assert store.expire(T0 + 172801) == Expired(1, 0)


def test_stats_counts_rows(store):
    store.check("192.0.2.1", SENDER, RCPT, T0)
    store.check("192.0.2.2", SENDER, RCPT, T0)
    store.check("192.0.2.2", SENDER, RCPT, T0 + 3600)
    stats = store.stats()
    assert (stats["triplets"], stats["passed"], stats["pending"]) == (2, 1, 1)
    assert stats["keyMode"] == "kamaelia" and stats["profile"] == KAMAELIA


def test_normalized_keys_match_retries_from_the_same_network(dbpath):
    with GreylistStore(dbpath, keyMode="normalized") as store:
        first = store.check("192.0.2.10", "<bounce-1001@lists.example.org>",
                            "<Bob@Example.net>", T0)
        assert first.reason == "new"
        assert first.key == ("192.0.2.0/24", "bounce-#@lists.example.org",
                             "bob@example.net")
        retry = store.check("192.0.2.99", "<bounce-1002@lists.example.org>",
                            "<bob@example.net>", T0 + 3600)
        assert retry.reason == "passed"
        v6 = store.check("2001:db8::1", "<a@example.org>", "<b@example.net>", T0)
        assert v6.key[0] == "2001:db8::/64"


def test_unknown_key_mode_is_rejected(dbpath):
    with pytest.raises(ValueError, match="unknown key mode"):
        GreylistStore(dbpath, keyMode="hashed")


def test_newer_schema_version_is_refused(dbpath):
    raw = sqlite3.connect(dbpath)
    raw.execute("PRAGMA user_version=99")
    raw.commit()
    raw.close()
    with pytest.raises(RuntimeError, match="newer"):
        GreylistStore(dbpath)


def test_use_after_close_raises(dbpath):
    store = GreylistStore(dbpath)
    store.close()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.check(IP, SENDER, RCPT, T0)


# -- importing Kamaelia Grey 1.x dbm files -----------------------------------

def makeDbm(path, entries):
    db = dbm.open(str(path), "c")
    try:
        for key, value in entries.items():
            db[key] = value
    finally:
        db.close()


def test_import_dbm_reads_python2_and_python3_keys(tmp_path, store):
    makeDbm(tmp_path / "greylisted.dbm", {
        repr(("192.0.2.1", "<a@x>", "<b@y>")): str(T0 + 3600),
        repr((b"192.0.2.2", b"<c@x>", b"<d@y>")): str(T0 + 10),
        repr(repr(("192.0.2.3", "<e@x>", "<f@y>")).encode()): "1700000000.5",
    })
    makeDbm(tmp_path / "attempters.dbm", {
        repr(("192.0.2.1", "<a@x>", "<b@y>")): str(T0),
        "(u'192.0.2.4', u'<g@x>', u'<h@y>')": str(T0 + 20),
    })
    assert store.importDbm(str(tmp_path)) == 4
    assert store.lookup("192.0.2.1", "<a@x>", "<b@y>") == Record(T0, T0 + 3600)
    assert store.lookup("192.0.2.2", "<c@x>", "<d@y>") == Record(None, T0 + 10)
    assert store.lookup("192.0.2.3", "<e@x>", "<f@y>") == Record(None, 1700000000.5)
    assert store.lookup("192.0.2.4", "<g@x>", "<h@y>") == Record(T0 + 20, None)
    assert store.check("192.0.2.2", "<c@x>", "<d@y>", T0 + 100).reason == "known (refreshed)"
    assert store.check("192.0.2.4", "<g@x>", "<h@y>", T0 + 3620).reason == "passed"


def test_import_dbm_never_overwrites_known_triplets(tmp_path, store):
    store.check("192.0.2.1", "<a@x>", "<b@y>", T0 + 500)
    makeDbm(tmp_path / "greylisted.dbm", {
        repr(("192.0.2.1", "<a@x>", "<b@y>")): str(T0),
        repr(("192.0.2.9", "<a@x>", "<b@y>")): str(T0),
    })
    assert store.importDbm(str(tmp_path)) == 1
    assert store.lookup("192.0.2.1", "<a@x>", "<b@y>") == Record(T0 + 500, None)
    assert store.importDbm(str(tmp_path)) == 0


def test_import_dbm_skips_corrupt_entries_with_a_warning(tmp_path, store, caplog):
    makeDbm(tmp_path / "attempters.dbm", {
        "not a tuple(": str(T0),
        repr(("only", "two")): str(T0),
        repr(("192.0.2.1", 5, "<b@y>")): str(T0),
        repr(("192.0.2.2", "<a@x>", "<b@y>")): "yesterday",
        repr(("192.0.2.3", "<a@x>", "<b@y>")): "nan",
        repr(("192.0.2.4", "<a@x>", "<b@y>")): str(T0),
    })
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Apps.Grey.GreylistStore"):
        assert store.importDbm(str(tmp_path)) == 1
    assert store.lookup("192.0.2.4", "<a@x>", "<b@y>") == Record(T0, None)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    assert all("skipping" in r.getMessage() for r in warnings)


def test_import_dbm_without_files_imports_nothing(tmp_path, store):
    assert store.importDbm(str(tmp_path)) == 0
    assert store.importDbm(str(tmp_path / "no-such-dir")) == 0


def test_import_dbm_ignores_a_file_that_is_not_a_dbm(tmp_path, store, caplog):
    (tmp_path / "greylisted.dbm").write_bytes(b"\x00garbage that no dbm writes")
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Apps.Grey.GreylistStore"):
        assert store.importDbm(str(tmp_path)) == 0
    assert any("not a dbm file" in r.getMessage() for r in caplog.records)


def test_import_dbm_with_normalized_keys_merges_triplets(tmp_path, dbpath):
    makeDbm(tmp_path / "greylisted.dbm", {
        repr(("192.0.2.1", "<A@x>", "<b@y>")): str(T0 + 50),
        repr(("192.0.2.2", "<a@x>", "<B@y>")): str(T0 + 90),
    })
    with GreylistStore(dbpath, keyMode="normalized") as store:
        assert store.importDbm(str(tmp_path)) == 1
        assert store.lookup("192.0.2.77", "a@x", "b@y") == Record(None, T0 + 90)


# -- schema versions and migration ---------------------------------------------

# Kamaelia Grey 2.0's first schema, as it was written to disk (version 1).
SCHEMA_V1 = [
    "CREATE TABLE greylist (ip TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,"
    " first_seen REAL, last_pass REAL, PRIMARY KEY (ip, sender, recipient)) WITHOUT ROWID",
    "CREATE INDEX greylist_pending ON greylist (first_seen) WHERE last_pass IS NULL",
    "CREATE INDEX greylist_passed ON greylist (last_pass) WHERE last_pass IS NOT NULL",
    "PRAGMA user_version=1",
]


def makeVersion1(path, rows):
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=WAL")
    for statement in SCHEMA_V1:
        raw.execute(statement)
    raw.executemany("INSERT INTO greylist VALUES (?, ?, ?, ?, ?)", rows)
    raw.commit()
    raw.close()


def tables(path):
    raw = sqlite3.connect(path)
    try:
        names = {n for (n,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = dict(raw.execute("SELECT name, value FROM meta")) if "meta" in names else {}
        version = raw.execute("PRAGMA user_version").fetchone()[0]
    finally:
        raw.close()
    return names, meta, version


def test_a_fresh_file_records_its_schema_version_in_a_table(store, dbpath):
    names, meta, version = tables(dbpath)
    assert {"greylist", "client_awl", "domain_awl", "outcome_history", "meta"} <= names
    assert meta == {"schema_version": str(SCHEMA_VERSION), "key_mode": "kamaelia",
                    "privacy": "no"}
    assert version == SCHEMA_VERSION == 3


def test_a_version_1_file_is_migrated_and_keeps_every_triplet(dbpath, caplog):
    makeVersion1(dbpath, [(IP, SENDER, RCPT, T0, T0 + 3600),
                          ("192.0.2.8", SENDER, RCPT, T0, None)])
    with caplog.at_level(logging.INFO, logger="Kamaelia.Apps.Grey.GreylistStore"):
        with GreylistStore(dbpath) as store:
            assert store.lookup(IP, SENDER, RCPT) == Record(T0, T0 + 3600)
            assert store.check("192.0.2.8", SENDER, RCPT, T0 + 3600).reason == "passed"
            assert store.checkMessage(IP, SENDER, [RCPT], T0 + 7200).verdicts[0].passed
    messages = [r.getMessage() for r in caplog.records]
    assert any("upgraded from version 1 to 2" in m for m in messages)
    assert any("upgraded from version 2 to 3" in m for m in messages)
    names, meta, version = tables(dbpath)
    assert {"client_awl", "domain_awl", "outcome_history", "meta"} <= names
    assert meta["schema_version"] == "3" and version == 3
    with GreylistStore(dbpath) as again:                   # opening again changes nothing
        assert again.stats()["triplets"] == 2


def makeVersion2(path):
    """A schema 2 file (before the outcome history) with a triplet and AWL entries."""
    with GreylistStore(path, awl=AwlParameters(domains=True)) as store:
        store.checkMessage(IP, SENDER, [RCPT], T0)
        store.checkMessage(IP, SENDER, [RCPT], T0 + 3600)
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE outcome_history")
    raw.execute("UPDATE meta SET value='2' WHERE name='schema_version'")
    raw.execute("PRAGMA user_version=2")
    raw.commit()
    raw.close()


def test_a_version_2_file_gains_the_history_and_keeps_its_rows(dbpath, caplog):
    makeVersion2(dbpath)
    assert "outcome_history" not in tables(dbpath)[0]
    with caplog.at_level(logging.INFO, logger="Kamaelia.Apps.Grey.GreylistStore"):
        with GreylistStore(dbpath, awl=AwlParameters(domains=True)) as store:
            assert store.lookup(IP, SENDER, RCPT) == Record(T0, T0 + 3600)
            assert store.lookupClient(IP) == AwlRecord(1, T0 + 3600)
            assert store.lookupDomain(IP, SENDER).senders == 1
            store.countOutcomes({"passed": 2}, T0)
            assert store.outcomeHistory(T0 - 3600, T0 + 3600) == [
                (T0 - T0 % 3600, "passed", 2)]
    messages = [r.getMessage() for r in caplog.records]
    assert any("upgraded from version 2 to 3" in m for m in messages)
    assert not any("from version 1" in m for m in messages)
    assert tables(dbpath)[1]["schema_version"] == "3" and tables(dbpath)[2] == 3


CHILD_OPENER = r"""
import sys
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
with GreylistStore(sys.argv[1], timeout=30) as store:
    sys.stdout.write("%d\n" % store.stats()["triplets"]); sys.stdout.flush()
"""


def test_processes_opening_a_version_1_file_at_once_migrate_it_once(dbpath):
    makeVersion1(dbpath, [("192.0.2.%d" % i, SENDER, RCPT, T0, None) for i in range(50)])
    procs = [subprocess.Popen([sys.executable, "-c", CHILD_OPENER, dbpath], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        for proc in procs:
            assert readLine(proc) == "ready\n"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        assert [readLine(proc) for proc in procs] == ["50\n"] * 3
        assert [proc.wait(timeout=30) for proc in procs] == [0, 0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            proc.stdin.close()
            proc.stdout.close()
    assert tables(dbpath)[1]["schema_version"] == "3"


def test_a_newer_version_in_the_meta_table_is_refused(dbpath):
    GreylistStore(dbpath).close()
    raw = sqlite3.connect(dbpath)
    raw.execute("UPDATE meta SET value='4' WHERE name='schema_version'")
    raw.commit()
    raw.close()
    with pytest.raises(RuntimeError, match="version 4 is newer"):
        GreylistStore(dbpath)


def test_changing_key_mode_or_privacy_on_a_file_is_logged(dbpath, caplog):
    GreylistStore(dbpath).close()
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Apps.Grey.GreylistStore"):
        GreylistStore(dbpath, keyMode="normalized", privacy=True).close()
        GreylistStore(dbpath, keyMode="normalized", privacy=True).close()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert "key_mode was kamaelia and is now normalized" in warnings[0]
    assert "privacy was no and is now yes" in warnings[1]


# -- messages and the auto-whitelists -----------------------------------------

AWL3 = AwlParameters(clients=3, maxAge=10 * 86400, domains=True)
HOUR = 3600.0


def passOnce(store, ip, sender, rcpt, now):
    """A new triplet at ``now - 3600``, passing at ``now`` (Kamaelia profile)."""
    assert store.checkMessage(ip, sender, [rcpt], now - 3600).verdicts[0].reason == "new"
    return store.checkMessage(ip, sender, [rcpt], now)


@pytest.fixture
def awlStore(dbpath):
    s = GreylistStore(dbpath, awl=AWL3)
    yield s
    s.close()


def test_check_message_decides_each_recipient_in_order(awlStore):
    answer = awlStore.checkMessage(IP, SENDER, ["<a@x>", "<b@x>"], T0)
    assert answer.autoWhitelisted is None
    assert [v.reason for v in answer.verdicts] == ["new", "new"]
    assert [v.key[2] for v in answer.verdicts] == ["<a@x>", "<b@x>"]
    answer = awlStore.checkMessage(IP, SENDER, ["<a@x>", "<c@x>"], T0 + 3600)
    assert [v.reason for v in answer.verdicts] == ["passed", "new"]
    assert answer.clientCount == 1


def test_client_network_is_auto_whitelisted_after_n_hourly_passes(awlStore):
    for hour in range(3):
        answer = passOnce(awlStore, "192.0.2.%d" % (10 + hour), "<s@x%d.example>" % hour, RCPT,
                          T0 + 2 * hour * HOUR)
        assert answer.verdicts[0].reason == "passed" and answer.clientCount == hour + 1
    later = T0 + 5 * HOUR
    answer = awlStore.checkMessage("192.0.2.99", "<new@y>", ["<anyone@z>"], later)
    assert (answer.autoWhitelisted, answer.verdicts) == ("client", ())
    assert awlStore.lookup("192.0.2.99", "<new@y>", "<anyone@z>") is None   # not even recorded
    assert awlStore.lookupClient("192.0.2.1") == AwlRecord(4, later)       # refreshed, counted
    other = awlStore.checkMessage("192.0.3.1", "<new@y>", ["<anyone@z>"], later)
    assert other.autoWhitelisted is None and other.verdicts[0].reason == "new"
    stale = later + AWL3.maxAge + 1
    assert awlStore.checkMessage("192.0.2.99", "<new@y>", ["<b@z>"], stale).autoWhitelisted is None


def test_passes_within_an_hour_count_once(awlStore):
    passOnce(awlStore, IP, "<a@a.example>", RCPT, T0)
    passOnce(awlStore, IP, "<b@b.example>", RCPT, T0 + 1800)
    assert awlStore.lookupClient(IP) == AwlRecord(1, T0)
    passOnce(awlStore, IP, "<c@c.example>", RCPT, T0 + HOUR)
    assert awlStore.lookupClient(IP) == AwlRecord(2, T0 + HOUR)


def test_known_triplets_and_deferrals_do_not_count(awlStore):
    passOnce(awlStore, IP, SENDER, RCPT, T0)
    for hour in range(1, 6):
        answer = awlStore.checkMessage(IP, SENDER, [RCPT], T0 + hour * HOUR)
        assert answer.verdicts[0].reason == "known (refreshed)"
        awlStore.checkMessage(IP, "<other%d@x>" % hour, [RCPT], T0 + hour * HOUR)
    assert awlStore.lookupClient(IP) == AwlRecord(1, T0)


def test_client_awl_off_neither_counts_nor_lists(dbpath):
    with GreylistStore(dbpath, awl=AwlParameters(clients=0)) as store:
        for hour in range(10):
            passOnce(store, IP, "<s%d@x>" % hour, RCPT, T0 + 2 * hour * HOUR)
        assert store.lookupClient(IP) is None
        assert store.checkMessage(IP, "<n@x>", [RCPT], T0 + 30 * HOUR).verdicts[0].reason == "new"


def test_sender_domain_is_auto_whitelisted_per_network_after_two_senders(awlStore):
    passOnce(awlStore, IP, "<alice@big.example>", RCPT, T0)
    assert awlStore.lookupDomain(IP, "<x@big.example>").senders == 1
    passOnce(awlStore, IP, "<alice+tag@big.example>", "<r2@x>", T0 + 60)   # the same sender
    assert awlStore.lookupDomain(IP, "<x@big.example>").senders == 1
    passOnce(awlStore, IP, "<bob@Big.Example>", "<r3@x>", T0 + 120)
    assert awlStore.lookupDomain(IP, "<x@big.example>").senders == 2
    answer = awlStore.checkMessage("192.0.2.200", "<carol@big.example>", ["<r4@x>"], T0 + 200)
    assert answer.autoWhitelisted == "domain"
    elsewhere = awlStore.checkMessage("203.0.113.1", "<carol@big.example>", ["<r4@x>"], T0 + 200)
    assert elsewhere.autoWhitelisted is None
    otherDomain = awlStore.checkMessage(IP, "<carol@small.example>", ["<r4@x>"], T0 + 200)
    assert otherDomain.autoWhitelisted is None


def test_the_null_sender_has_no_domain_entry(awlStore):
    passOnce(awlStore, IP, "<>", RCPT, T0)
    passOnce(awlStore, IP, "<>", "<r2@x>", T0 + 60)
    assert awlStore.lookupDomain(IP, "<>") is None


def test_expire_removes_auto_whitelist_entries_unseen_for_max_age(awlStore):
    passOnce(awlStore, "192.0.2.1", "<a@big.example>", RCPT, T0)
    passOnce(awlStore, "198.51.100.1", "<a@big.example>", RCPT, T0 + 5 * 86400)
    expired = awlStore.expire(T0 + AWL3.maxAge + 1)
    assert (expired.clients, expired.domains) == (1, 1)
    assert awlStore.lookupClient("192.0.2.1") is None
    assert awlStore.lookupClient("198.51.100.1") is not None
    stats = awlStore.stats()
    assert (stats["clients"], stats["domains"], stats["whitelistedClients"]) == (1, 1, 0)


def test_a_failed_message_check_changes_nothing(awlStore, monkeypatch):
    """The whole message is one transaction: an error half-way leaves no trace."""
    original = awlStore._checkKey
    calls = []

    def failSecond(key, now):
        calls.append(key)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return original(key, now)

    monkeypatch.setattr(awlStore, "_checkKey", failSecond)
    with pytest.raises(sqlite3.OperationalError):
        awlStore.checkMessage(IP, SENDER, ["<a@x>", "<b@x>"], T0)
    monkeypatch.undo()
    assert awlStore.lookup(IP, SENDER, "<a@x>") is None
    assert awlStore.checkMessage(IP, SENDER, ["<a@x>"], T0).verdicts[0].reason == "new"


# -- privacy ---------------------------------------------------------------------

def fileBytes(path):
    data = b""
    for name in (path, path + "-wal"):
        if os.path.exists(name):
            with open(name, "rb") as handle:
                data += handle.read()
    return data


def test_privacy_stores_no_address_and_still_decides_counts_and_expires(dbpath):
    sender, rcpt = "<alice@secret.example>", "<bob@hidden.example>"
    with GreylistStore(dbpath, keyMode="normalized", privacy=True, awl=AWL3) as store:
        first = store.checkMessage("192.0.2.77", sender, [rcpt], T0)
        assert first.verdicts[0].reason == "new"
        assert first.verdicts[0].key == (keyDigest("192.0.2.0/24", "alice@secret.example",
                                                   "bob@hidden.example"), "", "")
        assert store.checkMessage("192.0.2.78", sender, [rcpt], T0 + 3600).verdicts[0].passed
        passOnce(store, "192.0.2.79", "<carol@secret.example>", rcpt, T0 + 2 * 3600)
        assert store.lookupClient("192.0.2.1").count == 2
        assert store.lookupDomain("192.0.2.1", "<x@secret.example>").senders == 2
        assert store.lookup("192.0.2.1", sender, rcpt).last_pass == T0 + 3600
        stats = store.stats()
        assert (stats["triplets"], stats["passed"], stats["clients"]) == (2, 2, 1)
        assert store.expire(T0 + 3_000_000 + 2 * 3600 + 1).passed == 2
        assert store.stats()["triplets"] == 0
    data = fileBytes(dbpath)
    for secret in (b"secret.example", b"hidden.example", b"alice", b"192.0.2"):
        assert secret not in data, secret


def test_privacy_keys_differ_from_clear_keys(dbpath):
    """A file switched to privacy starts over: old clear rows are not matched."""
    with GreylistStore(dbpath) as clear:
        clear.check(IP, SENDER, RCPT, T0)
    with GreylistStore(dbpath, privacy=True) as hashed:
        assert hashed.check(IP, SENDER, RCPT, T0 + 3600).reason == "new"
        assert hashed.stats()["triplets"] == 2


# -- two processes on one file ---------------------------------------------------

CHILD_AWL = r"""
import json, sys
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import AwlParameters, POSTGREY
path, events = sys.argv[1], json.loads(sys.argv[2])
store = GreylistStore(path, profile=POSTGREY, timeout=30, awl=AwlParameters(clients=100000))
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
reasons = [store.checkMessage(ip, sender, [rcpt], now).verdicts[0].reason
           for ip, sender, rcpt, now in events]
sys.stdout.write(json.dumps(reasons) + "\n"); sys.stdout.flush()
"""


def runRacers(dbpath, eventLists):
    """Run one child per event list at once; returns each child's reasons."""
    procs = [subprocess.Popen([sys.executable, "-c", CHILD_AWL, dbpath, json.dumps(events)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for events in eventLists]
    try:
        for proc in procs:
            assert readLine(proc) == "ready\n"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(readLine(proc, deadline=60)) for proc in procs]
        assert [proc.wait(timeout=30) for proc in procs] == [0] * len(procs)
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            proc.stdin.close()
            proc.stdout.close()


def test_two_processes_never_lose_an_auto_whitelist_count(dbpath):
    """Each pass is two hours from every other, so every one must count: 2 x 100."""
    events = {"a": [], "b": []}
    with GreylistStore(dbpath, profile=POSTGREY) as seed:
        for i in range(200):
            role = "ab"[i % 2]
            ip, sender, now = "198.51.100.%d" % (i % 200), "<%s%d@x.example>" % (role, i), \
                T0 + i * 2 * HOUR
            seed.check(ip, sender, RCPT, now - 300)
            events[role].append((ip, sender, RCPT, now))
    mine, theirs = runRacers(dbpath, [events["a"], events["b"]])
    assert set(mine) == set(theirs) == {"passed"}
    with GreylistStore(dbpath, profile=POSTGREY, awl=AwlParameters(clients=100000)) as store:
        assert store.lookupClient("198.51.100.1").count == 200


def test_two_processes_passing_the_same_triplets_count_each_pass_once(dbpath):
    events = []
    with GreylistStore(dbpath, profile=POSTGREY) as seed:
        for i in range(150):
            sender, now = "<s%d@x.example>" % i, T0 + i * 2 * HOUR
            seed.check(IP, sender, RCPT, now - 300)
            events.append((IP, sender, RCPT, now))
    first, second = runRacers(dbpath, [events, events])
    for a, b in zip(first, second):
        assert sorted([a, b]) == ["known (refreshed)", "passed"]
    with GreylistStore(dbpath, profile=POSTGREY, awl=AwlParameters(clients=100000)) as store:
        assert store.lookupClient(IP).count == 150
