#!/usr/bin/env python3
"""
A chat room over TCP, built on a Backplane
==========================================

What it shows: a ``ServerCore`` whose protocol handler for each connection
is a two-component ``Graphline`` -- a ``PublishTo("CHAT")`` for what the
client says and a ``SubscribeTo("CHAT")`` for what everyone says -- so
every connected client hears every line, with no client wired to another.
Three scripted users connect with ``TCPClient``, speak at set moments
(scheduler timers: the program sleeps between lines), print what reaches
their screen, and leave. When the last has left, the room closes: the
server gets ``serverShutdown``, the backplane ``producerFinished``, and the
program ends by itself.

Run it::

    python3 Examples/Kamaelia/TCPChatRoom.py

You should see each line on all three screens, for example::

    chat room on 127.0.0.1:<port>
    [alice's screen] alice: hello, anyone here?
    [bob's screen] alice: hello, anyone here?
    [carol's screen] alice: hello, anyone here?
    [alice's screen] bob: hi alice
    ...
    the room is closed
"""

import Axon
from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.TCPClient import TCPClient
from Kamaelia.IPC import serverShutdown
from Kamaelia.Util.Backplane import Backplane, PublishTo, SubscribeTo

SCRIPT = {  # user: [(seconds after start, line), ...]
    "alice": [(0.3, "hello, anyone here?"), (0.9, "bye all")],
    "bob": [(0.5, "hi alice")],
    "carol": [(0.7, "hello both")],
}


def ChatSession(**connectionInfo):
    """One connection's handler: what it says is published, what is said comes back."""
    return Graphline(PUBLISH=PublishTo("CHAT"), LISTEN=SubscribeTo("CHAT"),
                     linkages={("self", "inbox"): ("PUBLISH", "inbox"),
                               ("LISTEN", "outbox"): ("self", "outbox")})


class ChatUser(component):
    """Says its lines at their times, prints what it hears, then hangs up."""

    def __init__(self, name, lines):
        super().__init__()
        self.name = name
        self.lines = list(lines)

    def _speak(self, text):
        self.send(("%s: %s\n" % (self.name, text)).encode(), "outbox")

    def _print(self, data):
        self.heard += data
        while b"\n" in self.heard:
            line, self.heard = self.heard.split(b"\n", 1)
            print("[%s's screen] %s" % (self.name, line.decode()))

    def main(self):
        self.heard = b""
        start = self.scheduler.clock()
        for when, text in self.lines:
            self.scheduler.callAt(start + when, self._speak, text)
        self.scheduler.callAt(start + 1.2, self.unpause)
        while self.scheduler.clock() < start + 1.2:
            while self.dataReady("inbox"):
                self._print(self.recv("inbox"))
            self.pause()
            yield 1
        while self.dataReady("inbox"):
            self._print(self.recv("inbox"))
        self.send(producerFinished(self), "signal")


class RoomCloser(component):
    """Runs the users; when all have left, closes the server and the backplane."""

    def __init__(self, server, backplane, users):
        super().__init__()
        self.server, self.backplane, self.users = server, backplane, users

    def main(self):
        self.addChildren(*self.users)
        for user in self.users:
            user.activate()
        while not all(user._isStopped() for user in self.users):
            self.pause()
            yield 1
        self.server._deliver(serverShutdown(), "control")
        self.backplane._deliver(producerFinished(self), "control")
        print("the room is closed")


if __name__ == "__main__":
    backplane = Backplane("CHAT").activate()
    server = ServerCore(protocol=ChatSession, port=0, host="127.0.0.1").activate()
    print("chat room on 127.0.0.1:%d" % server.port)
    users = [Graphline(USER=ChatUser(name, lines), CLIENT=TCPClient("127.0.0.1", server.port),
                       linkages={("USER", "outbox"): ("CLIENT", "inbox"),
                                 ("CLIENT", "outbox"): ("USER", "inbox"),
                                 ("USER", "signal"): ("CLIENT", "control")})
             for name, lines in SCRIPT.items()]
    RoomCloser(server, backplane, users).activate()
    Axon.Scheduler.scheduler.run.runThreads()
