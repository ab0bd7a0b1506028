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
