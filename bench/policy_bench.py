#!/usr/bin/env python3
"""
Kamaelia Grey's policy server against postgrey: decisions per second
====================================================================

Run::

    python3 bench/policy_bench.py             # full run, under a minute here
    python3 bench/policy_bench.py --quick     # smoke run, about 15 seconds
    python3 bench/policy_bench.py --requests 5000 --concurrency 1,8,32

Everything is on the loopback interface (127.0.0.1), every wait has a
deadline, and every child process is killed at the end, also on error.

What is measured
----------------
Two policy servers run side by side, each started fresh by this script in
its own process, each with a new, empty database in a temporary directory:

* **ours**: Kamaelia Grey in policy mode (``mode = policy``), as
  ``kamaelia-grey`` runs it when the application offers that mode, else
  the same components assembled here (``GreylistPolicy`` over a
  ``GreylistStore`` in a ``PolicyService``, served by ``PolicyServer``,
  with the application's logging set-up: the result log is written for
  every decision, ``log_level = WARNING``);
* **postgrey**: Debian's package (``/usr/sbin/postgrey``), run in the
  foreground as the current user. If it is missing and this runs as root
  with apt-get available, it is installed (``apt-get install -y
  --no-install-recommends postgrey``; the package's service is not
  started where ``policy-rc.d`` forbids it, as in this container); if it
  cannot be installed the comparison is skipped, saying so, and our
  figures are still printed.

Both get the same settings where they have them: greylist delay
``--delay`` seconds (2 by default, so the run can wait it out), keys by
client /24 network (postgrey's default; our ``greylist_key = normalized``),
no client auto-whitelisting (postgrey ``--auto-whitelist-clients=0``, our
``auto_whitelist_clients = 0``) and no whitelist files.

The load generator is this process: an asyncio client speaking the policy
protocol over N concurrent connections, each sending its share of the
requests one after the other and waiting for each answer (as Postfix's
smtpd does). The same generator, with the same requests, drives both
servers in the same run, one server at a time. For each concurrency three
phases run over one set of distinct triplets (client address, sender,
recipient):

1. **new**: every triplet is unknown: each request is recorded and
   answered with a deferral (``DEFER_IF_PERMIT``);
2. **retry**: after the delay has passed, the same triplets again: each
   passes for the first time (``PREPEND X-Greylist: ...``);
3. **known**: the same triplets once more: known and passed (``DUNNO``).

An answer other than the one expected is counted and shown (a run with
any is not a fair comparison). The table gives decisions per second for
each server, the ratio (target: ours at least 5x postgrey, DESIGN.md) and
each server's CPU time per decision (user + system, from /proc), which
leaves out the client's share of the machine's two cores.
"""

