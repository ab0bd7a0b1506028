"""The ConnectedSocketAdapter's inline work: a round trip without steps of the adapter.

In its plain state (connected, no TLS change, nothing on "control", nothing
queued) the adapter reads from the I/O wait's callback and writes what
arrives on "inbox" inside the producer's ``send``. These tests check what
that must keep: order, the wakes producers rely on, back-pressure, errors
reported as the adapter's own, and subclasses that replace a method.
"""

import socket

from Axon.Component import component
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.Protocol.EchoProtocol import EchoProtocol


class CountingCSA(ConnectedSocketAdapter):
    """Counts the steps of the adapter (each step ends in one yield)."""

    steps = 0

    def main(self):
        for value in super().main():
            self.steps += 1
            yield value


class CountingEcho(EchoProtocol):
    steps = 0

    def main(self):
        for value in super().main():
            self.steps += 1
            yield value


def idle(sched, cycles=1000):
    for _ in range(cycles):
        if sched.isIdle():
            return
        sched.runCycle()
    raise AssertionError("still runnable after %d cycles" % cycles)


def recvNow(sock, n):
    """What ``sock`` holds now, up to ``n`` bytes (b"" if nothing)."""
    sock.setblocking(False)
    try:
        return sock.recv(n)
    except BlockingIOError:
        return b""


def echoPair():
    mine, peer = socket.socketpair()
    sched = scheduler()
    csa, echo = CountingCSA(mine), CountingEcho()
    csa.link((csa, "outbox"), (echo, "inbox"))
    csa.link((echo, "outbox"), (csa, "inbox"))
    echo.activate(sched)
    csa.activate(sched)
    idle(sched)
    return sched, csa, echo, peer


def test_an_echo_round_trip_takes_one_step_of_the_handler_and_none_of_the_adapter():
    sched, csa, echo, peer = echoPair()
    csaSteps, echoSteps = csa.steps, echo.steps
    for i in range(50):
        request = b"request %d" % i
        peer.sendall(request)
        got = b""
        for _ in range(100):
            sched.runCycle()
            got += recvNow(peer, 100)
            if len(got) >= len(request):
                break
        assert got == request
    assert csa.steps == csaSteps
    assert echo.steps == echoSteps + 50
    csa.stop()
    idle(sched)
    peer.close()


def test_what_arrives_on_an_idle_adapters_inbox_is_on_the_wire_when_send_returns():
    mine, peer = socket.socketpair()
    h = ComponentHarness(ConnectedSocketAdapter(mine))
    h.runUntilIdle()
    h.put(b"hello")
    assert recvNow(peer, 100) == b"hello"
    h.put("caf\u00e9")
    assert recvNow(peer, 100) == "caf\u00e9".encode("utf-8")
    h.component.stop()
    peer.close()


class Producer(component):
    """Sends what arrives on "inbox" to "outbox"; counts its steps."""

    steps = 0

    def main(self):
        while True:
            self.steps += 1
            while self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
            self.pause()
            yield 1


def test_the_sending_producer_is_not_woken_by_its_own_item_but_other_producers_are():
    """A recv wakes every producer feeding the box; the inline write does too, except
    the producer whose send it runs in (it has already seen the item go)."""
    mine, peer = socket.socketpair()
    sched = scheduler()
    csa, a, b = ConnectedSocketAdapter(mine), Producer(), Producer()
    csa.link((a, "outbox"), (csa, "inbox"))
    csa.link((b, "outbox"), (csa, "inbox"))
    for c in (csa, a, b):
        c.activate(sched)
    idle(sched)
    before = a.steps, b.steps
    for i in range(5):
        a._deliver(b"from a %d;" % i, "inbox")
        idle(sched)
    assert recvNow(peer, 1000) == b"".join(b"from a %d;" % i for i in range(5))
    assert a.steps == before[0] + 5
    assert b.steps == before[1] + 5
    csa.stop()
    idle(sched)
    peer.close()


def test_a_write_the_socket_takes_only_part_of_keeps_everything_in_order():
    mine, peer = socket.socketpair()
    mine.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    h = ComponentHarness(ConnectedSocketAdapter(mine))
    h.runUntilIdle()
    chunks = [bytes([i]) * 100000 for i in range(1, 6)]
    for chunk in chunks:
        h.put(chunk)
    expected = b"".join(chunks)
    got = bytearray()
    for _ in range(100000):
        got += recvNow(peer, 65536)
        if len(got) >= len(expected):
            break
        h.step()
    assert bytes(got) == expected
    h.component.stop()
    peer.close()


def test_a_full_consumer_holds_the_chunk_and_gets_it_when_it_makes_room():
    mine, peer = socket.socketpair()
    sched = scheduler()
    csa = ConnectedSocketAdapter(mine)
    consumer = component()
    consumer.setInboxSize("inbox", 1)
    csa.link((csa, "outbox"), (consumer, "inbox"))
    csa.activate(sched)
    idle(sched)
    got = []
    for i in range(4):
        peer.sendall(b"chunk %d;" % i)
        for _ in range(20):
            sched.runCycle()
        while consumer.dataReady("inbox") and i == 3:
            got.append(consumer.recv("inbox"))
            for _ in range(20):
                sched.runCycle()
    while consumer.dataReady("inbox"):
        got.append(consumer.recv("inbox"))
        for _ in range(20):
            sched.runCycle()
    assert b"".join(got) == b"".join(b"chunk %d;" % i for i in range(4))
    csa.stop()
    idle(sched)
    peer.close()


def test_bad_data_given_to_an_idle_adapter_crashes_the_adapter_not_the_producer():
    mine, peer = socket.socketpair()
    sched = scheduler()
    csa, producer = ConnectedSocketAdapter(mine, crashOnBadDataToSend=True), Producer()
    crashes = []
    csa.crashHandler = lambda mp, exc: crashes.append((mp, exc))
    csa.link((producer, "outbox"), (csa, "inbox"))
    csa.activate(sched)
    producer.activate(sched)
    idle(sched)
    producer._deliver(42, "inbox")
    idle(sched)
    assert [(mp, type(exc)) for mp, exc in crashes] == [(csa, TypeError)]
    assert producer in sched.threads
    assert mine.fileno() == -1
    producer.stop()
    idle(sched)
    peer.close()


def test_a_subclass_replacing_handleReceive_gets_its_version_called():
    class Marking(ConnectedSocketAdapter):
        def handleReceive(self):
            self.calls = getattr(self, "calls", 0) + 1
            return super().handleReceive()

    mine, peer = socket.socketpair()
    h = ComponentHarness(Marking(mine))
    h.runUntilIdle()
    peer.sendall(b"ping")
    for _ in range(20):
        if h.ready("outbox"):
            break
        h.step()
    assert h.get("outbox") == b"ping"
    assert h.component.calls >= 1
    h.component.stop()
    peer.close()


def test_the_peers_eof_after_a_request_still_gets_the_answer_then_closes():
    sched, csa, echo, peer = echoPair()
    peer.sendall(b"last words")
    peer.shutdown(socket.SHUT_WR)
    for _ in range(100):
        sched.runCycle()
        if csa not in sched.threads:
            break
    assert csa not in sched.threads
    peer.setblocking(True)
    peer.settimeout(5)
    assert peer.recv(100) == b"last words"
    assert peer.recv(100) == b""
    peer.close()
