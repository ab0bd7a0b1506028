"""
Kamaelia.Apps.Grey.Workers: pre-forked worker processes serving one listening socket
===================================================================================

``Supervisor`` runs ``count`` worker processes that all accept connections
on one listening socket, which the parent opened once, so that a server uses
more than one core. It knows nothing of greylisting: a worker is whatever
``runWorker(index, listener)`` does (typically: build a ``ServerCore`` with
``listener=listener`` and run the Axon scheduler until it stops).

Example Usage
-------------
::

    import sys

    from Axon.Scheduler import scheduler
    from Kamaelia.Apps.Grey.Workers import Supervisor
    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Internet.TCPServer import openListener
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    def runWorker(index, listener):
        ServerCore(protocol=EchoProtocol, listener=listener).activate()
        scheduler.run.runThreads()      # until the worker stops: its exit status is 0
        return 0

    listener = openListener(2525, "127.0.0.1")       # OSError if it cannot
    sys.exit(Supervisor(2, runWorker, listener).run())

A unix socket is opened the same way with
``Kamaelia.Internet.UnixServer.bindUnixSocket(path, mode)``. With
``listener=None`` each worker gets None and binds the port itself, with
``ServerCore(..., reusePort=True)`` (SO_REUSEPORT).

How does it work?
-----------------
``run()`` forks the workers and then supervises them from the parent's
main thread, without threads: the signals it handles (SIGCHLD, SIGHUP,
SIGUSR1, SIGTERM, SIGINT) are noted by their handlers and wake the parent
through ``signal.set_wakeup_fd``; the parent then reaps exited workers with
``os.waitpid(pid, WNOHANG)`` and acts on the signals noted:

- SIGHUP and SIGUSR1 are sent on to every worker (re-read the configuration,
  reopen the log files), then ``onSignal(signum)`` is called, if given, for
  what the parent itself does (e.g. reopen its own log file on SIGUSR1);
- the first SIGTERM or SIGINT is sent on to every worker, which is then
  expected to drain (finish its sessions and exit); the parent closes its own
  copy of the listening socket, replaces no one any more, waits for every
  worker and ``run()`` returns 0. A second SIGTERM or SIGINT kills the
  workers left (SIGKILL), as does ``drainTimeout`` if set;
- a worker that exits while the supervisor is running -- whatever its
  status, since nothing asked it to -- is logged with its pid and its exit
  status or signal, and replaced in the same slot (``index``) after a delay
  that the ``RestartPolicy`` sets: short after a worker that had been up a
  while, doubling for each worker of that slot in a row that died within
  ``quickFailure`` seconds of its start, so a worker that fails at start
  does not make the parent fork in a loop. After ``maxQuickFailures`` such
  failures in a row the supervisor gives up: it logs an error, stops the
  other workers as SIGTERM does and ``run()`` returns 1.

``onWorkerExit(pid)`` is called in the parent for every worker that has
exited (replaced or not), e.g. for Prometheus' multiprocess mode
(``mark_process_dead``); an exception it raises is logged.

In the child, before ``runWorker`` is called, the signal handlers the
parent installed are back to their defaults (the worker installs its own),
the wake-up pipe is closed, and the worker is in a process group of its
own, so that Ctrl-C in a terminal reaches the parent only, which passes it
on once. ``runWorker``'s return value is the worker's exit status (None is
0; ``sys.exit(n)`` gives n; an exception is logged and gives 1); the child
never returns into the parent's code.

Fork before anything starts threads: the Axon scheduler must not have been
started (nor any thread, such as a logging queue's writer, a database pool
or a policy worker thread) in the parent before ``run()``, since a forked
child has only the thread that forked. Create those in ``runWorker``.

Under systemd use ``KillMode=mixed``: the default (``control-group``) sends
SIGTERM to every worker as well as to the parent, and a worker would then
see two (the second stops it at once).

Termination
-----------
``run()`` returns when every worker has exited after a SIGTERM/SIGINT (0)
or after the supervisor gave up (1). It then restores the signal handlers
it replaced, closes the listening socket and, for a unix socket, removes
its file if it is still the one there at the start.

Configuration
-------------
``Supervisor(count, runWorker, listener, onWorkerExit=None,
clock=time.monotonic, restartPolicy=RestartPolicy(), drainTimeout=None,
onSignal=None)``;
``RestartPolicy(quickFailure=5.0, initialDelay=0.1, maxDelay=5.0,
maxQuickFailures=5)``.
"""

import enum
import logging
import os
import select
import signal
import socket
import sys
import time
from typing import Callable, Optional

from Kamaelia.Internet.UnixServer import removeSocketFile, socketFileInode

_log = logging.getLogger(__name__)

FORWARDED = (signal.SIGHUP, signal.SIGUSR1)
STOPPING = (signal.SIGTERM, signal.SIGINT)
HANDLED = (signal.SIGCHLD,) + FORWARDED + STOPPING
LONGEST_WAIT = 5.0


