"""An echo server with trace components, started twice on one port, Kamaelia 1.x style.

Run: python3 fastrestart_echo.py PORT

Each connection to FastRestartServer(protocol=..., port=PORT) gets
Pipeline(Tracer("SERVER-IN"), EchoUntilQuit(), Tracer("SERVER-OUT")): the
data is echoed back, and on "quit" the protocol says producerFinished,
which closes the connection from the server's side. The client is a
TCPClient driven by an EchoTalker, which sends "quit" after its lines;
once its connection has closed, the EchoTalker sends serverShutdown to the
server, which ends, and so run() returns.

The same system is then run a second time on the same port: the server
closed its connection first, so that port is in TIME_WAIT, and only
SO_REUSEADDR (what FastRestartServer sets) lets the second server bind.

Prints each round's answers and traces, and "finished".
"""

import sys

from tracing import EVENTS, EchoTalker, Tracer, report

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.ConnectedServer import FastRestartServer
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Internet.TCPClient import TCPClient

PORT = int(sys.argv[1])
LINES = [b"one\n", b"two\n"]
PEERS = []


class EchoUntilQuit(component):
    def main(self):
        seen = b""
        while 1:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                seen += data
                self.send(data, "outbox")
            if b"quit\n" in seen:
                self.send(producerFinished(self), "signal")
                return
            while self.dataReady("control"):
                msg = self.recv("control")
                self.send(msg, "signal")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1


def protocol(**argd):
    PEERS.append(argd)
    return Pipeline(Tracer("SERVER-IN"), EchoUntilQuit(), Tracer("SERVER-OUT"))


for round in (1, 2):
    print("round", round)
    Graphline(
        SERVER=FastRestartServer(protocol=protocol, port=PORT),
        CLIENT=TCPClient("127.0.0.1", PORT),
        TALKER=EchoTalker(LINES, closeWith=b"quit\n"),
        linkages={
            ("TALKER", "outbox"): ("CLIENT", "inbox"),
            ("CLIENT", "outbox"): ("TALKER", "inbox"),
            ("CLIENT", "signal"): ("TALKER", "control"),
            ("TALKER", "serverctl"): ("SERVER", "control"),
        }).run()
    report()
    del EVENTS[:]
print("protocol arguments:", sorted(PEERS[0]))
print("peer address:", PEERS[0]["peer"], "local port is PORT:", PEERS[0]["localport"] == PORT)
print("finished")
