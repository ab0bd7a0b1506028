"""A server whose connections time out when idle, Kamaelia 1.x style.

Run: python3 timeout_server.py PORT

The server is a FastRestartServer whose TCPServer class (TCPS) makes each
connection's CSA with NoActivityTimeout(ConnectedSocketAdapter,
timeout=0.3), as 1.x's greylister did, and serves EchoProtocol. The client
sends one line, gets it back, then stays silent; after 0.3 s with no
activity the server closes the connection, the client's TCPClient says
producerFinished, and the client side then stops the server.

Prints the answer, whether the connection was closed after the timeout
(and not much later), the traces and "finished".
"""

import sys
import time

from tracing import Tracer, note, report

from Axon.Component import component
from Kamaelia.Chassis.ConnectedServer import FastRestartServer
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.Internet.TCPServer import TCPServer
from Kamaelia.Internet.TimeOutCSA import NoActivityTimeout
from Kamaelia.IPC import serverShutdown
from Kamaelia.Protocol.EchoProtocol import EchoProtocol

PORT = int(sys.argv[1])


class TimingOutServer(FastRestartServer):
    class TCPS(TCPServer):
        CSA = NoActivityTimeout(ConnectedSocketAdapter, timeout=0.3)


class QuietClient(component):
    Outboxes = {"outbox": "to the client", "signal": "unused", "serverctl": "to the server"}

    def main(self):
        self.send(b"anyone there?\n", "outbox")
        answer = b""
        while len(answer) < 14:
            while self.dataReady("inbox"):
                answer += self.recv("inbox")
            if len(answer) < 14:
                self.pause()
                yield 1
        start = time.time()
        print("client got back:", answer)
        while not self.dataReady("control"):
            self.pause()
            yield 1
        lasted = time.time() - start
        # The server's clock starts when it sends the answer, a little before it arrives here.
        print("closed by the server after the timeout:", lasted >= 0.2)
        print("and well before 2 s:", lasted < 2.0)
        note("CLIENT", "control", self.recv("control").__class__.__name__)
        self.send(serverShutdown(), "serverctl")


Graphline(
    SERVER=TimingOutServer(protocol=lambda **argd: EchoProtocol(), port=PORT),
    CLIENT=TCPClient("127.0.0.1", PORT),
    QUIET=QuietClient(),
    TRACE=Tracer("CLIENT-SIGNAL"),
    linkages={
        ("QUIET", "outbox"): ("CLIENT", "inbox"),
        ("CLIENT", "outbox"): ("QUIET", "inbox"),
        ("CLIENT", "signal"): ("TRACE", "control"),
        ("TRACE", "signal"): ("QUIET", "control"),
        ("QUIET", "serverctl"): ("SERVER", "control"),
    }).run()
report()
print("finished")
