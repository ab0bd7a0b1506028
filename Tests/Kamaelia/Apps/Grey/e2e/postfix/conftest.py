"""Fixtures for end-to-end tests against real Postfix: private instances on loopback ports.

- ``postfix``: a factory, ``postfix(main={...}, listeners={...})``, that
  builds a Postfix instance in a fresh directory (its own main.cf and
  master.cf, queue, maillog and virtual Maildir), starts it with
  ``postfix -c DIR start`` as root -- no systemd, no chroot -- and waits,
  with a deadline, until its first SMTP listener sends a 220 banner. It
  returns a ``PostfixInstance``. Every instance is stopped at teardown
  (``postfix stop``, then ``postfix abort``, then SIGKILL to the master,
  each bounded) and its maillog is printed, so a failing test shows what
  Postfix said: it writes nothing to stderr when stderr is not a terminal.

Example (a backend that offers XCLIENT to the proxy and delivers
example.org into ``instance.maildir``)::

    def test_something(postfix):
        instance = postfix(main={"smtpd_authorized_xclient_hosts": "127.0.0.0/8"})
        ... connect to 127.0.0.1:instance.port ...
        instance.waitForMaillog(r"status=sent")

How it works: main.cf puts everything Postfix writes (queue, data, maillog)
inside the instance directory and sends mail for ``virtual_mailbox_domains``
(example.org by default) to the Maildir ``vmail/inbox/``; ``main`` entries
are added to or replace the defaults. master.cf is written whole (not
copied from /etc/postfix) with ``chroot`` off for every service; each
``listeners`` entry adds an ``smtpd`` on ``127.0.0.1:<port>`` with its own
``-o`` settings. The directory is made with mkdtemp and opened to other
users because Postfix's delivery agent runs as ``nobody`` and pytest's
tmp_path is private to root.

Without the ``postfix`` binary, or without root, the tests skip -- unless
``KAMAELIA_REQUIRE_POSTFIX=1`` (set by ``.ci/run``), when they fail.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

START_DEADLINE = 30.0
STOP_DEADLINE = 20.0
BANNER_DEADLINE = 5.0
POSTFIX_COMMAND_PATHS = ("/usr/sbin/postfix", "/usr/local/sbin/postfix")

# Every service the instance needs, chroot off ("n" in the fifth column). smtpd listeners
# are added per instance.
MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfixCommand():
    """Path of the ``postfix`` command, or None."""
    found = shutil.which("postfix")
    if found:
        return found
    for path in POSTFIX_COMMAND_PATHS:
        if os.access(path, os.X_OK):
            return path
    return None


def unavailable(reason):
    """Skip the test for ``reason``, or fail it when KAMAELIA_REQUIRE_POSTFIX=1."""
    if os.environ.get("KAMAELIA_REQUIRE_POSTFIX") == "1":
        pytest.fail("KAMAELIA_REQUIRE_POSTFIX=1 but " + reason)
    pytest.skip(reason)


def bannerFrom(port, timeout):
    """The first reply line from 127.0.0.1:port, or None if nothing answers in time."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
            s.sendall(b"QUIT\r\n")
            return data.split(b"\r\n", 1)[0].decode("ascii", "replace")
    except OSError:
        return None


