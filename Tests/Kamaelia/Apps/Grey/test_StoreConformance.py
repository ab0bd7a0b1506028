"""Every greylist store behaves the same: the conformance suite.

Each test runs against the SQLite store (a file) and the PostgreSQL store (a
fresh database on the private server of ``conftest.pgCluster``), through
``Stores.openStore``. Time is always passed in (``now``), never read. The
last part is PostgreSQL's own: outages and slow statements end in a
``StoreError`` within the bound, and the same store works again afterwards.
"""

import json
import logging
import select
import subprocess
import sys
import time

import psycopg
import pytest

from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.GreylistVerdict import (
    KAMAELIA,
    OUTCOMES,
    POSTGREY,
    AwlParameters,
    AwlRecord,
    Expired,
    Record,
    hourStart,
)
from Kamaelia.Apps.Grey.PostgresStore import PostgresStore, StoreError
from Kamaelia.Apps.Grey.Stores import describeLocation, isPostgresLocation, openStore

T0 = 1_700_000_000.0          # not on an hour boundary: 1699999200 + 800
HOUR0 = hourStart(T0)
IP, SENDER, RCPT = "192.0.2.7", "<alice@example.org>", "<bob@example.net>"
KINDS = ["sqlite", "postgresql"]


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def location(kind, tmp_path, request):
    if kind == "sqlite":
        return str(tmp_path / "greylist.sqlite")
    return request.getfixturevalue("pgDatabase")


@pytest.fixture
def opened():
    """Opens stores for a test and closes every one of them after it."""
    stores = []

    def open_(location, profile=KAMAELIA, **settings):
        settings.setdefault("timeout", 5.0)
        store = openStore(location, profile, **settings)
        stores.append(store)
        return store
    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def store(location, opened):
    return opened(location)


def allText(store):
    """Every value of every row the store keeps, as one string."""
    from Kamaelia.Apps.Grey.GreylistStore import TABLES
    return repr([list(store.iterRows(table)) for table in TABLES])


# -- choosing a store -----------------------------------------------------------------

def test_open_store_chooses_by_location(location, store, kind):
    assert isPostgresLocation(location) == (kind == "postgresql")
    assert isinstance(store, PostgresStore if kind == "postgresql" else GreylistStore)
    assert isPostgresLocation("POSTGRES://h/db") and not isPostgresLocation("/var/grey.db")


# -- the greylist state machine -------------------------------------------------------

def test_verdict_sequence_new_early_pass_known(store):
    steps = [(0, "defer", "new"), (100, "defer", "too soon, clock reset"),
             (100 + 1800, "defer", "early retry (1800 s to go)"),
             (100 + 3600, "pass", "passed"), (100 + 7200, "pass", "known (refreshed)")]
    for offset, action, reason in steps:
        verdict = store.check(IP, SENDER, RCPT, T0 + offset)
        assert (verdict.action, verdict.reason) == (action, reason), offset
    assert store.lookup(IP, SENDER, RCPT) == Record(T0 + 100, T0 + 7300)


def test_too_late_retry_restarts_and_an_unused_pass_expires(store):
    assert store.check(IP, SENDER, RCPT, T0).reason == "new"
    late = store.check(IP, SENDER, RCPT, T0 + KAMAELIA.max_defer + 1)
    assert late.reason == "too late, restarted"
    passed = T0 + KAMAELIA.max_defer + 1 + 3600
    assert store.check(IP, SENDER, RCPT, passed).reason == "passed"
    assert store.check(IP, SENDER, RCPT, passed + KAMAELIA.max_grey + 1).reason == "expired"


def test_triplets_are_independent_and_exact_by_default(store):
    store.check(IP, SENDER, RCPT, T0)
    assert store.lookup(IP, SENDER, "<BOB@example.net>") is None
    assert store.check("192.0.2.8", SENDER, RCPT, T0 + 3600).reason == "new"
    assert store.check(IP, SENDER, RCPT, T0 + 3600).reason == "passed"


def test_normalized_keys_match_the_network_and_case(location, opened):
    store = opened(location, keyMode="normalized")
    assert store.check("192.0.2.7", "<Alice+x@Example.org>", "<Bob@example.net>", T0).reason == "new"
    retry = store.check("192.0.2.99", "<alice@example.org>", "<bob@EXAMPLE.net>", T0 + 3600)
    assert retry.reason == "passed"
    assert retry.key == ("192.0.2.0/24", "alice@example.org", "bob@example.net")


