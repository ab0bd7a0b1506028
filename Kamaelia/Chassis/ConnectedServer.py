"""
Kamaelia.Chassis.ConnectedServer: a TCP server that runs one handler per connection
==================================================================================

``ServerCore`` listens on a port and, for every client that connects,
creates a *protocol handler* component and wires it to that connection:
whatever the client sends arrives on the handler's "inbox", whatever the
handler sends on its "outbox" goes to the client.

Example Usage
-------------
::

    from Kamaelia.Chassis.ConnectedServer import ServerCore
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    ServerCore(protocol=EchoProtocol, port=1601).run()

A factory can see who connected::

    def handler(peer, peerport, localip, localport):
        print("connection from", peer, peerport)
        return EchoProtocol()

    ServerCore(protocol=handler, port=1601, host="127.0.0.1").activate()

How does it work?
-----------------
``ServerCore`` creates a ``TCPServer`` (the class attribute ``TCPS``, which
subclasses may replace, e.g. to set ``TCPS.CSA``) when it is constructed, so
``port`` holds the port actually bound straight away (useful with
``port=0``); ``host`` chooses the address ("" all IPv4, "::" all IPv6 and
IPv4, or a literal address). ``listener=sock`` serves an already listening
socket instead of binding one (e.g. inherited from a parent that forked
workers) and ``reusePort=True`` sets SO_REUSEPORT before binding; both are
passed to the ``TCPServer`` (see ``Kamaelia.Internet.TCPServer``). For each
``newCSA`` the server calls
``mkProtocolHandler(peer=, peerport=, localip=, localport=)`` -- which calls
``protocol(...)`` with those keywords (``SimpleServer`` calls it with no
arguments) -- then links:

* CSA "outbox" -> handler "inbox"; handler "outbox" -> CSA "inbox";
* handler "signal" -> CSA "control" (a handler ends a connection by sending
  ``producerFinished`` on "signal");
* a new outbox of the server -> handler "control", another -> CSA "control";
* handler "serversignal" -> server "control", if the handler has that outbox
  (a handler may shut the whole server down);
* handler "makessl" -> CSA "makessl" and CSA "sslready" -> handler
  "sslready", if the handler has those boxes (TLS upgrades, e.g. STARTTLS).

When a connection closes (``shutdownCSA``), the handler is sent
``socketShutdown()`` on its "control" and the CSA ``shutdownMicroprocess()``;
both are forgotten and the two outboxes removed.

One connection's failure is that connection's alone: the server is each
handler's crash handler (``Axon.Microprocess``), so a handler that raises is
stopped, ``handlerCrashed(handler, csa, exc)`` is called -- by default it
logs the error with the client's address and closes that connection, after
sending what the handler's ``crashNotice()`` returns (bytes), if it has that
method -- and every other connection and the listener carry on. (The
``TCPServer`` does the same for a crashing ``ConnectedSocketAdapter``.)

Inboxes
-------
- _socketactivity -- ``newCSA``/``shutdownCSA`` from the TCPServer
- control -- ``shutdownMicroprocess`` (e.g. ``serverShutdown``) stops the server
- inbox -- not used

Outboxes
--------
- _serversignal -- to the TCPServer's "control"
- outbox, signal -- not used

Errors: if the port cannot be bound, ``ServerCore`` raises ``OSError`` from
its first step (so ``runThreads`` reports it with the server's name) instead
of waiting forever as Kamaelia 1.x did.

Termination
-----------
A ``shutdownMicroprocess`` (including ``serverShutdown``) on "control" stops
the server: every connection is closed (handlers get ``socketShutdown()``,
CSAs ``shutdownMicroprocess()``), the TCPServer is sent ``serverShutdown()``
and closes the listening socket. ``stop()`` does the same and may run twice
(explicitly and from the scheduler); the second time it finds nothing to do.
"""

import logging
import socket

