"""Fixtures for the greylister's end-to-end tests: the real program, real sockets.

- ``backend``: an aiosmtpd server on 127.0.0.1 that records every message
  (envelope and raw content) and can be told to refuse recipients, refuse a
  message at end of data, answer slowly, or be down.
- ``grey``: a factory that writes a greylist.conf into the test's tmp_path
  (short greylist windows: an immediate retry passes), starts
  ``python -m Kamaelia.Apps.Grey.Application`` on port 0, waits (with a
  deadline) for its "listening on" log line and returns a ``Greylister``.
  Every greylister still running at the end of the test is sent SIGTERM and
  must exit within ``STOP_DEADLINE`` seconds; its stderr is printed in the
  teardown, so pytest shows it when a test fails.
- ``SMTPConnection``: a raw-socket SMTP client that reads whole replies, for
  the cases no polite client library produces.
- ``waitFor(condition, deadline)``: polls a condition; never a bare sleep.
"""

import asyncio
import datetime
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import types

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

START_DEADLINE = 20.0
STOP_DEADLINE = 4.0
REPLY_DEADLINE = 10.0
# The repository under test: the child imports Axon and Kamaelia from here, whatever
# copy an editable install points at.
SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
LISTENING = re.compile(r"Kamaelia Grey (?:policy server )?listening on (\S+):(\d+)")


def childEnvironment():
    """os.environ with SOURCE_ROOT first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SOURCE_ROOT, env.get("PYTHONPATH")) if p)
    return env


def waitFor(condition, deadline=10.0, interval=0.02, message="condition"):
    """Poll ``condition()`` until it is truthy; return its value or fail after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            pytest.fail("timed out after %.1f s waiting for %s" % (deadline, message))
        time.sleep(interval)


def freePort():
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(subject="test", body=b"Hello.\r\n", extra=b""):
    """A small RFC 5322 message as bytes with CRLF line ends."""
    return (b"From: sender@example.net\r\nTo: user@example.org\r\nSubject: "
            + subject.encode() + b"\r\n" + extra + b"\r\n" + body)


def dotStuff(content):
    """``content`` (CRLF lines, ending CRLF) as sent in DATA: dots doubled, then "." CRLF."""
    lines = content.split(b"\r\n")
    assert lines[-1] == b"", "content must end with CRLF"
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines[:-1]]
    return b"\r\n".join(stuffed) + b"\r\n.\r\n"


def withoutReceived(content):
    """``content`` minus the one Received: header the proxy puts first (asserted present)."""
    assert content.startswith(b"Received: from "), content[:200]
    end = content.index(b"\r\n", 0)
    while content[end + 2:end + 3] in (b" ", b"\t"):
        end = content.index(b"\r\n", end + 2)
    return content[end + 2:]


# -- the backend ----------------------------------------------------------------------