def test_check_message_decides_each_recipient_in_order(store):
    store.check(IP, SENDER, "<b@x>", T0)
    answer = store.checkMessage(IP, SENDER, ["<a@x>", "<b@x>", "<a@x>"], T0 + 3600)
    assert answer.autoWhitelisted is None
    assert [v.reason for v in answer.verdicts] == ["new", "passed", "too soon, clock reset"]


def test_a_second_store_on_the_same_location_sees_the_first(location, opened):
    first, second = opened(location), opened(location)
    assert first.check(IP, SENDER, RCPT, T0).reason == "new"
    assert second.check(IP, SENDER, RCPT, T0 + 3600).reason == "passed"
    assert first.lookup(IP, SENDER, RCPT) == Record(T0, T0 + 3600)


# -- auto-whitelists ------------------------------------------------------------------

def passOnce(store, ip, sender, rcpt, now):
    """A new triplet deferred at ``now - 3600`` and passed at ``now``."""
    store.checkMessage(ip, sender, [rcpt], now - 3600)
    return store.checkMessage(ip, sender, [rcpt], now)


def test_client_awl_counts_once_an_hour_then_whitelists(location, opened):
    store = opened(location, awl=AwlParameters(clients=3))
    assert passOnce(store, IP, SENDER, "<r1@x>", T0).clientCount == 1
    assert passOnce(store, "192.0.2.9", SENDER, "<r2@x>", T0 + 60).clientCount == 1
    assert passOnce(store, IP, SENDER, "<r3@x>", T0 + 3600).clientCount == 2
    assert passOnce(store, IP, SENDER, "<r4@x>", T0 + 7200).clientCount == 3
    listed = store.checkMessage("192.0.2.200", "<new@y>", ["<r5@x>"], T0 + 7300)
    assert (listed.autoWhitelisted, listed.verdicts) == ("client", ())
    assert store.lookupClient(IP) == AwlRecord(3, T0 + 7200)
    assert store.lookup("192.0.2.200", "<new@y>", "<r5@x>") is None


def test_client_awl_entry_older_than_max_age_no_longer_whitelists(location, opened):
    store = opened(location, awl=AwlParameters(clients=1, maxAge=86400))
    passOnce(store, IP, SENDER, "<r1@x>", T0)
    assert store.checkMessage(IP, "<z@y>", ["<r2@x>"], T0 + 86400).autoWhitelisted == "client"
    stale = store.checkMessage(IP, "<z@y>", ["<r3@x>"], T0 + 3 * 86400)
    assert stale.autoWhitelisted is None and stale.verdicts[0].reason == "new"


def test_sender_domain_whitelisted_after_two_senders(location, opened):
    store = opened(location, awl=AwlParameters(clients=0, domains=True))
    passOnce(store, IP, "<a@lists.example>", "<r1@x>", T0)
    assert store.lookupDomain(IP, "<a@lists.example>").senders == 1
    passOnce(store, IP, "<a@lists.example>", "<r2@x>", T0 + 7200)
    assert store.lookupDomain(IP, "<other@lists.example>").senders == 1
    passOnce(store, IP, "<b@lists.example>", "<r3@x>", T0 + 14400)
    listed = store.checkMessage(IP, "<c@lists.example>", ["<r4@x>"], T0 + 14500)
    assert listed.autoWhitelisted == "domain"
    assert store.lookupClient(IP) is None
    assert store.lookupDomain(IP, "<>") is None


# -- privacy --------------------------------------------------------------------------

def test_privacy_stores_no_address_and_still_decides(location, opened):
    sender, rcpt = "<alice@secret.example>", "<bob@hidden.example>"
    store = opened(location, privacy=True, awl=AwlParameters(clients=1, domains=True))
    assert store.checkMessage(IP, sender, [rcpt], T0).verdicts[0].reason == "new"
    assert store.checkMessage(IP, sender, [rcpt], T0 + 3600).verdicts[0].reason == "passed"
    assert store.lookupClient(IP).count == 1
    assert store.lookupDomain(IP, sender).senders == 1
    text = allText(store)
    for secret in ("alice", "secret.example", "bob", "hidden.example", "192.0.2"):
        assert secret not in text
    assert store.expire(T0 + 3600 + KAMAELIA.max_grey + 10**8) == Expired(0, 1, 1, 1)


