"""UDP peers, the Selector service and SingleServer, on loopback."""

import socket
import time

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdown, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Internet.Selector import Selector
from Kamaelia.Internet.SingleServer import SingleServer
from Kamaelia.Internet.UDP import PostboxPeer, SimplePeer, TargettedPeer
from Kamaelia.IPC import newReader, newWriter, removeReader


def runUntil(harness, predicate, timeout=5.0):
    """Step a harness (real sockets, so real time) until ``predicate()`` or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in %s s" % timeout)
        harness.step()
        time.sleep(0.001)


def test_simple_peer_sends_inbox_items_and_emits_received_datagrams():
    """SimplePeer: inbox -> datagrams to the receiver; datagrams in -> (data, address) out."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    peer = SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1",
                      receiver_port=receiver.getsockname()[1])
    h = ComponentHarness(peer)
    h.put(b"one")
    h.put("two")
    h.runUntilIdle()
    assert receiver.recvfrom(100)[0] == b"one"
    data, address = receiver.recvfrom(100)
    assert data == b"two" and address[1] == peer.localport
    big = bytes(range(256)) * 200
    receiver.sendto(big, ("127.0.0.1", peer.localport))
    runUntil(h, lambda: h.ready("outbox"))
    got, sender = h.get("outbox")
    assert got == big
    assert sender == receiver.getsockname()
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and isinstance(h.get("signal"), shutdownMicroprocess)
    receiver.close()


