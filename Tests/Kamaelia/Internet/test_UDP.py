"""UDP.BasicPeer.receive_packet, the helper 1.x subclasses call from their own loops."""

import socket
import threading
import time

from Axon.Component import component
from Kamaelia.Internet.UDP import BasicPeer


def callWithDeadline(function, *args, timeout=5):
    """Run ``function(*args)`` in a thread; fail if it has not returned within ``timeout``."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(function(*args)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "%s did not return (it blocked or looped)" % function.__name__
    return outcome


def peerWithSink():
    peer = BasicPeer(localaddr="127.0.0.1")
    sink = component()
    peer.link((peer, "outbox"), (sink, "inbox"))
    return peer, sink


def test_receive_packet_never_blocks_even_on_a_blocking_socket():
    """1.x's receive_packet is a non-blocking read: it returns once nothing is waiting."""
    peer, sink = peerWithSink()
    theirs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    theirs.bind(("127.0.0.1", 0))
    theirs.setblocking(True)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender.sendto(b"one", theirs.getsockname())
    assert theirs.recvfrom(10, socket.MSG_PEEK)[0] == b"one"
    callWithDeadline(peer.receive_packet, theirs)
    assert sink.recv("inbox") == (b"one", sender.getsockname())
    for s in (theirs, sender, peer.sock):
        s.close()


def test_receive_packet_on_a_broken_socket_returns_instead_of_looping():
    """A socket error is logged and swallowed (as in 1.x), and the call returns."""
    peer, sink = peerWithSink()
    broken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    broken.close()
    callWithDeadline(peer.receive_packet, broken)
    assert not sink.dataReady("inbox")
    peer.sock.close()


def test_producerFinished_does_not_stop_a_peer_so_a_reply_still_arrives():
    """1.x peers ignored "control": Pipeline(DataSource([request]), SimplePeer(...), ...)
    gets the answer after the source's producerFinished reached the peer."""
    from Axon.Ipc import producerFinished
    from Axon.Testing import ComponentHarness
    from Kamaelia.Internet.UDP import SimplePeer

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    peer = SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1",
                      receiver_port=server.getsockname()[1])
    h = ComponentHarness(peer)
    h.put(b"ping")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    assert not h.ready("signal"), "nothing is forwarded: 1.x peers ignored control"
    request, client = server.recvfrom(10)
    assert request == b"ping"
    server.sendto(b"PONG", client)
    deadline = time.monotonic() + 5
    while not h.ready("outbox"):
        assert time.monotonic() < deadline, "the reply never came out"
        h.step()
    assert h.get("outbox") == (b"PONG", server.getsockname())
    server.close()
    peer.sock.close()


def test_shutdownMicroprocess_stops_a_peer_and_is_forwarded():
    """The port's way to end a peer: shutdownMicroprocess (after sending what is waiting)."""
    from Axon.Ipc import shutdownMicroprocess
    from Axon.Testing import ComponentHarness
    from Kamaelia.Internet.UDP import PostboxPeer

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    r.settimeout(5)
    peer = PostboxPeer(localaddr="127.0.0.1")
    h = ComponentHarness(peer)
    h.put(("127.0.0.1", r.getsockname()[1], b"last words"))
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished and isinstance(h.get("signal"), shutdownMicroprocess)
    assert r.recvfrom(20)[0] == b"last words"
    assert peer.sock.fileno() == -1
    r.close()


def test_a_peer_stopped_from_outside_closes_its_socket_cleanly():
    """stop() (e.g. by scheduler.stop()): the generator's clean-up must not fail on the
    null scheduler a stopped component has; the socket is closed and unwatched."""
    from Axon.Testing import ComponentHarness
    from Kamaelia.Internet.UDP import SimplePeer

    peer = SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1", receiver_port=9)
    h = ComponentHarness(peer)
    h.runUntilIdle()
    sock = peer.sock
    peer.stop()
    h.runUntilIdle()
    assert h.finished
    assert sock.fileno() == -1
    assert sock not in h.scheduler._io
