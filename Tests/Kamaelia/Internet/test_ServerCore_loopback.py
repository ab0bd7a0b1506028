"""Loopback integration tests: ServerCore + TCPServer + ConnectedSocketAdapter with real sockets."""

import os
import socket
import struct
import threading
import time

import pytest

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Chassis.ConnectedServer import ServerCore, SimpleServer
from Kamaelia.IPC import serverShutdown, socketShutdown


class Echo(component):
    """Echoes every chunk; ends (forwarding it) on any control message."""

    instances = []

    def __init__(self, **argd):
        super().__init__(**argd)
        Echo.instances.append(self)
        self.controlReceived = []

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
            if self.dataReady("control"):
                message = self.recv("control")
                self.controlReceived.append(message)
                return
            self.pause()
            yield 1


def connect(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    return s


@pytest.fixture
def echoServer(system):
    Echo.instances = []
    server = ServerCore(protocol=Echo, port=0, host="127.0.0.1")
    system.activate(server)
    return server


def test_echo_round_trip_and_handler_receives_peer_address(echoServer, helpers):
    """A client's bytes come back unchanged; the handler was told who connected."""
    s = connect(echoServer.port)
    s.sendall(b"hello, world")
    assert helpers.recvExactly(s, 12) == b"hello, world"
    assert Echo.instances and Echo.instances[0].peer == "127.0.0.1"
    assert Echo.instances[0].peerport == s.getsockname()[1]
    assert Echo.instances[0].localport == echoServer.port
    s.close()


def test_large_payload_arrives_complete_and_in_order(echoServer, helpers):
    """8 MB echoed through partial sends and receives, byte for byte."""
    payload = os.urandom(8 * 1024 * 1024)
    s = connect(echoServer.port)
    received = []
    reader = threading.Thread(
        target=lambda: received.append(helpers.recvExactly(s, len(payload), timeout=30)))
    reader.start()
    s.sendall(payload)
    reader.join(30)
    assert received and received[0] == payload
    s.close()


def test_many_concurrent_clients_each_get_their_own_echo(echoServer, helpers):
    """200 clients connected at once, each receives exactly its own data."""
    clients = [connect(echoServer.port) for _ in range(200)]
    for i, c in enumerate(clients):
        c.sendall(b"client %04d\n" % i)
    for i, c in enumerate(clients):
        assert helpers.recvExactly(c, 12) == b"client %04d\n" % i
    # Closing one connection must not wake every other connection's adapter: the
    # adapters' feedback links into the TCPServer are made with wakeProducer=False.
    feedback = echoServer.server.inboxes["_feedbackFromCSA"].storage
    assert len(echoServer.connectedSockets) == 200 and feedback.wakeOnPop == []
    for c in clients:
        c.close()
    helpers.waitFor(lambda: not echoServer.connectedSockets, message="all connections cleaned up")
    assert not echoServer.children.copy()[1:], "only the TCPServer is left as a child"


def test_half_close_still_gets_the_reply_then_server_closes(echoServer, helpers):
    """A client that sends and then shuts down its write side still gets its answer, then EOF."""
    s = connect(echoServer.port)
    s.sendall(b"last words")
    s.shutdown(socket.SHUT_WR)
    assert helpers.recvUntilClosed(s) == b"last words"
    s.close()


def test_peer_reset_cleans_up_and_tells_the_handler(echoServer, helpers):
    """A connection reset ends the CSA; the handler gets socketShutdown; nothing leaks."""
    s = connect(echoServer.port)
    s.sendall(b"x")
    assert helpers.recvExactly(s, 1) == b"x"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    helpers.waitFor(lambda: not echoServer.connectedSockets, message="CSA removed after reset")
    helpers.waitFor(lambda: Echo.instances[0].controlReceived, message="handler told")
    assert isinstance(Echo.instances[0].controlReceived[0], socketShutdown)


def test_server_shutdown_closes_listener_and_every_connection(system, echoServer, helpers):
    """serverShutdown on control: clients see EOF and new connections are refused."""
    clients = [connect(echoServer.port) for _ in range(5)]
    for c in clients:
        c.sendall(b"ping")
        assert helpers.recvExactly(c, 4) == b"ping"
    port = echoServer.port
    echoServer._deliver(serverShutdown(), "control")
    for c in clients:
        assert helpers.recvUntilClosed(c) == b""
        c.close()

    def refused():
        try:
            connect(port).close()
            return False
        except ConnectionRefusedError:
            return True
    helpers.waitFor(refused, message="listening socket closed")


def test_str_sent_to_a_connection_is_encoded_not_looped_on(system, helpers):
    """A handler that sends str: the client receives its UTF-8 bytes and later data still flows."""
    class Greeter(component):
        def main(self):
            self.send("héllo\r\n", "outbox")
            self.send(b"bytes too\r\n", "outbox")
            while not self.dataReady("control"):
                self.pause()
                yield 1

    server = ServerCore(protocol=lambda **kw: Greeter(), port=0, host="127.0.0.1")
    system.activate(server)
    s = connect(server.port)
    expected = "héllo\r\n".encode("utf-8") + b"bytes too\r\n"
    assert helpers.recvExactly(s, len(expected)) == expected
    s.close()


def test_handler_producerFinished_flushes_then_closes(system, helpers):
    """Sending producerFinished on the handler's signal: queued data is delivered, then EOF."""
    class Speaker(component):
        def main(self):
            for i in range(100):
                self.send(b"line %03d\r\n" % i, "outbox")
            self.send(producerFinished(self), "signal")
            yield 1

    server = SimpleServer(protocol=Speaker, port=0, host="127.0.0.1")
    system.activate(server)
    s = connect(server.port)
    data = helpers.recvUntilClosed(s)
    assert data == b"".join(b"line %03d\r\n" % i for i in range(100))
    s.close()


class Flood(component):
    """Sends 64 KB blocks as fast as the connection accepts them, respecting noSpaceInBox."""

    total = 32 * 1024 * 1024
    instances = []

    def __init__(self, **argd):
        super().__init__(**argd)
        Flood.instances.append(self)
        self.maxQueued = 0

    def main(self):
        block = b"z" * 65536
        sent = 0
        while sent < self.total:
            try:
                self.send(block, "outbox")
                sent += len(block)
            except noSpaceInBox:
                self.pause()
                yield 1
                continue
            yield 1
        self.send(producerFinished(self), "signal")


def test_slow_reader_gets_back_pressure_not_unbounded_memory(system, helpers):
    """A peer reading slowly: the producer is held back; memory in flight stays bounded."""
    Flood.instances = []

    class BoundedServer(ServerCore):
        def handleNewConnection(self, msg):
            handler = super().handleNewConnection(msg)
            msg.object.setInboxSize("inbox", 4)
            return handler

    server = BoundedServer(protocol=Flood, port=0, host="127.0.0.1")
    system.activate(server)
    s = connect(server.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    helpers.waitFor(lambda: Flood.instances, message="handler created")
    csa = server.connectedSockets[0]
    received = 0
    peakPending = 0
    s.settimeout(10)
    while received < 4 * 1024 * 1024:
        received += len(s.recv(16384))
        time.sleep(0.0005)
        peakPending = max(peakPending, csa._pending + 65536 * csa.dataReady("inbox"))
    assert peakPending <= csa.sendBufferSize + 65536 * 5
    s.close()


def test_ipv6_loopback_server(system, helpers):
    """ServerCore on ::1 serves an IPv6 client."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    server = ServerCore(protocol=Echo, port=0, host="::1")
    system.activate(server)
    s = connect(server.port, socket.AF_INET6, "::1")
    s.sendall(b"six")
    assert helpers.recvExactly(s, 3) == b"six"
    s.close()


def test_bind_failure_is_reported_with_the_server_name(system):
    """A port already in use: the error propagates, naming the server, instead of a silent hang."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    server = ServerCore(protocol=Echo, port=port, host="127.0.0.1")
    system.activate(server)
    deadline = time.monotonic() + 5
    while system.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    blocker.close()
    error = system.error
    system.error = None
    assert isinstance(error, OSError)
    assert "cannot listen" in str(error)
    assert any(server.name in note for note in getattr(error, "__notes__", []))
    system.thread.join(5)
    system.thread = threading.Thread(target=lambda: None)
    system.thread.start()


# -- one connection's failure is that connection's alone --------------------------------------

class CrashOnBoom(component):
    """Echoes, but raises when a chunk contains b"boom" (after saying goodbye via crashNotice)."""

    def crashNotice(self):
        return b"sorry, internal error\r\n"

    def main(self):
        while not self.dataReady("control"):
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                if b"boom" in data:
                    raise ValueError("handler bug")
                self.send(data, "outbox")
            self.pause()
            yield 1


def test_a_crashing_handler_closes_only_its_connection(system, helpers, caplog):
    """The crasher's client gets crashNotice() and EOF; the others and the listener carry on."""
    server = system.activate(ServerCore(protocol=CrashOnBoom, port=0, host="127.0.0.1"))
    survivor = connect(server.port)
    victim = connect(server.port)
    survivor.sendall(b"before")
    assert helpers.recvExactly(survivor, 6) == b"before"
    victim.sendall(b"boom")
    received = b""
    while True:
        chunk = victim.recv(100)
        if not chunk:
            break
        received += chunk
    assert received == b"sorry, internal error\r\n"
    survivor.sendall(b"after")
    assert helpers.recvExactly(survivor, 5) == b"after"
    late = connect(server.port)
    late.sendall(b"late")
    assert helpers.recvExactly(late, 4) == b"late"
    assert any("crashed" in r.getMessage() and "127.0.0.1" in r.getMessage()
               for r in caplog.records)
    for s in (survivor, victim, late):
        s.close()
    assert system.error is None


def test_a_crashing_adapter_closes_only_its_connection(system, helpers, caplog):
    """A CSA that raises (here: bad data with crashOnBadDataToSend) is contained by its TCPServer."""
    from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
    from Kamaelia.Internet.TCPServer import TCPServer

    class StrictCSA(ConnectedSocketAdapter):
        def __init__(self, sock, selectorService=None, **argd):
            super().__init__(sock, selectorService, crashOnBadDataToSend=True, **argd)

    class StrictTCPServer(TCPServer):
        CSA = StrictCSA

    class SendsGarbage(Echo):
        def main(self):
            while True:
                while self.dataReady("inbox"):
                    data = self.recv("inbox")
                    self.send(object() if data == b"garbage" else data, "outbox")
                if self.dataReady("control"):
                    self.recv("control")
                    return
                self.pause()
                yield 1

    class Server(ServerCore):
        TCPS = StrictTCPServer

    server = system.activate(Server(protocol=SendsGarbage, port=0, host="127.0.0.1"))
    survivor = connect(server.port)
    victim = connect(server.port)
    survivor.sendall(b"one")
    assert helpers.recvExactly(survivor, 3) == b"one"
    victim.sendall(b"garbage")
    assert victim.recv(100) == b""
    survivor.sendall(b"two")
    assert helpers.recvExactly(survivor, 3) == b"two"
    assert any("adapter" in r.getMessage() and "crashed" in r.getMessage() for r in caplog.records)
    survivor.close()
    victim.close()
    assert system.error is None


def test_text_with_surrogate_escapes_goes_out_as_the_original_bytes(system, helpers):
    """A str decoded with surrogateescape (e.g. an echoed non-UTF-8 argument) is sent byte for byte."""
    class EchoAsText(Echo):
        def main(self):
            while True:
                while self.dataReady("inbox"):
                    self.send(self.recv("inbox").decode("utf-8", "surrogateescape"), "outbox")
                if self.dataReady("control"):
                    self.recv("control")
                    return
                self.pause()
                yield 1

    server = system.activate(ServerCore(protocol=EchoAsText, port=0, host="127.0.0.1"))
    s = connect(server.port)
    s.sendall(b"EHLO \xff\xfe\r\n")
    assert helpers.recvExactly(s, 9) == b"EHLO \xff\xfe\r\n"
    s.close()
    assert system.error is None