# -- expiry, statistics, history ------------------------------------------------------

def test_expire_counts_and_records_never_retried(location, opened):
    store = opened(location, awl=AwlParameters(clients=5, maxAge=10 * 86400))
    passOnce(store, IP, SENDER, "<kept@x>", T0)
    store.check(IP, SENDER, "<gone1@x>", T0)
    store.check(IP, SENDER, "<gone2@x>", T0)
    store.check(IP, SENDER, "<fresh@x>", T0 + KAMAELIA.max_defer)
    now = T0 + KAMAELIA.max_defer + 10
    assert store.expire(now) == Expired(2, 0, 0, 0)
    assert store.lookup(IP, SENDER, "<gone1@x>") is None
    assert store.lookup(IP, SENDER, "<fresh@x>") is not None
    assert store.outcomeHistory(HOUR0, now + 3600) == [(hourStart(now), "never-retried", 2)]
    assert store.expire(now) == Expired(0, 0, 0, 0)
    later = T0 + KAMAELIA.max_grey + 11 * 86400
    assert store.expire(later) == Expired(1, 1, 1, 0)


def test_stats_counts_rows(location, opened):
    store = opened(location, awl=AwlParameters(clients=1, domains=True))
    passOnce(store, IP, SENDER, "<a@x>", T0)
    store.check(IP, SENDER, "<b@x>", T0)
    stats = store.stats()
    assert {k: stats[k] for k in ("triplets", "passed", "pending", "clients",
                                  "whitelistedClients", "domains", "whitelistedDomains")} == {
        "triplets": 2, "passed": 1, "pending": 1, "clients": 1, "whitelistedClients": 1,
        "domains": 1, "whitelistedDomains": 0}
    assert stats["path"] == describeLocation(location)


def test_outcome_history_adds_per_hour_and_returns_a_sorted_range(store):
    store.countOutcomes({"passed": 2, "deferred": 1}, T0)
    store.countOutcomes({"passed": 3, "refused": 0}, T0 + 10)
    store.countOutcomes({"whitelisted": 4}, T0 + 3600)
    store.countOutcomes({"deferred": 5}, T0 - 3600)
    assert store.outcomeHistory(HOUR0, HOUR0 + 7200) == [
        (HOUR0, "deferred", 1), (HOUR0, "passed", 5), (HOUR0 + 3600, "whitelisted", 4)]
    assert store.outcomeHistory(HOUR0 + 1, HOUR0 + 3600) == []
    assert [row[0] for row in store.outcomeHistory(float("-inf"), float("inf"))] == [
        HOUR0 - 3600, HOUR0, HOUR0, HOUR0 + 3600]


@pytest.mark.parametrize("counts", [{"accepted": 1}, {"passed": -1}, {"passed": 1.5},
                                    {"passed": True}, {"": 1}])
def test_bad_outcome_counts_are_refused_and_change_nothing(store, counts):
    with pytest.raises(ValueError):
        store.countOutcomes(dict(counts, deferred=1), T0)
    assert store.outcomeHistory(float("-inf"), float("inf")) == []


def test_summary_covers_entries_whitelists_and_the_last_24_hours(location, opened):
    store = opened(location, awl=AwlParameters(clients=1, maxAge=86400))
    passOnce(store, IP, SENDER, "<a@x>", T0)
    passOnce(store, "198.51.100.1", SENDER, "<b@x>", T0 - 2 * 86400)
    store.check(IP, SENDER, "<pending@x>", T0)
    store.countOutcomes({"deferred": 7, "passed": 1}, T0)
    store.countOutcomes({"refused": 2}, T0 - 23 * 3600)
    store.countOutcomes({"refused": 100}, T0 - 24 * 3600)      # outside the window
    summary = store.summary(T0)
    assert summary == {
        "pending": 1, "passed": 2, "whitelistedClients": 1, "whitelistedDomains": 0,
        "lastDay": {"deferred": 7, "passed": 1, "whitelisted": 0, "refused": 2,
                    "never-retried": 0}}
    assert set(summary["lastDay"]) == set(OUTCOMES)


