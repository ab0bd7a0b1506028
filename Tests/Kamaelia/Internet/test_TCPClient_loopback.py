"""TCPClient against real loopback servers: data both ways, clean ends and clear failures."""

import socket
import time

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Internet.TCPClient import TCPClient


class ClientHarness(component):
    """Wires a TCPClient to thread-safe queues: feed it, read what it emits."""

    def __init__(self, client, **argd):
        super().__init__(**argd)
        self.client = client
        import queue
        self.received = queue.Queue()
        self.signals = queue.Queue()
        self.sslready = queue.Queue()

    def feed(self, message, boxname="outbox"):
        """From the test thread: send ``message`` from our outbox (to the client)."""
        self.scheduler.callSoonThreadsafe(self.send, message, boxname)

    def main(self):
        self.link((self, "outbox"), (self.client, "inbox"))
        self.link((self, "signal"), (self.client, "control"))
        self.link((self.client, "outbox"), (self, "inbox"))
        self.link((self.client, "signal"), (self, "control"))
        self.addChildren(self.client)
        self.client.activate()
        while True:
            while self.dataReady("inbox"):
                self.received.put(self.recv("inbox"))
            while self.dataReady("control"):
                self.signals.put(self.recv("control"))
            if self.client._isStopped() and not self.dataReady("inbox"):
                return
            self.pause()
            yield 1


def listeningSocket(backlog=5, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(backlog)
    return s


def test_client_sends_and_receives_and_ends_when_server_closes(system, helpers):
    """Data flows both ways; a server close ends the client with producerFinished(howDied=None)."""
    server = listeningSocket()
    port = server.getsockname()[1]
    client = ClientHarness(TCPClient("127.0.0.1", port))
    client.client._deliver(b"early data, before the connection is up", "inbox")
    system.activate(client)
    conn, _ = server.accept()
    conn.settimeout(5)
    early = b"early data, before the connection is up"
    assert helpers.recvExactly(conn, len(early)) == early
    conn.sendall(b"reply")
    assert client.received.get(timeout=5) == b"reply"
    conn.close()
    signal = client.signals.get(timeout=5)
    assert isinstance(signal, producerFinished)
    assert signal.message is None
    server.close()


def test_connection_refused_ends_with_a_clear_signal(system):
    """Nothing listening: producerFinished carrying ConnectionRefusedError, promptly."""
    s = listeningSocket()
    port = s.getsockname()[1]
    s.close()
    client = ClientHarness(TCPClient("127.0.0.1", port))
    started = time.monotonic()
    system.activate(client)
    signal = client.signals.get(timeout=5)
    assert isinstance(signal, producerFinished)
    assert isinstance(signal.message, ConnectionRefusedError)
    assert time.monotonic() - started < 5


def test_connect_timeout_ends_with_a_clear_signal(system):
    """A server that never completes the handshake: TimeoutError after connect_timeout."""
    server = listeningSocket(backlog=0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", port))
        fillers.append(f)
    client = ClientHarness(TCPClient("127.0.0.1", port, connect_timeout=0.5))
    system.activate(client)
    signal = client.signals.get(timeout=10)
    assert isinstance(signal, producerFinished)
    if not isinstance(signal.message, TimeoutError):
        pytest.skip("the kernel completed the connection despite a full backlog: %r" % signal.message)
    for f in fillers:
        f.close()
    server.close()


def test_dns_failure_ends_with_a_clear_signal(system):
    """An unresolvable name: the client ends with an error signal, never a hang."""
    client = ClientHarness(TCPClient("no-such-host.invalid", 25, connect_timeout=10))
    system.activate(client)
    signal = client.signals.get(timeout=15)
    assert isinstance(signal, producerFinished)
    assert isinstance(signal.message, (socket.gaierror, TimeoutError, OSError))


def test_shutdown_while_connecting_is_forwarded_and_ends_the_client(system):
    """shutdownMicroprocess during the connect phase goes out on signal and stops the client."""
    server = listeningSocket(backlog=0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", port))
        fillers.append(f)
    client = ClientHarness(TCPClient("127.0.0.1", port, delay=0.2, connect_timeout=30))
    system.activate(client)
    client.client._deliver(shutdownMicroprocess(), "control")
    signal = client.signals.get(timeout=5)
    assert isinstance(signal, shutdownMicroprocess)
    for f in fillers:
        f.close()
    server.close()


def test_producerFinished_with_wait_for_serverclose_half_closes_and_reads_the_reply(system, helpers):
    """wait_for_serverclose: producerFinished half-closes; the reply still arrives, then the end."""
    server = listeningSocket()
    port = server.getsockname()[1]
    client = ClientHarness(TCPClient("127.0.0.1", port, wait_for_serverclose=True))
    system.activate(client)
    conn, _ = server.accept()
    conn.settimeout(5)
    client.feed(b"request")
    assert helpers.recvExactly(conn, 7) == b"request"
    client.feed(producerFinished(), "signal")
    assert conn.recv(10) == b""           # we see the client's EOF ...
    conn.sendall(b"response")             # ... and can still answer
    conn.close()
    assert client.received.get(timeout=5) == b"response"
    assert isinstance(client.signals.get(timeout=5), producerFinished)
    server.close()


def test_ipv6_client(system, helpers):
    """TCPClient connects to an IPv6 literal address."""
    try:
        server = listeningSocket(family=socket.AF_INET6, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = server.getsockname()[1]
    client = ClientHarness(TCPClient("::1", port))
    system.activate(client)
    conn, _ = server.accept()
    conn.sendall(b"v6")
    assert client.received.get(timeout=5) == b"v6"
    conn.close()
    server.close()


def test_safeConnect_called_repeatedly_like_1x_runClient_ends_True():
    """1.x retried safeConnect each cycle until True: EALREADY means "not yet", EISCONN "done"."""
    import select

    listener = socket.create_server(("127.0.0.1", 0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    client = TCPClient("127.0.0.1", listener.getsockname()[1])
    deadline = time.monotonic() + 5
    results = [client.safeConnect(sock, listener.getsockname())]
    while not results[-1]:
        assert time.monotonic() < deadline, "never connected"
        select.select([], [sock], [], 0.1)
        results.append(client.safeConnect(sock, listener.getsockname()))
    assert client.safeConnect(sock, listener.getsockname()) is True, "already connected"
    sock.close()
    listener.close()


def test_a_client_stopped_while_connecting_unwatches_and_closes_its_socket():
    """stop() during a connect: the half-open socket must not stay in the I/O wait
    (once it became writable the scheduler would spin on it for ever) nor stay open."""
    from Axon.Testing import ComponentHarness

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = []
    for _ in range(3):       # fill the accept queue: further connects stay in progress
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(listener.getsockname())
        queued.append(s)
    client = TCPClient("127.0.0.1", listener.getsockname()[1], connect_timeout=60)
    h = ComponentHarness(client)
    h.step(5)
    watched = list(h.scheduler._io)
    if not watched:
        pytest.skip("the connect completed at once; cannot observe a connect in progress")
    client.stop()
    h.runUntilIdle()
    assert h.finished
    assert not h.scheduler._io, "the connecting socket is still watched"
    assert all(sock.fileno() == -1 for sock in watched), "the connecting socket is still open"
    for s in queued + [listener]:
        s.close()
