"""
Kamaelia.Internet.TCPServer: accept TCP connections
===================================================

``TCPServer`` listens on a port; for every connection it accepts it creates
a ``ConnectedSocketAdapter`` (CSA) and announces it with a ``newCSA``
message on "protocolHandlerSignal". It does not wire up or activate the CSA:
``ServerCore`` (the usual way to build a server) and ``SingleServer`` do.

Example Usage
-------------
::

    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    ServerCore(protocol=EchoProtocol, port=1601).run()   # uses a TCPServer

How does it work?
-----------------
The listening socket is created and bound when the ``TCPServer`` is
constructed, so ``listenport`` holds the real port even when 0 (any free
port) was asked for. ``host`` chooses the address to bind: "" (all IPv4
addresses, the default, as in Kamaelia 1.x), "::" for all IPv6 and IPv4
addresses, or any literal address. The listening socket is watched through
the scheduler's I/O wait; when it is readable the server accepts every
pending connection (up to ``acceptsPerStep`` at a time), makes each socket
non-blocking, builds ``self.CSA(sock, selectorService)`` -- the class
attribute ``CSA`` may be replaced, even by a plain function, which is then
called with the server as its first argument (``TimeOutCSA`` relies on that)
-- records it as a child, links its "CreatorFeedback" to
"_feedbackFromCSA" and sends ``newCSA(self, csa, sock)``.

When a CSA reports ``socketShutdown`` on "_feedbackFromCSA", the server
closes its socket, sends ``shutdownCSA(self, csa)`` on
"protocolHandlerSignal" and forgets it.

Where the listening socket comes from is ``makeListener()``'s job, which
returns ``(socket, port, error)``; subclasses replace it to listen elsewhere
(``Kamaelia.Internet.UnixServer`` listens on a unix socket that way). Two
options choose it without subclassing:

* ``listener=sock``: an already bound and listening socket is used as it is
  (never bound again), e.g. one opened by a parent process before it forked
  workers (``Kamaelia.Apps.Grey.Workers``); it is made non-blocking and
  ``listenport`` is its port (its path for a unix socket);
* ``reusePort=True``: SO_REUSEPORT is set before binding (Linux), so that
  several processes may each bind the same port and the kernel spreads the
  connections between them.

::

    parentSocket = openListener(2525, "127.0.0.1")
    ServerCore(protocol=EchoProtocol, listener=parentSocket)   # in each worker
    ServerCore(protocol=EchoProtocol, port=2525, reusePort=True)

If the process runs out of file descriptors, accepting pauses for a moment
instead of spinning.

A CSA that crashes takes only its own connection down: the server is its
crash handler (``Axon.Microprocess``) and logs the error with the peer's
address; the CSA's ``stop()`` has closed the socket and reported it, so the
connection is then cleaned up as any closed connection is.

Inboxes
-------
- _feedbackFromCSA -- ``socketShutdown`` notices from the CSAs
- newconnection -- readiness notices from a Selector (hints; unused)
- control -- ``serverShutdown`` (or any ``shutdownMicroprocess``) stops it

Outboxes
--------
- protocolHandlerSignal -- ``newCSA`` and ``shutdownCSA`` announcements
- signal -- the ``shutdownMicroprocess`` class if the port could not be bound
- _selectorSignal, _selectorShutdownSignal -- unused (wiring compatibility)

Termination
-----------
On ``serverShutdown``/``shutdownMicroprocess`` on "control" it stops
accepting; ``stop()`` closes the listening socket. If binding failed it sends
the ``shutdownMicroprocess`` class on "signal" and ends at once (as Kamaelia
1.x did); ``bindError`` then holds the reason.
"""

import errno
import logging
import random
import socket

from Axon.Component import component
from Axon.Ipc import shutdownMicroprocess
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.IPC import newCSA, shutdownCSA, socketShutdown

_log = logging.getLogger(__name__)

DEFAULT_BACKLOG = 1024


def _family(host):
    return socket.AF_INET6 if host and ":" in host else socket.AF_INET


REUSE_PORT = (socket.SOL_SOCKET, socket.SO_REUSEPORT, 1) if hasattr(socket, "SO_REUSEPORT") \
    else None