# -- schema ---------------------------------------------------------------------------

def schemaVersion(store, location):
    if isinstance(store, PostgresStore):
        return store.schemaVersion()
    import sqlite3
    raw = sqlite3.connect(location)
    try:
        return int(raw.execute("SELECT value FROM meta WHERE name='schema_version'")
                   .fetchone()[0])
    finally:
        raw.close()


def setSchemaVersion(location, version):
    if isPostgresLocation(location):
        with psycopg.connect(location, autocommit=True) as raw:
            raw.execute("UPDATE meta SET value=%s WHERE name='schema_version'", (str(version),))
    else:
        import sqlite3
        raw = sqlite3.connect(location)
        raw.execute("UPDATE meta SET value=? WHERE name='schema_version'", (str(version),))
        raw.commit()
        raw.close()


def test_schema_is_created_with_its_version_and_kept_on_reopen(location, opened):
    first = opened(location)
    assert schemaVersion(first, location) == 3
    first.check(IP, SENDER, RCPT, T0)
    first.close()
    again = opened(location)
    assert again.lookup(IP, SENDER, RCPT) == Record(T0, None)
    assert schemaVersion(again, location) == 3


def test_a_newer_schema_is_refused(location, opened):
    opened(location).close()
    setSchemaVersion(location, 4)
    with pytest.raises(RuntimeError, match="version 4 is newer"):
        openStore(location)


def test_changing_the_key_mode_is_logged(location, opened, caplog):
    opened(location).close()
    with caplog.at_level(logging.WARNING):
        opened(location, keyMode="normalized")
    assert any("key_mode was kamaelia and is now normalized" in r.getMessage()
               for r in caplog.records)


def test_use_after_close_raises_and_close_is_idempotent(location):
    import sqlite3
    store = openStore(location)
    store.check(IP, SENDER, RCPT, T0)
    store.close()
    store.close()
    with pytest.raises((sqlite3.ProgrammingError, StoreError)):
        store.check(IP, SENDER, RCPT, T0 + 3600)


def test_import_dbm_brings_in_kamaelia_grey_1_state_once(store, tmp_path):
    import dbm
    for name, entries in (("greylisted.dbm", {repr((IP, SENDER, "<a@x>")): str(T0 + 3600)}),
                          ("attempters.dbm", {repr((IP, SENDER, "<a@x>")): str(T0),
                                              repr((IP, SENDER, "<b@x>")): str(T0 + 5)})):
        db = dbm.open(str(tmp_path / name), "c")
        for key, value in entries.items():
            db[key] = value
        db.close()
    assert store.importDbm(str(tmp_path)) == 2
    assert store.lookup(IP, SENDER, "<a@x>") == Record(T0, T0 + 3600)
    assert store.check(IP, SENDER, "<b@x>", T0 + 3605).reason == "passed"
    assert store.importDbm(str(tmp_path)) == 0
    assert store.lookup(IP, SENDER, "<b@x>") == Record(T0 + 5, T0 + 3605)


# -- hostile input --------------------------------------------------------------------

@pytest.mark.parametrize("sender", ["<a\x00b@x>", "<a\udcffb@x>", "<" + "a" * 100000 + "@x>",
                                    "<\ud800@x>"])
def test_hostile_addresses_are_greylisted_like_any_other(location, opened, sender):
    """NUL, bytes that were not UTF-8 and huge fields make keys every store keeps."""
    store = opened(location, awl=AwlParameters(clients=1, domains=True))
    assert store.checkMessage(IP, sender, [RCPT], T0).verdicts[0].reason == "new"
    assert store.checkMessage(IP, sender, [RCPT], T0 + 3600).verdicts[0].reason == "passed"
    assert store.lookup(IP, sender, RCPT) == Record(T0, T0 + 3600)
    assert max(len(row[1]) for row in store.iterRows("greylist")) < 600
    assert store.check(IP, SENDER, RCPT, T0).reason == "new"


# -- many processes at once -----------------------------------------------------------