class State(enum.Enum):
    RUNNING = "running"        # workers are replaced when they exit
    DRAINING = "draining"      # asked to stop: waiting for the workers to finish
    KILLING = "killing"        # asked twice (or drain timed out): workers were killed
    GAVE_UP = "gave up"        # a slot kept failing at start: stopping the others


class RestartPolicy:
    """When to restart a worker slot, and when to give up. Pure: uptimes are passed in.

    ``exited(index, uptime)`` returns the delay before the slot is started
    again, or None to give up. A worker that ran ``quickFailure`` seconds or
    more resets its slot's count and is restarted after ``initialDelay``; one
    that died sooner counts, and the delay doubles with the count up to
    ``maxDelay``; the ``maxQuickFailures``-th in a row gives up.
    """

    def __init__(self, quickFailure: float = 5.0, initialDelay: float = 0.1,
                 maxDelay: float = 5.0, maxQuickFailures: int = 5) -> None:
        if maxQuickFailures < 1:
            raise ValueError("maxQuickFailures must be at least 1")
        self.quickFailure = quickFailure
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxQuickFailures = maxQuickFailures
        self.quickFailures: dict = {}

    def exited(self, index: int, uptime: float) -> Optional[float]:
        if uptime >= self.quickFailure:
            self.quickFailures[index] = 0
            return self.initialDelay
        count = self.quickFailures[index] = self.quickFailures.get(index, 0) + 1
        if count >= self.maxQuickFailures:
            return None
        return min(self.maxDelay, self.initialDelay * 2 ** (count - 1))


class _Worker:
    __slots__ = ("index", "pid", "started")

    def __init__(self, index: int, pid: int, started: float) -> None:
        self.index, self.pid, self.started = index, pid, started


