"""UnixStreamServer: a TCPServer on a unix socket; the socket file's mode and who removes it."""

import os
import socket
import stat

import pytest

from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Internet.UnixServer import (
    UnixStreamServer,
    bindUnixSocket,
    removeSocketFile,
    socketFileInode,
)
from Kamaelia.Protocol.EchoProtocol import EchoProtocol


class UnixEchoServer(ServerCore):
    TCPS = UnixStreamServer


def echoOnce(path, data=b"over unix"):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        return got


def test_a_ServerCore_over_a_unix_socket_echoes_and_removes_its_file_at_stop(system, tmp_path,
                                                                             helpers):
    path = str(tmp_path / "echo.sock")
    server = UnixEchoServer(protocol=EchoProtocol, port=path)
    assert server.port == path and server.server.listenport == path
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o666
    system.activate(server)
    assert echoOnce(path) == b"over unix"
    system.call(server.stop)              # the TCPServer stops on its next step
    helpers.waitFor(lambda: not os.path.exists(path), message="the socket file removed")


def test_the_mode_is_applied_to_the_socket_file(tmp_path):
    path = str(tmp_path / "private.sock")
    server = UnixStreamServer(path, mode=0o600)
    try:
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    finally:
        server.stop()


def test_a_file_replaced_by_a_later_server_is_left_to_that_server(tmp_path):
    """stop() removes the socket file only if it is still the one this server made."""
    path = str(tmp_path / "shared.sock")
    old = UnixStreamServer(path)
    os.unlink(path)                               # e.g. an operator cleaning up by hand
    newer = UnixStreamServer(path)
    assert newer.listener is not None
    old.stop()
    assert os.path.exists(path), "the newer server's socket was removed by the old one"
    newer.stop()
    assert not os.path.exists(path)


def test_a_given_listener_is_served_but_its_file_is_not_removed_at_stop(tmp_path):
    path = str(tmp_path / "inherited.sock")
    sock = bindUnixSocket(path, 0o660)
    server = UnixStreamServer(listener=sock)
    assert server.listener is sock and server.path == path and server.listenport == path
    server.stop()
    assert os.path.exists(path), "the file belongs to whoever opened the socket"
    assert removeSocketFile(path, socketFileInode(path))
    assert not os.path.exists(path)


def test_a_path_that_cannot_be_bound_is_a_bind_error_naming_the_socket(tmp_path, caplog):
    path = str(tmp_path / "no-such-dir" / "x.sock")
    server = UnixStreamServer(path)
    assert server.listener is None and isinstance(server.bindError, OSError)
    assert server.listenport == path
    assert "the unix socket %s" % path in caplog.text
    server.stop()


def test_a_live_socket_is_never_taken_over(tmp_path):
    path = str(tmp_path / "live.sock")
    live = UnixStreamServer(path)
    try:
        second = UnixStreamServer(path)
        assert second.listener is None and "another server" in str(second.bindError)
        second.stop()
        assert os.path.exists(path), "a server that failed to bind removed the live socket"
    finally:
        live.stop()


def test_removeSocketFile_leaves_a_different_file_and_a_missing_one(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    inode = socketFileInode(str(path))
    path.unlink()
    assert socketFileInode(str(path)) is None
    assert removeSocketFile(str(path), inode) is False
    path.write_text("another file")
    other = tmp_path / "g"
    other.write_text("y")
    assert removeSocketFile(str(path), socketFileInode(str(other))) is False
    assert path.exists()
    assert removeSocketFile(str(path), None) is False


def test_a_non_socket_at_the_path_is_untouched(tmp_path):
    path = tmp_path / "config"
    path.write_text("keep")
    with pytest.raises(FileExistsError):
        bindUnixSocket(str(path))
    assert path.read_text() == "keep"
