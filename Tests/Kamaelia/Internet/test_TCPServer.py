"""TCPServer details that need no client protocol: out-of-descriptor pauses and stopping."""

import errno
import socket
import time

from Axon.Testing import ComponentHarness
from Kamaelia.Internet.TCPServer import TCPServer


class ExhaustedListener(object):
    """A listening socket whose accept() fails as when the process has no descriptors left."""

    def __init__(self, real):
        self.real = real
        self.accepts = 0

    def fileno(self):
        return self.real.fileno()

    def accept(self):
        self.accepts += 1
        raise OSError(errno.EMFILE, "Too many open files")

    def close(self):
        self.real.close()


def test_a_server_stopped_while_waiting_to_accept_again_stays_stopped():
    """EMFILE pauses accepting on a timer; stopping the server meanwhile cancels it, so it
    never re-registers the listener (through the null scheduler a stopped component has)."""
    server = TCPServer(listenport=0, host="127.0.0.1")
    server.listener = ExhaustedListener(server.listener)
    h = ComponentHarness(server)
    client = socket.create_connection(("127.0.0.1", server.listenport), timeout=5)
    h.runUntilIdle()
    deadline = time.monotonic() + 5
    while not server.listener.accepts:
        assert time.monotonic() < deadline, "the connection was never seen"
        h.step()
    server.stop()
    h.advance(server.acceptRetryDelay * 2)
    assert h.finished
    assert not h.scheduler._io
    client.close()


def test_a_port_in_use_sends_the_shutdownMicroprocess_class_on_signal_and_ends():
    """1.x quirk kept: the class itself (not an instance) goes out of "signal"."""
    from Axon.Ipc import shutdownMicroprocess

    blocker = socket.create_server(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    server = TCPServer(listenport=port, host="127.0.0.1")
    assert server.listener is None and isinstance(server.bindError, OSError)
    h = ComponentHarness(server)
    h.runUntilIdle()
    assert h.finished
    assert h.get("signal") is shutdownMicroprocess
    blocker.close()


def test_makeTCPServerPort_returns_None_None_when_it_cannot_bind():
    from Kamaelia.Internet.TCPServer import makeTCPServerPort

    blocker = socket.create_server(("127.0.0.1", 0))
    assert makeTCPServerPort(blocker.getsockname()[1], "127.0.0.1") == (None, None)
    sock, port = makeTCPServerPort(0, "127.0.0.1")
    assert sock.getsockname()[1] == port and port
    sock.close()
    blocker.close()
