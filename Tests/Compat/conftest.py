"""Fixtures for the Kamaelia 1.x compatibility programs (Tests/Compat).

The programs under ``Tests/Compat/programs/`` are written the way Kamaelia
1.x programs were, and run as separate processes, as a user would run them:

* ``runProgram(name, *args, timeout=20)`` runs ``programs/<name>.py`` with
  ``args`` (converted to str) in a scratch directory and returns the
  ``subprocess.CompletedProcess`` (text mode). A program that does not end
  within ``timeout`` seconds fails the test, showing what it had printed.
* ``assertRanCleanly(result)`` checks it exited with status 0 and wrote no
  traceback to stderr.
* ``freePort()`` returns a TCP port on 127.0.0.1 that was free a moment ago
  (``freeUdpPort()`` the same for UDP): 1.x programs name their port, so
  the test picks one and passes it on the command line.
* ``runSystem(*components, deadline=5)`` activates the components on the
  (fresh, per-test) default scheduler and runs ``runThreads()`` in this
  process, as ``.run()`` does, with a watchdog that stops the scheduler and
  fails the test if it has not ended by the deadline.
"""

import os
import random
import socket
import subprocess
import sys
import threading

import pytest

from Axon.Scheduler import scheduler

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


@pytest.fixture
def runProgram(tmp_path):
    def run(name, *args, timeout=20):
        command = [sys.executable, os.path.join(PROGRAMS, name + ".py")] + [str(a) for a in args]
        try:
            return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            raise AssertionError("%s did not end within %s s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                                 % (name, timeout, out[-3000:], err[-3000:])) from None
    return run


@pytest.fixture
def assertRanCleanly():
    def check(result):
        assert result.returncode == 0, "exit status %s\n%s" % (result.returncode, result.stderr[-3000:])
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return check


def _ephemeralLow():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free(kind):
    """A port the programs can bind on every address, chosen below the ephemeral range.

    A port the kernel hands out for bind(0) comes from the range outgoing
    connections use too, so in a busy suite another test's connection could
    take it before the program (a second Python process) binds it.
    """
    low = min(_ephemeralLow(), 65536)
    for _ in range(200):
        port = random.randrange(20000, max(low, 20001))
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found below %d" % low)


@pytest.fixture
def freePort():
    return lambda: _free(socket.SOCK_STREAM)


@pytest.fixture
def freeUdpPort():
    return lambda: _free(socket.SOCK_DGRAM)


@pytest.fixture
def runSystem():
    def run(*components, deadline=5.0):
        sched = scheduler.run
        for c in components:
            c.activate()
        fired = threading.Event()

        def fire():
            fired.set()
            sched.stop()
        timer = threading.Timer(deadline, fire)
        timer.daemon = True
        timer.start()
        try:
            sched.runThreads()
        finally:
            timer.cancel()
        assert not fired.is_set(), "the system did not end within %s s" % deadline
    return run
