#!/usr/bin/env python3
"""
TCP echo through Kamaelia's ServerCore against asyncio streams, on asyncio's loop and on uvloop
==============================================================================================

Run::

    python3 bench/tcp_echo.py            # full run: 100, 1,000, 10,000 connections, ~6 minutes
    python3 bench/tcp_echo.py --quick    # smoke run: 100 and 1,000 connections, ~25 seconds
    python3 bench/tcp_echo.py --counts 100,2000 --duration 3 --rounds 2

The uvloop column needs uvloop (``.venv/bin/pip install -e '.[bench]'``, or
``pip install uvloop``); without it the script says so and measures the
other two.

Everything is on the loopback interface (127.0.0.1) and every loop is
bounded in time.

What is measured
----------------
Each measurement starts a fresh server process -- either
``ServerCore(protocol=EchoProtocol)`` on the Axon scheduler, or
``asyncio.start_server`` with a handler doing ``read``/``write``/``drain``,
run by ``asyncio.run`` (asyncio's own event loop) or by ``uvloop.run`` (the
same streams code on uvloop's libuv loop) -- and a separate load-generator
process. The load generator (a plain
``select.epoll`` loop, the cheapest client Python can run, so that the
server and not the client is the bottleneck) opens N connections, checks one
echo on each, then for a fixed time keeps exactly one 64-byte request in
flight on every connection: when the echo of a request is complete, the next
request goes out on that connection. Reported per server:

* round trips per second over the measurement window (all connections);
* server CPU time (user + system, from ``/proc/<pid>/stat``) during the
  window, and per round trip;
* server memory per connection: VmRSS of the server (``/proc/<pid>/status``)
  with N connections established, minus VmRSS before the first connection,
  divided by N (kernel socket buffers are not in RSS);
* setup: seconds to open the N connections and get one echo on each;
* teardown: seconds and server CPU from the client closing every connection
  until the server has closed its N sockets (its descriptor count is back
  to what it was before the connections) and has stopped using CPU (its CPU
  time last rose; 10 ms resolution).

Rounds alternate the servers (the order turns every round) so all
see the same machine conditions; the tables show best-of-rounds (highest
round trips/s, lowest CPU per round trip, memory and times; see
``report``). With two or more CPUs the
server is pinned to CPU 0 and the load generator to CPU 1. The load
generator's own CPU time is printed too: if it is close to the window
length, the client, not the server, was the limit.

RLIMIT_NOFILE is raised (soft to hard) in every process. If the hard limit
does not allow N connections (N descriptors in the server and N in the
client), the run says so and measures the largest count that fits instead.

DESIGN.md target: TCP echo through ``ServerCore`` at least asyncio's stream
echo round trips per second, and 10,000 concurrent connections held. Issue
12's target: at least uvloop's round trips per second at 100 and 1,000
connections (printed under each table; ``--rows-json FILE`` writes those
rows for ``bench/issue12.py``).
"""

import argparse
import errno
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time

# The repository's Axon and Kamaelia for the server role, installed or not.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)

HOST = "127.0.0.1"
MESSAGE_SIZE = 64
DESCRIPTOR_MARGIN = 64
CONNECT_CONCURRENCY = 256
CONNECT_DEADLINE = 120.0
TEARDOWN_DEADLINE = 180.0
QUIET = 0.5   # seconds without server CPU use that mark the end of teardown
READ_DEADLINE = CONNECT_DEADLINE + 60.0   # the longest any child may take to report
KINDS = ("kamaelia", "asyncio", "uvloop")
NOISY = 0.2   # cores used by other processes during a window that make it suspect
LABELS = {"kamaelia": "Kamaelia", "asyncio": "asyncio", "uvloop": "uvloop"}


