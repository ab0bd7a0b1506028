"""Several MX hosts, one greylist: real greylister and policy-server processes on one private
PostgreSQL server (started by the tests), a database outage, concurrency, worker processes,
metrics, ``kamaelia-grey stats`` and ``--migrate-store``."""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psycopg

from Kamaelia.Apps.Grey import SMTPReplies as R

OUTAGE_BOUND = 30.0     # the store's timeout (5 s) plus connection set-up, generously


def policyRequest(port, sender="alice@example.net", recipient="bob@example.org",
                  client="192.0.2.7"):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                   "client_address=%s\nclient_name=unknown\nhelo_name=h.example\n"
                   "sender=%s\nrecipient=%s\ninstance=1\n\n" % (client, sender, recipient))
                  .encode())
        answer = b""
        while not answer.endswith(b"\n\n"):
            chunk = s.recv(1000)
            assert chunk, "the policy server closed the connection without an answer"
            answer += chunk
    return answer.decode()


def attempt(g, e2e, sender, recipient, subject="shared"):
    with g.connect() as c:
        c.banner()
        return c.transaction(sender, [recipient], e2e.message(subject))[-1]


def rows(url, query, *args):
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as db:
        return db.execute(query, args).fetchall()


def runProgram(args, e2e, timeout=60):
    return subprocess.run([sys.executable, "-m", "Kamaelia.Apps.Grey.Application", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=e2e.childEnvironment(), stdin=subprocess.DEVNULL)


# -- two hosts, one greylist ---------------------------------------------------------------

def test_deferred_through_one_greylister_and_passed_on_retry_through_another(
        grey, backend, e2e, pgDatabase):
    mx1 = grey(backend, name="mx1", greylist_db=pgDatabase)
    mx2 = grey(backend, name="mx2", greylist_db=pgDatabase)
    assert mx1.port != mx2.port
    assert attempt(mx1, e2e, "alice@example.net", "bob@example.org").code == R.GREYLISTED.code
    assert backend.messages == []
    assert attempt(mx2, e2e, "alice@example.net", "bob@example.org").code == 250
    backend.waitForMessages(1)
    [(ip, sender, recipient, lastPass)] = rows(
        pgDatabase, "SELECT ip, sender, recipient, last_pass FROM greylist")
    assert (ip, sender, recipient) == ("127.0.0.1", "<alice@example.net>", "<bob@example.org>")
    assert lastPass is not None
    for g in (mx1, mx2):
        assert "postgres@127.0.0.1" not in g.stderr() or "***" in g.stderr()


def test_two_policy_servers_share_one_greylist(grey, e2e, pgDatabase):
    first = grey(None, name="policy1", greylist_db=pgDatabase, start=False)
    second = grey(None, name="policy2", greylist_db=pgDatabase, start=False)
    first.start(args=["--policy-server"])
    second.start(args=["--policy-server"])
    assert policyRequest(first.port).startswith("action=DEFER_IF_PERMIT ")
    answer = policyRequest(second.port)
    assert answer.startswith("action=PREPEND X-Greylist: delayed ") or answer == "action=DUNNO\n\n"
    assert policyRequest(first.port) == "action=DUNNO\n\n"          # known now, on either host


def test_many_clients_on_the_same_triplets_through_two_processes_count_exactly(
        grey, backend, e2e, pgDatabase):
    """40 sessions at once, 10 triplets, two greylisters: one row per triplet, every attempt
    deferred (the wait is an hour), none accepted by mistake, none lost."""
    settings = dict(greylist_db=pgDatabase, greylist_min_defer=3600, max_sessions=100)
    hosts = [grey(backend, name="mx%d" % n, **settings) for n in (1, 2)]
    jobs = [(hosts[n % 2], "sender%d@example.net" % (n % 10)) for n in range(40)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda job: attempt(job[0], e2e, job[1], "bob@example.org").code,
                              jobs))
    assert codes == [R.GREYLISTED.code] * 40
    assert backend.messages == []
    counted = rows(pgDatabase, "SELECT sender, count(*), max(last_pass) FROM greylist "
                               "GROUP BY sender ORDER BY sender")
    assert counted == [("<sender%d@example.net>" % n, 1, None) for n in range(10)]


# -- the database goes away and comes back ----------------------------------------------------

def test_postgresql_stopped_and_restarted_mid_run(privatePgCluster, grey, backend, e2e):
    """While the database is down every session gets a 4xx (within a bounded time) and nothing
    is accepted; when it is back the greylister carries on by itself. (The cluster is set up
    before the greylister so that it is torn down after it.)"""
    url = privatePgCluster.createDatabase()
    g = grey(backend, greylist_db=url)
    assert attempt(g, e2e, "known@example.net", "bob@example.org").code == R.GREYLISTED.code
    assert attempt(g, e2e, "known@example.net", "bob@example.org").code == 250
    privatePgCluster.stop()
    for sender in ("known@example.net", "new@example.net"):
        started = time.monotonic()
        reply = attempt(g, e2e, sender, "bob@example.org")
        assert reply.code == 451 and reply.lines[0].startswith("4.3.0"), reply.lines
        assert time.monotonic() - started < OUTAGE_BOUND
    assert len(backend.messages) == 1
    privatePgCluster.start()

    def backAgain():
        return attempt(g, e2e, "known@example.net", "bob@example.org").code == 250

    e2e.waitFor(backAgain, 60, message="the greylist working again after PostgreSQL restarted")
    assert attempt(g, e2e, "new@example.net", "bob@example.org").code == R.GREYLISTED.code
    assert g.running()


