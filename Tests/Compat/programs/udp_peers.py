"""UDP peers over loopback, Kamaelia 1.x style.

Run: python3 udp_peers.py oneway PORT
     python3 udp_peers.py chargen PORT
     python3 udp_peers.py echo PORT

* oneway: Pipeline(DataSource([...]), SimplePeer(...)) sends three datagrams
  to a SimplePeer bound to 127.0.0.1:PORT, which emits each as
  (data, (host, port)); a Receiver stops the system after the third.
* chargen: 1.x's SimplePeer example: Chargen() (which sends the str
  "Hello World" for ever) into a SimplePeer sending to a SimplePeer bound to
  127.0.0.1:PORT; the Receiver stops the system after three datagrams.
* echo: a PostboxPeer bound to 127.0.0.1:PORT answers every datagram with
  its upper-cased data, sent back to whoever sent it. The client is the
  usual 1.x request/response shape: Pipeline(DataSource([b"ping"]),
  SimplePeer(receiver...), Receiver): the source finishes straight after its
  one request, and the client peer (which 1.x peers did: they ignored
  "control") still receives and emits the answer.

Peers never ended by themselves in 1.x, so the Receiver stops the
scheduler once it has what it waits for (or once anything arrives on its
"control"). Prints what was received and "finished".
"""

import sys

from Axon.Component import component
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Internet.UDP import PostboxPeer, SimplePeer
from Kamaelia.Util.Chargen import Chargen
from Kamaelia.Util.DataSource import DataSource
from Kamaelia.Util.PureTransformer import PureTransformer

PORT = int(sys.argv[2])


class Receiver(component):
    def __init__(self, count):
        super(Receiver, self).__init__()
        self.count = count

    def main(self):
        got = 0
        while got < self.count:
            while self.dataReady("inbox") and got < self.count:
                data, (host, port) = self.recv("inbox")
                print("received", data, "from", host)
                got += 1
            if got < self.count and self.dataReady("control"):
                print("receiver told to stop:", self.recv("control").__class__.__name__)
                break
            if got < self.count:
                self.pause()
                yield 1
        self.scheduler.stop()
        yield 1


if sys.argv[1] == "oneway":
    Pipeline(SimplePeer(localaddr="127.0.0.1", localport=PORT), Receiver(3)).activate()
    Pipeline(
        DataSource([b"one", b"two", b"three"]),
        SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1", receiver_port=PORT),
    ).run()
elif sys.argv[1] == "chargen":
    Pipeline(SimplePeer(localaddr="127.0.0.1", localport=PORT), Receiver(3)).activate()
    Pipeline(
        Chargen(),
        SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1", receiver_port=PORT),
    ).run()
else:
    Graphline(
        PEER=PostboxPeer(localaddr="127.0.0.1", localport=PORT),
        SWAP=PureTransformer(lambda packet: (packet[1][0], packet[1][1], packet[0].upper())),
        linkages={
            ("PEER", "outbox"): ("SWAP", "inbox"),
            ("SWAP", "outbox"): ("PEER", "inbox"),
        }).activate()
    Pipeline(
        DataSource([b"ping"]),
        SimplePeer(localaddr="127.0.0.1", receiver_addr="127.0.0.1", receiver_port=PORT),
        Receiver(1),
    ).run()
print("finished")
