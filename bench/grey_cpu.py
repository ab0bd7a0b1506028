#!/usr/bin/env python3
"""
Kamaelia Grey: the greylister's CPU per message and per deferred attempt, and smtp-source through it
===================================================================================================

Run (from the repository root; ``.venv/bin/python`` or any Python 3.11+ with
``aiosmtpd`` installed: ``.venv/bin/pip install -e '.[bench]'`` or
``pip install aiosmtpd``)::

    python3 bench/grey_cpu.py             # full run, about 2 minutes
    python3 bench/grey_cpu.py --quick     # smoke run, about 40 seconds
    python3 bench/grey_cpu.py --rounds 5 --messages 200 --attempts 3000

The smtp-source row needs Debian's ``postfix`` package, which ships
``/usr/sbin/smtp-source`` and ``/usr/sbin/smtp-sink`` (``apt-get install
postfix``, or ``DEBIAN_FRONTEND=noninteractive apt-get install -y postfix``);
without them that row prints a SKIPPED line and the script still exits 0.

Everything is on the loopback interface, every wait has a deadline, and
every child process is stopped at the end, by pid, also on error.

These are three rows of issue 12's table: the greylister as users run it
(``python3 -m Kamaelia.Apps.Grey.Application --config FILE``) with **default
logging**: the configuration file sets only ``port``, ``listen_address``,
``smtp_ip``, ``smtp_port`` (the backend) and ``allowed_domains =
example.org``; ``log_level`` stays at its default (INFO, to standard error,
which goes to a file here), and the result log ``greylist.log``, the debug
log ``greylist-debug.log`` and the greylist ``greylist.sqlite`` are the
defaults, in the greylister's working directory (a temporary directory).
``allowed_senders`` is left at its default, 127.0.0.1.

What is measured
----------------
The greylister's CPU is user + system time from ``/proc/PID/stat`` (all its
threads, the log writer's too), read before a load run and again once the
process has gone quiet after it (its CPU time has not risen for half a
second, so the log records still queued and the sessions' teardown count).
The main thread's share (``/proc/PID/task/PID/stat``: the scheduler's
thread; the others write the logs and query the greylist) is printed per
round.

1. **CPU per accepted 2 KB message**: 20 concurrent clients on 127.0.0.1
   (an allowed sender, so nothing is greylisted), each sending many
   messages in one session (``bench/grey_bench.py``'s load generator: MAIL,
   RCPT, DATA, the content, each waiting for its reply). The backend is an
   ``aiosmtpd`` sink in its own process. Baseline in the same run: the
   sink's own CPU per message when the same load goes straight to it
   (aiosmtpd serving the conversation once; the proxy serves it and relays
   it). Target (issue 12): at most 0.5 ms.
2. **CPU per deferred attempt**: 20 concurrent clients connect from
   127.0.0.2 (not an allowed sender), each attempt one session as a real MTA
   makes it -- greeting, EHLO, MAIL from a sender never seen before, RCPT,
   DATA, QUIT -- so every triplet is new and every attempt is greylisted
   (451 at RCPT or at DATA; which one is printed). Proxy CPU / attempts.
   Also printed: how many connections the backend sink received during the
   proxy's deferred rounds (a greylisted session need not open one). Baseline:
   the sink's CPU per attempt when the same clients talk to it directly and
   it answers 451 to every RCPT (recipients at ``defer.example``). Target:
   at most 0.5 ms.
3. **``smtp-source -s 20 -m 2000 -l 2048``** (20 parallel sessions, 2,000
   messages, one per connection, 2 KB of payload; ``-f bench@example.net -t
   user@example.org -M bench.example.net``, so the proxy relays without
   greylisting) through a second greylister instance to ``smtp-sink``, against
   the same smtp-source straight to ``smtp-sink``. Wall time of the
   smtp-source process both ways; the figure is the proxy's throughput as a
   fraction of direct (direct time / proxy time). Target: at least 0.35x.

Rounds alternate the two sides of every row (the order flips every round);
the figures are best-of-rounds (lowest CPU, shortest time). The two CPUs of
the machine are shared by the load generator, the greylister and the sink.
``--rows-json FILE`` writes the rows for ``bench/issue12.py``.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE]

import grey_bench  # noqa: E402  (a sibling script: its load generator and helpers)
from grey_bench import (  # noqa: E402
    Children,
    cpuSeconds,
    freePort,
    raiseFileLimit,
    readJSON,
    readReply,
)

START_DEADLINE = 30.0
QUIET = 0.5          # seconds without CPU use that end a measurement
QUIET_DEADLINE = 30.0
MESSAGE_SIZE = 2048
CLIENTS = 20
DEFER_SOURCE = "127.0.0.2"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
INSTALL_HINT = "apt-get install postfix (Debian's postfix package ships smtp-source and smtp-sink)"
TARGET_CPU = 0.5e-3
TARGET_SOURCE_RATIO = 0.35


def role(name, *extra):
    return [sys.executable, os.path.abspath(__file__), "--role", name] + [str(x) for x in extra]


# -- role: sink (aiosmtpd, counting messages and connections) -----------------------------

def runSink():
    """An aiosmtpd sink: counts messages and connections, defers RCPT to defer.example.

    stdin "count" prints {"messages": M, "connections": C}; "exit" ends it.
    """
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    counts = {"messages": 0, "connections": 0}

    class Handler(object):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.lower().endswith("@defer.example"):
                return "451 4.7.1 Greylisted, please try again later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            counts["messages"] += 1
            return "250 2.0.0 OK"

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            counts["connections"] += 1
            super().connection_made(transport)

    class CountingController(Controller):
        def factory(self):
            return CountingSMTP(self.handler, **self.SMTP_kwargs)

    port = freePort()
    # server_hostname: otherwise every connection calls socket.getfqdn() before greeting.
    controller = CountingController(Handler(), hostname="127.0.0.1", port=port,
                                    server_hostname="sink.bench.example",
                                    data_size_limit=50_000_000, ready_timeout=START_DEADLINE)
    grey_bench.serveSink(controller, port, lambda: counts)


# -- role: deferred attempts ----------------------------------------------------------------

async def oneAttempt(port, sender, recipient, data, results):
    """One session as a greylisted MTA makes it; records where it was deferred."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                   local_addr=(DEFER_SOURCE, 0))
    try:
        if await readReply(reader) != 220:
            raise ConnectionError("no 220 greeting")
        writer.write(b"EHLO sender.bench.example\r\n")
        if await readReply(reader) != 250:
            raise ConnectionError("EHLO refused")
        writer.write(b"MAIL FROM:<" + sender + b">\r\n")
        code = await readReply(reader)
        stage = "MAIL"
        if code == 250:
            writer.write(b"RCPT TO:<" + recipient + b">\r\n")
            code = await readReply(reader)
            stage = "RCPT"
        if code == 250:
            writer.write(b"DATA\r\n")
            code = await readReply(reader)
            stage = "DATA"
        if code == 354:
            writer.write(data + b".\r\n")
            code = await readReply(reader)
            stage = "end of data"
        key = "%s %d" % (stage, code)
        results[key] = results.get(key, 0) + 1
        writer.write(b"QUIT\r\n")
        await readReply(reader)
    finally:
        writer.close()


