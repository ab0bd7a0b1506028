"""
Kamaelia.Apps.Grey.GreylistServer: the greylisting proxy's listening server
==========================================================================

``GreylistServer`` is the ``ServerCore`` that accepts SMTP clients for the
greylister: one ``GreyListingPolicy`` (or any ``MailHandler``) per
connection, a cap on concurrent sessions, and a graceful shutdown.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.GreylistServer import GreylistServer

    server = GreylistServer(protocol=MyPolicy, port=2525, host="127.0.0.1", max_sessions=500)
    server.activate()
    ...
    server.drain(grace=60)        # e.g. on SIGTERM

How does it work?
-----------------
Connections use a ``ConnectedSocketAdapter`` with ``closeOnPeerEOF=False``:
when a client shuts down its sending side (as ``printf ... | nc`` does) the
handler still answers every command it received before the connection is
closed.

When ``max_sessions`` conversations are already open, a new client is
answered "421 4.7.0 ... Too many connections" and disconnected.

The listening socket has SO_REUSEADDR set (as 1.x's server did), so a
restart can listen on the port again at once even while connections of the
previous run linger in TIME_WAIT.

A session whose handler raises is logged with its session id and client
address and the traceback; that client gets "421 4.3.0 ... Internal error"
(the handler's ``crashNotice()``) and is disconnected; every other session
and the listener carry on.

``drain(grace)`` (thread-safe through ``scheduler.callSoonThreadsafe``)
asks every open session to finish: a session with no transaction open says
"421 4.3.2 ... shutting down" and closes at once; one whose transaction has
begun (MAIL accepted, whether or not DATA has started) may finish it, and
gets the 421 in place of its next reply after that (so a message the client
is sending still reaches the real server, and it need not retry). A client
connecting during the drain is answered "421 4.3.2 ... shutting down" and
disconnected (the listening socket stays open until
the end, because the ``TCPServer`` is what reports closed connections). Once
every session has closed, or after ``grace`` seconds, the server stops
(closing whatever is left) and calls ``whenDrained`` if set.

Termination
-----------
As ``ServerCore``: ``shutdownMicroprocess`` on "control" stops it at once;
``drain`` stops it gracefully.
"""

import logging
import socket

from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.Internet.TCPServer import TCPServer
from Kamaelia.IPC import serverShutdown

_log = logging.getLogger(__name__)


class SMTPConnectionAdapter(ConnectedSocketAdapter):
    """A CSA that keeps the sending side open after the client's EOF (see the module docs)."""

    closeOnPeerEOF = False


class SMTPTCPServer(TCPServer):
    CSA = SMTPConnectionAdapter


class Refuser(component):
    """Tells a client there are too many connections (or ``refusal``), then closes."""

    servername = "localhost"
    refusal = R.TOO_MANY_SESSIONS

    def main(self):
        self.send("\r\n".join(self.refusal.format(servername=self.servername).toLines())
                  + "\r\n", "outbox")
        self.send(producerFinished(self), "signal")
        yield 1


class GreylistServer(ServerCore):
    """The greylister's server. See the module documentation."""

    TCPS = SMTPTCPServer
    socketOptions = (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    max_sessions = 1000
    whenDrained = None
    frontend = "proxy"

    def __init__(self, **argd):
        super().__init__(**argd)
        self.draining = False
        self.refused = 0
        self._graceTimer = None

    def mkProtocolHandler(self, **sock_info):
        servername = getattr(self.protocol, "servername", "localhost")
        if self.draining:
            self.refused += 1
            return Refuser(servername=servername, refusal=R.SHUTTING_DOWN)
        if len(self.connectedSockets) >= self.max_sessions:
            self.refused += 1
            _log.warning("refusing a connection from %s: %d sessions already open",
                         sock_info.get("peer"), len(self.connectedSockets))
            return Refuser(servername=servername)
        return super().mkProtocolHandler(**sock_info)

    def handleNewConnection(self, newCSAMessage):
        super().handleNewConnection(newCSAMessage)
        metrics = Metrics.lookup(self.tracker)
        if metrics is not None:
            metrics.sessionOpened(self.frontend)

    def handleClosedCSA(self, shutdownCSAMessage):
        csa = shutdownCSAMessage.object
        known = (csa[0] if isinstance(csa, tuple) else csa) in self.connectedSockets
        super().handleClosedCSA(shutdownCSAMessage)
        metrics = Metrics.lookup(self.tracker) if known else None
        if metrics is not None:
            metrics.sessionClosed(self.frontend)

    def handlerCrashed(self, handler, csa, exc):
        """A session failed: log it, write its result line, 421 4.3.0 to its client, close it."""
        context = handler.logContext() if hasattr(handler, "logContext") else \
            "client %s port %s" % self.peerOf(handler)
        _log.error("%s: internal error; the session is closed with 421 4.3.0", context,
                   exc_info=(type(exc), exc, exc.__traceback__))
        if hasattr(handler, "sessionCrashed"):
            try:
                handler.sessionCrashed(exc)
            except Exception:
                _log.exception("%s: error while closing the failed session", context)
        notice = handler.crashNotice() if hasattr(handler, "crashNotice") else b""
        self.closeConnection(csa, notice)

    def drain(self, grace=60):
        """Stop accepting; let sessions finish; then stop (see the module docs)."""
        if self.draining:
            return
        self.draining = True
        _log.info("draining: %d open sessions, %s s grace", len(self.connectedSockets), grace)
        for csa in list(self.connectedSockets):
            try:
                inboxes, outboxes, handler = self.retrieveTrackedResourceInformation(csa)
            except KeyError:
                continue
            self.send(producerFinished(self), outboxes[0])
        self._graceTimer = self.scheduler.callLater(grace, self._graceOver)
        self._deliveryWake()

    def _graceOver(self):
        self._graceTimer = None
        if not self._isStopped():
            _log.warning("drain grace period over: closing %d sessions", len(self.connectedSockets))
            self._deliver(serverShutdown(), "control")

    def main(self):
        for value in super().main():
            if self.draining and not self.connectedSockets:
                self.stop()
                return
            yield value

    def stop(self):
        if self._graceTimer is not None:
            self._graceTimer.cancel()
            self._graceTimer = None
        wasStopping = self._stopping
        super().stop()
        if not wasStopping and self.whenDrained is not None:
            self.whenDrained()


__kamaelia_components__ = (GreylistServer,)
