"""A protocol handler that stops its own server, Kamaelia 1.x style.

Run: python3 protocol_stops_server.py PORT

ServerCore links a protocol handler's "serversignal" outbox, if it has one,
to the server's own "control". Here the handler answers "stop" with "bye!",
closes its connection (producerFinished on "signal") and sends
shutdownMicroprocess on "serversignal", which ends the server; the client
sees its connection close, and with every component ended run() returns.

Prints the answer, the traces and "finished".
"""

import sys

from tracing import EchoTalker, note, report

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.TCPClient import TCPClient

PORT = int(sys.argv[1])


class Stopper(component):
    Outboxes = {"outbox": "to the client", "signal": "closes the connection",
                "serversignal": "to the server's control"}

    def __init__(self, **argd):
        super(Stopper, self).__init__(**argd)

    def main(self):
        heard = b""
        while b"stop\n" not in heard:
            while self.dataReady("inbox"):
                heard += self.recv("inbox")
            if b"stop\n" not in heard:
                self.pause()
                yield 1
        note("HANDLER", "peer", self.peer)
        self.send(b"bye!\n", "outbox")
        self.send(producerFinished(self), "signal")
        self.send(shutdownMicroprocess(self), "serversignal")
        yield 1


class Ended(component):
    """Notes that the server has ended (it is linked to nothing; it just watches)."""

    def __init__(self, server):
        super(Ended, self).__init__()
        self.server = server

    def main(self):
        while not self.server._isStopped():
            yield 1
        note("SERVER", "ended", True)


server = ServerCore(protocol=Stopper, port=PORT)
Ended(server).activate()
Graphline(
    SERVER=server,
    CLIENT=TCPClient("127.0.0.1", PORT),
    TALKER=EchoTalker([b"stop\n"]),
    linkages={
        ("TALKER", "outbox"): ("CLIENT", "inbox"),
        ("CLIENT", "outbox"): ("TALKER", "inbox"),
        ("CLIENT", "signal"): ("TALKER", "control"),
    }).run()
report()
print("finished")
