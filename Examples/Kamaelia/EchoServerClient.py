#!/usr/bin/env python3
"""
Echo server and client over TCP
===============================

What it shows: ``ServerCore`` running an ``EchoProtocol`` per connection on
127.0.0.1 (port 0: the OS picks a free port, available as ``server.port``
as soon as the server exists), and a ``TCPClient`` wired in a ``Graphline``
to a component that sends three lines, prints what comes back and then
closes the connection with ``producerFinished``. The client's own
``producerFinished`` (the connection has ended) then shuts the server down
with ``serverShutdown`` and the program ends by itself.

Run it::

    python3 Examples/Kamaelia/EchoServerClient.py

You should see::

    echo server listening on 127.0.0.1:<port>
    client got back: b'hello\\n'
    client got back: b'is anybody there?\\n'
    client got back: b'goodbye\\n'
    client finished; shutting the server down
"""

import Axon
from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.IPC import serverShutdown
from Kamaelia.Protocol.EchoProtocol import EchoProtocol

LINES = [b"hello\n", b"is anybody there?\n", b"goodbye\n"]


class Talker(component):
    """Sends LINES one at a time, waiting for each echo; then says producerFinished."""

    def main(self):
        for line in LINES:
            self.send(line, "outbox")
            received = b""
            while len(received) < len(line):
                while self.dataReady("inbox"):
                    received += self.recv("inbox")
                if len(received) < len(line):
                    self.pause()
                    yield 1
            print("client got back:", received)
        self.send(producerFinished(self), "signal")


class Reporter(component):
    """Waits for the client's end, then stops the server."""

    def __init__(self, server):
        super().__init__()
        self.server = server

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1
        print("client finished; shutting the server down")
        self.server._deliver(serverShutdown(), "control")


if __name__ == "__main__":
    server = ServerCore(protocol=EchoProtocol, port=0, host="127.0.0.1")
    print("echo server listening on 127.0.0.1:%d" % server.port)
    server.activate()
    Graphline(
        TALKER=Talker(),
        CLIENT=TCPClient("127.0.0.1", server.port),
        REPORTER=Reporter(server),
        linkages={
            ("TALKER", "outbox"): ("CLIENT", "inbox"),
            ("CLIENT", "outbox"): ("TALKER", "inbox"),
            ("TALKER", "signal"): ("CLIENT", "control"),
            ("CLIENT", "signal"): ("REPORTER", "control"),
        }).activate()
    Axon.Scheduler.scheduler.run.runThreads()
