#!/usr/bin/env python3
"""
Kamaelia Grey: accepted-mail throughput through the proxy against direct delivery
================================================================================

Run::

    python3 bench/grey_bench.py            # full run, about 2 minutes
    python3 bench/grey_bench.py --quick    # smoke run, about 20 seconds
    python3 bench/grey_bench.py --concurrency 1,20 --sessions 2000

Everything is on the loopback interface (127.0.0.1), every wait has a
deadline, and every child process is killed at the end, also on error.

What is measured
----------------
Three kinds of process take part, each started fresh by this script:

* a **sink**: an ``aiosmtpd`` server that accepts every message, counts it
  and throws it away (its own process);
* the **greylister**: ``python3 -m Kamaelia.Apps.Grey.Application`` as users
  run it, with a configuration written to a temporary directory that relays
  to the sink and accepts the benchmark's mail without greylisting it
  (``allowed_senders = 127.0.0.1``, ``allowed_domains = example.org``), with
  the default logging: ``log_level`` INFO (to standard error, here a file in
  the temporary directory; ``--log-level`` changes it), the result log
  ``greylist_log`` and the debug log ``greylist_debuglog``, as in production;
* a **load generator** (its own process): an asyncio client speaking plain
  SMTP over N concurrent connections. Each connection reads the greeting,
  says EHLO, then sends M messages one after the other (MAIL, RCPT, DATA,
  the message, each command waiting for its reply as ``smtplib`` does) and
  QUITs. A message counts as delivered only when the reply to its final
  "." is 250; at the end the sink's own count must agree.

For each message size and concurrency, the same load runs once **straight
to the sink** and once **through the greylister**; the table prints messages
per second both ways and the ratio, against the DESIGN.md target: the
proxy's accepted-mail throughput at least half of direct delivery.

Then **concurrent sessions held**: K connections are opened to the
greylister, 50 at a time, and each gets its greeting and an EHLO reply
(each session also holds a connection from the greylister to the sink); the greylister's
resident memory (VmRSS from ``/proc/<pid>/status``) before and with the K
sessions open gives the memory per session, and a NOOP on every session
checks that all K are still served. ``max_sessions`` is set above K and
RLIMIT_NOFILE is raised (soft to hard) in every process.

The machine's two cores are shared by the client, the proxy and the sink
(the direct run needs only the client and the sink): the ratio includes
that contention, as on a real single host.
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SENDER = b"bench@example.net"
RECIPIENT = b"user@example.org"
START_DEADLINE = 20.0


# -- helpers shared by the roles ------------------------------------------------------------

def raiseFileLimit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(size):
    """An RFC 5322 message of about ``size`` bytes, CRLF line ends, no line starting with "."."""
    head = (b"From: <" + SENDER + b">\r\nTo: <" + RECIPIENT + b">\r\n"
            b"Subject: benchmark\r\nMessage-ID: <bench@example.net>\r\n\r\n")
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


async def readReply(reader):
    """The code of the next (possibly multi-line) SMTP reply."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed while waiting for a reply")
        if line[3:4] != b"-":
            return int(line[:3])


# -- role: sink -----------------------------------------------------------------------------

def runSink():
    """An aiosmtpd server counting messages; stdin "count" prints the count, "exit" ends."""
    from aiosmtpd.controller import Controller

    class Counter(object):
        count = 0

        async def handle_DATA(self, server, session, envelope):
            self.count += 1
            return "250 2.0.0 OK"

    handler = Counter()
    port = freePort()
    # server_hostname: otherwise every connection calls socket.getfqdn() before greeting.
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            server_hostname="sink.bench.example", data_size_limit=50_000_000,
                            ready_timeout=START_DEADLINE)
    serveSink(controller, port, lambda: {"count": handler.count})


def serveSink(controller, port, counts):
    """Start an aiosmtpd ``controller``, announce ``port``, and on stdin answer "count"
    with ``counts()`` (as JSON) until "exit" or the end of input."""
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                print(json.dumps(counts()), flush=True)
            elif command == "exit":
                break
    finally:
        controller.stop()


