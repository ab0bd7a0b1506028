"""Shared fixtures for the greylister's component tests: a scripted in-process backend,
and a real DNS server on loopback (``dnsServer``)."""

import selectors
import socket
import struct
import threading
import types

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.PTR
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.reversename
import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey.Capabilities import CapabilityCache
from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler
from Kamaelia.Support.LineBuffer import LineBuffer


class FakeBackend(component):
    """Stands in for TCPClient + a real SMTP server, scripted by the test.

    It records every command line and every message (raw bytes as received,
    dot-stuffing included) and answers with ``replies`` (verb -> reply text,
    or a callable taking the command line), ``rcpt`` (address -> reply) and
    ``final`` (the end-of-data reply). ``closeAt``/``silentAt`` name a verb at
    which it hangs up or stops answering; ``refuse`` makes it fail to connect.
    """

    def __init__(self, script, **argd):
        super().__init__(**argd)
        self.script = script
        self.buffer = LineBuffer(b"\r\n", None)
        self.inData = False
        self.current = []

    def say(self, text):
        self.send(text.encode() + b"\r\n", "outbox")

    def hangUp(self):
        self.send(producerFinished(self, self.script.hangupReason), "signal")

    def answer(self, line):
        script = self.script
        text = line.decode("utf-8", "surrogateescape")
        script.commands.append(text)
        verb = text.split(" ")[0].upper() if text else ""
        if verb == script.closeAt:
            return False
        if verb == script.silentAt:
            return True
        if verb == "EHLO":
            lines = ["backend.test"] + list(script.extensions)
            for i, ext in enumerate(lines):
                self.say("250%s%s" % (" " if i == len(lines) - 1 else "-", ext))
        elif verb == "XCLIENT":
            self.say("220 backend.test ESMTP again")
        elif verb == "RCPT":
            address = text.split(":", 1)[1].split(" ")[0].strip("<>")
            self.say(script.rcpt.get(address, "250 2.1.5 Ok"))
        elif verb == "DATA":
            self.say(script.dataStart)
            self.inData = script.dataStart.startswith("354")
        elif verb == "QUIT":
            self.say("221 2.0.0 Bye")
            return False
        else:
            reply = script.replies.get(verb, "250 2.0.0 Ok")
            self.say(reply(text) if callable(reply) else reply)
        return True

    def main(self):
        script = self.script
        script.connections += 1
        if script.refuse:
            self.send(producerFinished(self, ConnectionRefusedError("refused")), "signal")
            return
        self.say(script.banner)
        while True:
            while self.dataReady("inbox"):
                self.buffer.feed(self.recv("inbox"))
            while True:
                line = self.buffer.nextLine()
                if line is None:
                    break
                if self.inData:
                    if line == b".":
                        self.inData = False
                        script.messages.append(b"".join(self.current))
                        self.current = []
                        if script.closeAt == "END":
                            self.hangUp()
                            return
                        if script.silentAt != "END":
                            self.say(script.final)
                    else:
                        self.current.append(line + b"\r\n")
                    continue
                if not self.answer(line):
                    self.hangUp()
                    return
            if self.dataReady("control"):
                self.recv("control")
                script.closedByProxy += 1
                self.send(producerFinished(self), "signal")
                return
            self.pause()
            yield 1


def makeScript(**overrides):
    script = types.SimpleNamespace(
        banner="220 backend.test ESMTP", extensions=("PIPELINING", "SIZE 20000000", "8BITMIME"),
        replies={}, rcpt={}, dataStart="354 go ahead", final="250 2.0.0 Ok: queued as 42",
        closeAt=None, silentAt=None, refuse=False, hangupReason=None,
        commands=[], messages=[], connections=0, closedByProxy=0)
    for key, value in overrides.items():
        setattr(script, key, value)
    return script


class Proxy(ConcreteMailHandler):
    """ConcreteMailHandler whose real server is a FakeBackend; policy from the test."""

    peer, peerport, local, localport = "192.0.2.10", 40000, "127.0.0.1", 25
    servername = "mx.test"
    serverid = "Test"
    accept = True
    script = None

    def makeBackendClient(self):
        return FakeBackend(self.script)

    def shouldWeAcceptMail(self):
        if isinstance(self.accept, Exception):
            raise self.accept
        return self.accept