def makeTCPServerPort(port=None, HOST=None, minrange=2000, maxrange=50000,
                      maxlisten=DEFAULT_BACKLOG, socketOptions=None):
    """A bound, listening, non-blocking socket and its port, or ``(None, None)``.

    ``port=None`` tries random ports between ``minrange`` and ``maxrange``;
    ``port=0`` lets the OS choose. ``socketOptions`` is one
    ``(level, option, value)`` tuple or a list of them (``REUSE_PORT`` sets
    SO_REUSEPORT).
    """
    sock, port, _error = _bind(port, HOST, minrange, maxrange, maxlisten, socketOptions)
    return sock, port


def openListener(port, host="", socketOptions=None, reusePort=False, backlog=DEFAULT_BACKLOG):
    """A listening, non-blocking socket on ``host``:``port``, or ``OSError`` saying why not.

    For a process that opens the socket itself and hands it on, e.g. to
    workers it forks (``TCPServer(listener=...)``).
    """
    sock, _port, error = _bind(port, host, 2000, 50000, backlog, socketOptions, reusePort)
    if sock is None:
        raise OSError(getattr(error, "errno", None),
                      "cannot listen on %r port %r: %s" % (host or "*", port, error))
    return sock


def _bind(port, host, minrange, maxrange, backlog, socketOptions, reusePort=False):
    host = host or ""
    options = _options(socketOptions)
    if reusePort:
        if REUSE_PORT is None:
            return None, None, OSError(errno.ENOPROTOOPT, "SO_REUSEPORT is not available here")
        options.append(REUSE_PORT)
    candidates = [port] if port is not None else random.sample(range(minrange, maxrange), 20)
    lastError = None
    for candidate in candidates:
        sock = socket.socket(_family(host), socket.SOCK_STREAM)
        try:
            for option in options:
                sock.setsockopt(*option)
            if _family(host) == socket.AF_INET6 and host == "::":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((host, candidate))
            sock.listen(backlog)
            sock.setblocking(False)
            return sock, sock.getsockname()[1], None
        except OSError as e:
            sock.close()
            lastError = e
    return None, None, lastError


def _portOf(sock):
    address = sock.getsockname()
    return address[1] if isinstance(address, tuple) else address


def _options(socketOptions):
    if not socketOptions:
        return []
    if isinstance(socketOptions, tuple) and len(socketOptions) == 3 and \
            not isinstance(socketOptions[0], (tuple, list)):
        return [socketOptions]
    return list(socketOptions)


def serverFor(owner):
    """``owner.TCPS(...)`` built from ``owner.port``, ``owner.host``, ``owner.socketOptions``.

    Used by ``ServerCore`` and ``SingleServer``, which both create their
    TCPServer from those attributes and then adopt its real port.
    """
    argd = {"listenport": owner.port}
    if owner.socketOptions is not None:
        argd["socketOptions"] = owner.socketOptions
    if owner.host:
        argd["host"] = owner.host
    if getattr(owner, "listener", None) is not None:
        argd["listener"] = owner.listener
    if getattr(owner, "reusePort", False):
        argd["reusePort"] = True
    server = owner.TCPS(**argd)
    if server.listener is not None:
        owner.port = server.listenport
    return server


