"""
Kamaelia.Protocol.EchoProtocol: send back whatever arrives
==========================================================

``EchoProtocol()`` sends every item arriving on "inbox" straight back out of
"outbox" -- the protocol handler of an echo server.

Example Usage
-------------
An echo server on port 1501 (stop it with Ctrl-C)::

    from Kamaelia.Chassis.ConnectedServer import SimpleServer
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    SimpleServer(protocol=EchoProtocol, port=1501).run()

How does it work?
-----------------
Each item on "inbox" is sent unchanged on "outbox" (bytes stay bytes). It
sleeps when there is nothing to echo.

Termination
-----------
*Any* message arriving on "control" (for example the ``socketShutdown``
sent when the connection closes) stops it, after it has echoed the data
already waiting; that message is forwarded to "signal".
"""

from Axon.Component import component


class EchoProtocol(component):
    """EchoProtocol() -> sends every inbox item back out of outbox."""

    Inboxes = {"inbox": "Data to echo",
               "control": "Any message stops it (and is forwarded to signal)"}
    Outboxes = {"outbox": "The data, echoed",
                "signal": "The control message that stopped it"}

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
            if self.dataReady("control"):
                self.send(self.recv("control"), "signal")
                return
            self.pause()
            yield 1


__kamaelia_components__ = (EchoProtocol,)
