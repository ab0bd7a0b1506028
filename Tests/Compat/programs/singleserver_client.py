"""A SingleServer and a TCPClient talking over loopback, Kamaelia 1.x style.

Run: python3 singleserver_client.py PORT

The server side is SingleServer(port=PORT) with a PureTransformer that
upper-cases what the client sends and sends it back. The client side is a
TCPClient driven by a Talker that sends each line, waits for its answer,
and, after the last, says producerFinished to the TCPClient, which closes
the connection. A second client that connects while the first is
connected is closed by the server at once. The SingleServer then says producerFinished (its client
left), which stops the transformer; a Shutdown component then stops the
scheduler, since a SingleServer never ends by itself.

Prints what the client got back, the traces, and "finished" once run()
has returned.
"""

import sys

from tracing import Tracer, describe, note, report

from Axon.Component import component
from Axon.Ipc import newComponent, producerFinished
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.SingleServer import SingleServer
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.Util.PureTransformer import PureTransformer

PORT = int(sys.argv[1])
LINES = [b"hello\n", b"kamaelia\n", b"world\n"]


class Talker(component):
    Inboxes = {"inbox": "answers from the server", "control": "the client's signal",
               "second": "the second client's signal"}

    def main(self):
        for line in LINES:
            self.send(line, "outbox")
            answer = b""
            while len(answer) < len(line):
                while self.dataReady("inbox"):
                    answer += self.recv("inbox")
                if len(answer) < len(line):
                    self.pause()
                    yield 1
            print("client got back:", answer)
            if line == LINES[0]:
                # A second client while the first is connected: turned away.
                second = TCPClient("127.0.0.1", PORT)
                self.link((second, "signal"), (self, "second"))
                yield newComponent(second)
                while not self.dataReady("second"):
                    self.pause()
                    yield 1
                note("SECOND-CLIENT", "signal", describe(self.recv("second")))
        self.send(producerFinished(self), "signal")
        while not self.dataReady("control"):
            self.pause()
            yield 1
        note("TALKER", "control", describe(self.recv("control")))


class Shutdown(component):
    """Stops the whole system when anything arrives on "control"."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1
        note("SHUTDOWN", "control", describe(self.recv("control")))
        self.scheduler.stop()
        yield 1


Graphline(
    SERVER=SingleServer(port=PORT),
    TRACE=Tracer("SERVER-IN"),
    UPPER=PureTransformer(lambda data: data.upper()),
    SHUTDOWN=Shutdown(),
    TALKER=Talker(),
    CLIENT=TCPClient("127.0.0.1", PORT),
    linkages={
        ("SERVER", "outbox"): ("TRACE", "inbox"),
        ("SERVER", "signal"): ("TRACE", "control"),
        ("TRACE", "outbox"): ("UPPER", "inbox"),
        ("TRACE", "signal"): ("UPPER", "control"),
        ("UPPER", "outbox"): ("SERVER", "inbox"),
        ("UPPER", "signal"): ("SHUTDOWN", "control"),
        ("TALKER", "outbox"): ("CLIENT", "inbox"),
        ("TALKER", "signal"): ("CLIENT", "control"),
        ("CLIENT", "outbox"): ("TALKER", "inbox"),
        ("CLIENT", "signal"): ("TALKER", "control"),
    }).run()
report()
print("finished")