# -- role: load -------------------------------------------------------------------------------

async def oneSession(port, count, data, results):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if await readReply(reader) != 220:
            raise ConnectionError("no 220 greeting")
        writer.write(b"EHLO bench.example.net\r\n")
        if await readReply(reader) != 250:
            raise ConnectionError("EHLO refused")
        for _ in range(count):
            writer.write(b"MAIL FROM:<" + SENDER + b">\r\n")
            code = await readReply(reader)
            if code != 250:
                results["refused"].append(("MAIL", code))
                continue
            writer.write(b"RCPT TO:<" + RECIPIENT + b">\r\n")
            code = await readReply(reader)
            if code != 250:
                results["refused"].append(("RCPT", code))
                writer.write(b"RSET\r\n")
                await readReply(reader)
                continue
            writer.write(b"DATA\r\n")
            code = await readReply(reader)
            if code != 354:
                results["refused"].append(("DATA", code))
                continue
            writer.write(data + b".\r\n")
            code = await readReply(reader)
            if code == 250:
                results["delivered"] += 1
            else:
                results["refused"].append(("end of data", code))
        writer.write(b"QUIT\r\n")
        await readReply(reader)
    finally:
        writer.close()


async def load(port, connections, perConnection, size, deadline):
    data = message(size)
    results = {"delivered": 0, "refused": []}
    started = time.perf_counter()
    outcome = await asyncio.wait_for(
        asyncio.gather(*(oneSession(port, perConnection, data, results)
                         for _ in range(connections)), return_exceptions=True), deadline)
    elapsed = time.perf_counter() - started
    errors = [repr(e) for e in outcome if isinstance(e, BaseException)]
    return {"delivered": results["delivered"], "refused": results["refused"][:5],
            "refusedCount": len(results["refused"]), "errors": errors[:5],
            "elapsed": elapsed, "rate": results["delivered"] / elapsed}


def runLoad(args):
    raiseFileLimit()
    result = asyncio.run(load(args.port, args.connections, args.messages, args.size,
                              args.deadline))
    print(json.dumps(result), flush=True)


# -- role: sessions ------------------------------------------------------------------------------