def test_targetted_peer_changes_destination():
    """TargettedPeer: an (addr, port) on "target" redirects later datagrams."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
    peer = TargettedPeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1",
                         receiver_port=a.getsockname()[1])
    h = ComponentHarness(peer)
    h.put(b"to a")
    h.runUntilIdle()
    h.put(("127.0.0.1", b.getsockname()[1]), "target")
    h.put(b"to b")
    h.runUntilIdle()
    assert a.recvfrom(10)[0] == b"to a"
    assert b.recvfrom(10)[0] == b"to b"
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and peer.sock.fileno() == -1
    a.close()
    b.close()


def test_postbox_peer_sends_to_the_address_in_each_item():
    """PostboxPeer: (host, port, data) items each go where they say."""
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    r.settimeout(5)
    peer = PostboxPeer(localaddr="127.0.0.1")
    h = ComponentHarness(peer)
    h.put(("127.0.0.1", r.getsockname()[1], b"addressed"))
    h.runUntilIdle()
    assert r.recvfrom(20)[0] == b"addressed"
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and peer.sock.fileno() == -1
    r.close()


class SelectorClient(component):
    """Asks the Selector to watch a socket; records notifications on "ready"."""

    Inboxes = dict(component.Inboxes, ready="sockets reported ready")
    Outboxes = dict(component.Outboxes, selector="requests")

    def __init__(self, sock, **argd):
        super().__init__(**argd)
        self.sock = sock
        self.notifications = []

    def main(self):
        service, _shutdownService, newSelector = Selector.getSelectorServices(self.tracker)
        if newSelector is not None:
            newSelector.activate()
        self.link((self, "selector"), service)
        self.send(newReader(self, ((self, "ready"), self.sock)), "selector")
        while not self.dataReady("control"):
            while self.dataReady("ready"):
                self.notifications.append(self.recv("ready"))
            self.pause()
            yield 1


def test_selector_notifies_once_per_request_and_cleans_up():
    """newReader: one notification when readable, then nothing until asked again."""
    a, b = socket.socketpair()
    client = SelectorClient(a)
    h = ComponentHarness(client)
    h.runUntilIdle()
    assert client.notifications == []
    b.send(b"x")
    runUntil(h, lambda: client.notifications)
    assert client.notifications == [a]
    for _ in range(20):
        h.step()
    assert client.notifications == [a], "one-shot: no repeat while the data is unread"
    selector = h.scheduler.threads and [t for t in h.scheduler.threads if isinstance(t, Selector)][0]
    assert not any(name.startswith("readerNotify") for name in selector.outboxes)
    selector.inboxes["notify"].append(newReader(client, ((client, "ready"), a)))
    runUntil(h, lambda: len(client.notifications) == 2)
    selector.inboxes["notify"].append(newWriter(client, ((client, "ready"), a)))
    runUntil(h, lambda: len(client.notifications) == 3)
    selector.inboxes["notify"].append(newReader(client, ((client, "ready"), a)))
    selector.inboxes["notify"].append(removeReader(client, a))
    for _ in range(20):
        h.step()
    assert len(client.notifications) == 3
    a.close()
    b.close()


def test_selector_ends_when_idle_and_deregisters_its_services():
    """With nothing to watch the Selector ends after its idle timeout; the services go too."""
    selector = Selector()
    h = ComponentHarness(selector)
    Selector.setSelectorServices(selector, selector.tracker)
    h.runUntilIdle()
    assert not h.finished
    h.advance(selector.idleTimeout + 0.1)
    assert h.finished
    assert "selector" not in selector.tracker.servicesRegistered()


def test_selector_shutdown_message_deregisters_at_once():
    """Axon.Ipc.shutdown on control: the services are withdrawn immediately."""
    selector = Selector()
    h = ComponentHarness(selector)
    Selector.setSelectorServices(selector, selector.tracker)
    h.put(shutdown(), "control")
    h.runUntilIdle()
    assert "selector" not in selector.tracker.servicesRegistered()
    h.advance(10)
    assert h.finished


def test_single_server_serves_one_client_at_a_time(system, helpers):
    """First client wired to the boxes; a second is closed; a disconnect signals producerFinished."""
    class Wrapper(component):
        def __init__(self, **argd):
            super().__init__(**argd)
            import queue
            self.received = queue.Queue()
            self.signals = queue.Queue()
            self.server = SingleServer(port=0, host="127.0.0.1")

        def main(self):
            self.link((self.server, "outbox"), (self, "inbox"))
            self.link((self.server, "signal"), (self, "control"))
            self.link((self, "outbox"), (self.server, "inbox"))
            self.addChildren(self.server)
            self.server.activate()
            while True:
                while self.dataReady("inbox"):
                    data = self.recv("inbox")
                    self.received.put(data)
                    self.send(b"ack:" + data, "outbox")
                while self.dataReady("control"):
                    self.signals.put(self.recv("control"))
                self.pause()
                yield 1

    w = Wrapper()
    system.activate(w)
    first = socket.create_connection(("127.0.0.1", w.server.port), timeout=5)
    first.sendall(b"hi")
    assert w.received.get(timeout=5) == b"hi"
    assert helpers.recvExactly(first, 6) == b"ack:hi"
    second = socket.create_connection(("127.0.0.1", w.server.port), timeout=5)
    assert helpers.recvUntilClosed(second) == b""
    second.close()
    first.close()
    assert isinstance(w.signals.get(timeout=5), producerFinished)
    third = socket.create_connection(("127.0.0.1", w.server.port), timeout=5)
    third.sendall(b"again")
    assert w.received.get(timeout=5) == b"again"
    third.close()


def test_basic_peer_on_its_own_replies_to_addresses_given_with_the_data():
    """BasicPeer(localaddr, localport): (data, (host, port)) in, same shape out."""
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    other.settimeout(5)
    from Kamaelia.Internet.UDP import BasicPeer
    peer = BasicPeer(localaddr="127.0.0.1")
    h = ComponentHarness(peer)
    h.put((b"ping", other.getsockname()))
    h.runUntilIdle()
    data, address = other.recvfrom(10)
    assert data == b"ping" and address[1] == peer.localport
    other.sendto(b"pong", address)
    runUntil(h, lambda: h.ready("outbox"))
    assert h.get("outbox") == (b"pong", other.getsockname())
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and peer.sock.fileno() == -1
    other.close()


def test_legacy_single_server_and_simple_server_modules_reexport_with_a_warning():
    import importlib
    import warnings

    from Kamaelia.Chassis.ConnectedServer import SimpleServer
    from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
    for name, attribute, expected in (("Kamaelia.SingleServer", "SingleServer", SingleServer),
                                      ("Kamaelia.SimpleServerComponent", "SimpleServer", SimpleServer)):
        module = importlib.import_module(name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.reload(module)
        assert getattr(module, attribute) is expected
        assert any(issubclass(w.category, KamaeliaDeprecationWarning) for w in caught)
