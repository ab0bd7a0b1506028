"""Pre-forked workers (Workers.Supervisor) with real processes on real loopback sockets.

Each test runs preforkEcho.py (a Supervisor over tiny echo workers that greet with their
pid) in its own process and talks to it over sockets and signals; it waits on files the
processes leave (see preforkEcho.py), each wait with a deadline. RestartPolicy, the pure
part, is tested directly with made-up uptimes.
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from Kamaelia.Apps.Grey.Workers import RestartPolicy, Supervisor, describeStatus

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
SCRIPT = os.path.join(HERE, "preforkEcho.py")
DEADLINE = 15.0
MAX_CONNECTIONS = 200


class PreforkServer:
    """preforkEcho.py running in a process of its own, and ways to watch it."""

    def __init__(self, tmp_path, *options):
        self.state = tmp_path / "state"
        self.state.mkdir()
        self.errorsPath = tmp_path / "stderr.txt"
        self.errors = open(self.errorsPath, "w")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
        self.process = subprocess.Popen(
            [sys.executable, SCRIPT, "--state", str(self.state), *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.errors, env=env)
        ready, _, _ = select.select([self.process.stdout], [], [], DEADLINE)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.kill()
            raise AssertionError("preforkEcho.py did not start: %s" % self.log())
        self.port = json.loads(line)["port"]
        self.pid = self.process.pid

    # -- watching ---------------------------------------------------------------------

    def waitFor(self, condition, message, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; process states %s; log:\n%s"
                                     % (message, self.states(), self.log()))
            time.sleep(0.01)

    def states(self):
        """pid -> the kernel's state letter (R, S, T...) of the supervisor and its workers."""
        states = {}
        for pid in [self.process.pid] + sorted(self.workers()):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    states[pid] = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                states[pid] = "gone"
        return states

    def marked(self, what):
        """The pids that left a ``what-PID`` file."""
        prefix = what + "-"
        return {int(name[len(prefix):]) for name in os.listdir(self.state)
                if name.startswith(prefix)}

    def workers(self):
        """Pids of the workers started and not yet reported exited."""
        return self.marked("started") - self.marked("exited")

    def waitForWorkers(self, count):
        self.waitFor(lambda: len(self.workers()) == count, "%d workers running" % count)
        return self.workers()

    def log(self):
        return self.errorsPath.read_text()

    def exitStatus(self, timeout=DEADLINE):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("the supervisor did not exit; process states %s; log:\n%s"
                                 % (self.states(), self.log())) from None

    # -- talking ----------------------------------------------------------------------

    def connect(self):
        if isinstance(self.port, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(DEADLINE)
            s.connect(self.port)
        else:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)
        return s

    @staticmethod
    def greeting(s):
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                raise AssertionError("the connection closed before the greeting: %r" % data)
            data += chunk
        return int(data)

    def pidOf(self):
        """The pid of the worker that answers a new connection."""
        with self.connect() as s:
            return self.greeting(s)

    def answeringPids(self, wanted):
        """Connect (at most MAX_CONNECTIONS times) until every pid in ``wanted`` has answered."""
        seen = set()
        for _ in range(MAX_CONNECTIONS):
            seen.add(self.pidOf())
            if wanted <= seen:
                return seen
        raise AssertionError("after %d connections only %s answered, not %s"
                             % (MAX_CONNECTIONS, sorted(seen), sorted(wanted)))

    def kill(self):
        """Kill what is left of this test's processes, by pid, never a pid that may be reused.

        A supervisor that exited by itself reaped all its workers first: nothing is left.
        Otherwise it is stopped (SIGSTOP) so that it reaps no one meanwhile: the workers it
        has not reported exited are then alive or unreaped, and their pids still theirs.
        """
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGSTOP)
            self.waitFor(self._parentStopped, "the supervisor to stop")
            for pid in sorted(self.workers()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            self.process.kill()
        self.process.wait(DEADLINE)
        self.process.stdout.close()
        self.errors.close()

    def _parentStopped(self):
        return self.states()[self.process.pid] in ("T", "Z", "gone")


@pytest.fixture
def prefork(tmp_path):
    started = []

    def start(*options):
        server = PreforkServer(tmp_path, *options)
        started.append(server)
        return server
    yield start
    for server in started:
        server.kill()


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(1000)
        if not chunk:
            break
        got += chunk
    return got


# -- the real thing ----------------------------------------------------------------------

def test_two_workers_serve_one_port_and_both_answer(prefork):
    server = prefork("--workers", "2")
    workers = server.waitForWorkers(2)
    assert server.pid not in workers
    assert server.marked("clean") == workers, "a worker kept the parent's signal handlers"
    assert server.answeringPids(workers) == workers
    with server.connect() as s:
        server.greeting(s)
        assert echo(s, b"hello\r\n") == b"hello\r\n"


def test_a_killed_worker_is_replaced_logged_and_reported_and_the_port_keeps_answering(prefork):
    server = prefork("--workers", "2")
    first = server.waitForWorkers(2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    server.waitFor(lambda: victim in server.marked("exited"), "onWorkerExit(%d)" % victim)
    server.waitFor(lambda: len(server.workers()) == 2 and server.workers() != first,
                   "a new worker in place of %d" % victim)
    now = server.workers()
    assert victim not in now and len(now - first) == 1
    assert server.answeringPids(now) == now
    assert re.search(r"worker \d \(pid %d\) was killed by SIGKILL after [\d.]+ s; starting "
                     r"another" % victim, server.log())
    assert server.process.poll() is None


def test_sighup_and_sigusr1_reach_every_worker(prefork):
    server = prefork("--workers", "2")
    workers = server.waitForWorkers(2)
    os.kill(server.pid, signal.SIGHUP)
    server.waitFor(lambda: server.marked("hup") == workers, "every worker's SIGHUP file")
    os.kill(server.pid, signal.SIGUSR1)
    server.waitFor(lambda: server.marked("usr1") == workers, "every worker's SIGUSR1 file")
    assert server.marked("parent%d" % signal.SIGHUP) == {server.pid}
    assert server.marked("parent%d" % signal.SIGUSR1) == {server.pid}
    assert server.marked("term") == set() and server.workers() == workers
    assert server.answeringPids(workers) == workers


def test_sigterm_drains_the_parent_waits_for_open_sessions_then_exits_0(prefork):
    server = prefork("--workers", "2")
    workers = server.waitForWorkers(2)
    session = server.connect()
    busy = server.greeting(session)
    os.kill(server.pid, signal.SIGTERM)
    server.waitFor(lambda: server.marked("term") == workers, "SIGTERM passed to every worker")
    server.waitFor(lambda: server.marked("exited") == workers - {busy},
                   "the idle worker to finish")
    assert server.process.poll() is None, "the parent left before the open session finished"
    assert echo(session, b"still here\r\n") == b"still here\r\n"
    session.close()
    assert server.exitStatus() == 0
    assert server.marked("exited") == workers
    assert "every worker has exited" in server.log()


def test_a_second_sigterm_kills_workers_still_draining(prefork):
    server = prefork("--workers", "2")
    workers = server.waitForWorkers(2)
    session = server.connect()
    busy = server.greeting(session)
    os.kill(server.pid, signal.SIGTERM)
    server.waitFor(lambda: server.marked("term") == workers, "SIGTERM passed to every worker")
    os.kill(server.pid, signal.SIGTERM)
    assert server.exitStatus() == 0
    assert re.search(r"worker \d \(pid %d\) was killed by SIGKILL" % busy, server.log())
    assert session.recv(100) == b"", "the killed worker's connection is closed"
    session.close()


def test_a_drain_that_outlasts_drainTimeout_ends_in_a_kill(prefork):
    server = prefork("--workers", "2", "--drain-timeout", "0.3")
    workers = server.waitForWorkers(2)
    session = server.connect()
    busy = server.greeting(session)
    os.kill(server.pid, signal.SIGTERM)
    assert server.exitStatus() == 0
    log = server.log()
    assert re.search(r"the drain took longer than 0.3 s: killing [12] workers", log)
    assert re.search(r"worker \d \(pid %d\) was killed by SIGKILL" % busy, log)
    assert server.marked("exited") == workers
    session.close()


def test_workers_that_fail_at_start_make_the_supervisor_give_up_with_status_1(prefork):
    server = prefork("--workers", "2", "--fail-at-start", "0,1")
    assert server.exitStatus() == 1
    log = server.log()
    assert "giving up" in log
    assert "RuntimeError: worker 0 cannot start" in log
    starts = len(re.findall(r"worker \d started", log))
    assert 2 <= starts <= 2 * 3, "the supervisor forked %d times" % starts


def test_one_slot_failing_at_start_stops_the_healthy_workers_too_with_status_1(prefork):
    server = prefork("--workers", "2", "--fail-at-start", "1")
    assert server.exitStatus() == 1
    healthy = server.marked("started")
    assert len(healthy) == 1, "only worker 0 can start"
    assert server.marked("term") == healthy, "the healthy worker was not asked to stop"
    assert server.marked("exited") >= healthy
    log = server.log()
    assert "RuntimeError: worker 1 cannot start" in log and "giving up" in log
    assert "RuntimeError: worker 0" not in log


def test_workers_on_a_unix_socket_share_it_and_the_parent_removes_it(prefork, tmp_path):
    path = str(tmp_path / "echo.sock")
    server = prefork("--workers", "2", "--unix", path)
    workers = server.waitForWorkers(2)
    assert server.answeringPids(workers) == workers
    os.kill(server.pid, signal.SIGTERM)
    assert server.exitStatus() == 0
    assert not os.path.exists(path)


# -- the pure parts ------------------------------------------------------------------------

def test_restart_policy_backs_off_for_quick_failures_and_gives_up_after_K():
    policy = RestartPolicy(quickFailure=5.0, initialDelay=0.1, maxDelay=0.35, maxQuickFailures=4)
    assert [policy.exited(0, 0.5) for _ in range(3)] == [0.1, 0.2, 0.35]
    assert policy.exited(1, 0.5) == 0.1, "each slot counts its own failures"
    assert policy.exited(0, 0.5) is None


def test_restart_policy_forgives_a_worker_that_ran_a_while():
    policy = RestartPolicy(quickFailure=5.0, initialDelay=0.1, maxQuickFailures=2)
    assert policy.exited(0, 1.0) == 0.1
    assert policy.exited(0, 60.0) == 0.1
    assert policy.exited(0, 1.0) == 0.1, "the long run reset the count"
    assert policy.exited(0, 1.0) is None


def test_statuses_in_words():
    assert describeStatus(3 << 8) == "exited with status 3"
    assert describeStatus(signal.SIGKILL) == "was killed by SIGKILL"


def test_a_supervisor_needs_a_worker():
    with pytest.raises(ValueError):
        Supervisor(0, lambda index, listener: 0, None)
    with pytest.raises(ValueError):
        RestartPolicy(maxQuickFailures=0)


# -- what a worker builds on the listener it is given -----------------------------------------

def test_a_policy_server_given_a_unix_listener_serves_it_and_leaves_the_file_to_the_parent(
        tmp_path):
    from Kamaelia.Apps.Grey.PolicyServer import PolicyServer, UnixStreamServer
    from Kamaelia.Internet.UnixServer import bindUnixSocket

    path = str(tmp_path / "policy.sock")
    sock = bindUnixSocket(path, 0o600)
    server = PolicyServer(path=path, listener=sock)
    assert isinstance(server.server, UnixStreamServer)
    assert server.server.listener is sock and server.port == path
    server.server.stop()
    assert os.path.exists(path), "a worker removed the socket file its parent owns"
    os.unlink(path)


def test_a_greylist_server_given_a_tcp_listener_serves_it(freshAxon):
    from Kamaelia.Apps.Grey.GreylistServer import GreylistServer
    from Kamaelia.Internet.TCPServer import openListener
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    sock = openListener(0, "127.0.0.1")
    server = GreylistServer(protocol=EchoProtocol, listener=sock, port=25)
    assert server.server.listener is sock and server.port == sock.getsockname()[1]
    server.server.stop()