def raiseDescriptorLimit():
    """Raise RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pinTo(cpu):
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() >= 2:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass


def announce(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


# -- the servers -------------------------------------------------------------------

def settleAllocator():
    """Free one 4 MiB block so glibc raises its dynamic mmap threshold now.

    asyncio reads with a 256 KiB buffer (``max_size``) and shrinks it to the
    bytes received. Until glibc has freed one mmapped block of at least that
    size, every such buffer is mmapped, shrunk with mremap and munmapped:
    three extra system calls per read, which made asyncio's figures swing by
    up to 1.9x between otherwise identical runs. Both servers call this
    first, so the baseline is asyncio in its steady state.
    """
    block = bytearray(4 << 20)
    del block

def runKamaeliaServer():
    settleAllocator()
    from Axon.Scheduler import scheduler
    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    server = ServerCore(protocol=EchoProtocol, port=0, host=HOST)
    server.activate()
    announce(port=server.port)
    scheduler.run.runThreads()


def runAsyncioServer(useUvloop=False):
    """The baseline: asyncio streams, on asyncio's own loop or on uvloop's."""
    import asyncio

    settleAllocator()

    async def echo(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def serve():
        # The same listen backlog as Kamaelia's TCPServer (asyncio's default is 100).
        server = await asyncio.start_server(echo, HOST, 0, backlog=1024)
        announce(port=server.sockets[0].getsockname()[1])
        await server.serve_forever()

    if useUvloop:
        import uvloop
        uvloop.run(serve())
    else:
        asyncio.run(serve())


def uvloopAvailable():
    import importlib.util
    return importlib.util.find_spec("uvloop") is not None


UVLOOP_HINT = ("uvloop is not installed: `.venv/bin/pip install -e '.[bench]'` (or "
               "`pip install uvloop`) adds it; the uvloop column is skipped")


# -- the load generator ------------------------------------------------------------

def connectAll(port, count, message):
    """Open ``count`` connections and complete one echo on each; returns the sockets."""
    ep = select.epoll()
    socks = {}
    connecting = {}
    received = {}
    ready = []
    opened = 0
    deadline = time.monotonic() + CONNECT_DEADLINE
    try:
        while len(ready) < count:
            while opened < count and len(connecting) + len(received) < CONNECT_CONCURRENCY:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.setblocking(False)
                code = s.connect_ex((HOST, port))
                if code not in (0, errno.EINPROGRESS):
                    raise OSError(code, "connect #%d: %s" % (opened + 1, os.strerror(code)))
                fd = s.fileno()
                socks[fd] = s
                connecting[fd] = s
                ep.register(fd, select.EPOLLOUT)
                opened += 1
            if time.monotonic() > deadline:
                raise TimeoutError("only %d of %d connections ready after %.0f s"
                                   % (len(ready), count, CONNECT_DEADLINE))
            for fd, _events in ep.poll(1.0):
                s = socks[fd]
                if fd in connecting:
                    del connecting[fd]
                    code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if code:
                        raise OSError(code, "connect: %s" % os.strerror(code))
                    s.send(message)
                    received[fd] = 0
                    ep.modify(fd, select.EPOLLIN)
                else:
                    data = s.recv(65536)
                    if not data:
                        raise ConnectionError("server closed a connection during setup")
                    received[fd] += len(data)
                    if received[fd] >= len(message):
                        del received[fd]
                        ep.unregister(fd)
                        ready.append(s)
    except BaseException:
        for s in socks.values():
            s.close()
        raise
    finally:
        ep.close()
    return ready


def roundTrips(socks, message, duration):
    """One request in flight per connection for ``duration`` s; returns (count, elapsed)."""
    size = len(message)
    ep = select.epoll(sizehint=len(socks))
    top = max(s.fileno() for s in socks) + 1
    recvs = [None] * top
    sends = [None] * top
    got = [0] * top
    for s in socks:
        fd = s.fileno()
        recvs[fd] = s.recv
        sends[fd] = s.send
        ep.register(fd, select.EPOLLIN)
    count = 0
    outstanding = len(socks)
    clock = time.perf_counter
    start = clock()
    end = start + duration
    for s in socks:
        s.send(message)
    sending = True
    poll = ep.poll
    try:
        while outstanding:
            events = poll(1.0)
            if sending and clock() >= end:
                sending = False
                elapsed = clock() - start
            for fd, _events in events:
                data = recvs[fd](65536)
                if not data:
                    raise ConnectionError("server closed a connection")
                n = got[fd] + len(data)
                if n < size:
                    got[fd] = n
                    continue
                got[fd] = 0
                if sending:
                    count += 1
                    sends[fd](message)
                else:
                    outstanding -= 1
            if not sending and clock() > end + 30:
                raise TimeoutError("%d echoes still missing 30 s after the window" % outstanding)
    finally:
        ep.close()
    return count, elapsed


def runLoad(port, count, duration):
    pinTo(1)
    message = bytes(range(MESSAGE_SIZE)) if MESSAGE_SIZE <= 256 else os.urandom(MESSAGE_SIZE)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    try:
        socks = connectAll(port, count, message)
    except (OSError, TimeoutError, ConnectionError) as e:
        announce(phase="failed", error="%s: %s" % (type(e).__name__, e))
        return
    announce(phase="ready", setup=time.perf_counter() - t0)
    if sys.stdin.readline().strip() != "go":
        return
    cpu1 = time.process_time()
    try:
        done, elapsed = roundTrips(socks, message, duration)
    except (OSError, TimeoutError, ConnectionError) as e:
        announce(phase="failed", error="%s: %s" % (type(e).__name__, e))
        return
    announce(phase="done", roundTrips=done, elapsed=elapsed,
             loadCpu=time.process_time() - cpu1, setupCpu=cpu1 - cpu0)
    if sys.stdin.readline().strip() != "close":
        return
    for s in socks:
        s.close()
    announce(phase="closed")
    sys.stdin.readline()


# -- measuring a server process from outside -----------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpuTimes(pid):
    """(user, system) CPU seconds of process ``pid``."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def cpuSeconds(pid):
    return sum(cpuTimes(pid))