def test_the_policy_server_defers_while_postgresql_is_down(privatePgCluster, grey, e2e):
    url = privatePgCluster.createDatabase()
    g = grey(None, greylist_db=url, start=False)
    g.start(args=["--policy-server"])
    assert policyRequest(g.port).startswith("action=DEFER_IF_PERMIT ")
    privatePgCluster.stop()
    answer = policyRequest(g.port, sender="other@example.net")
    assert answer.startswith("action=DEFER_IF_PERMIT ") and "Greylisted" not in answer
    privatePgCluster.start()
    e2e.waitFor(lambda: policyRequest(g.port) == "action=DUNNO\n\n", 60,
                message="the policy server answering from the store again")


# -- worker processes ---------------------------------------------------------------------------

def workerPids(g):
    out = subprocess.run(["pgrep", "-P", str(g.proc.pid)], capture_output=True, text=True)
    return sorted(int(pid) for pid in out.stdout.split())


def metricsText(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as answer:
        return answer.read().decode()


def sessionsTotal(port):
    found = re.search(r'^kamaelia_grey_sessions_total\{frontend="proxy"\} (\S+)$',
                      metricsText(port), re.M)
    return float(found.group(1)) if found else 0.0


def test_workers_share_the_port_signals_and_metrics_and_a_killed_one_is_replaced(
        grey, backend, e2e):
    metricsPort = e2e.freePort()
    g = grey(backend, workers=2, metrics_listen="127.0.0.1:%d" % metricsPort)
    e2e.waitFor(lambda: g.stderr().count("Kamaelia Grey listening on") == 2,
                message="both workers listening")
    pids = workerPids(g)
    assert len(pids) == 2
    for n in range(10):
        assert attempt(g, e2e, "s%d@example.net" % n, "bob@example.org").code == \
            R.GREYLISTED.code
    e2e.waitFor(lambda: sessionsTotal(metricsPort) == 10,
                message="the metrics of both workers summed: 10 sessions")
    os.kill(pids[0], signal.SIGKILL)
    e2e.waitFor(lambda: re.search(r"worker \d \(pid %d\) was killed by SIGKILL" % pids[0],
                                  g.stderr()), message="the killed worker logged")
    e2e.waitFor(lambda: len(workerPids(g)) == 2 and pids[0] not in workerPids(g),
                message="the killed worker replaced")
    for n in range(4):
        assert attempt(g, e2e, "t%d@example.net" % n, "bob@example.org").code == \
            R.GREYLISTED.code
    mark = len(g.stderr())
    g.sendSignal(signal.SIGHUP)
    e2e.waitFor(lambda: g.stderr()[mark:].count("SIGHUP: re-read") == 2,
                message="SIGHUP re-read by both workers")
    with urllib.request.urlopen("http://127.0.0.1:%d/status.json" % metricsPort,
                                timeout=10) as answer:
        status = json.loads(answer.read())
    assert status["summary"]["pending"] == 14


# -- the commands ----------------------------------------------------------------------------

def test_stats_and_migrate_store_between_sqlite_and_postgresql(grey, backend, e2e, pgDatabase,
                                                               tmp_path):
    g = grey(backend)
    for n in range(3):
        attempt(g, e2e, "s%d@example.net" % n, "bob@example.org")
    attempt(g, e2e, "s0@example.net", "bob@example.org")          # passes (no wait here)
    g.stop()
    result = runProgram(["--config", g.configPath, "stats"], e2e)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Entries pending \(never passed\):\s+2\b", result.stdout)
    assert re.search(r"Triplets passed:\s+1\b", result.stdout)
    assert re.search(r"^  total\s+3\s+1\s+0\s+0\s+0$", result.stdout, re.M), result.stdout
    sqlite = g.settings["greylist_db"]
    result = runProgram(["--config", g.configPath, "--migrate-store", sqlite, pgDatabase], e2e)
    assert result.returncode == 0, result.stderr
    assert "postgres@" not in result.stderr or "***" not in pgDatabase
    g.writeConfig(greylist_db=pgDatabase)
    result = runProgram(["--config", g.configPath, "stats"], e2e)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Entries pending \(never passed\):\s+2\b", result.stdout)
    assert re.search(r"^  total\s+3\s+1\s+0\s+0\s+0$", result.stdout, re.M), result.stdout
    again = runProgram(["--config", g.configPath, "--migrate-store", sqlite, pgDatabase], e2e)
    assert again.returncode == 0
    assert rows(pgDatabase, "SELECT count(*) FROM greylist") == [(3,)]
    back = tmp_path / "back.sqlite"
    result = runProgram(["--config", g.configPath, "--migrate-store", pgDatabase, str(back)], e2e)
    assert result.returncode == 0, result.stderr
    g.writeConfig(greylist_db=str(back))
    result = runProgram(["--config", g.configPath, "stats"], e2e)
    assert re.search(r"Triplets passed:\s+1\b", result.stdout)


def test_stats_says_why_when_the_store_cannot_be_read(grey, e2e, tmp_path):
    g = grey(None, start=False, greylist_db="postgresql://nobody@127.0.0.1:%d/none"
             % e2e.freePort())
    result = runProgram(["--config", g.configPath, "stats"], e2e)
    assert result.returncode == 1
    assert "cannot read the greylist postgresql://nobody@127.0.0.1" in result.stderr


def test_stats_never_creates_a_greylist(grey, e2e, tmp_path):
    missing = tmp_path / "nothing-here.sqlite"
    g = grey(None, start=False, greylist_db=str(missing))
    result = runProgram(["--config", g.configPath, "stats"], e2e)
    assert result.returncode == 1
    assert "no greylist at %s" % missing in result.stderr
    assert not missing.exists()