WORKER = r"""
import json, sys
from Kamaelia.Apps.Grey.GreylistVerdict import POSTGREY, AwlParameters
from Kamaelia.Apps.Grey.Stores import openStore

def say(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()

location, t0 = sys.argv[1], float(sys.argv[2])
say("ready")
sys.stdin.readline()
store = openStore(location, POSTGREY, awl=AwlParameters(clients=1000, interval=0), timeout=30)
say("open")
for phase in range(3):
    sys.stdin.readline()
    now = t0 + phase * 4000
    reasons = []
    for j in range(20):
        ip = "192.0.%d.%d" % (j % 5, 10 + j)
        verdict = store.checkMessage(ip, "<s%d@example.org>" % j, ["<r%d@example.net>" % j], now)
        reasons.append(verdict.verdicts[0].reason)
        store.countOutcomes({"deferred": 1, "passed": 2}, now)
    say(reasons)
store.close()
"""

WORKERS = 4
LINE_DEADLINE = 60.0


def readJson(proc):
    ready, _, _ = select.select([proc.stdout], [], [], LINE_DEADLINE)
    assert ready, "a worker did not answer in time"
    line = proc.stdout.readline()
    assert line, "a worker died: %s" % proc.stderr.read()
    return json.loads(line)


def everyone(procs, message=None):
    """Send ``message`` to every worker (if any), then collect one answer from each."""
    if message is not None:
        for proc in procs:
            proc.stdin.write(message + "\n")
            proc.stdin.flush()
    return [readJson(proc) for proc in procs]


def test_processes_checking_the_same_triplets_lose_nothing_and_count_once(location):
    """4 processes x 60 message checks of the same 20 triplets at the same times,
    on a store none of them created: each triplet is new once and passes once,
    every AWL count and outcome is counted exactly."""
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, location, str(T0)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    try:
        assert everyone(procs) == ["ready"] * WORKERS
        assert everyone(procs, "go") == ["open"] * WORKERS
        phases = [everyone(procs, "go") for _ in range(3)]
        assert [proc.wait(timeout=LINE_DEADLINE) for proc in procs] == [0] * WORKERS
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=LINE_DEADLINE)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                stream.close()
    for j in range(20):
        first = sorted(reasons[j] for reasons in phases[0])
        assert first == ["early retry (300 s to go)"] * 3 + ["new"], j
        second = sorted(reasons[j] for reasons in phases[1])
        assert second == ["known (refreshed)"] * 3 + ["passed"], j
        assert [reasons[j] for reasons in phases[2]] == ["known (refreshed)"] * WORKERS
    with openStore(location, POSTGREY, awl=AwlParameters(clients=1000, interval=0)) as store:
        stats = store.stats()
        assert (stats["triplets"], stats["passed"], stats["clients"]) == (20, 20, 5)
        assert [store.lookupClient("192.0.%d.1" % n).count for n in range(5)] == [4] * 5
        totals = {}
        for _hour, outcome, count in store.outcomeHistory(float("-inf"), float("inf")):
            totals[outcome] = totals.get(outcome, 0) + count
        assert totals == {"deferred": WORKERS * 60, "passed": 2 * WORKERS * 60}


# -- PostgreSQL: passwords, outages, slow statements ----------------------------------

def test_a_password_in_the_url_is_never_shown(pgCluster, caplog):
    url = pgCluster.freshDatabase().replace("postgres@", "postgres:s3cr3t@")
    with PostgresStore(url, timeout=2) as store:
        assert store.check(IP, SENDER, RCPT, T0).reason == "new"
        assert "s3cr3t" not in repr(store) and "s3cr3t" not in store.stats()["path"]
    assert "s3cr3t" not in describeLocation(url) and "***" in describeLocation(url)
    dead = "postgresql://postgres:s3cr3t@127.0.0.1:1/none?password=an0ther"
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(StoreError) as raised:
            PostgresStore(dead, timeout=1)
    logged = " ".join(r.getMessage() for r in caplog.records)
    for secret in ("s3cr3t", "an0ther"):
        assert secret not in str(raised.value) and secret not in logged