def describeStatus(status: int) -> str:
    """A waitpid status in words: "exited with status 3", "was killed by SIGKILL"."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "signal %d" % number
        return "was killed by %s" % name
    return "exited with status %d" % os.waitstatus_to_exitcode(status)


class Supervisor:
    """Forks ``count`` workers on one listener and keeps them running. See the module docs."""

    def __init__(self, count: int, runWorker: Callable, listener: Optional[socket.socket],
                 onWorkerExit: Optional[Callable] = None, clock: Callable = time.monotonic,
                 restartPolicy: Optional[RestartPolicy] = None,
                 drainTimeout: Optional[float] = None,
                 onSignal: Optional[Callable] = None) -> None:
        if count < 1:
            raise ValueError("a supervisor needs at least one worker, not %r" % (count,))
        self.count = count
        self.runWorker = runWorker
        self.listener = listener
        self.onWorkerExit = onWorkerExit
        self.clock = clock
        self.restartPolicy = restartPolicy if restartPolicy is not None else RestartPolicy()
        self.drainTimeout = drainTimeout
        self.onSignal = onSignal
        self.state = State.RUNNING
        self.workers: dict = {}
        self._restartAt: dict = {}
        self._killAt: Optional[float] = None
        self._pending: list = []
        self._wake: tuple = ()
        self._savedHandlers: dict = {}
        self._savedWakeup = -1
        self._unixPath: Optional[str] = None
        self._unixInode: Optional[int] = None
        if listener is not None and listener.family == socket.AF_UNIX:
            self._unixPath = listener.getsockname()
            self._unixInode = socketFileInode(self._unixPath)

    def pids(self) -> list:
        """The pids of the workers running now."""
        return list(self.workers)

    # -- the parent's loop ------------------------------------------------------------

    def run(self) -> int:
        """Fork the workers and supervise them until they are done; the exit status."""
        self._installSignals()
        try:
            for index in range(self.count):
                self._spawn(index)
            while True:
                self._actOnSignals()
                self._reap()
                if self.state is State.RUNNING:
                    self._restartDue()
                elif not self.workers:
                    break
                if self._killAt is not None and self.clock() >= self._killAt:
                    self._killAll("the drain took longer than %s s" % self.drainTimeout)
                self._waitForEvents(self._timeout())
        finally:
            self._restoreSignals()
            self._closeListener()
            self._forgetSocketFile()
        if self.state is State.GAVE_UP:
            return 1
        _log.info("every worker has exited")
        return 0

    def _timeout(self) -> float:
        now = self.clock()
        deadlines = list(self._restartAt.values())
        if self._killAt is not None:
            deadlines.append(self._killAt)
        if not deadlines:
            return LONGEST_WAIT
        return max(0.0, min(LONGEST_WAIT, min(deadlines) - now))

    def _waitForEvents(self, timeout: float) -> None:
        if self._pending:
            return
        readable, _, _ = select.select([self._wake[0]], [], [], timeout)
        if readable:
            try:
                while os.read(self._wake[0], 4096):
                    continue
            except BlockingIOError:
                return

    def _noteSignal(self, signum, frame) -> None:
        self._pending.append(signum)

    def _installSignals(self) -> None:
        self._wake = os.pipe()
        for fd in self._wake:
            os.set_blocking(fd, False)
        self._savedWakeup = signal.set_wakeup_fd(self._wake[1])
        for signum in HANDLED:
            self._savedHandlers[signum] = signal.signal(signum, self._noteSignal)

    def _restoreSignals(self) -> None:
        for signum, handler in self._savedHandlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._savedHandlers.clear()
        signal.set_wakeup_fd(self._savedWakeup)
        for fd in self._wake:
            os.close(fd)
        self._wake = ()

    def _actOnSignals(self) -> None:
        while self._pending:
            signum = self._pending.pop(0)
            if signum in FORWARDED:
                _log.info("%s: passed on to %d workers", signal.Signals(signum).name,
                          len(self.workers))
                self._sendAll(signum)
                self._call(self.onSignal, signum)
            elif signum in STOPPING:
                self._stopSignal(signum)

    def _stopSignal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.state is State.RUNNING:
            _log.info("%s: draining %d workers (a second %s kills them)", name,
                      len(self.workers), name)
            self._beginStopping(State.DRAINING, signum)
        elif self.state is not State.KILLING:
            self._killAll("%s while stopping" % name)

    def _beginStopping(self, state: State, signum: int) -> None:
        self.state = state
        self._restartAt.clear()
        self._closeListener()
        self._sendAll(signum)
        if self.drainTimeout is not None:
            self._killAt = self.clock() + self.drainTimeout

    def _killAll(self, why: str) -> None:
        _log.warning("%s: killing %d workers", why, len(self.workers))
        if self.state is State.DRAINING:
            self.state = State.KILLING        # a supervisor that gave up still did
        self._killAt = None
        self._sendAll(signal.SIGKILL)

    def _sendAll(self, signum: int) -> None:
        for pid in list(self.workers):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                _log.debug("worker %d had already exited", pid)

    @staticmethod
    def _call(hook: Optional[Callable], argument: int) -> None:
        if hook is not None:
            try:
                hook(argument)
            except Exception:
                _log.exception("%s(%d) failed", getattr(hook, "__name__", hook), argument)

    def _reap(self) -> None:
        for pid in list(self.workers):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                self._exited(self.workers.pop(pid), status)

    def _exited(self, worker: _Worker, status: int) -> None:
        uptime = self.clock() - worker.started
        what = describeStatus(status)
        self._call(self.onWorkerExit, worker.pid)
        if self.state is not State.RUNNING:
            _log.info("worker %d (pid %d) %s", worker.index, worker.pid, what)
            return
        delay = self.restartPolicy.exited(worker.index, uptime)
        if delay is None:
            _log.error("worker %d (pid %d) %s %.1f s after it started: %d workers in a row in "
                       "that slot failed within %s s of starting; giving up", worker.index,
                       worker.pid, what, uptime, self.restartPolicy.maxQuickFailures,
                       self.restartPolicy.quickFailure)
            self._beginStopping(State.GAVE_UP, signal.SIGTERM)
            return
        _log.warning("worker %d (pid %d) %s after %.1f s; starting another in %.1f s",
                     worker.index, worker.pid, what, uptime, delay)
        self._restartAt[worker.index] = self.clock() + delay

    def _restartDue(self) -> None:
        now = self.clock()
        for index, when in sorted(self._restartAt.items()):
            if when <= now:
                del self._restartAt[index]
                self._spawn(index)

    def _spawn(self, index: int) -> None:
        previousMask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        try:
            pid = os.fork()
            if pid == 0:
                self._becomeWorker(index, previousMask)
        except OSError as e:
            pid = None
            _log.error("cannot start worker %d: %s", index, e)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previousMask)
        if pid is None:
            delay = self.restartPolicy.exited(index, 0.0)
            if delay is None:
                self._beginStopping(State.GAVE_UP, signal.SIGTERM)
            else:
                self._restartAt[index] = self.clock() + delay
            return
        self.workers[pid] = _Worker(index, pid, self.clock())
        _log.info("worker %d started: pid %d", index, pid)

    # -- the child --------------------------------------------------------------------

    def _becomeWorker(self, index: int, mask) -> None:
        """In the child: reset what the parent set up, run the worker, exit. Never returns."""
        status = 1
        try:
            for signum in HANDLED:
                signal.signal(signum, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            for fd in self._wake:
                os.close(fd)
            self._wake = ()
            os.setpgid(0, 0)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            result = self.runWorker(index, self.listener)
            status = result if isinstance(result, int) else 0
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            _log.exception("worker %d (pid %d) failed", index, os.getpid())
            status = 1
        finally:
            _flushOutput()
            os._exit(status & 0xFF)

    # -- the listening socket ---------------------------------------------------------

    def _closeListener(self) -> None:
        if self.listener is not None:
            self.listener.close()

    def _forgetSocketFile(self) -> None:
        if self._unixPath:
            removeSocketFile(self._unixPath, self._unixInode)
            self._unixInode = None


def _flushOutput() -> None:
    """Flush what the worker wrote before ``os._exit``, which skips it (errors: nowhere to go)."""
    outputs = list(logging.getLogger().handlers) + [sys.stdout, sys.stderr]
    for output in outputs:
        try:
            output.flush()
        except (OSError, ValueError, AttributeError):
            _log.debug("could not flush %r at a worker's exit", output)
