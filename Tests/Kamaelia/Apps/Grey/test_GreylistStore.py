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

from Kamaelia.Apps.Grey.GreylistStore import Expired, GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import KAMAELIA, POSTGREY, Record

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
