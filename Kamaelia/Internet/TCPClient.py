"""
Kamaelia.Internet.TCPClient: a TCP connection to a server, as a component
========================================================================

``TCPClient(host, port)`` connects to a server; what you send to its
"inbox" goes to the server, what the server sends comes out of its
"outbox" (as ``bytes``).

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Internet.TCPClient import TCPClient
    from Kamaelia.Util.Console import ConsoleReader, ConsoleEchoer

    Pipeline(ConsoleReader(), TCPClient("127.0.0.1", 1601), ConsoleEchoer()).run()

How does it work?
-----------------
After ``delay`` seconds (a timer, not a busy wait) the client resolves
``host`` -- literal IPv4/IPv6 addresses directly, names with
``getaddrinfo`` in a short-lived helper thread so the scheduler never blocks
on DNS -- and connects without blocking, trying each address in turn until
one accepts or ``connect_timeout`` seconds have passed. Once connected it
creates a ``ConnectedSocketAdapter`` as its child and links it through: the
client's "inbox", "makessl" and "control" pass straight to the CSA, and the
CSA's "outbox" and "sslready" come straight out of the client's. Messages
sent to the client's "inbox" before the connection is up are kept and sent
once it is.

Failure is never a hang: a refused connection, a timeout, an unreachable
network or a DNS failure ends the client with
``producerFinished(self, howDied)`` on "signal", where ``howDied`` is the
exception (``ConnectionRefusedError``, ``TimeoutError``,
``socket.gaierror``...). A connection that ends normally also ends with
``producerFinished(self, howDied)``, ``howDied`` being None when the server
closed it cleanly or we asked it to close. ``howDied`` is also kept as an
attribute.

Inboxes
-------
- inbox -- data to send to the server
- control -- before the connection is up: ``producerFinished`` or
  ``shutdownMicroprocess`` aborts (only ``shutdownMicroprocess`` if
  ``wait_for_serverclose``) and is forwarded to "signal"; afterwards it is
  passed to the CSA (``producerFinished``: send what is queued, then close,
  or -- with ``wait_for_serverclose`` -- half-close and read until the server
  closes; ``shutdownMicroprocess``: close now)
- makessl -- passed to the CSA: upgrade the connection to TLS
- _socketFeedback -- ``socketShutdown`` from the CSA

Outboxes
--------
- outbox -- data received from the server (bytes)
- signal -- ``producerFinished(self, howDied)`` when the client ends
- sslready -- from the CSA, once a TLS handshake has completed
- _selectorSignal -- unused (wiring compatibility)

Termination
-----------
As described above: after the connection ends or fails, the client closes
its socket, sends ``producerFinished`` on "signal" and ends.
"""

import errno
import logging
import socket
import threading

from Axon.Component import component
from Axon.Ipc import newComponent, producerFinished, shutdownMicroprocess
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.IPC import socketShutdown

_log = logging.getLogger(__name__)


