"""
Kamaelia.Internet.SingleServer: a server for one client at a time
=================================================================

``SingleServer`` listens on a port and connects the *first* client to its
own boxes: what the client sends comes out of "outbox", what arrives on
"inbox" goes to the client. While one client is connected, any other that
connects is closed at once. When the client disconnects, ``SingleServer``
sends ``producerFinished(self)`` on "signal" and waits for the next one.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Internet.SingleServer import SingleServer
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(SingleServer(port=1601), ConsoleEchoer()).run()   # print what the client sends

How does it work?
-----------------
It creates a ``TCPServer`` (class attribute ``TCPS``) bound when the
``SingleServer`` is constructed (``port`` then holds the real port, also for
``port=0``; ``host`` chooses the address). Each ``newCSA`` from it is either
wired in -- CSA "outbox" to our "outbox" (passthrough), our "inbox" to the
CSA's "inbox" (passthrough), our "_CSA_signal" to the CSA's "control" -- and
activated, or, if a client is already connected, activated and immediately
told ``producerFinished`` so it closes.

``echo`` is a tiny component that copies "inbox" to "outbox" (handy for
tests); unlike Kamaelia 1.x it pauses when idle.

Inboxes
-------
- inbox -- data to send to the connected client
- control -- ignored (the server runs until stopped)
- _oobinfo -- ``newCSA``/``shutdownCSA`` from the TCPServer

Outboxes
--------
- outbox -- data received from the connected client
- signal -- ``producerFinished(self)`` each time a client disconnects
- _CSA_signal -- to the connected CSA's "control"

Termination
-----------
``SingleServer`` does not end by itself. ``stop()`` sends
``producerFinished(self)`` on "signal", closes the connected client, if any,
and shuts the TCPServer down.
"""

import logging
import socket

from Axon.Component import component
from Axon.Ipc import newComponent, producerFinished
from Kamaelia.Internet.TCPServer import TCPServer, serverFor
from Kamaelia.IPC import newCSA, serverShutdown, shutdownCSA

_log = logging.getLogger(__name__)


class echo(component):
    """Copies "inbox" to "outbox" until any message arrives on "control"."""

    def main(self):
        while not self.dataReady("control"):
            while self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
            self.pause()
            yield 1
        self.send(self.recv("control"), "signal")


class SingleServer(component):
    """Serves one client at a time. See the module documentation."""

    Inboxes = {"inbox": "Data to send to the connected client",
               "control": "Ignored",
               "_oobinfo": "newCSA/shutdownCSA from the TCPServer"}
    Outboxes = {"outbox": "Data received from the connected client",
                "signal": "producerFinished(self) when a client disconnects",
                "_CSA_signal": "To the connected CSA's control"}

    port = 1601
    host = ""
    socketOptions = None
    TCPS = TCPServer

    def __init__(self, **argd):
        super().__init__(**argd)
        self.server = serverFor(self)
        self.CSA = None
        self._links = []
        self._stopping = False

    def handleNewCSA(self, message):
        """Wire in the new connection, or close it if a client is already connected.

        Returns ``newComponent(csa)``, for ``main`` to yield (as in 1.x).
        """
        csa = message.object
        if self.CSA is None:
            self.CSA = csa
            self._links = [
                self.link((csa, "outbox"), (self, "outbox"), passthrough=2),
                self.link((self, "inbox"), (csa, "inbox"), passthrough=1),
                self.link((self, "_CSA_signal"), (csa, "control")),
            ]
        else:
            csa._deliver(producerFinished(self), "control")
        return newComponent(csa)

    def _connectionClosed(self, message):
        csa = message.object[0] if isinstance(message.object, tuple) else message.object
        if csa is self.CSA:
            for linkage in self._links:
                self.unlink(thelinkage=linkage)
            self._links = []
            self.CSA = None
            self.send(producerFinished(self), "signal")

    def main(self):
        self.link((self.server, "protocolHandlerSignal"), (self, "_oobinfo"))
        self.addChildren(self.server)
        yield newComponent(self.server)
        while True:
            while self.dataReady("_oobinfo"):
                message = self.recv("_oobinfo")
                if isinstance(message, newCSA):
                    yield self.handleNewCSA(message)
                elif isinstance(message, shutdownCSA):
                    self._connectionClosed(message)
            while self.dataReady("control"):
                self.recv("control")
            self.pause()
            yield 1

    def stop(self):
        """Signal, close the client and shut the TCPServer down (safe to call twice)."""
        if not self._stopping:
            self._stopping = True
            self.send(producerFinished(self), "signal")
            if self.CSA is not None:
                self.CSA._deliver(producerFinished(self), "control")
            self.server._deliver(serverShutdown(), "control")
        super().stop()


class FastRestartSingleServer(SingleServer):
    """A ``SingleServer`` whose listening socket has SO_REUSEADDR set."""

    socketOptions = (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


__kamaelia_components__ = (SingleServer, FastRestartSingleServer, echo)
