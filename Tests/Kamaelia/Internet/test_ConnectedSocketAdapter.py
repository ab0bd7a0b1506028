"""ConnectedSocketAdapter on a socketpair, stepped through the Axon test harness."""

import socket
import time

from Axon.Ipc import shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter


class CountingSocket(socket.socket):
    """A socket that counts its recv calls and those that found nothing (EAGAIN)."""

    __slots__ = ("recvCalls", "wouldBlock")

    def recv(self, *args):
        self.recvCalls += 1
        try:
            return super().recv(*args)
        except BlockingIOError:
            self.wouldBlock += 1
            raise


def countingPair():
    a, b = socket.socketpair()
    counted = CountingSocket(a.family, a.type, a.proto, fileno=a.detach())
    counted.recvCalls = counted.wouldBlock = 0
    return counted, b


def stepUntil(h, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        h.step()


def test_a_short_read_is_not_followed_by_a_recv_that_would_block():
    """After reading less than recvSize the CSA waits for the next readiness report
    instead of calling recv again only to get EAGAIN (one wasted syscall per request)."""
    mine, peer = countingPair()
    csa = ConnectedSocketAdapter(mine)
    h = ComponentHarness(csa)
    for i in range(20):
        peer.sendall(b"request %d" % i)
        stepUntil(h, lambda: h.ready("outbox"))
        assert h.get("outbox") == b"request %d" % i
    assert mine.recvCalls == 20
    assert mine.wouldBlock == 0
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished
    peer.close()


def test_data_larger_than_recvSize_is_read_completely_in_order():
    """A full read is followed by further reads, so nothing is left behind in the kernel."""
    mine, peer = countingPair()
    csa = ConnectedSocketAdapter(mine)
    csa.recvSize = 1000
    h = ComponentHarness(csa)
    payload = bytes(range(256)) * 40
    peer.sendall(payload)
    got = bytearray()
    stepUntil(h, lambda: got.extend(b"".join(h.getAll("outbox"))) or len(got) >= len(payload))
    assert bytes(got) == payload
    peer.close()
    stepUntil(h, lambda: h.finished)


def test_tcp_sockets_get_TCP_NODELAY_so_small_writes_are_not_held_back():
    """Nagle plus delayed ACKs stall a request/reply protocol 40 ms at a time: the adapter
    turns Nagle off on TCP sockets (as asyncio does); other sockets are left alone."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    unixA, unixB = socket.socketpair()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        ConnectedSocketAdapter(accepted)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        csa = ConnectedSocketAdapter(unixA)
        assert csa.howDied is None
    finally:
        for s in (listener, client, accepted, unixA, unixB):
            s.close()


def test_checkSocketStatus_takes_the_readiness_notices_and_reads_at_once():
    """1.x helper: ReadReady/SendReady notices are consumed; a ReadReady makes it try to read."""
    from Axon.Component import component
    from Axon.Scheduler import scheduler

    mine, peer = socket.socketpair()
    csa = ConnectedSocketAdapter(mine)
    sink = component()
    csa.link((csa, "outbox"), (sink, "inbox"))
    csa.activate(Scheduler=scheduler())
    peer.sendall(b"waiting")
    assert csa.handleReceive() and not sink.dataReady("inbox"), "no readiness seen yet"
    csa._deliver(mine, "ReadReady")
    csa._deliver(mine, "SendReady")
    csa.checkSocketStatus()
    assert not csa.dataReady("ReadReady") and not csa.dataReady("SendReady")
    assert csa.handleReceive()
    assert sink.recv("inbox") == b"waiting"
    csa.stop()
    peer.close()


def test_SSLSocket_wraps_a_connected_socket_in_client_side_TLS(tlsCertificate):
    """1.x's SSLSocket(sock): recv/send through TLS, no certificate check, fileno delegated."""
    import ssl
    import threading

    from Kamaelia.Internet.ConnectedSocketAdapter import SSLSocket

    certfile, keyfile = tlsCertificate
    serverContext = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serverContext.load_cert_chain(certfile, keyfile)
    listener = socket.create_server(("127.0.0.1", 0))
    heard = []

    def serve():
        conn, _ = listener.accept()
        with serverContext.wrap_socket(conn, server_side=True) as tls:
            heard.append(tls.recv(100))
            tls.sendall(b"pong")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    sock = socket.create_connection(listener.getsockname(), timeout=5)
    fd = sock.fileno()
    wrapped = SSLSocket(sock)
    assert wrapped.fileno() == fd
    assert wrapped.send(b"ping") == 4
    assert wrapped.recv(100) == b"pong"
    thread.join(5)
    assert heard == [b"ping"]
    wrapped.close()
    listener.close()


def test_SSLSocket_on_a_nonblocking_socket_reports_want_read_as_BlockingIOError(tlsCertificate):
    """Before the peer answers, recv raises BlockingIOError, as a plain socket would."""
    import pytest

    from Kamaelia.Internet.ConnectedSocketAdapter import SSLSocket

    listener = socket.create_server(("127.0.0.1", 0))
    sock = socket.create_connection(listener.getsockname(), timeout=5)
    sock.setblocking(False)
    wrapped = SSLSocket(sock)
    with pytest.raises(BlockingIOError):
        wrapped.recv(100)
    sock.close()
    listener.close()


def test_the_end_of_input_marker_waits_for_room_like_data():
    """closeOnPeerEOF=False: the b"" sent at the peer's EOF must not raise noSpaceInBox when the
    consumer's inbox is full; it is delivered once the consumer has made room."""
    from Axon.Component import component

    class Slow(component):
        def main(self):
            while True:
                self.pause()
                yield 1

    mine, peer = countingPair()
    csa = ConnectedSocketAdapter(mine)
    csa.closeOnPeerEOF = False
    consumer = Slow()
    consumer.setInboxSize("inbox", 1)
    csa.link((csa, "outbox"), (consumer, "inbox"))
    h = ComponentHarness(csa)
    peer.sendall(b"data")
    stepUntil(h, lambda: consumer.dataReady("inbox") == 1)
    peer.shutdown(socket.SHUT_WR)
    h.step(5)
    assert consumer.recv("inbox") == b"data"
    stepUntil(h, lambda: consumer.dataReady("inbox") == 1)
    assert consumer.recv("inbox") == b""
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    peer.close()
