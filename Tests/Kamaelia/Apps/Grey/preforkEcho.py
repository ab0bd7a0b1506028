"""A pre-forked echo server for test_Workers.py: a Supervisor over tiny GreylistServer workers.

Run (by the tests)::

    python preforkEcho.py --workers 2 --state DIR [--unix PATH] [--fail-at-start 0,1]
                          [--drain-timeout SECONDS]

The parent opens the listening socket (TCP on 127.0.0.1, any free port, or
a unix socket at PATH), prints one JSON line ``{"port": ..., "pid": ...}``
and runs the Supervisor; its exit status is the Supervisor's. Each worker
greets every connection with its pid (``b"1234\\n"``), then echoes. So that
the tests can wait on conditions instead of sleeping, the processes leave
empty files in DIR: ``started-PID`` when a worker starts (and ``clean-PID``
if it inherited none of the parent's signal handlers nor its wake-up fd), ``hup-PID``,
``usr1-PID`` and ``term-PID`` when it gets SIGHUP, SIGUSR1 or SIGTERM, and
``exited-PID`` when the parent's ``onWorkerExit`` is called, ``parentN-PID``
when its ``onSignal`` is called for signal N. On SIGTERM a
worker drains (``GreylistServer.drain``): open connections carry on until
their clients close, then the worker exits 0.
"""

import argparse
import json
import logging
import os
import signal
import sys

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Scheduler import scheduler
from Kamaelia.Apps.Grey.GreylistServer import GreylistServer
from Kamaelia.Apps.Grey.Workers import RestartPolicy, Supervisor
from Kamaelia.Internet.TCPServer import makeTCPServerPort
from Kamaelia.Internet.UnixServer import bindUnixSocket
from Kamaelia.IPC import socketShutdown


class PidEcho(component):
    """Greets with this process's pid, then echoes until the client closes its side.

    A drain request (``producerFinished`` on "control") lets the client finish.
    """

    def main(self):
        self.send(b"%d\n" % os.getpid(), "outbox")
        while True:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                if not data:                  # the client closed its side
                    self.send(producerFinished(self), "signal")
                    return
                self.send(data, "outbox")
            while self.dataReady("control"):
                message = self.recv("control")
                if isinstance(message, socketShutdown):
                    return
                if not isinstance(message, producerFinished):
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


def mark(state, what):
    open(os.path.join(state, "%s-%d" % (what, os.getpid())), "w").close()


def worker(args):
    def runWorker(index, listener):
        if str(index) in args.fail_at_start.split(","):
            raise RuntimeError("worker %d cannot start (as the test asked)" % index)
        inherited = [signal.getsignal(signum) for signum in
                     (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGCHLD)]
        if all(handler == signal.SIG_DFL for handler in inherited) and \
                signal.set_wakeup_fd(-1) == -1:
            mark(args.state, "clean")
        server = GreylistServer(protocol=PidEcho, listener=listener,
                                whenDrained=scheduler.run.stop)

        def onSignal(signum, frame):
            mark(args.state, {signal.SIGHUP: "hup", signal.SIGUSR1: "usr1",
                              signal.SIGTERM: "term"}[signum])
            if signum == signal.SIGTERM:
                scheduler.run.callSoonThreadsafe(server.drain, 30)

        for signum in (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM):
            signal.signal(signum, onSignal)
        server.activate()
        mark(args.state, "started")
        scheduler.run.runThreads()
        return 0
    return runWorker


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--state", required=True)
    parser.add_argument("--unix", default="")
    parser.add_argument("--fail-at-start", default="",
                        help="comma-separated worker indexes that fail as they start")
    parser.add_argument("--drain-timeout", type=float, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(process)d %(levelname)s %(name)s: %(message)s")
    if args.unix:
        listener, port = bindUnixSocket(args.unix, 0o600), args.unix
    else:
        listener, port = makeTCPServerPort(0, "127.0.0.1")
    sys.stdout.write(json.dumps({"port": port, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    supervisor = Supervisor(args.workers, worker(args), listener,
                            onWorkerExit=lambda pid: open(os.path.join(
                                args.state, "exited-%d" % pid), "w").close(),
                            drainTimeout=args.drain_timeout,
                            onSignal=lambda signum: mark(args.state, "parent%d" % signum),
                            restartPolicy=RestartPolicy(quickFailure=5.0, initialDelay=0.05,
                                                        maxDelay=0.2, maxQuickFailures=3))
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
