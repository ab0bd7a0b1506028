"""UDP.BasicPeer.receive_packet, the helper 1.x subclasses call from their own loops."""

import socket
import threading

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