class PostfixInstance:
    """One private Postfix: ``directory``, ``port`` (first listener), ``ports`` (all), maillog."""

    def __init__(self, command, helpers, name="backend", main=None, listeners=None):
        self.command = command
        self.waitFor = helpers.waitFor
        self.name = name
        self.directory = tempfile.mkdtemp(prefix="kamaelia-postfix-%s-" % name)
        os.chmod(self.directory, 0o755)
        self.configDirectory = os.path.join(self.directory, "etc")
        self.maillogPath = os.path.join(self.directory, "maillog")
        self.maildir = os.path.join(self.directory, "vmail", "inbox")
        self.started = False
        listeners = {"smtpd": {}} if listeners is None else listeners
        self.ports = {label: helpers.freePort() for label in listeners}
        self.port = next(iter(self.ports.values()))
        self._makeDirectories()
        self._writeMainCf(main or {})
        self._writeMasterCf(listeners)

    # -- configuration -----------------------------------------------------------------

    def _makeDirectories(self):
        for sub in ("etc", "spool", "data", "vmail"):
            os.mkdir(os.path.join(self.directory, sub), 0o755)
        postfixUser = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.directory, "data"), postfixUser.pw_uid, postfixUser.pw_gid)
        nobody = pwd.getpwnam("nobody")
        os.chown(os.path.join(self.directory, "vmail"), nobody.pw_uid, nobody.pw_gid)

    def mainSettings(self, extra):
        d = self.directory
        nobody = pwd.getpwnam("nobody")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(d, "spool"),
            "data_directory": os.path.join(d, "data"),
            "maillog_file": self.maillogPath,
            "maillog_file_prefixes": d,
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "myhostname": "%s.test.local" % self.name,
            "mydomain": "test.local",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "smtp_dns_support_level": "disabled",
            "virtual_mailbox_domains": "example.org",
            "virtual_mailbox_base": os.path.join(d, "vmail"),
            "virtual_mailbox_maps": "static:inbox/",
            "virtual_uid_maps": "static:%d" % nobody.pw_uid,
            "virtual_gid_maps": "static:%d" % nobody.pw_gid,
            "smtpd_banner": "$myhostname ESMTP Postfix (%s)" % self.name,
        }
        settings.update(extra)
        return settings

    def _writeMainCf(self, extra):
        self.main = self.mainSettings(extra)
        with open(os.path.join(self.configDirectory, "main.cf"), "w") as f:
            for key, value in self.main.items():
                f.write("%s = %s\n" % (key, value))

    def _writeMasterCf(self, listeners):
        lines = []
        for label, options in listeners.items():
            lines.append("127.0.0.1:%d inet n - n - - smtpd" % self.ports[label])
            for key, value in options.items():
                if re.search(r"\s", str(value)):
                    raise ValueError("master.cf -o values cannot hold white space: %r" % value)
                lines.append("  -o %s=%s" % (key, value))
        with open(os.path.join(self.configDirectory, "master.cf"), "w") as f:
            f.write("\n".join(lines) + "\n" + MASTER_SERVICES)

    # -- running --------------------------------------------------------------------------

    def run(self, action, timeout):
        """``postfix -c DIR <action>``; returns the CompletedProcess (never raises on status)."""
        return subprocess.run([self.command, "-c", self.configDirectory, action],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)

    def start(self):
        """Start the instance; wait (bounded) for every listener's 220 banner."""
        self.started = True
        done = self.run("start", START_DEADLINE)
        if done.returncode != 0:
            pytest.fail("postfix -c %s start exited with %d:\n%s\n---- maillog ----\n%s"
                        % (self.configDirectory, done.returncode,
                           done.stdout.decode("utf-8", "replace"), self.maillog()))
        for label, port in self.ports.items():
            banner = self.waitFor(lambda port=port: bannerFrom(port, BANNER_DEADLINE),
                                  START_DEADLINE,
                                  message="the banner of Postfix %r's listener %r on port %d "
                                  "(its maillog is printed below)" % (self.name, label, port))
            if not banner.startswith("220 "):
                pytest.fail("Postfix listener %r greeted with %r" % (label, banner))
        return self

    def masterPid(self):
        try:
            with open(os.path.join(self.directory, "spool", "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """Stop the instance: ``stop``, else ``abort``, else SIGKILL to its master (bounded)."""
        if not self.started:
            return
        self.started = False
        pid = self.masterPid()
        for action in ("stop", "abort"):
            try:
                self.run(action, STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                continue
            if pid is None or not self._alive(pid, STOP_DEADLINE):
                return
        os.kill(pid, signal.SIGKILL)
        if self._alive(pid, STOP_DEADLINE):
            raise AssertionError("Postfix master %d survived SIGKILL" % pid)

    @staticmethod
    def _alive(pid, deadline):
        """True if process ``pid`` still exists after waiting up to ``deadline`` s for it."""
        end = time.monotonic() + deadline
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            if time.monotonic() >= end:
                return True
            time.sleep(0.05)

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- what it did ------------------------------------------------------------------------

    def maillog(self):
        try:
            with open(self.maillogPath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def waitForMaillog(self, pattern, deadline=20.0):
        """Wait (bounded) for ``pattern`` in the maillog; returns the match."""
        regex = re.compile(pattern)
        return self.waitFor(lambda: regex.search(self.maillog()), deadline,
                            message="%r in the maillog of Postfix %r (printed below)"
                            % (pattern, self.name))

    def delivered(self):
        """Raw bytes of every message delivered into ``maildir``, oldest first."""
        directory = os.path.join(self.maildir, "new")
        try:
            names = sorted(os.listdir(directory),
                           key=lambda n: os.stat(os.path.join(directory, n)).st_mtime_ns)
        except FileNotFoundError:
            return []
        messages = []
        for n in names:
            with open(os.path.join(directory, n), "rb") as f:
                messages.append(f.read())
        return messages

    def waitForDelivered(self, count, deadline=20.0):
        return self.waitFor(lambda: len(self.delivered()) >= count and self.delivered(), deadline,
                            message="%d message(s) in the Maildir of Postfix %r (its maillog "
                            "is printed below)" % (count, self.name))


@pytest.fixture
def postfix(e2e):
    """Factory: ``postfix(name="backend", main=None, listeners=None, start=True)``.

    ``main``: main.cf settings added to or replacing the defaults. ``listeners``:
    label -> dict of ``-o`` settings, one smtpd on a free loopback port each (default: one
    plain listener); ``instance.ports[label]`` is its port, ``instance.port`` the first's.
    """
    command = postfixCommand()
    if command is None:
        unavailable("the postfix command is not installed (Debian: apt-get install postfix)")
    if os.geteuid() != 0:
        unavailable("a private Postfix instance needs root (it runs as the postfix user)")
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        unavailable("there is no postfix user (is the Debian package installed?)")
    instances = []

    def make(name="backend", main=None, listeners=None, start=True):
        instance = PostfixInstance(command, e2e, name=name, main=main, listeners=listeners)
        instances.append(instance)
        if start:
            instance.start()
        return instance

    yield make
    problems = []
    for instance in instances:
        try:
            instance.stop()
        except (AssertionError, OSError) as e:
            problems.append("Postfix %r: %s" % (instance.name, e))
        text = instance.maillog()
        if text:
            sys.stdout.write("---- maillog of Postfix %s ----\n%s\n" % (instance.name, text))
        instance.remove()
    if problems:
        pytest.fail("; ".join(problems))