class RecordingHandler(object):
    """aiosmtpd handler: records messages; knobs to refuse or be slow."""

    def __init__(self):
        self.messages = []          # (mail_from, [rcpt], original_content bytes)
        self.refusedAtData = []     # the same, for messages refused at end of data
        self.refuseRecipients = {}  # address -> reply
        self.refuseSenders = {}     # address -> reply
        self.dataReply = None       # reply to give at end of data instead of 250
        self.delays = {}            # "MAIL"/"RCPT"/"DATA" -> seconds before answering
        self.offerXclient = False   # advertise Postfix's XCLIENT in the EHLO reply
        self.xclientAttributes = "NAME ADDR PORT PROTO HELO"
        self.xclientReply = "220 backend.test ESMTP after XCLIENT"
        self.greetings = []         # (verb, name) of every EHLO/HELO received
        self.connections = 0
        self.disconnects = 0
        self.commands = []
        self.xclients = []          # arguments of every XCLIENT received

    async def _slow(self, verb):
        delay = self.delays.get(verb)
        if delay:
            await asyncio.sleep(delay)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if not session.host_name:
            self.connections += 1
        self.greetings.append(("EHLO", hostname))
        session.host_name = hostname
        if self.offerXclient:
            responses.insert(-1, "250-XCLIENT " + self.xclientAttributes)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self.greetings.append(("HELO", hostname))
        session.host_name = hostname
        return "250 backend.test"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.commands.append(("MAIL", address, tuple(mail_options)))
        await self._slow("MAIL")
        if address in self.refuseSenders:
            return self.refuseSenders[address]
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append(("RCPT", address))
        await self._slow("RCPT")
        if address in self.refuseRecipients:
            return self.refuseRecipients[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._slow("DATA")
        record = (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        if self.dataReply is not None:
            self.refusedAtData.append(record)
            return self.dataReply
        self.messages.append(record)
        return "250 2.0.0 Message accepted"


class XclientSMTP(SMTP):
    """aiosmtpd's server plus a minimal XCLIENT (Postfix's): records it and greets again.

    Like Postfix, it says 421 before closing a connection idle for longer
    than its ``timeout``; it counts closed client connections (those that
    said EHLO or HELO) in the handler's ``disconnects``.
    """

    async def smtp_XCLIENT(self, arg):
        self.event_handler.xclients.append(arg)
        await self.push(self.event_handler.xclientReply)

    def _timeout_cb(self):
        self.transport.write(b"421 4.4.2 backend.test Error: timeout exceeded\r\n")
        super()._timeout_cb()

    def connection_lost(self, error):
        if self.session is not None and self.session.host_name:    # not Controller's own probe
            self.event_handler.disconnects += 1
        super().connection_lost(error)


class BackendController(Controller):
    def factory(self):
        return XclientSMTP(self.handler, **self.SMTP_kwargs)


class Backend(object):
    """An aiosmtpd server on 127.0.0.1 around a ``RecordingHandler``."""

    def __init__(self, **controllerArgs):
        self.handler = RecordingHandler()
        self.port = freePort()
        self.controllerArgs = controllerArgs
        self.controller = None
        self.start()

    def start(self):
        self.controller = BackendController(self.handler, hostname="127.0.0.1", port=self.port,
                                            ready_timeout=10, **self.controllerArgs)
        self.controller.start()

    def down(self):
        """Stop listening: connections to ``port`` are refused from now on."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def waitForMessages(self, count, deadline=10.0):
        return waitFor(lambda: len(self.messages) >= count and self.messages, deadline,
                       message="%d message(s) at the backend" % count)


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.down()


# -- the greylister ---------------------------------------------------------------------

def configText(settings):
    """greylist.conf text for a dict of settings (lists become 'key:' + indented items)."""
    out = []
    for key, value in settings.items():
        if isinstance(value, (list, tuple)):
            out.append("%s:" % key)
            for item in value:
                out.append("    " + (" ".join(item) if isinstance(item, tuple) else str(item)))
        elif isinstance(value, bool):
            out.append("%s = %s" % (key, "yes" if value else "no"))
        elif value is None:
            continue
        else:
            out.append("%s = %s" % (key, value))
    return "\n".join(out) + "\n"


class Greylister(object):
    """The ``kamaelia-grey`` program running as a child process."""

    def __init__(self, directory, settings, name="grey"):
        self.directory = directory
        self.settings = dict(settings)
        self.name = name
        self.configPath = os.path.join(directory, name + ".conf")
        self.stderrPath = os.path.join(directory, name + ".stderr")
        self.proc = None
        self.port = None
        self.starts = 0
        self.writeConfig()

    def writeConfig(self, **changes):
        self.settings.update(changes)
        with open(self.configPath, "w") as f:
            f.write(configText(self.settings))

    @property
    def resultLogPath(self):
        return self.settings["greylist_log"]

    def start(self, args=(), useConfigOption=True):
        """Start the program; wait (bounded) for its "listening on" line; returns the port.

        ``args`` are extra command-line options; with ``useConfigOption=False``
        no --config is given (the program searches for its configuration).
        """
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        stderr = open(self.stderrPath, "ab")
        marker = stderr.tell()
        config = ["--config", self.configPath] if useConfigOption else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "Kamaelia.Apps.Grey.Application", *config, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            cwd=self.directory, env=childEnvironment())
        stderr.close()

        def listening():
            if self.proc.poll() is not None:
                pytest.fail("kamaelia-grey exited with status %s during start-up:\n%s"
                            % (self.proc.returncode, self.stderr()))
            match = LISTENING.search(self.stderr()[marker:])
            return match

        match = waitFor(listening, START_DEADLINE, message="the 'listening on' log line")
        self.port = int(match.group(2))
        return self.port

    def stderr(self):
        try:
            with open(self.stderrPath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def sendSignal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, signum=signal.SIGTERM, deadline=STOP_DEADLINE):
        """Send ``signum``; assert the program exits within ``deadline`` s; return its status."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        started = time.monotonic()
        self.proc.send_signal(signum)
        try:
            status = self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail("kamaelia-grey did not exit within %.1f s of signal %d" % (deadline, signum))
        self.stopTook = time.monotonic() - started
        return status

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait(5)

    def resultLines(self):
        try:
            # Complete lines only: the writer's thread may be half-way through one.
            with open(self.resultLogPath, encoding="utf-8") as f:
                return [line.rstrip("\n") for line in f if line.endswith("\n") and line.strip()]
        except FileNotFoundError:
            return []

    def waitForResults(self, count, deadline=10.0):
        return waitFor(lambda: len(self.resultLines()) >= count and self.resultLines(), deadline,
                       message="%d result log line(s)" % count)

    def waitForStderr(self, pattern, deadline=10.0, after=0):
        regex = re.compile(pattern)
        return waitFor(lambda: regex.search(self.stderr()[after:]), deadline,
                       message="%r on the greylister's stderr" % pattern)

    def rssKiB(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for pid %d" % self.proc.pid)

    def connect(self, source=None, timeout=REPLY_DEADLINE, host="127.0.0.1"):
        return SMTPConnection(self.port, source=source, timeout=timeout, host=host)


def baseSettings(directory, backendPort):
    """Settings every test starts from: loopback, short greylist windows, files in tmp, and no
    client name lookups (tests of those point dns_servers at the dnsServer fixture)."""
    return {
        "port": 0,
        "listen_address": "127.0.0.1",
        "servername": "mx.test.local",
        "smtp_ip": "127.0.0.1" if backendPort else "",
        "smtp_port": backendPort or 8025,
        "allowed_senders": [],
        "allowed_sender_nets": [],
        "allowed_domains": ["example.org"],
        "greylist_too_soon": 0,
        "greylist_min_defer": 0,
        "greylist_db": os.path.join(directory, "greylist.sqlite"),
        "greylist_log": os.path.join(directory, "greylist.log"),
        "greylist_debuglog": os.path.join(directory, "greylist-debug.log"),
        "maildir": os.path.join(directory, "Maildir"),
        "import_dbm_dir": "",
        "client_name_lookup": False,
        "inactivity_timeout": 30,
        "connect_timeout": 5,
        "backend_timeout": 10,
        "log_level": "INFO",
    }


@pytest.fixture
def grey(tmp_path):
    """Factory: ``grey(backend=None, start=True, name="grey", args=(), **settings)``.

    Writes ``<name>.conf`` (``baseSettings`` updated with ``settings``) in
    tmp_path and, unless ``start=False``, starts the greylister with the extra
    command-line ``args``; returns the ``Greylister``. ``backend`` is a
    ``Backend`` (or a port number) to relay to; without one the greylister
    uses its embedded Maildir backend. At teardown every greylister must stop
    within STOP_DEADLINE of SIGTERM and must not have logged a traceback.
    """
    started = []

    def make(backend=None, start=True, name="grey", args=(), **settings):
        port = backend.port if isinstance(backend, Backend) else backend
        config = baseSettings(str(tmp_path), port)
        config.update(settings)
        g = Greylister(str(tmp_path), config, name=name)
        started.append(g)
        if start:
            g.start(args)
        return g

    yield make
    problems = []
    for g in started:
        if g.running():
            try:
                g.stop()
            except pytest.fail.Exception as e:
                problems.append(str(e))
        text = g.stderr()
        if text:
            sys.stdout.write("---- stderr of %s ----\n%s\n" % (g.name, text))
        if "Traceback" in text:
            problems.append("%s logged a traceback (see its stderr above)" % g.name)
    if problems:
        pytest.fail("; ".join(problems))


# -- TLS ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(certificate path, key path) of a self-signed certificate for localhost / 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    certPath, keyPath = directory / "cert.pem", directory / "key.pem"
    certPath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyPath.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(certPath), str(keyPath)


@pytest.fixture
def clientContext(certificate):
    """A client SSLContext that trusts exactly the throwaway certificate."""
    context = ssl.create_default_context(cafile=certificate[0])
    context.check_hostname = False
    return context


@pytest.fixture
def e2e():
    """The helpers of this conftest (test modules cannot import it under importlib mode)."""
    return types.SimpleNamespace(
        waitFor=waitFor, freePort=freePort, message=message, dotStuff=dotStuff,
        withoutReceived=withoutReceived, configText=configText, Backend=Backend,
        SMTPConnection=SMTPConnection, ConnectionClosed=ConnectionClosed,
        STOP_DEADLINE=STOP_DEADLINE, SOURCE_ROOT=SOURCE_ROOT, childEnvironment=childEnvironment)


# -- a raw SMTP client ---------------------------------------------------------------------

class Reply(object):
    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines
        self.raw = raw

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.code, self.lines)


class ConnectionClosed(Exception):
    pass


class SMTPConnection(object):
    """A plain socket speaking SMTP byte for byte; reads whole (multi-line) replies."""

    def __init__(self, port, source=None, timeout=REPLY_DEADLINE, host="127.0.0.1"):
        self.sock = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None)
        self.timeout = timeout
        self.buffer = b""
        self.replyLines = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _readLine(self, deadline):
        while b"\r\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no complete reply line; have %r" % self.buffer[:200])
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionClosed("connection closed; unterminated %r" % self.buffer[:200])
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self, timeout=None):
        """The next whole reply; asserts every line is "ddd" "-"/" " text, ddd in 200..599."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines, raw, code = [], [], None
        while True:
            line = self._readLine(deadline)
            raw.append(line)
            self.replyLines.append(line)
            text = line.decode("utf-8", "replace")
            assert re.match(r"^[2-5]\d\d([ -]|$)", text), "not an SMTP reply line: %r" % text
            if code is not None and int(text[:3]) != code:
                raise AssertionError("code changed inside a multi-line reply: %r" % raw)
            code = int(text[:3])
            lines.append(text[4:])
            if len(text) == 3 or text[3] == " ":
                return Reply(code, lines, raw)

    def command(self, line, timeout=None):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply(timeout)

    def expect(self, line, code, timeout=None):
        reply = self.command(line, timeout)
        assert reply.code == code, "%r: expected %d, got %r" % (line, code, reply)
        return reply

    def banner(self):
        reply = self.reply()
        assert reply.code == 220, reply
        return reply

    def closedByPeer(self, timeout=5.0):
        """True if the server closes the connection within ``timeout`` (no more data)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buffer += chunk

    def transaction(self, sender, recipients, content, helo="client.test"):
        """EHLO (if ``helo``), MAIL, RCPTs, DATA; returns the list of replies (stops at a failure)."""
        replies = []
        if helo:
            replies.append(self.command("EHLO " + helo))
        replies.append(self.command("MAIL FROM:<%s>" % sender))
        if replies[-1].code != 250:
            return replies
        for r in recipients:
            replies.append(self.command("RCPT TO:<%s>" % r))
        replies.append(self.command("DATA"))
        if replies[-1].code != 354:
            return replies
        self.send(dotStuff(content))
        replies.append(self.reply())
        return replies

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
