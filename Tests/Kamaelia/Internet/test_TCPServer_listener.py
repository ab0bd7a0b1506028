"""Where TCPServer's listening socket comes from: makeListener(), listener=, reusePort=."""

import select
import socket

import pytest

from Axon.Ipc import shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Internet.TCPServer import TCPServer, makeTCPServerPort
from Kamaelia.Protocol.EchoProtocol import EchoProtocol


def echoOnce(port, data=b"ping"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        return got


def test_a_given_listener_is_served_as_it_is_and_never_bound_again(system):
    """listener= through ServerCore: the same socket object accepts, its port becomes ``port``."""
    sock, port = makeTCPServerPort(0, "127.0.0.1")
    sock.setblocking(True)
    server = ServerCore(protocol=EchoProtocol, listener=sock, port=1)
    assert server.server.listener is sock
    assert server.port == port and server.server.listenport == port
    assert sock.getblocking() is False
    system.activate(server)
    assert echoOnce(port) == b"ping"
    system.call(server.stop)


def test_a_listener_already_bound_elsewhere_is_not_rebound_to_the_requested_port():
    """The requested port is ignored when a listener is given: nothing is bound there."""
    sock, port = makeTCPServerPort(0, "127.0.0.1")
    blocker = socket.create_server(("127.0.0.1", 0))
    taken = blocker.getsockname()[1]
    try:
        server = TCPServer(listenport=taken, host="127.0.0.1", listener=sock)
        assert server.bindError is None and server.listenport == port
        server.stop()
        assert sock.fileno() == -1, "stop() closes the listener it was given"
    finally:
        blocker.close()


def test_reusePort_lets_two_servers_bind_one_port_and_sets_the_option(system):
    first = ServerCore(protocol=EchoProtocol, port=0, host="127.0.0.1", reusePort=True)
    second = ServerCore(protocol=EchoProtocol, port=first.port, host="127.0.0.1", reusePort=True)
    plain = TCPServer(listenport=first.port, host="127.0.0.1")
    try:
        assert second.server.listener is not None, second.server.bindError
        assert second.port == first.port
        for server in (first, second):
            assert server.server.listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert plain.listener is None and isinstance(plain.bindError, OSError), \
            "without SO_REUSEPORT the port is in use"
        system.activate(first, second)
        assert echoOnce(first.port) == b"ping"
    finally:
        system.call(first.stop)
        system.call(second.stop)


def test_reusePort_keeps_the_other_socket_options():
    server = TCPServer(listenport=0, host="127.0.0.1", reusePort=True,
                       socketOptions=(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1))
    try:
        assert server.listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        assert server.listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        server.stop()


def test_without_reusePort_the_option_is_not_set():
    server = TCPServer(listenport=0, host="127.0.0.1")
    try:
        assert server.listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        server.stop()


class PreparedServer(TCPServer):
    """makeListener() replaced: serves a socket made beforehand, or fails as told."""

    prepared = None
    failure = None

    def makeListener(self):
        if self.failure is not None:
            return None, None, self.failure
        return self.prepared, self.prepared.getsockname()[1], None


def test_a_subclass_makeListener_decides_what_is_served(system):
    sock, port = makeTCPServerPort(0, "127.0.0.1")

    class Core(ServerCore):
        TCPS = type("Prepared", (PreparedServer,), {"prepared": sock})

    server = Core(protocol=EchoProtocol, port=0)
    assert server.server.listener is sock and server.port == port
    system.activate(server)
    assert echoOnce(port, b"made elsewhere") == b"made elsewhere"
    system.call(server.stop)


def test_a_failing_makeListener_is_a_bind_error_with_the_1x_signal():
    error = OSError(99, "cannot assign requested address")
    server = type("Failing", (PreparedServer,), {"failure": error})(listenport=25)
    assert server.listener is None and server.bindError is error and server.listenport == 25
    h = ComponentHarness(server)
    h.runUntilIdle()
    assert h.finished and h.get("signal") is shutdownMicroprocess


def test_ServerCore_raises_the_bind_error_of_a_failing_makeListener(freshAxon):
    class Core(ServerCore):
        TCPS = type("Failing", (PreparedServer,), {"failure": OSError(98, "in use")})

    server = Core(protocol=EchoProtocol, port=25)
    with pytest.raises(OSError, match="in use"):
        next(server.main())


def test_openListener_gives_a_listening_socket_or_says_why_not():
    from Kamaelia.Internet.TCPServer import openListener

    sock = openListener(0, "127.0.0.1", reusePort=True)
    try:
        assert sock.getblocking() is False
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            assert select.select([sock], [], [], 5)[0], "the connection was not accepted"
            accepted, _ = sock.accept()
            assert accepted.getpeername() == client.getsockname()
            accepted.close()
        with pytest.raises(OSError, match="cannot listen on '127.0.0.1' port %d" % port):
            openListener(port, "127.0.0.1")
    finally:
        sock.close()


def test_reusePort_where_the_system_has_no_SO_REUSEPORT_is_a_clear_bind_error(monkeypatch):
    import errno

    import Kamaelia.Internet.TCPServer as module

    monkeypatch.setattr(module, "REUSE_PORT", None)
    server = TCPServer(listenport=0, host="127.0.0.1", reusePort=True)
    assert server.listener is None and server.bindError.errno == errno.ENOPROTOOPT
    assert "SO_REUSEPORT" in str(server.bindError)
    with pytest.raises(OSError, match="SO_REUSEPORT is not available"):
        module.openListener(0, "127.0.0.1", reusePort=True)
