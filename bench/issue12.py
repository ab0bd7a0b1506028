#!/usr/bin/env python3
"""
Issue 12's table: every performance figure beside its baseline, measured in one run
==================================================================================

Run (from the repository root)::

    python3 bench/issue12.py --quick     # every row short, under 2 minutes
    python3 bench/issue12.py             # the full run, under 10 minutes
    python3 bench/issue12.py --only grey,tcp

Needs, besides Kamaelia's own dependencies: ``aiosmtpd`` and ``uvloop``
(``./bootstrap.sh --bench``, or ``pip install aiosmtpd uvloop``)
and, for the smtp-source row, Debian's ``postfix`` package
(``apt-get install postfix``: it ships ``/usr/sbin/smtp-source`` and
``/usr/sbin/smtp-sink``). A missing tool skips only the figures that need
it, with a line saying how to install it.

What is measured
----------------
This driver runs three scripts, one after the other, each in a fresh
interpreter of its own process group, and prints one Markdown table of
their results (figure | baseline | ours | ratio | target | met? | command):

* ``bench/grey_cpu.py``: the greylister with default logging -- its CPU per
  accepted 2 KB message (20 clients, many messages per session), its CPU
  per deferred (greylisted) attempt and the backend connections those
  attempts opened, and ``smtp-source -s 20 -m 2000 -l 2048`` through it to
  ``smtp-sink`` against straight to ``smtp-sink``;
* ``bench/axon_bench.py --issue12``: a 10-stage ``Pipeline``, one message at
  a time and in batches of 100, against a chain of tasks joined by
  ``asyncio.Queue``; spawn (create + activate) against ``create_task``;
* ``bench/tcp_echo.py --counts 100,1000``: TCP echo round trips/s through
  ``ServerCore`` against asyncio streams on asyncio's loop and on uvloop.

Each script measures its figures and their baselines in alternating rounds
and keeps the best round of each; its docstring says exactly how. The
scripts print their own detailed tables as they go; each row of the final
table names the command that reproduces it. Every script has a deadline;
when one is passed, or the run is interrupted, the script's whole process
group is stopped (SIGTERM, then SIGKILL).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (script, arguments for --quick, arguments for the full run, deadline quick, full)
SECTIONS = {
    "grey": ("grey_cpu.py", ["--quick"], [], 120, 400),
    "axon": ("axon_bench.py", ["--quick", "--issue12", "--rounds", "5"], ["--issue12"], 60, 240),
    "tcp": ("tcp_echo.py", ["--quick", "--rounds", "2", "--counts", "100,1000"],
            ["--counts", "100,1000"],
            90, 300),
}
ORDER = ("grey", "axon", "tcp")   # the order of issue 12's table
ROWS_PER_SECTION = {"grey": 3, "axon": 3, "tcp": 2}


def stopGroup(proc):
    """Stop ``proc`` and everything in its process group (it leads a session of its own)."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure nothing it started is left in the group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def runSection(name, quick, directory):
    """Run one script; its rows, or failure rows saying what went wrong."""
    script, quickArgs, fullArgs, quickDeadline, fullDeadline = SECTIONS[name]
    deadline = quickDeadline if quick else fullDeadline
    rowsFile = os.path.join(directory, name + ".json")
    argv = [sys.executable, os.path.join(HERE, script)] + (quickArgs if quick else fullArgs) \
        + ["--rows-json", rowsFile]
    print("\n## %s\n\n$ %s\n" % (script, " ".join(["python3", "bench/" + script] + argv[2:-2])),
          flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
    problem = None
    try:
        status = proc.wait(deadline)
        if status != 0:
            problem = "FAILED (exit status %d)" % status
    except subprocess.TimeoutExpired:
        problem = "FAILED (not finished within %d s)" % deadline
    finally:
        stopGroup(proc)
    print("(%s: %.0f s)" % (script, time.monotonic() - started), flush=True)
    if problem is None:
        try:
            with open(rowsFile) as f:
                return json.load(f), True
        except (OSError, ValueError) as e:
            problem = "FAILED (no rows: %s)" % e
    command = "python3 bench/%s %s" % (script, " ".join(quickArgs if quick else fullArgs))
    return [{"figure": "%s row %d" % (script, i + 1), "baseline": "-", "ours": "-",
             "ratio": "-", "target": "-", "met": problem, "command": command.strip()}
            for i in range(ROWS_PER_SECTION[name])], False


def printTable(rows):
    print("| figure | baseline | ours | ratio | target | met? | command |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| %s | %s | %s | %s | %s | %s | `%s` |" % tuple(
            str(row[k]).replace("|", "\\|")
            for k in ("figure", "baseline", "ours", "ratio", "target", "met", "command")))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true", help="every row short (under 2 minutes)")
    parser.add_argument("--only", default=",".join(ORDER),
                        help="comma-separated sections: %s" % ", ".join(ORDER))
    args = parser.parse_args()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        parser.error("unknown section(s): %s" % ", ".join(unknown))
    started = time.monotonic()
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="issue12-") as directory:
        for name in ORDER:
            if name in wanted:
                sectionRows, sectionOk = runSection(name, args.quick, directory)
                rows += sectionRows
                ok = ok and sectionOk
    print("\n## Issue 12: `python3 bench/issue12.py%s` (%.0f s; Python %s, %d CPUs)\n"
          % (" --quick" if args.quick else "", time.monotonic() - started,
             sys.version.split()[0], os.cpu_count()))
    printTable(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