class TCPServer(component):
    """Listens on a port and makes a CSA per accepted connection. See the module docs."""

    Inboxes = {"_feedbackFromCSA": "socketShutdown notices from the CSAs",
               "newconnection": "Readiness notices from a Selector (hints)",
               "control": "serverShutdown (or shutdownMicroprocess) stops the server"}
    Outboxes = {"protocolHandlerSignal": "newCSA and shutdownCSA announcements",
                "signal": "shutdownMicroprocess (the class) if the port could not be bound",
                "_selectorSignal": "Unused; kept for wiring compatibility",
                "_selectorShutdownSignal": "Unused; kept for wiring compatibility"}

    CSA = ConnectedSocketAdapter
    acceptsPerStep = 64
    backlog = DEFAULT_BACKLOG
    host = ""
    acceptRetryDelay = 0.1

    def __init__(self, listenport=None, socketOptions=None, listener=None, reusePort=False,
                 **argd):
        super().__init__(**argd)
        self.requestedPort = listenport
        self.socketOptions = socketOptions
        self.reusePort = reusePort
        self.selectorService = None
        self._csas = {}
        self._bySocket = {}
        self._peers = {}
        self._acceptable = False
        self._listening = False
        self._retryTimer = None
        if listener is not None:
            listener.setblocking(False)
            self.listener, self.listenport, self.bindError = listener, _portOf(listener), None
        else:
            self.listener, self.listenport, self.bindError = self.makeListener()
        if self.listener is None:
            self.listenport = listenport
            _log.error("%s could not listen on %s: %s", type(self).__name__,
                       self.listenAddress(), self.bindError)

    def makeListener(self):
        """``(socket, port, None)``: a new listening socket; ``(None, None, error)`` if it fails.

        Binds ``host``:``requestedPort`` with ``socketOptions`` (and
        SO_REUSEPORT if ``reusePort``). Subclasses replace it to listen
        elsewhere; the socket returned must be listening and non-blocking.
        """
        return _bind(self.requestedPort, self.host, 2000, 50000, self.backlog, self.socketOptions,
                     self.reusePort)

    def listenAddress(self):
        """Where this server listens (or tried to), for messages."""
        return "%r port %r" % (self.host, self.requestedPort)

    def _onAcceptable(self):
        self._acceptable = True
        self._deliveryWake()

    def _listen(self, on):
        if on != self._listening and self.listener is not None:
            self._listening = on
            if on:
                self.scheduler.addReader(self.listener, self._onAcceptable)
            else:
                self.scheduler.removeReader(self.listener)

    def createConnectedSocket(self, sock):
        """Make a CSA for ``sock`` (via the ``CSA`` class attribute)."""
        return self.CSA(sock, self.selectorService)

    def handleNewConnection(self):
        """Accept what is pending; announce each new CSA."""
        for _ in range(self.acceptsPerStep):
            try:
                newsock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                self._acceptable = False
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    _log.error("%s: cannot accept connections: %s; retrying shortly", self.name, e)
                    self._listen(False)
                    self._acceptable = False
                    self._retryTimer = self.scheduler.callLater(self.acceptRetryDelay,
                                                                self._resumeAccepting)
                    return
                if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                raise
            newsock.setblocking(False)
            csa = self.createConnectedSocket(newsock)
            if getattr(csa, "crashHandler", 0) is None:
                csa.crashHandler = self._csaCrashed
            self._csas[csa] = newsock
            self._peers[csa] = address
            self._bySocket[newsock] = csa
            self.addChildren(csa)
            self.link((csa, "CreatorFeedback"), (self, "_feedbackFromCSA"), wakeProducer=False)
            self.send(newCSA(self, csa, newsock), "protocolHandlerSignal")

    def _resumeAccepting(self):
        self._retryTimer = None
        self._acceptable = True
        self._listen(True)
        self._deliveryWake()

    def closeSocket(self, shutdownMessage):
        """A CSA reported ``socketShutdown``: close its socket and announce ``shutdownCSA``."""
        csa = shutdownMessage.caller
        details = shutdownMessage.message
        if csa not in self._csas and isinstance(details, (list, tuple)) and details:
            # A wrapped CSA (e.g. TimeOutCSA's Graphline) reports as the inner
            # adapter: find the component this server created by its socket.
            csa = self._bySocket.get(details[0], csa)
        sock = self._csas.pop(csa, None)
        self._peers.pop(csa, None)
        if sock is not None:
            self._bySocket.pop(sock, None)
            sock.close()
        self.send(shutdownCSA(self, csa), "protocolHandlerSignal")
        self.removeChild(csa)

    def _csaCrashed(self, csa, exc):
        _log.error("%s: the adapter of the connection from %s crashed; that connection is "
                   "closed", self.name, self._peers.get(csa, "an unknown peer"),
                   exc_info=(type(exc), exc, exc.__traceback__))

    def anyClosedSockets(self):
        """Handle every ``socketShutdown`` waiting on "_feedbackFromCSA"."""
        while self.dataReady("_feedbackFromCSA"):
            message = self.recv("_feedbackFromCSA")
            if isinstance(message, socketShutdown):
                self.closeSocket(message)

    def main(self):
        if self.listener is None:
            self.send(shutdownMicroprocess, "signal")
            return
        self._listen(True)
        while True:
            while self.dataReady("newconnection"):
                self.recv("newconnection")
            self.anyClosedSockets()
            while self.dataReady("control"):
                if isinstance(self.recv("control"), shutdownMicroprocess):
                    return
            if self._acceptable:
                self.handleNewConnection()
            if not self._acceptable:
                self.pause()
            yield 1

    def stop(self):
        """Stop accepting and close the listening socket (idempotent)."""
        if self._retryTimer is not None:
            self._retryTimer.cancel()
            self._retryTimer = None
        self._listen(False)
        if self.listener is not None:
            self.listener.close()
        super().stop()


__kamaelia_components__ = (TCPServer,)