async def holdSessions(port, count, batch=50):
    """Open ``count`` sessions, ``batch`` at a time (greeting and EHLO answered before the
    next batch: a burst of a thousand connects overflows the sink's accept queue of 100)."""
    opened, errors = [], set()

    async def openOne():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened.append((reader, writer))
        if await readReply(reader) != 220:
            return False
        writer.write(b"EHLO held.example.net\r\n")
        return await readReply(reader) == 250

    greeted = 0
    for first in range(0, count, batch):
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(openOne(), 60) for _ in range(min(batch, count - first))),
            return_exceptions=True)
        greeted += sum(o is True for o in outcomes)
        errors.update(repr(o) for o in outcomes if isinstance(o, BaseException))
    print(json.dumps({"greeted": greeted, "errors": sorted(errors)[:5]}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)

    async def noop(pair):
        reader, writer = pair
        writer.write(b"NOOP\r\n")
        return await readReply(reader) == 250

    answered = sum(o is True for o in await asyncio.gather(
        *(asyncio.wait_for(noop(p), 60) for p in opened), return_exceptions=True))
    print(json.dumps({"answered": answered}), flush=True)
    for _, writer in opened:
        writer.close()


def runSessions(args):
    limit = raiseFileLimit()
    if args.connections + 50 > limit:
        sys.exit("RLIMIT_NOFILE %d is too low for %d sessions" % (limit, args.connections))
    asyncio.run(holdSessions(args.port, args.connections))


# -- orchestration ----------------------------------------------------------------------------------

class Children(object):
    """Every child process started, killed on exit."""

    def __init__(self):
        self.procs = []
        self.files = []

    def start(self, argv, **kw):
        proc = subprocess.Popen(argv, **kw)
        self.procs.append(proc)
        return proc

    def killAll(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        for f in self.files:
            f.close()


def role(name, *extra):
    return [sys.executable, os.path.abspath(__file__), "--role", name] + [str(x) for x in extra]


def readJSON(proc, deadline, what):
    """The next JSON line from ``proc``'s stdout, within ``deadline`` seconds."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(deadline):
            raise RuntimeError("no answer from the %s within %.0f s" % (what, deadline))
        line = proc.stdout.readline()
    finally:
        sel.close()
    if not line:
        raise RuntimeError("the %s ended without answering (exit status %s)" % (what, proc.poll()))
    return json.loads(line)


def cpuSeconds(pid):
    """User + system CPU time used so far by process ``pid``."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rssKB(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def waitForSMTP(port, proc, deadline=START_DEADLINE):
    """Wait until something on ``port`` greets with 220 (the process must stay alive)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("the greylister exited with status %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(100).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the greylister did not greet on port %d within %.0f s" % (port, deadline))


def writeConfig(directory, port, sinkPort, maxSessions, logLevel=None):
    settings = [
        ("port", port), ("listen_address", "127.0.0.1"), ("servername", "bench.test.local"),
        ("smtp_ip", "127.0.0.1"), ("smtp_port", sinkPort),
        ("greylist_db", os.path.join(directory, "greylist.sqlite")),
        ("greylist_log", os.path.join(directory, "greylist.log")),
        ("greylist_debuglog", os.path.join(directory, "greylist-debug.log")),
        ("maildir", os.path.join(directory, "Maildir")), ("import_dbm_dir", ""),
        ("max_sessions", maxSessions), ("max_message_size", 50_000_000),
    ]
    if logLevel:
        settings.append(("log_level", logLevel))
    lines = ["%s = %s" % item for item in settings]
    lines += ["allowed_senders:", "    127.0.0.1", "allowed_domains:", "    example.org"]
    path = os.path.join(directory, "greylist.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def sinkCount(sink):
    sink.stdin.write("count\n")
    sink.stdin.flush()
    return readJSON(sink, 10, "sink")["count"]


def measure(children, port, sink, grey, connections, perConnection, size, deadline):
    """One load run against ``port``; checks the sink received what the client counted.

    Adds the CPU time the sink and the greylister used per delivered message.
    """
    before = sinkCount(sink)
    cpuBefore = cpuSeconds(sink.pid), cpuSeconds(grey.pid)
    proc = children.start(role("load", "--port", port, "--connections", connections,
                               "--messages", perConnection, "--size", size,
                               "--deadline", deadline),
                          stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    result = readJSON(proc, deadline + 10, "load generator")
    proc.wait(10)
    received = sinkCount(sink) - before
    delivered = max(result["delivered"], 1)
    result["sinkCpuPerMessage"] = (cpuSeconds(sink.pid) - cpuBefore[0]) / delivered
    result["greyCpuPerMessage"] = (cpuSeconds(grey.pid) - cpuBefore[1]) / delivered
    if result["errors"] or result["refusedCount"] or received != result["delivered"]:
        raise RuntimeError("load run went wrong: %s; sink received %d" % (result, received))
    return result


def orchestrate(args):
    limit = raiseFileLimit()
    sizes = [int(s) for s in args.sizes.split(",")]
    levels = [int(c) for c in args.concurrency.split(",")]
    total = args.total
    children = Children()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="grey-bench-") as directory:
            sink = children.start(role("sink"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
            sinkPort = readJSON(sink, START_DEADLINE, "sink")["port"]
            port = freePort()
            config = writeConfig(directory, port, sinkPort, args.sessions + 100, args.log_level)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
            stderr = open(os.path.join(directory, "stderr.log"), "wb")
            children.files.append(stderr)
            grey = children.start([sys.executable, "-m", "Kamaelia.Apps.Grey.Application",
                                   "--config", config], cwd=directory, env=env,
                                  stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
            waitForSMTP(port, grey)
            print("Python %s, %d CPUs, RLIMIT_NOFILE %d; sink: aiosmtpd %s"
                  % (sys.version.split()[0], os.cpu_count(), limit, aiosmtpdVersion()))
            print()
            for size in sizes:
                for connections in levels:
                    count = max(total(size) // connections, 2)
                    best = {}
                    for _ in range(args.rounds):
                        for name, target in (("direct", sinkPort), ("proxy", port)):
                            r = measure(children, target, sink, grey, connections, count,
                                        size, args.deadline)
                            if name not in best or r["rate"] > best[name]["rate"]:
                                best[name] = r
                    rows.append((size, connections, count, best["direct"], best["proxy"]))
                    report(rows[-1], args.verbose)
            print()
            summary(rows)
            print()
            held = holdAndMeasure(children, grey, port, args.sessions)
            print("Concurrent sessions held by the greylister: %d of %d greeted and EHLO'd, "
                  "%d answered a NOOP with all open" % (held["greeted"], args.sessions,
                                                        held["answered"]))
            print("Greylister memory: %.1f MB before, %.1f MB with them open: %.0f bytes per "
                  "session" % (held["before"] / 1024, held["after"] / 1024,
                               (held["after"] - held["before"]) * 1024 / args.sessions))
    finally:
        children.killAll()


def aiosmtpdVersion():
    from importlib.metadata import version
    return version("aiosmtpd")


def holdAndMeasure(children, grey, port, count):
    before = rssKB(grey.pid)
    proc = children.start(role("sessions", "--port", port, "--connections", count),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = readJSON(proc, 180, "session holder")
    greeted = first["greeted"]
    if first["errors"]:
        print("session holder errors: %s" % "; ".join(first["errors"]))
    after = rssKB(grey.pid)
    proc.stdin.write("check\n")
    proc.stdin.flush()
    answered = readJSON(proc, 60, "session holder")["answered"]
    proc.wait(30)
    return {"greeted": greeted, "answered": answered, "before": before, "after": after}


def report(row, verbose):
    size, connections, count, direct, proxy = row
    print("%7d-byte messages, %3d connections x %4d messages: direct %7.1f msg/s, "
          "proxy %7.1f msg/s, ratio %.2fx; CPU per message: sink %.0f us, greylister %.0f us"
          % (size, connections, count, direct["rate"], proxy["rate"],
             proxy["rate"] / direct["rate"], proxy["sinkCpuPerMessage"] * 1e6,
             proxy["greyCpuPerMessage"] * 1e6), flush=True)
    if verbose:
        print("    direct: %s\n    proxy:  %s" % (json.dumps(direct), json.dumps(proxy)))


def summary(rows):
    print("| message size | connections | direct (msg/s) | through the proxy (msg/s) | "
          "ratio | target 0.5x | greylister CPU per message | sink CPU per message |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for size, connections, _, direct, proxy in rows:
        ratio = proxy["rate"] / direct["rate"]
        print("| %s | %d | %.0f | %.0f | %.2fx | %s | %.0f us | %.0f us |"
              % (("%d KB" % (size // 1000)) if size >= 1000 else "%d B" % size, connections,
                 direct["rate"], proxy["rate"], ratio, "met" if ratio >= 0.5 else "missed",
                 proxy["greyCpuPerMessage"] * 1e6, proxy["sinkCpuPerMessage"] * 1e6))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--role", default="orchestrate",
                        choices=["orchestrate", "sink", "load", "sessions"])
    parser.add_argument("--quick", action="store_true", help="about 20 seconds")
    parser.add_argument("--sizes", default="2000,100000", help="message sizes in bytes")
    parser.add_argument("--concurrency", default="1,10,50", help="concurrent connections")
    parser.add_argument("--sessions", type=int, default=1000, help="idle sessions to hold")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per measurement (best kept)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--log-level", default=None,
                        help="the greylister's log_level (default: its own default, INFO)")
    parser.add_argument("--port", type=int)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--size", type=int)
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args()
    if args.role == "sink":
        return runSink()
    if args.role == "load":
        return runLoad(args)
    if args.role == "sessions":
        return runSessions(args)
    if args.quick:
        args.concurrency, args.sessions, args.rounds = "1,10", 200, 1
        args.total = lambda size: 100 if size < 20000 else 20
    else:
        args.total = lambda size: 1000 if size < 20000 else 150
    orchestrate(args)


if __name__ == "__main__":
    main()