@pytest.fixture
def passwordRole(pgCluster, monkeypatch):
    """A role that must log in with a password, its database's URL without one,
    and no password anywhere in the environment."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    name = "grey_%d" % (pgCluster.databases + 1)
    pgCluster.createRole(name, "pa55-word")
    url = pgCluster.createDatabase(owner=name).replace("postgres@", name + "@")
    return name, url


def test_the_password_comes_from_a_passfile_parameter(pgCluster, passwordRole, tmp_path):
    name, url = passwordRole
    with pytest.raises(StoreError, match="password"):
        PostgresStore(url, timeout=2)
    passfile = tmp_path / "pgpass"
    passfile.write_text("127.0.0.1:%d:*:%s:pa55-word\n" % (pgCluster.port, name))
    passfile.chmod(0o600)
    with openStore(url + "?passfile=%s" % passfile, timeout=2) as store:
        assert store.check(IP, SENDER, RCPT, T0).reason == "new"


def test_the_password_comes_from_the_environment_or_the_url(passwordRole, monkeypatch):
    name, url = passwordRole
    with PostgresStore(url.replace(name + "@", name + ":pa55-word@"), timeout=2) as store:
        assert store.check(IP, SENDER, RCPT, T0).reason == "new"
        assert "pa55" not in repr(store)
    monkeypatch.setenv("PGPASSWORD", "pa55-word")
    with PostgresStore(url, timeout=2) as store:
        assert store.lookup(IP, SENDER, RCPT) == Record(T0, None)


OUTAGE_TIMEOUT = 1.0
BOUND = OUTAGE_TIMEOUT + 5.0   # timeout + 5 s: generous, it is behaviour not speed


def timed(call):
    started = time.monotonic()
    with pytest.raises(StoreError):
        call()
    return time.monotonic() - started


def untilItWorks(call, deadline=30.0):
    """Call until it stops raising StoreError (each try is itself bounded)."""
    end = time.monotonic() + deadline
    while True:
        try:
            return call()
        except StoreError:
            if time.monotonic() > end:
                raise


def test_a_database_outage_fails_within_the_bound_and_the_store_recovers(privatePgCluster):
    """Stopped: every call raises StoreError within timeout + 5 s. Started again:
    the same store object works without being reopened. Restarted while idle:
    the very next call works (the broken connection is noticed on checkout)."""
    cluster = privatePgCluster
    store = PostgresStore(cluster.createDatabase(), timeout=OUTAGE_TIMEOUT)
    try:
        store.check(IP, SENDER, RCPT, T0)
        cluster.stop()
        assert timed(lambda: store.check(IP, SENDER, RCPT, T0 + 3600)) < BOUND
        assert timed(lambda: store.checkMessage(IP, SENDER, [RCPT], T0 + 3600)) < BOUND
        cluster.start()
        verdict = untilItWorks(lambda: store.check(IP, SENDER, RCPT, T0 + 3600))
        assert verdict.reason == "passed"
        cluster.restart()
        assert store.check(IP, SENDER, RCPT, T0 + 7200).reason == "known (refreshed)"
    finally:
        store.close()


def test_a_slow_statement_fails_within_the_bound(pgDatabase):
    store = PostgresStore(pgDatabase, timeout=OUTAGE_TIMEOUT)
    try:
        store.check(IP, SENDER, RCPT, T0)
        with psycopg.connect(pgDatabase) as blocker:
            blocker.execute("LOCK TABLE greylist IN ACCESS EXCLUSIVE MODE")
            assert timed(lambda: store.check(IP, SENDER, RCPT, T0 + 3600)) < BOUND
            blocker.rollback()
        assert store.check(IP, SENDER, RCPT, T0 + 3600).reason == "passed"
    finally:
        store.close()


def test_expire_on_several_hosts_at_once_deletes_and_counts_each_row_once(pgDatabase):
    stores = [PostgresStore(pgDatabase, timeout=5) for _ in range(3)]
    for store in stores:
        store.expireBatch = 7          # many small batches, racing each other
    try:
        for n in range(200):
            stores[0].check("192.0.2.%d" % (n % 250), SENDER, "<r%d@x>" % n, T0)
        import threading
        results = [None] * 3
        now = T0 + KAMAELIA.max_defer + 1

        def expire(i):
            results[i] = stores[i].expire(now)
        threads = [threading.Thread(target=expire, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sum(r.attempts for r in results) == 200
        assert stores[2].stats()["triplets"] == 0
        assert stores[1].outcomeHistory(float("-inf"), float("inf")) == [
            (hourStart(now), "never-retried", 200)]
    finally:
        for store in stores:
            store.close()
