#!/usr/bin/env python3
"""
TCP echo through pre-forked workers: round trips per second with 1 and 2 workers
===============================================================================

Run::

    python3 bench/workers_bench.py             # 3 rounds of 3 s windows, about 40 seconds
    python3 bench/workers_bench.py --quick     # 1 round of 2 s windows, about 10 seconds
    python3 bench/workers_bench.py --connections 100 --duration 3 --rounds 3 --verbose

Everything is on the loopback interface (127.0.0.1); every wait has a
deadline and every process this script starts is stopped at the end, by pid.

What is measured
----------------
Each measurement starts a fresh server process: a
``Kamaelia.Apps.Grey.Workers.Supervisor`` whose workers each run
``ServerCore(protocol=EchoProtocol)`` on the Axon scheduler, in one of three
set-ups:

* **1 worker**: the parent opens the listening socket, one worker serves it;
* **2 workers, shared socket**: the same, with two workers accepting on the
  one socket the parent opened (``ServerCore(listener=...)``);
* **2 workers, SO_REUSEPORT**: each worker binds the port itself
  (``ServerCore(reusePort=True)``) and the kernel spreads the connections.

A separate load-generator process (``bench/tcp_echo.py``'s epoll client)
opens N connections (100 by default), checks one echo on each, then for a
fixed window keeps exactly one 64-byte request in flight on every
connection. Reported: round trips per second over the window, the ratio to
1 worker, the workers' CPU time per round trip (all workers together, in
microseconds: if it stays flat, the work was split at no extra cost), the
CPU share of every worker (user + system from /proc, per second of window:
how evenly the connections were spread and how busy each worker was), of
the load generator, and of everything else on the machine (from
/proc/stat: other processes, in cores; a busy machine makes the figures
noisy). Nothing is pinned to a CPU: with two cores, two workers and the
load generator share them, so the ratio cannot reach 2 there; with more
cores it can.

Rounds alternate the set-ups (the order turns every round) so that all see
the same machine conditions; the summary shows each set-up's best round and
its median.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

import tcp_echo  # noqa: E402  (a sibling script: its load generator and /proc readers)

HOST = "127.0.0.1"
START_DEADLINE = 30.0
SETUPS = (("1 worker", 1, "shared"), ("2 workers, shared socket", 2, "shared"),
          ("2 workers, SO_REUSEPORT", 2, "reuseport"))


# -- the server ----------------------------------------------------------------------

def runServer(workers, mode):
    from Axon.Scheduler import scheduler
    from Kamaelia.Apps.Grey.Workers import Supervisor
    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Internet.TCPServer import REUSE_PORT, makeTCPServerPort
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    if mode == "reuseport":
        # Bound with SO_REUSEPORT but never listening: it holds a free port for the
        # workers' own sockets and takes no connections itself.
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(*REUSE_PORT)
        placeholder.bind((HOST, 0))
        port = placeholder.getsockname()[1]
        listener = None
    else:
        listener, port = makeTCPServerPort(0, HOST)

    def runWorker(index, inherited):
        if inherited is None:
            ServerCore(protocol=EchoProtocol, port=port, host=HOST, reusePort=True).activate()
        else:
            ServerCore(protocol=EchoProtocol, listener=inherited).activate()
        scheduler.run.runThreads()
        return 0

    tcp_echo.announce(port=port)
    return Supervisor(workers, runWorker, listener).run()


# -- measuring -----------------------------------------------------------------------

def childrenOf(pid):
    """Pids whose parent is ``pid`` (from /proc)."""
    children = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(name))
    return sorted(children)


def waitForWorkers(pid, count):
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        workers = childrenOf(pid)
        if len(workers) == count:
            return workers
        time.sleep(0.05)
    raise RuntimeError("the supervisor %d did not start %d workers in %.0f s"
                       % (pid, count, START_DEADLINE))


def stop(proc, workers=()):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            for pid in [proc.pid] + list(workers):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            proc.wait()


def measure(workers, mode, connections, duration):
    me = os.path.abspath(__file__)
    server = subprocess.Popen([sys.executable, me, "--role", "server", "--workers", str(workers),
                               "--mode", mode], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              text=True)
    load = None
    pids = []
    try:
        port = tcp_echo.readMessage(server, "server")["port"]
        pids = waitForWorkers(server.pid, workers)
        load = subprocess.Popen([sys.executable, os.path.join(HERE, "tcp_echo.py"), "--role",
                                 "load", "--port", str(port), "--connections", str(connections),
                                 "--duration", str(duration)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = tcp_echo.readMessage(load, "load generator")
        if ready["phase"] != "ready":
            return {"error": ready.get("error", ready)}
        cpu1 = [tcp_echo.cpuSeconds(pid) for pid in pids]
        busy1 = tcp_echo.machineBusy()
        load.stdin.write("go\n")
        load.stdin.flush()
        done = tcp_echo.readMessage(load, "load generator")
        if done["phase"] != "done":
            return {"error": done.get("error", done)}
        busy2 = tcp_echo.machineBusy()
        cpu2 = [tcp_echo.cpuSeconds(pid) for pid in pids]
        elapsed = done["elapsed"]
        ours = sum(cpu2) - sum(cpu1) + done["loadCpu"]
        return {"rate": done["roundTrips"] / elapsed,
                "workerShares": sorted(((b - a) / elapsed for a, b in zip(cpu1, cpu2)),
                                       reverse=True),
                "loadShare": done["loadCpu"] / elapsed,
                "othersShare": max(0.0, (busy2 - busy1) - ours) / elapsed}
    finally:
        if load is not None:
            if load.poll() is None:
                try:
                    load.stdin.write("exit\n")
                    load.stdin.flush()
                except (BrokenPipeError, ValueError):
                    pass
            try:
                load.wait(10)
            except subprocess.TimeoutExpired:
                load.kill()
                load.wait()
        stop(server, pids)


def orchestrate(args):
    tcp_echo.raiseDescriptorLimit()
    print("Python %s, %d CPUs, Linux %s, %d connections, %d-byte messages, %.0f s windows, "
          "%d rounds" % (sys.version.split()[0], os.cpu_count(), os.uname().release,
                         args.connections, tcp_echo.MESSAGE_SIZE, args.duration, args.rounds))
    sys.stdout.flush()
    results = {label: [] for label, _, _ in SETUPS}
    for r in range(args.rounds):
        order = SETUPS if r % 2 == 0 else tuple(reversed(SETUPS))
        for label, workers, mode in order:
            result = measure(workers, mode, args.connections, args.duration)
            if "error" in result:
                print("%s, round %d FAILED: %s" % (label, r + 1, result["error"]))
            else:
                results[label].append(result)
                if args.verbose:
                    print("  round %d, %-26s %9.0f round trips/s  worker CPU %s  load CPU %.2f"
                          "  others %.2f" % (r + 1, label + ":", result["rate"],
                                             " ".join("%.2f" % s for s in result["workerShares"]),
                                             result["loadShare"], result["othersShare"]))
            sys.stdout.flush()
    report(results)
    return results


def report(results):
    print()
    print("%-28s %10s %10s %7s %11s %18s %9s %7s"
          % ("", "best /s", "median /s", "ratio", "us/trip", "worker CPU (best)", "load CPU",
             "others"))
    base = None
    for label, _, _ in SETUPS:
        rows = results[label]
        if not rows:
            print("%-28s %12s" % (label, "no result"))
            continue
        best = max(rows, key=lambda r: r["rate"])
        median = statistics.median(r["rate"] for r in rows)
        if base is None:
            base = best["rate"]
        print("%-28s %10.0f %10.0f %6.2fx %11.1f %18s %9.2f %7.2f"
              % (label, best["rate"], median, best["rate"] / base,
                 sum(best["workerShares"]) / best["rate"] * 1e6,
                 " ".join("%.2f" % s for s in best["workerShares"]), best["loadShare"],
                 best["othersShare"]))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true", help="one round of 2 s windows")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--duration", type=float, default=None, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--verbose", action="store_true", help="print every round")
    parser.add_argument("--role", default="orchestrate", choices=("orchestrate", "server"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="shared", choices=("shared", "reuseport"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "server":
        tcp_echo.raiseDescriptorLimit()
        sys.exit(runServer(args.workers, args.mode))
    if args.duration is None:
        args.duration = 2.0 if args.quick else 3.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    orchestrate(args)


if __name__ == "__main__":
    main()
