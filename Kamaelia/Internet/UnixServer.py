"""
Kamaelia.Internet.UnixServer: accept connections on a unix stream socket
========================================================================

``UnixStreamServer`` is a ``TCPServer`` that listens on a unix socket (a
path in the file system) instead of a TCP port; everything after binding --
accepting, one ``ConnectedSocketAdapter`` per connection, ``newCSA`` and
``shutdownCSA`` announcements -- is ``TCPServer``'s. ``bindUnixSocket``
opens such a socket by itself, e.g. in a parent process that forks workers.

Example Usage
-------------
::

    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Internet.UnixServer import UnixStreamServer
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    class UnixEchoServer(ServerCore):
        TCPS = UnixStreamServer          # ``port`` is then the socket's path

    UnixEchoServer(protocol=EchoProtocol, port="/tmp/echo.sock").run()

    UnixStreamServer("/tmp/echo.sock", mode=0o660)   # by itself: a TCPServer

or, with the socket opened beforehand::

    sock = bindUnixSocket("/tmp/echo.sock", 0o660)
    ServerCore(protocol=EchoProtocol, listener=sock).run()

How does it work?
-----------------
``UnixStreamServer(path, mode)`` (``path`` may also be given as
``listenport``, which is how ``ServerCore`` passes its ``port``; ``mode`` is
the class attribute by default) binds through ``makeListener()``, which
calls ``bindUnixSocket(path, mode, backlog)``:

- a stale socket file left by a previous run (nothing accepts on it) is
  replaced;
- a socket file that a running server answers on is left alone and the
  bind fails with EADDRINUSE ("another server is listening");
- anything at ``path`` that is not a socket is never touched (EEXIST);
- the new socket file gets ``mode`` (default 0666, so that a client running
  as another user, such as Postfix's smtpd, can connect).

``listenport`` is the path. A server that made the socket file removes it
when it stops, if the file at ``path`` is still the one it made (same
inode): a later server that replaced it keeps its own. A server given an
already listening socket (``listener=sock``) does not own the file and
leaves it; whoever opened the socket removes it, e.g. with
``removeSocketFile(path, inode)``.

Inboxes, Outboxes
-----------------
As ``TCPServer``.

Termination
-----------
As ``TCPServer``; ``stop()`` also removes the socket file (see above). If
the socket cannot be bound, ``bindError`` holds the reason and the server
ends at once, as ``TCPServer`` does.
"""

import errno
import logging
import os
import socket
import stat

from Kamaelia.Internet.TCPServer import DEFAULT_BACKLOG, TCPServer

_log = logging.getLogger(__name__)


def bindUnixSocket(path, mode=0o666, backlog=DEFAULT_BACKLOG):
    """A listening, non-blocking unix stream socket at ``path`` (see the module docs)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISSOCK(info.st_mode):
            raise FileExistsError(errno.EEXIST, "%s exists and is not a socket" % path)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            os.unlink(path)
        else:
            raise OSError(errno.EADDRINUSE, "another server is listening on %s" % path)
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, mode)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def socketFileInode(path):
    """The inode of the file at ``path`` (to recognise it later), or None if there is none."""
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def removeSocketFile(path, inode):
    """Remove ``path`` if it is still the file with ``inode``; True if it was removed."""
    if inode is None:
        return False
    try:
        if os.stat(path).st_ino != inode:
            return False
        os.unlink(path)
    except FileNotFoundError:
        _log.debug("unix socket %s already removed", path)
        return False
    return True


class UnixStreamServer(TCPServer):
    """A ``TCPServer`` on a unix socket at ``path``. See the module documentation."""

    mode = 0o666

    def __init__(self, path=None, mode=None, listener=None, listenport=None, **argd):
        path = path or listenport
        if listener is not None and not path:
            path = listener.getsockname()
        self.path = path
        if mode is not None:
            self.mode = mode
        self._inode = None
        super().__init__(listenport=path, listener=listener, **argd)

    def makeListener(self):
        """Bind ``path`` with ``bindUnixSocket``; the socket file is then this server's."""
        try:
            sock = bindUnixSocket(self.path, self.mode, self.backlog)
        except OSError as e:
            return None, None, e
        self._inode = socketFileInode(self.path)
        return sock, self.path, None

    def listenAddress(self):
        return "the unix socket %s" % self.path

    def stop(self):
        """As ``TCPServer.stop``, and remove the socket file if this server made it."""
        wasListening = self.listener is not None and self.listener.fileno() >= 0
        super().stop()
        if wasListening:
            removeSocketFile(self.path, self._inode)
            self._inode = None


__kamaelia_components__ = (UnixStreamServer,)