async def deferLoad(port, clients, attempts, tag, domain, deadline):
    data = grey_bench.message(MESSAGE_SIZE)
    recipient = ("user@" + domain).encode()
    results, errors = {}, []
    next_ = [0]

    async def client():
        while next_[0] < attempts:
            i = next_[0]
            next_[0] += 1
            sender = ("g%s-%d@sender.example.net" % (tag, i)).encode()
            try:
                await oneAttempt(port, sender, recipient, data, results)
            except (OSError, ConnectionError) as e:
                errors.append(repr(e))

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), deadline)
    elapsed = time.perf_counter() - started
    deferred = sum(n for key, n in results.items() if key.split()[-1].startswith("4"))
    return {"attempts": attempts, "deferred": deferred, "outcomes": results,
            "errors": errors[:5], "errorCount": len(errors), "elapsed": elapsed}


def runDeferLoad(args):
    raiseFileLimit()
    result = asyncio.run(deferLoad(args.port, args.connections, args.messages, args.tag,
                                   args.domain, args.deadline))
    print(json.dumps(result), flush=True)


# -- orchestration helpers ------------------------------------------------------------------

def settledCpu(pid):
    """``pid``'s CPU seconds once it has stopped using CPU for ``QUIET`` seconds."""
    last = cpuSeconds(pid)
    changed = time.monotonic()
    end = changed + QUIET_DEADLINE
    while time.monotonic() < end:
        time.sleep(0.05)
        now = cpuSeconds(pid)
        if now != last:
            last, changed = now, time.monotonic()
        elif time.monotonic() - changed >= QUIET:
            return last
    raise RuntimeError("process %d still busy %.0f s after the load ended" % (pid, QUIET_DEADLINE))