def startProxy(script=None, cls=Proxy, **attributes):
    """A ComponentHarness around a proxy conversation (greeting already consumed)."""
    script = script or makeScript()
    if "capabilityCache" not in attributes and "capabilityCache" not in vars(cls):
        attributes["capabilityCache"] = CapabilityCache()   # each test meets its server afresh
    handler = cls(script=script, **attributes)
    h = ComponentHarness(handler)
    h.runUntilIdle()
    h.greeting = replies(h)
    h.script = script
    return h


def talk(h, data, chunk=None):
    """Send ``data`` (bytes) in chunks of ``chunk`` bytes; return the replies as text."""
    chunk = chunk or len(data) or 1
    for i in range(0, len(data), chunk):
        h.put(data[i:i + chunk])
        h.runUntilIdle()
    return replies(h)


def replies(h):
    return "".join(x if isinstance(x, str) else x.decode() for x in h.getAll("outbox"))


@pytest.fixture
def proxy():
    return types.SimpleNamespace(start=startProxy, talk=talk, replies=replies,
                                 script=makeScript, Proxy=Proxy, FakeBackend=FakeBackend)


# -- a real DNS server for client name lookups ---------------------------------------


DNS_STOP_DEADLINE = 5.0


class DNSServer:
    """A small authoritative DNS server on 127.0.0.1, UDP and TCP on one port, in a thread.

    ``addPTR(ip, name)``, ``addA(name, ip)``, ``addAAAA(name, ip)`` add
    records (several per name are kept, and answered, in the order added --
    no shuffling, so tests can rely on it); ``servfail(name)`` makes
    every query for that name answer SERVFAIL and ``drop(name)`` makes it go
    unanswered. A name with records but none of the asked type answers
    NOERROR with no answer; any other name NXDOMAIN. ``queries`` lists every
    question received as ``(qname, qtype)`` -- lower case, no final dot,
    e.g. ``("7.2.0.192.in-addr.arpa", "PTR")`` -- and ``tcpQueries`` those
    that came over TCP. A UDP answer larger than the client's EDNS payload
    (512 bytes without EDNS) is truncated (TC set), so the client retries
    over TCP, as with a real server.
    """

    address = "127.0.0.1"

    def __init__(self):
        self.queries = []
        self.tcpQueries = []
        self._records = {}
        self._servfail = set()
        self._drop = set()
        self._lock = threading.Lock()
        self.udp, self.tcp = self._bind()
        self.port = self.udp.getsockname()[1]
        self._wakeRead, self._wakeWrite = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._buffers = {}
        self._thread = threading.Thread(target=self._serve, name="dnsServer", daemon=True)

    @staticmethod
    def _bind(attempts=50):
        """A UDP and a TCP socket bound to the same free loopback port."""
        for _ in range(attempts):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            return udp, tcp
        raise RuntimeError("no loopback port free for both UDP and TCP")

    # -- the zone ---------------------------------------------------------------------

    def _add(self, name, rdata):
        with self._lock:
            self._records.setdefault((dns.name.from_text(name), rdata.rdtype), []).append(rdata)

    def addPTR(self, ip, name):
        target = dns.name.from_text(name)
        self._add(dns.reversename.from_address(ip).to_text(),
                  dns.rdtypes.ANY.PTR.PTR(dns.rdataclass.IN, dns.rdatatype.PTR, target))

    def addA(self, name, ip):
        self._add(name, dns.rdtypes.IN.A.A(dns.rdataclass.IN, dns.rdatatype.A, ip))

    def addAAAA(self, name, ip):
        self._add(name, dns.rdtypes.IN.AAAA.AAAA(dns.rdataclass.IN, dns.rdatatype.AAAA, ip))

    def servfail(self, name):
        with self._lock:
            self._servfail.add(dns.name.from_text(name))

    def drop(self, name):
        with self._lock:
            self._drop.add(dns.name.from_text(name))

    @staticmethod
    def reverseName(ip):
        """The PTR query name for ``ip``, as it appears in ``queries``."""
        return dns.reversename.from_address(ip).to_text(omit_final_dot=True).lower()

    # -- answering ----------------------------------------------------------------------

    def answer(self, wire, overTCP):
        """The response (a dns.message.Message) to a query in wire format, or None."""
        try:
            request = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not request.question:
            return None
        question = request.question[0]
        entry = (question.name.to_text(omit_final_dot=True).lower(),
                 dns.rdatatype.to_text(question.rdtype))
        self.queries.append(entry)
        if overTCP:
            self.tcpQueries.append(entry)
        response = dns.message.make_response(request, recursion_available=True)
        response.flags |= dns.flags.AA
        with self._lock:
            if question.name in self._drop:
                return None
            if question.name in self._servfail:
                response.set_rcode(dns.rcode.SERVFAIL)
                return response
            records = list(self._records.get((question.name, question.rdtype), ()))
            known = any(name == question.name for name, _ in self._records)
        if records:
            rrset = response.find_rrset(response.answer, question.name, dns.rdataclass.IN,
                                        question.rdtype, create=True)
            for record in records:
                rrset.add(record, ttl=60)
        elif not known:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def _udpReady(self):
        try:
            wire, peer = self.udp.recvfrom(65535)
        except OSError:
            return
        response = self.answer(wire, False)
        if response is not None:
            request = dns.message.from_wire(wire)
            limit = max(512, request.payload) if request.edns >= 0 else 512
            self.udp.sendto(response.to_wire(max_size=limit, prefer_truncation=True,
                                             want_shuffle=False), peer)

    def _tcpAccept(self):
        try:
            connection, _ = self.tcp.accept()
        except OSError:
            return
        connection.settimeout(DNS_STOP_DEADLINE)
        self._buffers[connection] = b""
        self._selector.register(connection, selectors.EVENT_READ, self._tcpReady)

    def _tcpClose(self, connection):
        self._selector.unregister(connection)
        del self._buffers[connection]
        connection.close()

    def _tcpReady(self, connection):
        try:
            data = connection.recv(65535)
        except OSError:
            data = b""
        if not data:
            self._tcpClose(connection)
            return
        buffered = self._buffers[connection] + data
        while len(buffered) >= 2:
            (length,) = struct.unpack("!H", buffered[:2])
            if len(buffered) < 2 + length:
                break
            wire, buffered = buffered[2:2 + length], buffered[2 + length:]
            response = self.answer(wire, True)
            if response is not None:
                try:
                    connection.sendall(response.to_wire(prepend_length=True, want_shuffle=False))
                except OSError:
                    self._tcpClose(connection)
                    return
        self._buffers[connection] = buffered

    def _serve(self):
        self._selector.register(self.udp, selectors.EVENT_READ, lambda _: self._udpReady())
        self._selector.register(self.tcp, selectors.EVENT_READ, lambda _: self._tcpAccept())
        self._selector.register(self._wakeRead, selectors.EVENT_READ, None)
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    return
                key.data(key.fileobj)

    # -- life -----------------------------------------------------------------------------

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and close the sockets (again: nothing)."""
        if self._selector is None:
            return
        self._wakeWrite.send(b"x")
        self._thread.join(DNS_STOP_DEADLINE)
        assert not self._thread.is_alive(), "the test DNS server did not stop"
        for connection in list(self._buffers):
            self._tcpClose(connection)
        self._selector.close()
        self._selector = None
        for sock in (self.udp, self.tcp, self._wakeRead, self._wakeWrite):
            sock.close()


@pytest.fixture
def dnsServer():
    """A running ``DNSServer`` on 127.0.0.1 (its own port), stopped after the test."""
    server = DNSServer().start()
    yield server
    server.stop()


# -- a private PostgreSQL for the store tests (pgcluster.py) ----------------------------

def _loadPgcluster():
    """pgcluster.py beside this file (the tests run with --import-mode=importlib)."""
    import importlib.util
    import os
    import sys
    if "pgcluster" not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgcluster.py")
        spec = importlib.util.spec_from_file_location("pgcluster", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["pgcluster"] = module
        spec.loader.exec_module(module)
    return sys.modules["pgcluster"]


def _makePgCluster():
    """A started cluster, or skip (fail with KAMAELIA_REQUIRE_POSTGRES=1) if impossible."""
    import os
    pgcluster = _loadPgcluster()
    try:
        cluster = pgcluster.PgCluster()
    except pgcluster.PgUnavailable as error:
        reason = "PostgreSQL unavailable: %s" % error
    else:
        try:
            cluster.start()
            return cluster
        except pgcluster.PgUnavailable as error:
            cluster.destroy()
            reason = "PostgreSQL would not start: %s" % error
    if os.environ.get("KAMAELIA_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " (KAMAELIA_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pgCluster():
    """One private PostgreSQL server for the session (pgcluster.PgCluster), stopped at the end."""
    cluster = _makePgCluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def pgDatabase(pgCluster):
    """The URL of an empty database on the session's server (emptied for each test)."""
    return pgCluster.freshDatabase()


@pytest.fixture
def privatePgCluster():
    """A server of the test's own (to stop and restart), destroyed after the test."""
    cluster = _makePgCluster()
    yield cluster
    cluster.destroy()