import argparse
import asyncio
import os
import pwd
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
START_DEADLINE = 30.0
PHASE_DEADLINE = 60.0
INSTALL_DEADLINE = 300.0
EXPECTED = {"new": b"action=DEFER_IF_PERMIT", "retry": b"action=PREPEND X-Greylist: delayed",
            "known": b"action=DUNNO"}


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raiseFileLimit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpuSeconds(pid):
    """User + system CPU time used so far by process ``pid`` and its reaped children."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


# -- the requests -----------------------------------------------------------------------------

def requests(tag, count):
    """``count`` requests for distinct triplets, each from its own /24 client network."""
    out = []
    for i in range(count):
        client = "10.%d.%d.%d" % (i // 250 % 250, i % 250, 1 + i % 200)
        out.append((
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=%s\nclient_name=mx%d.sender%d.example\n"
            "reverse_client_name=mx%d.sender%d.example\nhelo_name=mx%d.sender%d.example\n"
            "sender=news%d@sender%d.example\nrecipient=user%d@%s.example.org\n"
            "instance=%s.%d\nqueue_id=\nsize=0\n\n"
            % (client, i, i % 97, i, i % 97, i, i % 97, i, i % 97, i, tag, tag, i)).encode())
    return out


# -- the load generator --------------------------------------------------------------------------

async def oneConnection(port, share, answers):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for data in share:
            writer.write(data)
            answers.append(await reader.readuntil(b"\n\n"))
    finally:
        writer.close()


async def load(port, batch, connections, deadline):
    shares = [batch[i::connections] for i in range(connections)]
    answers = []
    started = time.perf_counter()
    outcome = await asyncio.wait_for(
        asyncio.gather(*(oneConnection(port, share, answers) for share in shares),
                       return_exceptions=True), deadline)
    elapsed = time.perf_counter() - started
    errors = [repr(e) for e in outcome if isinstance(e, BaseException)]
    return answers, elapsed, errors


def runPhase(server, phase, batch, connections):
    before = cpuSeconds(server.proc.pid)
    answers, elapsed, errors = asyncio.run(load(server.port, batch, connections, PHASE_DEADLINE))
    cpu = cpuSeconds(server.proc.pid) - before
    wrong = [a for a in answers if not a.startswith(EXPECTED[phase])]
    return {"server": server.name, "phase": phase, "connections": connections,
            "decisions": len(answers), "elapsed": elapsed, "rate": len(answers) / elapsed,
            "cpuPerDecision": cpu / max(1, len(answers)), "errors": errors[:3],
            "unexpected": len(wrong), "example": (wrong[:1] or [b""])[0].decode(errors="replace")}


# -- the servers ---------------------------------------------------------------------------------

class Server:
    def __init__(self, name, proc, port):
        self.name, self.proc, self.port = name, proc, port


class Children:
    """Every child process started, killed on exit."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        proc = subprocess.Popen(argv, **kw)
        self.procs.append(proc)
        return proc

    def killAll(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def waitForPort(port, proc, what, deadline=START_DEADLINE):
    """Wait until ``port`` accepts connections; ``proc`` must stay alive meanwhile."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with status %s before listening" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d within %.0f s" % (what, port, deadline))


def applicationHasPolicyMode():
    """True once kamaelia-grey itself runs ``mode = policy`` (the integrator's wiring)."""
    sys.path.insert(0, ROOT)
    try:
        from Kamaelia.Apps.Grey import Application
    finally:
        sys.path.pop(0)
    with open(Application.__file__, encoding="utf-8") as f:
        return "PolicyServer" in f.read()


def startOurs(children, directory, delay, log):
    port = freePort()
    config = os.path.join(directory, "greylist.conf")
    with open(config, "w") as f:
        f.write("mode = policy\nlisten_address = 127.0.0.1\nport = %d\n"
                "greylist_db = %s\ngreylist_log = %s\ngreylist_debuglog =\n"
                "greylist_profile = postgrey\ngreylist_min_defer = %d\n"
                "greylist_key = normalized\nauto_whitelist_clients = 0\n"
                "import_dbm_dir =\nclient_name_lookup = no\nlog_level = WARNING\n"
                "servername = policy.bench.example\nmax_sessions = 5000\n"
                % (port, os.path.join(directory, "greylist.sqlite"),
                   os.path.join(directory, "greylist.log"), delay))
    if applicationHasPolicyMode():
        argv, how = [sys.executable, "-m", "Kamaelia.Apps.Grey.Application", "--config", config], \
            "kamaelia-grey (mode = policy)"
    else:
        argv, how = [sys.executable, os.path.abspath(__file__), "--role", "ours", "--config",
                     config], "PolicyService + PolicyServer assembled by this script"
    proc = children.start(argv, cwd=directory, stdout=log, stderr=log,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    waitForPort(port, proc, "our policy server")
    return Server("ours", proc, port), how


def runOurs(args):
    """Role: our policy server for a config file, assembled as Application would."""
    sys.path.insert(0, ROOT)
    from Axon.Scheduler import scheduler
    from Kamaelia.Apps.Grey import Application, Config
    from Kamaelia.Apps.Grey.Policy import GreylistPolicy, PolicySettings
    from Kamaelia.Apps.Grey.PolicyServer import makePolicyServer
    from Kamaelia.Apps.Grey.PolicyService import PolicyService

    raiseFileLimit()
    config = Config.loadConfig(args.config)
    listener = Application.configureLogging(config)
    settings = PolicySettings.fromConfig(config)
    policy = GreylistPolicy(settings, settings.openStore(config["greylist_db"]))
    service = PolicyService(policy).registerAsService()
    service.activate()
    makePolicyServer(config, service).activate()
    try:
        scheduler.run.runThreads()
    finally:
        listener.stop()


def findPostgrey(install):
    """The postgrey program, installing the Debian package if allowed; (path, note)."""
    path = shutil.which("postgrey") or (os.path.exists("/usr/sbin/postgrey") and "/usr/sbin/postgrey")
    if path:
        return path, ""
    if not install:
        return None, "postgrey is not installed (--no-install given)"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "postgrey is not installed and apt-get cannot be run here (needs root)"
    print("installing postgrey: apt-get install -y --no-install-recommends postgrey", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "postgrey"],
                              env=env, capture_output=True, text=True, timeout=INSTALL_DEADLINE)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "installing postgrey failed: %s" % e
    path = shutil.which("postgrey") or (os.path.exists("/usr/sbin/postgrey") and "/usr/sbin/postgrey")
    if done.returncode != 0 or not path:
        return None, "installing postgrey failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1]
    return path, "installed the Debian package postgrey for this run"


def postgreyVersion(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "postgrey (version unknown)"


def startPostgrey(children, path, directory, delay, log):
    port = freePort()
    dbdir = os.path.join(directory, "postgrey-db")
    os.mkdir(dbdir)
    empty = os.path.join(directory, "empty-whitelist")
    open(empty, "w").close()
    user = pwd.getpwuid(os.geteuid())
    argv = [path, "--inet=127.0.0.1:%d" % port, "--dbdir=%s" % dbdir, "--delay=%d" % delay,
            "--user=%s" % user.pw_name, "--group=%s" % user.pw_gid,
            "--auto-whitelist-clients=0", "--whitelist-clients=%s" % empty,
            "--whitelist-recipients=%s" % empty, "--hostname=policy.bench.example"]
    proc = children.start(argv, cwd=directory, stdout=log, stderr=log)
    waitForPort(port, proc, "postgrey")
    return Server("postgrey", proc, port)


# -- orchestration -----------------------------------------------------------------------------

def orchestrate(args):
    raiseFileLimit()
    concurrency = [int(c) for c in args.concurrency.split(",")]
    children = Children()
    directory = tempfile.mkdtemp(prefix="policy-bench-")
    rows = []
    try:
        log = open(os.path.join(directory, "servers.log"), "w")
        oursDirectory = os.path.join(directory, "ours")
        os.mkdir(oursDirectory)
        ours, how = startOurs(children, oursDirectory, args.delay, log)
        print("ours: %s" % how)
        servers = [ours]
        path, note = findPostgrey(not args.no_install)
        if path:
            if note:
                print(note)
            servers.append(startPostgrey(children, path, directory, args.delay, log))
            print("postgrey: %s" % postgreyVersion(path))
        else:
            print("SKIPPED the postgrey comparison: %s" % note)
        batches = {c: requests("c%d" % c, args.requests) for c in concurrency}
        newDone = None
        for phase in ("new", "retry", "known"):
            if phase == "retry":
                wait = newDone + args.delay + 1.0 - time.monotonic()
                if wait > 0:
                    time.sleep(wait)             # the greylist delay itself, not a synchronisation
            for c in concurrency:
                for server in servers:
                    rows.append(runPhase(server, phase, batches[c], c))
                    report(rows[-1])
            if phase == "new":
                newDone = time.monotonic()
        for server in servers:
            if server.proc.poll() is not None:
                raise RuntimeError("%s died during the run (status %s)"
                                   % (server.name, server.proc.returncode))
    finally:
        children.killAll()
        if args.keep:
            print("kept %s" % directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    summary(rows, concurrency)


def report(row):
    print("  %-8s %-5s %3d connections: %6d decisions in %5.2f s = %7.0f/s, server CPU "
          "%4.0f us/decision%s%s" % (
              row["server"], row["phase"], row["connections"], row["decisions"], row["elapsed"],
              row["rate"], row["cpuPerDecision"] * 1e6,
              ", %d UNEXPECTED answers, e.g. %r" % (row["unexpected"], row["example"])
              if row["unexpected"] else "",
              ", errors: %s" % row["errors"] if row["errors"] else ""), flush=True)


def summary(rows, concurrency):
    byKey = {(r["server"], r["phase"], r["connections"]): r for r in rows}
    print()
    print("| phase | connections | ours (decisions/s) | postgrey (decisions/s) | ratio | "
          "target 5x | ours CPU/decision | postgrey CPU/decision |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for phase in ("new", "retry", "known"):
        for c in concurrency:
            ours = byKey.get(("ours", phase, c))
            theirs = byKey.get(("postgrey", phase, c))
            if ours is None:
                continue
            if theirs is None:
                print("| %s | %d | %.0f | skipped | - | - | %.0f us | - |"
                      % (phase, c, ours["rate"], ours["cpuPerDecision"] * 1e6))
                continue
            ratio = ours["rate"] / theirs["rate"]
            print("| %s | %d | %.0f | %.0f | %.1fx | %s | %.0f us | %.0f us |"
                  % (phase, c, ours["rate"], theirs["rate"], ratio,
                     "met" if ratio >= 5 else "missed", ours["cpuPerDecision"] * 1e6,
                     theirs["cpuPerDecision"] * 1e6))
    if any(r["unexpected"] or r["errors"] for r in rows):
        print("\nWARNING: some answers were not the expected ones (see above): the comparison "
              "is not fair")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--role", default="orchestrate", choices=["orchestrate", "ours"])
    parser.add_argument("--quick", action="store_true", help="a smoke run, about 15 seconds")
    parser.add_argument("--requests", type=int, default=3000,
                        help="distinct triplets per concurrency (each sent in three phases)")
    parser.add_argument("--concurrency", default="1,8", help="concurrent connections")
    parser.add_argument("--delay", type=int, default=2, help="greylist delay in seconds")
    parser.add_argument("--no-install", action="store_true",
                        help="never install postgrey; skip the comparison if it is missing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--config", help="(role ours) the configuration file")
    args = parser.parse_args()
    if args.role == "ours":
        return runOurs(args)
    if args.quick:
        args.requests = 500
    orchestrate(args)


if __name__ == "__main__":
    main()