def sinkCounts(sink):
    sink.stdin.write("count\n")
    sink.stdin.flush()
    return readJSON(sink, 10, "sink")


def writeDefaultConfig(directory, port, backendPort):
    """A configuration with only the ports, the backend and the allowed domain set."""
    lines = ["port = %d" % port, "listen_address = 127.0.0.1",
             "smtp_ip = 127.0.0.1", "smtp_port = %d" % backendPort,
             "allowed_domains:", "    example.org"]
    path = os.path.join(directory, "greylist.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Greylister(object):
    """A greylister process with the default configuration, in its own directory."""

    def __init__(self, children, parent, backendPort, name):
        self.directory = os.path.join(parent, name)
        os.mkdir(self.directory)
        self.port = freePort()
        config = writeDefaultConfig(self.directory, self.port, backendPort)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
        self.stderrPath = os.path.join(self.directory, "stderr.log")
        self.stderr = open(self.stderrPath, "wb")
        self.proc = children.start([sys.executable, "-m", "Kamaelia.Apps.Grey.Application",
                                    "--config", config], cwd=self.directory, env=env,
                                   stdin=subprocess.DEVNULL, stdout=self.stderr,
                                   stderr=self.stderr)
        try:
            grey_bench.waitForSMTP(self.port, self.proc, START_DEADLINE)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s; its output ends:\n%s" % (e, self.tail())) from None

    @property
    def pid(self):
        return self.proc.pid

    def tail(self, lines=20):
        with open(self.stderrPath, "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode("utf-8", "replace")

    def logLines(self):
        """Lines in its standard error, result log and debug log (to show logging was on)."""
        counts = {}
        for name in ("stderr.log", "greylist.log", "greylist-debug.log"):
            path = os.path.join(self.directory, name)
            try:
                with open(path, "rb") as f:
                    counts[name] = sum(1 for _ in f)
            except OSError:
                counts[name] = 0
        return counts

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.stderr.close()


def runChild(children, argv, deadline, what):
    proc = children.start(argv, stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    result = readJSON(proc, deadline + 10, what)
    proc.wait(10)
    return result


def mainThreadCpu(pid):
    """CPU seconds of ``pid``'s main thread (the scheduler's; the others log and query)."""
    with open("/proc/%d/task/%d/stat" % (pid, pid)) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measureCpu(children, pid, argv, deadline, what):
    """Run a load child; returns (its JSON result, CPU ``pid`` used until it went quiet,
    the part of that used by its main thread)."""
    before = settledCpu(pid)
    mainBefore = mainThreadCpu(pid)
    result = runChild(children, argv, deadline, what)
    total = settledCpu(pid) - before
    return result, total, mainThreadCpu(pid) - mainBefore


def alternate(rounds, sides):
    """Yield (round, name, fn) with the order of ``sides`` flipping every round."""
    for r in range(rounds):
        order = sides if r % 2 == 0 else list(reversed(sides))
        for name, fn in order:
            yield r, name, fn


def who(name, m):
    if name == "proxy":
        return "greylister; its main thread %s" % ms(m["main"])
    return "aiosmtpd sink"


def ms(seconds):
    return "%.2f ms" % (seconds * 1e3)


# -- the rows -------------------------------------------------------------------------------

def acceptedRow(children, args, sink, grey, sinkPort):
    perSession = args.messages
    total = CLIENTS * perSession
    best = {}

    def run(port, pid):
        counts = sinkCounts(sink)
        before = counts["messages"]
        argv = grey_bench.role("load", "--port", port, "--connections", CLIENTS,
                               "--messages", perSession, "--size", MESSAGE_SIZE,
                               "--deadline", args.deadline)
        result, cpu, main = measureCpu(children, pid, argv, args.deadline, "load generator")
        after = sinkCounts(sink)
        received = after["messages"] - before
        if result["errors"] or result["refusedCount"] or result["delivered"] != total \
                or received != total:
            raise RuntimeError("accepted-mail run went wrong: %s; sink received %d"
                               % (result, received))
        return {"cpu": cpu / total, "main": main / total, "rate": result["rate"],
                "connections": after["connections"] - counts["connections"]}

    sides = [("direct", lambda: run(sinkPort, sink.pid)),
             ("proxy", lambda: run(grey.port, grey.pid))]
    for r, name, fn in alternate(args.rounds, sides):
        m = fn()
        print("  accepted, round %d, %-6s: %7.1f msg/s, CPU per message %s (%s); sink "
              "connections %d" % (r + 1, name, m["rate"], ms(m["cpu"]), who(name, m),
                                  m["connections"]), flush=True)
        if name not in best or m["cpu"] < best[name]["cpu"]:
            best[name] = m
    ours, base = best["proxy"]["cpu"], best["direct"]["cpu"]
    return {"figure": "greylister: proxy CPU per accepted 2 KB message (%d clients, %d messages "
                      "per session, default logging)" % (CLIENTS, perSession),
            "baseline": "aiosmtpd sink serving the load directly: %s" % ms(base),
            "ours": ms(ours), "ratio": "%.2fx" % (ours / base),
            "target": "<= 0.5 ms", "met": "met" if ours <= TARGET_CPU else "missed",
            "command": "python3 bench/grey_cpu.py" + (" --quick" if args.quick else ""),
            "detail": {"proxyRate": best["proxy"]["rate"], "directRate": best["direct"]["rate"]}}


def deferredRow(children, args, sink, grey, sinkPort):
    attempts = args.attempts
    best = {}
    backendConnections = []
    outcomes = {}
    tag = "%x" % int(time.time() * 1000)

    def run(port, pid, domain, r):
        before = sinkCounts(sink)
        argv = role("defer-load", "--port", port, "--connections", CLIENTS,
                    "--messages", attempts, "--tag", "%s-%d" % (tag, r), "--domain", domain,
                    "--deadline", args.deadline)
        result, cpu, main = measureCpu(children, pid, argv, args.deadline,
                                       "deferred-attempt client")
        after = sinkCounts(sink)
        if result["errorCount"] or result["deferred"] != attempts:
            raise RuntimeError("deferred-attempt run went wrong (not every attempt deferred): %s"
                               % result)
        if after["messages"] != before["messages"]:
            raise RuntimeError("the sink received %d messages during a deferred run"
                               % (after["messages"] - before["messages"]))
        return {"cpu": cpu / attempts, "main": main / attempts,
                "rate": attempts / result["elapsed"],
                "connections": after["connections"] - before["connections"],
                "outcomes": result["outcomes"]}

    sides = [("direct", lambda r: run(sinkPort, sink.pid, "defer.example", r)),
             ("proxy", lambda r: run(grey.port, grey.pid, "example.org", r))]
    for r, name, fn in alternate(args.rounds, sides):
        m = fn(r)
        if name == "proxy":
            backendConnections.append(m["connections"])
            outcomes = m["outcomes"]
        print("  deferred, round %d, %-6s: %7.1f attempts/s, CPU per attempt %s (%s)%s"
              % (r + 1, name, m["rate"], ms(m["cpu"]), who(name, m),
                 "; backend connections %d for %d attempts; replies %s"
                 % (m["connections"], attempts, json.dumps(m["outcomes"]))
                 if name == "proxy" else ""), flush=True)
        if name not in best or m["cpu"] < best[name]["cpu"]:
            best[name] = m
    ours, base = best["proxy"]["cpu"], best["direct"]["cpu"]
    return {"figure": "greylister: proxy CPU per deferred (greylisted) attempt (%d clients, one "
                      "attempt per session, %s; backend connections: %d for %d attempts)"
                      % (CLIENTS, ", ".join("%s: %d" % kv for kv in sorted(outcomes.items())),
                         sum(backendConnections), attempts * len(backendConnections)),
            "baseline": "aiosmtpd sink deferring at RCPT directly: %s" % ms(base),
            "ours": ms(ours), "ratio": "%.2fx" % (ours / base),
            "target": "<= 0.5 ms", "met": "met" if ours <= TARGET_CPU else "missed",
            "command": "python3 bench/grey_cpu.py" + (" --quick" if args.quick else ""),
            "detail": {"backendConnections": backendConnections, "attemptsPerRound": attempts,
                       "outcomes": outcomes}}


def smtpSourceRow(children, args, parent):
    count = args.source_messages
    shown = "smtp-source -s 20 -m %d -l 2048" % count
    command = "python3 bench/grey_cpu.py" + (" --quick" if args.quick else "")
    missing = [p for p in (SMTP_SOURCE, SMTP_SINK) if not os.access(p, os.X_OK)]
    if missing:
        print("SKIPPED: %s through the proxy: %s not found; install them with: %s"
              % (shown, " and ".join(missing), INSTALL_HINT), flush=True)
        return {"figure": "greylister: `%s` through the proxy to `smtp-sink`, vs straight to "
                          "`smtp-sink`" % shown,
                "baseline": "-", "ours": "-", "ratio": "-", "target": ">= 0.35x",
                "met": "SKIPPED (%s)" % INSTALL_HINT.split(" (")[0], "command": command}
    sinkPort = freePort()
    argv = [SMTP_SINK]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]     # smtp-sink refuses to run as root without it
    sinkProc = children.start(argv + ["127.0.0.1:%d" % sinkPort, "1024"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    grey_bench.waitForSMTP(sinkPort, sinkProc, START_DEADLINE)
    grey = Greylister(children, parent, sinkPort, "smtp-sink-proxy")
    try:
        def run(port):
            argv = [SMTP_SOURCE, "-s", "20", "-m", str(count), "-l", "2048",
                    "-f", "bench@example.net", "-t", "user@example.org",
                    "-M", "bench.example.net", "127.0.0.1:%d" % port]
            started = time.perf_counter()
            proc = children.start(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            try:
                out, _ = proc.communicate(timeout=args.deadline)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
                raise RuntimeError("smtp-source did not finish within %.0f s"
                                   % args.deadline) from None
            elapsed = time.perf_counter() - started
            if proc.returncode != 0:
                raise RuntimeError("smtp-source failed (exit status %d): %s"
                                   % (proc.returncode, out.decode("utf-8", "replace")[-500:]))
            return elapsed

        # One unmeasured warm-up run each way (first connections, DNS cache, SQLite).
        run(sinkPort)
        run(grey.port)
        best = {}
        for r, name, fn in alternate(args.rounds, [("direct", lambda: run(sinkPort)),
                                                   ("proxy", lambda: run(grey.port))]):
            elapsed = fn()
            print("  smtp-source, round %d, %-6s: %.2f s, %.0f msg/s"
                  % (r + 1, name, elapsed, count / elapsed), flush=True)
            best[name] = min(best.get(name, elapsed), elapsed)
    finally:
        grey.stop()
        if sinkProc.poll() is None:
            sinkProc.kill()
            sinkProc.wait(10)
    ratio = best["direct"] / best["proxy"]
    return {"figure": "greylister: `%s` through the proxy to `smtp-sink`, vs straight to "
                      "`smtp-sink`" % shown,
            "baseline": "straight to smtp-sink: %.2f s (%.0f msg/s)"
                        % (best["direct"], count / best["direct"]),
            "ours": "%.2f s (%.0f msg/s)" % (best["proxy"], count / best["proxy"]),
            "ratio": "%.2fx" % ratio, "target": ">= 0.35x",
            "met": "met" if ratio >= TARGET_SOURCE_RATIO else "missed", "command": command}


def printTable(rows):
    print("| figure | baseline | ours | ratio | target | met? | command |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| %s | %s | %s | %s | %s | %s | `%s` |" % tuple(
            row[k] for k in ("figure", "baseline", "ours", "ratio", "target", "met", "command")))
    sys.stdout.flush()


def orchestrate(args):
    limit = raiseFileLimit()
    children = Children()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="grey-cpu-") as directory:
            print("Python %s, %d CPUs, RLIMIT_NOFILE %d; sink: aiosmtpd %s; greylister with "
                  "default logging; best of %d alternating rounds"
                  % (sys.version.split()[0], os.cpu_count(), limit,
                     grey_bench.aiosmtpdVersion(), args.rounds), flush=True)
            sink = children.start(role("sink"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
            sinkPort = readJSON(sink, START_DEADLINE, "sink")["port"]
            grey = Greylister(children, directory, sinkPort, "aiosmtpd-proxy")
            try:
                # Warm-up, not measured: first sessions both ways, one deferred attempt
                # (its client address's name lookup is then cached).
                for port in (sinkPort, grey.port):
                    runChild(children, grey_bench.role(
                        "load", "--port", port, "--connections", 2, "--messages", 5,
                        "--size", MESSAGE_SIZE, "--deadline", args.deadline),
                        args.deadline, "load generator")
                runChild(children, role("defer-load", "--port", grey.port, "--connections", 1,
                                        "--messages", 2, "--tag", "warm%d" % os.getpid(),
                                        "--domain", "example.org", "--deadline", args.deadline),
                         args.deadline, "deferred-attempt client")
                rows.append(acceptedRow(children, args, sink, grey, sinkPort))
                rows.append(deferredRow(children, args, sink, grey, sinkPort))
                print("  greylister log lines written (stderr at the default level, result "
                      "log, debug log): %s" % json.dumps(grey.logLines()), flush=True)
            except BaseException:
                if grey.proc.poll() is not None:
                    print("the greylister exited (status %s); its output ends:\n%s"
                          % (grey.proc.returncode, grey.tail()), file=sys.stderr)
                raise
            finally:
                grey.stop()
            rows.append(smtpSourceRow(children, args, directory))
    finally:
        children.killAll()
    print()
    printTable(rows)
    if args.rows_json:
        with open(args.rows_json, "w") as f:
            json.dump(rows, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--role", default="orchestrate", choices=["orchestrate", "sink",
                                                                  "defer-load"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run, about 40 seconds")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds per row")
    parser.add_argument("--messages", type=int, default=None,
                        help="accepted messages per session (20 sessions); defer-load: attempts")
    parser.add_argument("--attempts", type=int, default=None, help="deferred attempts per round")
    parser.add_argument("--source-messages", type=int, default=None,
                        help="smtp-source -m (the issue's figure is 2000)")
    parser.add_argument("--rows-json", help="write the table's rows to this file (JSON)")
    parser.add_argument("--deadline", type=float, default=120.0,
                        help="seconds any one load run may take")
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--domain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "sink":
        return runSink()
    if args.role == "defer-load":
        return runDeferLoad(args)
    quick = args.quick
    if args.rounds is None:
        args.rounds = 2 if quick else 3
    if args.messages is None:
        args.messages = 15 if quick else 100
    if args.attempts is None:
        args.attempts = 300 if quick else 1500
    if args.source_messages is None:
        args.source_messages = 2000
    orchestrate(args)


if __name__ == "__main__":
    main()
