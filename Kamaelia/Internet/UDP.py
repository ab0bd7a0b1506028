"""
Kamaelia.Internet.UDP: send and receive UDP datagrams
=====================================================

* ``SimplePeer(localaddr, localport, receiver_addr, receiver_port)`` -- sends
  each item arriving on "inbox" as one datagram to the receiver, and emits
  every datagram it receives as ``(data, (host, port))`` on "outbox".
* ``TargettedPeer(...)`` -- the same, and an ``(addr, port)`` arriving on
  "target" changes where datagrams go.
* ``PostboxPeer(localaddr, localport)`` -- each item on "inbox" is
  ``(host, port, data)``: send ``data`` there.
* ``BasicPeer(localaddr, localport)`` -- the base class; on its own, items
  on "inbox" are ``(data, (host, port))``, the same shape it emits, so it
  can reply to whoever sent a datagram.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Internet.UDP import SimplePeer
    from Kamaelia.Util.DataSource import DataSource

    # Sends two datagrams to 127.0.0.1:1600, then goes on listening for
    # replies: a peer outlives its source, as in 1.x, so this runs until
    # interrupted (or until the peer gets shutdownMicroprocess on "control").
    Pipeline(DataSource([b"hello", b"world"]),
             SimplePeer(receiver_addr="127.0.0.1", receiver_port=1600)).run()

How does it work?
-----------------
The socket is bound when the peer is constructed (``localport`` then holds
the real port, also for 0) and watched through the scheduler's I/O wait, so
an idle peer uses no CPU (Kamaelia 1.x spun in a busy loop). Datagrams of
up to 65535 bytes are received whole (1.x truncated them at 1024 bytes).
Items to send may be ``bytes`` or ``str`` (encoded as UTF-8). A send or
receive error (e.g. ICMP port unreachable reported on the next call) is
logged at debug level and the peer carries on.

As in 1.x, a peer does not stop when the component feeding it finishes:
``producerFinished`` on "control" is ignored, so in
``Pipeline(DataSource([request]), SimplePeer(...), handler)`` the answer
still arrives after the source has finished.

Inboxes
-------
- inbox -- data to send (SimplePeer/TargettedPeer) or ``(host, port, data)``
  (PostboxPeer)
- target -- (TargettedPeer) ``(addr, port)`` to send to from now on
- control -- ``shutdownMicroprocess`` stops the peer (``producerFinished`` is
  ignored, as 1.x ignored control)

Outboxes
--------
- outbox -- ``(data, (host, port))`` for every datagram received
- signal -- the shutdown message that stopped the peer

Termination
-----------
On ``shutdownMicroprocess`` on "control" (forwarded to "signal"), after
sending what is already waiting on "inbox", or when stopped; the socket is
then closed. (Kamaelia 1.x peers never ended.)
"""

import logging
import socket

from Axon.Component import component
from Axon.Ipc import shutdownMicroprocess

_log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535


def _family(address):
    return socket.AF_INET6 if address and ":" in address else socket.AF_INET


class BasicPeer(component):
    """Base class: a bound UDP socket watched for incoming datagrams."""

    Inboxes = {"inbox": "Data to send",
               "control": "shutdownMicroprocess stops the peer (producerFinished is ignored)"}
    Outboxes = {"outbox": "(data, (host, port)) for each datagram received",
                "signal": "The shutdownMicroprocess that stopped the peer"}

    localaddr = "0.0.0.0"
    localport = 0

    def __init__(self, localaddr=None, localport=None, **argd):
        super().__init__(**argd)
        if localaddr is not None:
            self.localaddr = localaddr
        if localport is not None:
            self.localport = localport
        if type(self) is BasicPeer:
            self._openSocket()

    def _openSocket(self, family=None):
        sock = socket.socket(family or _family(self.localaddr), socket.SOCK_DGRAM)
        sock.bind((self.localaddr, self.localport))
        sock.setblocking(False)
        self.localport = sock.getsockname()[1]
        self.sock = sock
        self._readable = False
        return sock

    def _onReadable(self):
        self._readable = True
        self._deliveryWake()

    def receive_packet(self, sock):
        """Receive every waiting datagram and send each on "outbox".

        Never blocks, even on a blocking socket (MSG_DONTWAIT), as 1.x's
        subclasses calling it from their own loops expect. A socket error
        (e.g. an ICMP "port unreachable" for an earlier send) is logged and
        ends the call; the I/O wait reports any datagram still waiting.
        """
        self._readable = False
        while True:
            try:
                data, address = sock.recvfrom(MAX_DATAGRAM, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                _log.debug("%s: receive error: %s", self.name, e)
                return
            self.send((data, address[:2]), "outbox")

    def sendTo(self, data, address):
        """Send one datagram (bytes or str) to ``address``."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.sendto(data, address)
        except OSError as e:
            _log.debug("%s: send to %s failed: %s", self.name, address, e)

    def shutdownRequested(self):
        """True (after forwarding it) if ``shutdownMicroprocess`` has arrived on "control".

        Anything else there, ``producerFinished`` included, is discarded: a
        peer outlives the component feeding it, as in 1.x.
        """
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, shutdownMicroprocess):
                self.send(message, "signal")
                return True
        return False

    def handleInbox(self):
        """Send each ``(data, (host, port))`` waiting on "inbox" (the shape received)."""
        while self.dataReady("inbox"):
            data, address = self.recv("inbox")
            self.sendTo(data, address)

    def handleOtherInboxes(self):
        """Hook for subclasses with extra inboxes."""

    def main(self):
        # Kept: once stopped, a component's ``scheduler`` is a null one.
        scheduler = self.scheduler
        scheduler.addReader(self.sock, self._onReadable)
        try:
            while True:
                self.handleOtherInboxes()
                self.handleInbox()
                if self.shutdownRequested():
                    self.handleInbox()
                    return
                if self._readable:
                    self.receive_packet(self.sock)
                if not self._readable:
                    self.pause()
                yield 1
        finally:
            try:
                scheduler.removeReader(self.sock)
            finally:
                self.sock.close()


class SimplePeer(BasicPeer):
    """Sends "inbox" items to one receiver; emits what it receives."""

    def __init__(self, localaddr="0.0.0.0", localport=0, receiver_addr="0.0.0.0",
                 receiver_port=0, **argd):
        super().__init__(localaddr, localport, **argd)
        self.receiver_addr = receiver_addr
        self.receiver_port = receiver_port
        self._openSocket(_family(receiver_addr) if ":" in receiver_addr else None)

    def handleInbox(self):
        while self.dataReady("inbox"):
            self.sendTo(self.recv("inbox"), (self.receiver_addr, self.receiver_port))


class TargettedPeer(SimplePeer):
    """A ``SimplePeer`` whose receiver can be changed through the "target" inbox."""

    Inboxes = dict(SimplePeer.Inboxes, target="(addr, port) to send to from now on")

    def handleOtherInboxes(self):
        while self.dataReady("target"):
            self.receiver_addr, self.receiver_port = self.recv("target")


class PostboxPeer(BasicPeer):
    """Each "inbox" item is ``(host, port, data)``: send ``data`` to ``(host, port)``."""

    Inboxes = dict(BasicPeer.Inboxes, inbox="(host, port, data) to send")

    def __init__(self, localaddr="0.0.0.0", localport=0, **argd):
        super().__init__(localaddr, localport, **argd)
        self._openSocket()

    def handleInbox(self):
        while self.dataReady("inbox"):
            host, port, data = self.recv("inbox")
            self.sendTo(data, (host, port))


__kamaelia_components__ = (SimplePeer, TargettedPeer, PostboxPeer)
