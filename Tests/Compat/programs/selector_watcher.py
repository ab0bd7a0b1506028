"""A component watching its own socket through the Selector service, Kamaelia 1.x style.

Run: python3 selector_watcher.py

1.x components with sockets of their own asked the Selector to watch them:
Selector.getSelectorServices(tracker) gives the service (activating a new
Selector if there was none), newReader(self, ((self, box), sock)) asks for
the socket to be handed to that inbox once readable -- once, so it is
asked again after each read -- and removeReader ends the watch. A Writer
sends two chunks into the other end of a socketpair.

The Selector ends by itself after about 3.5 s with nothing to watch (as in
1.x), and then run() returns. Prints what was read and "finished".
"""

import socket

from Axon.Component import component
from Kamaelia.Internet.Selector import Selector
from Kamaelia.IPC import newReader, removeReader


class SocketWatcher(component):
    Inboxes = {"inbox": "unused", "control": "unused", "readready": "the socket, once readable"}
    Outboxes = {"outbox": "unused", "signal": "unused", "_selectorSignal": "to the selector"}

    def __init__(self, sock):
        super(SocketWatcher, self).__init__()
        self.sock = sock

    def main(self):
        selectorService, selectorShutdownService, newSelector = \
            Selector.getSelectorServices(self.tracker)
        if newSelector:
            newSelector.activate()
        yield 1
        self.link((self, "_selectorSignal"), selectorService)
        self.send(newReader(self, ((self, "readready"), self.sock)), "_selectorSignal")
        got = b""
        handedBack = True
        while len(got) < 10:
            while self.dataReady("readready"):
                handedBack = handedBack and self.recv("readready") is self.sock
                got += self.sock.recv(100)
                self.send(newReader(self, ((self, "readready"), self.sock)), "_selectorSignal")
            if len(got) < 10:
                self.pause()
                yield 1
        print("the selector handed back the socket itself:", handedBack)
        print("read", got)
        self.send(removeReader(self, self.sock), "_selectorSignal")
        yield 1


class Writer(component):
    def __init__(self, sock):
        super(Writer, self).__init__()
        self.sock = sock

    def main(self):
        for chunk in [b"hello", b"world"]:
            for _ in range(5):
                yield 1
            self.sock.send(chunk)


a, b = socket.socketpair()
a.setblocking(False)
Writer(b).activate()
SocketWatcher(a).run()
print("finished")