def _numericAddresses(host, port):
    """getaddrinfo for a literal address (no DNS), or None if ``host`` is a name."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                  flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return None


class TCPClient(component):
    """A TCP connection to ``(host, port)`` as a component. See the module docs."""

    Inboxes = {"inbox": "Data to send to the server",
               "control": "Shutdown messages (passed to the CSA once connected)",
               "makessl": "Upgrade the connection to TLS (passed to the CSA)",
               "_socketFeedback": "socketShutdown from the CSA"}
    Outboxes = {"outbox": "Data received from the server (bytes)",
                "signal": "producerFinished(self, howDied) when the client ends",
                "sslready": "From the CSA, once a TLS handshake has completed",
                "_selectorSignal": "Unused; kept for wiring compatibility"}
    Usescomponents = [ConnectedSocketAdapter]

    CSA = ConnectedSocketAdapter

    def __init__(self, host, port, delay=0, connect_timeout=60, wait_for_serverclose=False,
                 **argd):
        super().__init__(**argd)
        self.host = host
        self.port = port
        self.delay = delay
        self.connect_timeout = connect_timeout
        self.wait_for_serverclose = wait_for_serverclose
        self.howDied = None
        self.CSA_instance = None
        self.sock = None
        self._event = None
        self._timer = None

    # -- helpers from the original API ----------------------------------------------

    def shutdown(self):
        """Before connecting: forward control messages to "signal"; True if told to stop."""
        while self.dataReady("control"):
            message = self.recv("control")
            self.send(message, "signal")
            if isinstance(message, shutdownMicroprocess):
                return True
            if isinstance(message, producerFinished) and not self.wait_for_serverclose:
                return True
        return False

    def safeConnect(self, sock, address):
        """Start (or continue) a non-blocking connect: True once connected, False while in progress.

        As in 1.x it may be called again until it returns True: a repeated
        call answers False while the connect is under way, True once it has
        completed (EISCONN), and raises ``OSError`` if it failed.
        """
        result = sock.connect_ex(address)
        if result in (0, errno.EISCONN):
            return True
        if result in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, errno.EINTR):
            return False
        raise OSError(result, "%s (%s)" % (errno.errorcode.get(result, result), address[0]))

    # -- events from timers, the I/O wait and the resolver thread ---------------------

    def _set(self, event):
        if self._event is None:
            self._event = event
        self._deliveryWake()

    def _startTimer(self, seconds, event):
        self._cancelTimer()
        self._timer = self.scheduler.callLater(seconds, self._set, event)

    def _cancelTimer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _resolveInThread(self):
        scheduler = self.scheduler

        def lookup():
            try:
                result = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError, OSError) as e:
                result = e
            scheduler.callSoonThreadsafe(self._resolved, result)

        threading.Thread(target=lookup, name="%s-resolver" % self.name, daemon=True).start()

    def _resolved(self, result):
        self._addresses = result
        self._set("resolved")

    def _waitFor(self, *wanted):
        """Generator: pause until one of ``wanted`` events (or a control message)."""
        while self._event not in wanted:
            if self.dataReady("control") and self.shutdown():
                self._event = "shutdown"
                return
            self.pause()
            yield 1

    # -- main ----------------------------------------------------------------------------

    def main(self):
        try:
            if self.delay:
                self._startTimer(self.delay, "delay")
                yield from self._waitFor("delay")
                if self._event == "shutdown":
                    return
            sock = yield from self._connect()
            self._cancelTimer()
            if sock is None:
                if self.howDied is not None:
                    _log.warning("%s: could not connect to %s port %s: %s",
                                 self.name, self.host, self.port, self.howDied)
                return
            self.sock = sock
            yield from self.runClient(sock)
        finally:
            self._cancelTimer()
            if self.sock is not None:
                self.sock.close()
            if not self._isStopped() and self._event != "shutdown":
                self.send(producerFinished(self, self.howDied), "signal")

    def _connect(self):
        """Generator: resolve and connect; returns a connected socket or None."""
        self._event = None
        addresses = _numericAddresses(self.host, self.port)
        self._startTimer(self.connect_timeout, "timeout")
        if addresses is None:
            self._resolveInThread()
            yield from self._waitFor("resolved", "timeout")
            if self._event != "resolved":
                if self._event == "timeout":
                    self.howDied = TimeoutError("timed out resolving %s" % self.host)
                return None
            addresses = self._addresses
            if isinstance(addresses, Exception):
                self.howDied = addresses
                return None
        lastError = None
        for family, socktype, proto, _canonname, address in addresses:
            sock = socket.socket(family, socktype, proto)
            sock.setblocking(False)
            try:
                connected = self.safeConnect(sock, address)
            except OSError as e:
                sock.close()
                lastError = e
                continue
            if not connected:
                self._event = None
                # Kept: once stopped, a component's ``scheduler`` is a null one.
                scheduler = self.scheduler
                scheduler.addWriter(sock, self._set, "writable")
                interrupted = True
                try:
                    yield from self._waitFor("writable", "timeout")
                    interrupted = False
                finally:
                    scheduler.removeWriter(sock)
                    if interrupted:     # stopped while connecting
                        sock.close()
                if self._event == "shutdown":
                    sock.close()
                    return None
                if self._event == "timeout":
                    sock.close()
                    self.howDied = TimeoutError("timed out connecting to %s port %s"
                                                % (self.host, self.port))
                    return None
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    sock.close()
                    lastError = OSError(error, "%s connecting to %s" % (
                        errno.errorcode.get(error, error), address[0]))
                    if error == errno.ECONNREFUSED:
                        lastError = ConnectionRefusedError(error, "connection refused by %s port %s"
                                                           % (address[0], address[1]))
                    continue
            return sock
        self.howDied = lastError
        return None

    def setupCSA(self, sock):
        """Create the CSA child for ``sock`` and link it through this client."""
        csa = self.CSA(sock, None)
        if self.wait_for_serverclose:
            csa.halfCloseOnFinish = True
        self.CSA_instance = csa
        self.addChildren(csa)
        self.link((csa, "outbox"), (self, "outbox"), passthrough=2)
        self.link((csa, "sslready"), (self, "sslready"), passthrough=2)
        self.link((self, "inbox"), (csa, "inbox"), passthrough=1)
        self.link((self, "makessl"), (csa, "makessl"), passthrough=1)
        self.link((self, "control"), (csa, "control"), passthrough=1)
        self.link((csa, "CreatorFeedback"), (self, "_socketFeedback"))
        return csa

    def waitCSAClose(self):
        """True once the CSA has reported ``socketShutdown``."""
        while self.dataReady("_socketFeedback"):
            message = self.recv("_socketFeedback")
            if isinstance(message, socketShutdown):
                details = message.message
                if isinstance(details, (list, tuple)) and len(details) > 1:
                    self.howDied = details[1]
                return True
        return False

    def runClient(self, sock=None):
        """Generator: run the connection until the CSA reports it closed."""
        csa = self.setupCSA(sock)
        yield newComponent(csa)
        while not self.waitCSAClose():
            self.pause()
            yield 1

    def stop(self):
        """Close the socket (idempotent)."""
        self._cancelTimer()
        if self.sock is not None:
            self.sock.close()
        super().stop()


__kamaelia_components__ = (TCPClient,)