def machineBusy():
    """CPU seconds every CPU of the machine has spent not idle (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / _TICK


def rssBytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def descriptorCount(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def readMessage(proc, what, deadline=READ_DEADLINE):
    """The next JSON line from ``proc``'s stdout, waiting at most ``deadline`` seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], deadline)
    if not ready:
        raise RuntimeError("no report from the %s within %.0f s" % (what, deadline))
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("%s exited without reporting (exit status %s)" % (what, proc.poll()))
    return json.loads(line)


def stopProcess(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(kind, count, duration):
    """One measurement of ``kind`` ("kamaelia", "asyncio" or "uvloop") with ``count`` connections."""
    me = os.path.abspath(__file__)
    server = subprocess.Popen([sys.executable, me, "--role", kind + "-server"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    load = None
    try:
        port = readMessage(server, kind + " server")["port"]
        time.sleep(0.2)
        rss0 = rssBytes(server.pid)
        fds0 = descriptorCount(server.pid)
        load = subprocess.Popen([sys.executable, me, "--role", "load", "--port", str(port),
                                 "--connections", str(count), "--duration", str(duration)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = readMessage(load, "load generator")
        if ready["phase"] != "ready":
            return {"error": ready.get("error", ready)}
        rss1 = rssBytes(server.pid)
        user1, sys1 = cpuTimes(server.pid)
        cpu1 = user1 + sys1
        busy1 = machineBusy()
        load.stdin.write("go\n")
        load.stdin.flush()
        done = readMessage(load, "load generator")
        if done["phase"] != "done":
            return {"error": done.get("error", done)}
        busy2 = machineBusy()
        user2, sys2 = cpuTimes(server.pid)
        cpu2 = user2 + sys2
        rss2 = rssBytes(server.pid)
        load.stdin.write("close\n")
        load.stdin.flush()
        readMessage(load, "load generator")
        # Teardown ends when the server has closed every socket *and* its CPU time
        # has stopped rising (bookkeeping after the close counts too).
        t0 = time.perf_counter()
        deadline = t0 + TEARDOWN_DEADLINE
        lastCpu, lastChange = cpu2, t0
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            now, cpu = time.perf_counter(), cpuSeconds(server.pid)
            if cpu != lastCpu:
                lastCpu, lastChange = cpu, now
            if now - lastChange > QUIET and descriptorCount(server.pid) <= fds0:
                break
        teardown = lastChange - t0
        leftover = descriptorCount(server.pid) - fds0
        cpu3 = lastCpu
        return {"rate": done["roundTrips"] / done["elapsed"],
                "serverCpu": cpu2 - cpu1,
                "cpuPerTrip": (cpu2 - cpu1) / max(1, done["roundTrips"]),
                "userPerTrip": (user2 - user1) / max(1, done["roundTrips"]),
                "sysPerTrip": (sys2 - sys1) / max(1, done["roundTrips"]),
                "othersShare": max(0.0, (busy2 - busy1) - (cpu2 - cpu1) - done["loadCpu"])
                / done["elapsed"],
                "loadCpuShare": done["loadCpu"] / done["elapsed"],
                "serverCpuShare": (cpu2 - cpu1) / done["elapsed"],
                "memPerConn": (rss1 - rss0) / count,
                "rssLoaded": rss2,
                "setup": ready["setup"],
                "teardown": teardown,
                "teardownCpu": cpu3 - cpu2,
                "leftover": leftover}
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
        stopProcess(server)


def feasibleCount(requested, limit):
    """Largest connection count (<= requested) that fits ``limit`` descriptors per process."""
    return min(requested, limit - DESCRIPTOR_MARGIN)


def orchestrate(args):
    limit = raiseDescriptorLimit()
    counts = [int(c) for c in args.counts.split(",")]
    kinds = [k for k in KINDS if k != "uvloop" or uvloopAvailable()]
    print("Python %s, %d CPUs, Linux %s, RLIMIT_NOFILE %d, %d-byte messages, "
          "%.0f s windows, best of %d rounds; servers: %s"
          % (sys.version.split()[0], os.cpu_count(), os.uname().release, limit,
             MESSAGE_SIZE, args.duration, args.rounds, ", ".join(LABELS[k] for k in kinds)))
    if "uvloop" not in kinds:
        print(UVLOOP_HINT)
    sys.stdout.flush()
    results = {}
    for requested in counts:
        count = feasibleCount(requested, limit)
        if count != requested:
            print("cannot hold %s connections: RLIMIT_NOFILE hard limit is %d per process "
                  "(server and client each need one descriptor per connection); "
                  "measuring %s instead" % (format(requested, ","), limit, format(count, ",")))
        rows = {kind: [] for kind in kinds}
        for r in range(args.rounds):
            # The order turns every round, so each server runs first, second and last.
            shift = r % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                result = measure(kind, count, args.duration)
                if "error" in result:
                    print("%s, %s connections, round %d FAILED: %s"
                          % (kind, format(count, ","), r + 1, result["error"]))
                else:
                    rows[kind].append(result)
                    if args.verbose:
                        print("  %s %d round %d: %s" % (kind, count, r + 1, json.dumps(
                            {k: round(v, 7) for k, v in result.items()})))
                sys.stdout.flush()
        results[count] = rows
        report(count, rows)
    if args.rows_json:
        with open(args.rows_json, "w") as f:
            json.dump(issueRows(results, args), f)
    return results


def issueRows(results, args):
    """Issue 12's rows: round trips/s through ServerCore against uvloop streams (target 1x)."""
    command = "python3 bench/tcp_echo.py" + (" --quick" if args.quick else "") \
        + " --rounds %d --counts %s" % (args.rounds, args.counts)
    out = []
    for count, rows in results.items():
        best = {kind: max((r["rate"] for r in rs), default=None) for kind, rs in rows.items()}
        ours, asyn, uv = best.get("kamaelia"), best.get("asyncio"), best.get("uvloop")
        row = {"figure": "TCP echo through ServerCore, %s connections (round trips/s)"
                         % format(count, ","),
               "target": ">= 1x uvloop", "command": command,
               "ours": "%.0f/s" % ours if ours else "FAILED"}
        asyncText = "asyncio streams %.0f/s" % asyn if asyn else "asyncio FAILED"
        if uv and ours:
            row["baseline"] = "uvloop streams %.0f/s (%s)" % (uv, asyncText)
            # Server CPU per round trip depends less on what else the machine runs.
            cpu = {kind: min(r["cpuPerTrip"] for r in rs) for kind, rs in rows.items() if rs}
            row["ratio"] = "%.2fx uvloop (%s asyncio); server CPU per round trip %.1f us, " \
                "%.2fx uvloop's" % (ours / uv, "%.2fx" % (ours / asyn) if asyn else "-",
                                   cpu["kamaelia"] * 1e6, cpu["kamaelia"] / cpu["uvloop"])
            row["met"] = "met" if ours >= uv else "missed"
        else:
            row["baseline"] = asyncText + ("; uvloop not installed" if "uvloop" not in rows
                                           else "; uvloop FAILED")
            row["ratio"] = "%.2fx asyncio" % (ours / asyn) if ours and asyn else "-"
            row["met"] = "not judged (no uvloop figure)"
        noisy = [kind for kind, rs in rows.items() if rs and roundWith(rs, "rate", True)[
            "othersShare"] > NOISY]
        if noisy:
            row["met"] += " (noisy: other processes used over %.1f of a core during the best " \
                "%s round)" % (NOISY, "/".join(LABELS[k] for k in noisy))
        out.append(row)
    return out


def roundWith(rows, key, higher):
    """The round with the best ``key`` (highest if ``higher``)."""
    return (max if higher else min)(rows, key=lambda r: r[key]) if rows else None


def report(count, rows):
    """Print the table for one connection count.

    Round trips/s is the best round's; the per-round-trip CPU split comes from
    the round with the least CPU per round trip; CPU shares and noise from the
    round with the most round trips/s; memory, setup and teardown are each
    the lowest over the rounds. The ratios are Kamaelia's figure divided by
    each baseline's.
    """
    kinds = list(rows)
    baselines = [k for k in kinds if k != "kamaelia"]
    print()
    print("%s concurrent connections (%s rounds)" % (format(count, ","), ", ".join(
        "%d %s" % (len(rows[k]), LABELS[k]) for k in kinds)))
    print("%-45s" % "" + "".join("%15s " % LABELS[k] for k in kinds)
          + "".join("%10s" % ("vs " + LABELS[k]) for k in baselines))
    picks = {kind: {"rate": roundWith(rs, "rate", True), "cpu": roundWith(rs, "cpuPerTrip", False)}
             for kind, rs in rows.items()}

    def row(label, key, unit, scale=1.0, pick=None, fmt="%12.0f"):
        values = {}
        for kind in kinds:
            rs = rows[kind]
            if not rs:
                values[kind] = float("nan")
            elif pick is None:
                values[kind] = min(r[key] for r in rs) * scale
            else:
                values[kind] = picks[kind][pick][key] * scale
        x = values["kamaelia"]
        text = "%-44s " % label + "".join((fmt + " %s ") % (values[k], unit) for k in kinds)
        for k in baselines:
            text += "%9.2fx" % (x / values[k]) if values[k] else "%10s" % "-"
        print(text)

    row("round trips/s", "rate", "/s", pick="rate")
    row("server CPU per round trip (us)", "cpuPerTrip", "us", 1e6, "cpu", "%12.1f")
    row("  of which user (us)", "userPerTrip", "us", 1e6, "cpu", "%12.1f")
    row("  of which system (us)", "sysPerTrip", "us", 1e6, "cpu", "%12.1f")
    row("server CPU, share of the window", "serverCpuShare", "  ", pick="rate", fmt="%12.2f")
    row("load generator CPU, share of the window", "loadCpuShare", "  ", pick="rate",
        fmt="%12.2f")
    row("rest of the machine, cores (noise)", "othersShare", "  ", pick="rate", fmt="%12.2f")
    row("server memory per connection (bytes)", "memPerConn", " B")
    row("setup: connect + first echo (s)", "setup", " s", fmt="%12.2f")
    row("teardown: until the server is idle (s)", "teardown", " s", fmt="%12.2f")
    row("teardown: server CPU (s)", "teardownCpu", " s", fmt="%12.2f")
    for kind, rs in rows.items():
        if any(r["leftover"] > 0 for r in rs):
            print("WARNING: %s server still had %d more descriptors than before the run "
                  "%.0f s after the clients closed" % (kind, max(r["leftover"] for r in rs),
                                                       TEARDOWN_DEADLINE))
    if rows.get("uvloop") and rows.get("kamaelia"):
        ratio = picks["kamaelia"]["rate"]["rate"] / picks["uvloop"]["rate"]["rate"]
        print("issue 12 target: round trips/s at least 1x uvloop's: %.2fx, %s"
              % (ratio, "met" if ratio >= 1 else "missed"))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true", help="30-second smoke run")
    parser.add_argument("--counts", default=None, help="comma-separated connection counts")
    parser.add_argument("--duration", type=float, default=None, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--verbose", action="store_true", help="print every round")
    parser.add_argument("--rows-json", help="write issue 12's rows to this file (JSON)")
    parser.add_argument("--role", default="orchestrate",
                        choices=("orchestrate", "kamaelia-server", "asyncio-server", "uvloop-server",
                                 "load"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    raiseDescriptorLimit()
    if args.role == "kamaelia-server":
        pinTo(0)
        runKamaeliaServer()
    elif args.role == "asyncio-server":
        pinTo(0)
        runAsyncioServer()
    elif args.role == "uvloop-server":
        pinTo(0)
        runAsyncioServer(useUvloop=True)
    elif args.role == "load":
        runLoad(args.port, args.connections, args.duration)
    else:
        if args.counts is None:
            args.counts = "100,1000" if args.quick else "100,1000,10000"
        if args.duration is None:
            args.duration = 2.0 if args.quick else 4.0
        if args.rounds is None:
            args.rounds = 1 if args.quick else 3
        orchestrate(args)


if __name__ == "__main__":
    main()