from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.IdentityList import IdentityList
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Internet.TCPServer import TCPServer, serverFor
from Kamaelia.IPC import newCSA, serverShutdown, shutdownCSA, socketShutdown

_log = logging.getLogger(__name__)


class ServerCore(AdaptiveCommsComponent):
    """A TCP server running a protocol handler per connection. See the module docs."""

    Inboxes = {"_socketactivity": "newCSA/shutdownCSA messages from the TCPServer",
               "control": "shutdownMicroprocess (e.g. serverShutdown) stops the server",
               "inbox": "Not used"}
    Outboxes = {"_serversignal": "Shutdown messages to the TCPServer",
                "outbox": "Not used",
                "signal": "Not used"}

    port = 1601
    host = ""
    protocol = None
    socketOptions = None
    listener = None
    reusePort = False
    TCPS = TCPServer

    def __init__(self, **argd):
        super().__init__(**argd)
        if self.protocol is None:
            raise TypeError("%s needs a protocol: ServerCore(protocol=..., port=...)"
                            % type(self).__name__)
        self.connectedSockets = IdentityList()
        self._peers = {}
        self.server = None
        self._stopping = False
        if type(self).initialiseServerSocket is ServerCore.initialiseServerSocket:
            # Bind now so that ``port`` is known as soon as the server exists.
            self._makeServer()

    def _makeServer(self):
        self.server = serverFor(self)

    def initialiseServerSocket(self):
        """Create (if not done yet), link and activate the TCPServer."""
        if self.server is None:
            self._makeServer()
        self.link((self.server, "protocolHandlerSignal"), (self, "_socketactivity"))
        self.link((self, "_serversignal"), (self.server, "control"))
        self.addChildren(self.server)
        self.server.activate()

    def mkProtocolHandler(self, **sock_info):
        """Create the handler for a connection (``protocol(**sock_info)``)."""
        return self.protocol(**sock_info)

    @staticmethod
    def _addresses(sock, port):
        try:
            peer, peerport = sock.getpeername()[:2]
        except (OSError, AttributeError, ValueError):
            peer, peerport = "0.0.0.0", 0
        try:
            localip, localport = sock.getsockname()[:2]
        except (OSError, AttributeError, ValueError):
            localip, localport = "127.0.0.1", port
        return peer, peerport, localip, localport

    def handleNewConnection(self, newCSAMessage):
        """Create a handler for the new connection and wire it to the CSA."""
        csa = newCSAMessage.object
        peer, peerport, localip, localport = self._addresses(newCSAMessage.sock, self.port)
        handler = self.mkProtocolHandler(peer=peer, peerport=peerport,
                                         localip=localip, localport=localport)
        self.connectedSockets.append(csa)
        toHandler = self.addOutbox("protocolHandlerSignal")
        toCSA = self.addOutbox("signal")
        self.trackResourceInformation(csa, [], [toHandler, toCSA], handler)
        self.link((self, toHandler), (handler, "control"))
        self.link((self, toCSA), (csa, "control"))
        self.link((csa, "outbox"), (handler, "inbox"))
        self.link((handler, "outbox"), (csa, "inbox"))
        self.link((handler, "signal"), (csa, "control"))
        if "serversignal" in handler.outboxes:
            self.link((handler, "serversignal"), (self, "control"), wakeProducer=False)
        if "makessl" in handler.outboxes and "makessl" in csa.inboxes:
            self.link((handler, "makessl"), (csa, "makessl"))
        if "sslready" in handler.inboxes and "sslready" in csa.outboxes:
            self.link((csa, "sslready"), (handler, "sslready"))
        self.addChildren(csa, handler)
        if handler.crashHandler is None:
            handler.crashHandler = self._handlerCrashed
        self._peers[handler] = (csa, peer, peerport)
        handler.activate()
        csa.activate()
        return handler

    def _handlerCrashed(self, handler, exc):
        entry = self._peers.get(handler)
        if entry is None:
            _log.error("%s: protocol handler %s crashed after its connection closed",
                       self.name, handler.name, exc_info=(type(exc), exc, exc.__traceback__))
            return
        self.handlerCrashed(handler, entry[0], exc)

    def peerOf(self, handler):
        """(address, port) of the client that ``handler`` serves (None if unknown)."""
        entry = self._peers.get(handler)
        return None if entry is None else entry[1:]

    def handlerCrashed(self, handler, csa, exc):
        """Hook: ``handler`` raised ``exc``. Default: log it; close its connection (see the module docs)."""
        peer, peerport = self.peerOf(handler)
        _log.error("%s: the handler of the connection from %s port %s crashed; closing that "
                   "connection", self.name, peer, peerport,
                   exc_info=(type(exc), exc, exc.__traceback__))
        notice = b""
        if hasattr(handler, "crashNotice"):
            try:
                notice = handler.crashNotice()
            except Exception:
                _log.exception("%s: %s.crashNotice() failed", self.name, handler.name)
        self.closeConnection(csa, notice)

    def closeConnection(self, csa, lastWords=b""):
        """Close ``csa``'s connection once ``lastWords`` (bytes) and what is queued are sent."""
        try:
            inboxes, outboxes, handler = self.retrieveTrackedResourceInformation(csa)
        except KeyError:
            return
        if lastWords:
            try:
                csa._deliver(lastWords, "inbox")
            except Exception as e:
                _log.warning("%s: could not queue the last words for %s: %s", self.name, csa.name, e)
        self.send(producerFinished(self), outboxes[1])

    def handleClosedCSA(self, shutdownCSAMessage):
        """A connection closed: tell its handler and CSA, forget both (once per CSA)."""
        csa = shutdownCSAMessage.object
        if isinstance(csa, tuple):
            csa = csa[0]
        try:
            inboxes, outboxes, handler = self.retrieveTrackedResourceInformation(csa)
        except KeyError:
            return
        toHandler, toCSA = outboxes
        self.send(socketShutdown(), toHandler)
        self.send(shutdownMicroprocess(), toCSA)
        self.removeChild(csa)
        self.removeChild(handler)
        self.deleteOutbox(toHandler)
        self.deleteOutbox(toCSA)
        self.ceaseTrackingResource(csa)
        self._peers.pop(handler, None)
        try:
            self.connectedSockets.remove(csa)
        except ValueError:
            _log.debug("%s: closed CSA %s was not in connectedSockets", self.name, csa.name)

    def main(self):
        self.initialiseServerSocket()
        if self.server.listener is None:
            error = self.server.bindError
            raise OSError(getattr(error, "errno", None),
                          "%s cannot listen on %r port %r: %s"
                          % (self.name, self.host, self.port, error))
        while True:
            while self.dataReady("_socketactivity"):
                message = self.recv("_socketactivity")
                if isinstance(message, newCSA):
                    self.handleNewConnection(message)
                elif isinstance(message, shutdownCSA):
                    self.handleClosedCSA(message)
            while self.dataReady("inbox"):
                self.recv("inbox")
            while self.dataReady("control"):
                if isinstance(self.recv("control"), shutdownMicroprocess):
                    self.stop()
                    return
            self.pause()
            yield 1

    def stop(self):
        """Close every connection and stop the TCPServer (safe to call twice)."""
        if not self._stopping:
            self._stopping = True
            for csa in list(self.connectedSockets):
                self.handleClosedCSA(shutdownCSA(self, csa))
            if self.server is not None:
                self.send(serverShutdown(), "_serversignal")
        super().stop()


class SimpleServer(ServerCore):
    """A ``ServerCore`` whose ``protocol`` is called with no arguments."""

    def mkProtocolHandler(self, **sock_info):
        return self.protocol()


class FastRestartServer(ServerCore):
    """A ``ServerCore`` whose listening socket has SO_REUSEADDR set."""

    socketOptions = (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


MoreComplexServer = ServerCore

__kamaelia_components__ = (ServerCore, SimpleServer, FastRestartServer)
