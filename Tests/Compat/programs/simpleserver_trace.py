"""A SimpleServer echo protocol traced with ConsoleEchoer, Kamaelia 1.x style.

Run: python3 simpleserver_trace.py PORT

SimpleServer(protocol=EchoWithTrace, port=PORT), where EchoWithTrace() is
Pipeline(ConsoleEchoer(forwarder=True, tag="[server] "), PassThrough(),
EchoProtocol()): the 1.x way of watching what a protocol receives. The
client is a TCPClient driven by an EchoTalker; after its lines it says
producerFinished, which closes its connection; the server's handler gets
socketShutdown, which every stage passes on as it ends; then the
EchoTalker sends serverShutdown to the server and run() returns.

Prints the server's trace and the client's answers as they happen (each
answer is caused by the trace before it), then the traces of the
handler's shutdown, and "finished".
"""

import sys

from tracing import EchoTalker, Tracer, report

from Kamaelia.Chassis.ConnectedServer import SimpleServer
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.Protocol.EchoProtocol import EchoProtocol
from Kamaelia.Util.Console import ConsoleEchoer
from Kamaelia.Util.PassThrough import PassThrough

PORT = int(sys.argv[1])


def EchoWithTrace():
    return Pipeline(ConsoleEchoer(forwarder=True, tag="[server] "), PassThrough(),
                    Tracer("BEFORE-ECHO"), EchoProtocol())


Graphline(
    SERVER=SimpleServer(protocol=EchoWithTrace, port=PORT),
    CLIENT=TCPClient("127.0.0.1", PORT),
    TALKER=EchoTalker([b"one\n", b"two\n", b"three\n"]),
    linkages={
        ("TALKER", "outbox"): ("CLIENT", "inbox"),
        ("TALKER", "signal"): ("CLIENT", "control"),
        ("CLIENT", "outbox"): ("TALKER", "inbox"),
        ("CLIENT", "signal"): ("TALKER", "control"),
        ("TALKER", "serverctl"): ("SERVER", "control"),
    }).run()
report()
print("finished")
