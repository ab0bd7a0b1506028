"""
Kamaelia.Internet.ConnectedSocketAdapter: one connected socket as a component
============================================================================

A ``ConnectedSocketAdapter`` (CSA) turns a connected TCP socket into a
component: bytes sent to its "inbox" are written to the socket, bytes read
from the socket come out of its "outbox". Servers create one per accepted
connection; ``TCPClient`` creates one for its connection.

Example Usage
-------------
You rarely create one yourself: ``ServerCore``/``TCPServer`` and
``TCPClient`` do. Given a connected socket ``sock``::

    csa = ConnectedSocketAdapter(sock)
    Pipeline(csa, SomeProtocolHandler()).activate()   # sketch: usually wired both ways

How does it work?
-----------------
The CSA watches its socket through the scheduler's I/O wait (the
``selectors`` module, epoll on Linux), shared with every other socket and
timer in the process, so it uses no CPU while nothing happens.

Sending: each item arriving on "inbox" is queued and written as the socket
accepts it; partial writes keep the remainder, order is preserved, and
large payloads are sent without copying them repeatedly. ``bytes``,
``bytearray`` and ``memoryview`` are sent as they are; a ``str`` is encoded
as UTF-8 (Kamaelia 1.x on Python 3 looped forever on a ``str``), with
surrogate escapes turned back into the bytes they stand for (text decoded
with ``errors="surrogateescape"`` round-trips). Anything else, including
text that still cannot be encoded, is logged and dropped (or raises with
``crashOnBadDataToSend=True``). The CSA takes at most ``sendBufferSize``
bytes from its inbox ahead of what the socket has accepted; give the inbox
a size limit (``setInboxSize``) and have the producer handle
``noSpaceInBox`` to bound memory end to end when the peer reads slowly.

Receiving: while the socket is readable the CSA reads chunks of up to
``recvSize`` bytes and sends each, as ``bytes``, on "outbox" -- chunks are
whatever TCP delivered, not lines. If the component it delivers to has a
full inbox, the CSA holds the chunk and stops reading the socket until room
appears, so a slow consumer pushes back on the peer through TCP.

Steps: in the common state -- connected, no TLS change under way, nothing
waiting on "control" or "makessl", nothing queued or held, not closing -- a
request and its reply cost no step of the adapter itself. When the socket is
readable, the scheduler's I/O wait calls the adapter, which reads a chunk
and sends it on "outbox" there and then; an item arriving on "inbox" with
nothing queued before it is written inside the producer's ``send`` (the
producer is not woken by that item being taken, as it would be by a
``recv``: it has seen it go; any other producer feeding the inbox is).
Anything else -- the peer's EOF, an error, a full consumer, a socket that
takes only part of a write, a message on "control" or "makessl" -- wakes the
adapter and its step does the work. An error in that inline work is raised
in the adapter's next step, so it is the adapter's crash, never the
producer's. A subclass replacing one of the reading or writing methods
(``handleReceive``, ``flushSendQueue``, ...) gets the step-only path, so its
version is what runs.

TLS: a message on "makessl" upgrades the connection. First everything
already queued for sending is flushed in plain text; then the socket is
wrapped and the handshake runs without blocking; when it completes ``b""``
is sent on "sslready". The message may be a ``TLSRequest(context,
server_side, server_hostname)`` or an ``ssl.SSLContext`` (client side unless
the context is a server context); anything else means "client side, no
certificate verification", which is what Kamaelia 1.x did. (1.x's helper
class ``SSLSocket(sock)``, a connected socket wrapped in client-side TLS,
is still here for code that used it directly.)

Inboxes
-------
- inbox -- data to send (bytes; str is encoded as UTF-8)
- control -- producerFinished: send what is queued, then close (with
  ``halfCloseOnFinish=True``: then shut down only the sending side and keep
  reading until the peer closes); shutdownMicroprocess: close now
- ReadReady, SendReady -- readiness notices from a Selector (accepted and
  treated as hints; the CSA watches its socket itself)
- makessl -- request to upgrade to TLS (see above)

Outboxes
--------
- outbox -- data received from the socket (bytes)
- CreatorFeedback -- ``socketShutdown(self, [sock, howDied])`` when the
  connection ends, for the server or client that created the CSA
- signal -- ``shutdownCSA(self, (self, sock))`` when the connection ends
- _selectorSignal -- unused (kept for wiring compatibility)
- sslready -- ``b""`` once the TLS handshake has completed

Half-close: when the peer shuts down its sending side, the CSA stops
reading. By default (``closeOnPeerEOF=True``) it then closes as soon as the
component it feeds has consumed everything delivered and every reply that
produced has been sent -- so a request followed by the peer's EOF still gets
its answer. With ``closeOnPeerEOF=False`` it instead sends an empty chunk
``b""`` on "outbox" as an end-of-input marker and keeps the sending side
open until told to close on "control" (for protocol handlers that answer
asynchronously).

Termination
-----------
The CSA ends when the peer has closed the connection (see half-close above),
when the connection fails (reset, broken pipe, TLS failure), or on a
shutdown message on "control".
``stop()`` (idempotent, also called by the scheduler when the CSA ends)
stops watching the socket, shuts it down and closes it, and sends the two
notices above. ``howDied`` is None for a normal close by the peer or at our
request, else the exception that ended the connection.
"""

import collections
import errno
import logging
import socket
import ssl

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.IPC import shutdownCSA, socketShutdown

_listpop = list.pop
_NOQUEUE = ()
_log = logging.getLogger(__name__)

whinge = {"socketSendingFailure": True, "socketRecievingFailure": True}
crashAndBurn = {"uncheckedSocketShutdown": True, "receivingDataFailed": True,
                "sendingDataFailed": True}

_WOULDBLOCK = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINPROGRESS)
_RECV_WOULDBLOCK = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)
_SEND_WOULDBLOCK = _RECV_WOULDBLOCK


class TLSRequest(object):
    """What to send to a CSA's "makessl" inbox to upgrade its connection to TLS."""

    def __init__(self, context=None, server_side=False, server_hostname=None):
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname


def _unverifiedClientContext():
    """A client-side TLS context that checks no certificate: what Kamaelia 1.x used."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SSLSocket(object):
    """SSLSocket(sock[, context]) -> ``sock`` (connected) wrapped in client-side TLS.

    Kamaelia 1.x's helper: ``recv``/``send`` go through TLS, and everything
    else (``fileno``, ``close``, ``pending``...) is the wrapped ``ssl``
    socket's. With no ``context`` no certificate is checked, as in 1.x. On a
    non-blocking socket the handshake happens as data flows, and a TLS
    "want read/write" is reported as ``BlockingIOError``, so code written for
    plain non-blocking sockets keeps working. The CSA's own upgrade (the
    "makessl" inbox) does not need this class.
    """

    def __init__(self, sock, context=None):
        blocking = sock.gettimeout() != 0.0
        # wrap_socket takes over the descriptor: ``sock`` itself is closed after this.
        self.sslobj = (context or _unverifiedClientContext()).wrap_socket(
            sock, do_handshake_on_connect=blocking)
        self.sock = self.sslobj

    def recv(self, count):
        try:
            return self.sslobj.recv(count)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError) as e:
            raise BlockingIOError(errno.EAGAIN, str(e)) from e

    def send(self, data):
        try:
            return self.sslobj.send(data)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError) as e:
            raise BlockingIOError(errno.EAGAIN, str(e)) from e

    def __getattr__(self, name):
        if name == "sslobj":          # not set: __init__ failed
            raise AttributeError(name)
        return getattr(self.sslobj, name)


def _tlsParameters(request):
    """(context, server_side, server_hostname) for whatever arrived on "makessl"."""
    if isinstance(request, TLSRequest):
        context, serverSide, hostname = request.context, request.server_side, request.server_hostname
    elif isinstance(request, ssl.SSLContext):
        context, serverSide, hostname = request, request.protocol == ssl.PROTOCOL_TLS_SERVER, None
    else:
        context, serverSide, hostname = None, False, None
    if context is None:
        if serverSide:
            raise ValueError("a server-side TLS upgrade needs a context holding a certificate")
        context = _unverifiedClientContext()
    return context, serverSide, hostname


class ConnectedSocketAdapter(component):
    """A connected socket as a component. See the module documentation."""

    Inboxes = {"inbox": "Data to send to the socket (bytes; str is encoded as UTF-8)",
               "control": "producerFinished: flush then close; shutdownMicroprocess: close now",
               "ReadReady": "Readiness notices from a Selector (hints)",
               "SendReady": "Readiness notices from a Selector (hints)",
               "makessl": "Upgrade the connection to TLS (TLSRequest, SSLContext or anything)"}
    Outboxes = {"outbox": "Data received from the socket (bytes)",
                "CreatorFeedback": "socketShutdown(self, [sock, howDied]) when the connection ends",
                "signal": "shutdownCSA(self, (self, sock)) when the connection ends",
                "_selectorSignal": "Unused; kept for wiring compatibility",
                "sslready": "b'' once a TLS handshake has completed"}

    # The adapter's own state lives in slots, keeping the instance dict small
    # (a server holds one adapter per connection).
    __slots__ = ("_rawSocket", "_sendQueue", "_sendOffset", "_pending", "_heldChunk",
                 "_readable", "_writable", "_watchingRead", "_watchingWrite", "_closing",
                 "_tlsPending", "_handshaking", "_stopped", "_peerClosed", "_wroteEOF",
                 "_inlineError", "_plain", "_inbox", "_control", "_makessl")

    recvSize = 65536
    sendBufferSize = 262144
    readsPerStep = 16
    # Send what is queued at once rather than waiting for the peer's ACK of a
    # previous small segment (Nagle): with delayed ACKs, a request/reply
    # protocol otherwise stalls 40 ms at a time. asyncio does the same. The
    # adapter already joins queued data into large writes.
    tcpNoDelay = True
    closeOnPeerEOF = True
    halfCloseOnFinish = False

    def __init__(self, listensocket, selectorService=None, crashOnBadDataToSend=False,
                 noisyErrors=True, **argd):
        super().__init__(**argd)
        self.socket = listensocket
        self._rawSocket = listensocket
        self.selectorService = selectorService
        self.crashOnBadDataToSend = crashOnBadDataToSend
        self.noisyErrors = noisyErrors
        self.howDied = None
        self._sendQueue = _NOQUEUE      # a deque once something waits to be sent
        self._sendOffset = 0
        self._pending = 0
        self._heldChunk = None
        self._readable = False
        self._writable = False
        self._watchingRead = False
        self._watchingWrite = False
        self._closing = None
        self._tlsPending = None
        self._handshaking = False
        self._stopped = False
        self._peerClosed = False
        self._wroteEOF = False
        self._inlineError = None
        self._plain = False
        inboxes = self.inboxes
        self._inbox = inboxes["inbox"].storage
        self._control = inboxes["control"].storage
        self._makessl = inboxes["makessl"].storage
        cls = type(self)
        if "_inlineIO" not in cls.__dict__:
            cls._inlineIO = cls._canWorkInline()
        if cls._inlineIO:
            # Data for the socket is written as it arrives, a chunk read is
            # delivered from the I/O wait, and the consumer taking a chunk
            # wakes this adapter only if it waits for that: see "Inline work".
            self._inbox.notify = self._inboxArrived
            self._control.notify = self._makessl.notify = self._signalArrived
            self.outboxes["outbox"].notify = self._outboxTaken
        try:
            listensocket.setblocking(False)
            if self.tcpNoDelay and listensocket.family in (socket.AF_INET, socket.AF_INET6) \
                    and listensocket.type == socket.SOCK_STREAM:
                listensocket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            self.howDied = e

    # -- readiness, from the scheduler's I/O wait --------------------------------

    def _onReadable(self):
        if self._plain:
            # Inline read (see "Inline work"): deliver the chunk now, from the
            # I/O wait; no step of this adapter is needed.
            try:
                if self._readInline():
                    return
            except Exception as e:
                self._inlineError = e
            self._plain = False
        self._readable = True
        self._deliveryWake()

    def _onWritable(self):
        self._writable = True
        self._deliveryWake()

    def _watchRead(self, on):
        if on != self._watchingRead:
            self._watchingRead = on
            if on:
                self.scheduler.addReader(self.socket, self._onReadable)
            else:
                self.scheduler.removeReader(self.socket)

    def _watchWrite(self, on):
        if on != self._watchingWrite:
            self._watchingWrite = on
            if on:
                self.scheduler.addWriter(self.socket, self._onWritable)
            else:
                self.scheduler.removeWriter(self.socket)

    # -- inline work: outside the adapter's own steps --------------------------------
    #
    # In the plain state (``_plain``: connected, no TLS change under way,
    # nothing waiting on "control" or "makessl", no chunk held, not closing,
    # the peer not finished) the round trip needs no step of the adapter:
    #
    # * readable: the I/O wait's callback reads one chunk and sends it on
    #   "outbox" (``_readInline``);
    # * an item arriving on "inbox" with nothing queued before it is written
    #   at once, inside the producer's ``send`` (``_inboxArrived``);
    # * the consumer taking a chunk from "outbox" wakes the adapter only when
    #   it is not plain (``_outboxTaken``): a held chunk or the wait for the
    #   consumer after the peer's EOF needs that wake.
    #
    # Anything else -- an error, the peer's EOF, a full consumer, a partial
    # write, a message on "control" or "makessl" -- clears ``_plain`` and wakes
    # the adapter, whose step does the work as before and sets ``_plain``
    # again when it pauses in the plain state. An exception in inline work is
    # raised again in the adapter's next step, so it crashes the adapter, not
    # the producer or the scheduler.

    # The methods the inline paths stand in for: a subclass replacing one of
    # them gets the step-only path, so that its version is what runs. (One
    # replacing ``main`` without running this class's never sets ``_plain``.)
    _INLINE_METHODS = ("handleReceive", "_saferecv", "_deliver_out", "_safesend", "_toBytes",
                       "_takeFromInbox", "flushSendQueue", "handleControl", "unpause",
                       "_deliveryWake")

    @classmethod
    def _canWorkInline(cls):
        base = ConnectedSocketAdapter
        return all(getattr(cls, name) is getattr(base, name) for name in cls._INLINE_METHODS)

    def _steady(self):
        """True in the plain state (see "Inline work")."""
        return (self._inlineIO and self._watchingRead and self.howDied is None and not self._stopped
                and self._closing is None and self._tlsPending is None and not self._handshaking
                and not self._peerClosed and self._heldChunk is None and not self._control
                and not self._makessl and not self._sendQueue and self._inlineError is None)

    def _readInline(self):
        """Read one chunk and deliver it; False if the adapter's step must take over."""
        try:
            chunk = self.socket.recv(self.recvSize)
        except _RECV_WOULDBLOCK:
            return True
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            chunk = b""
        except OSError as e:
            self._failed(e, "receiving")
            return False
        if not chunk:
            self._peerEOF()
            return False
        try:
            self.send(chunk, "outbox")
        except noSpaceInBox:
            self._heldChunk = chunk
            self._watchRead(False)
            return False
        if self.socket is not self._rawSocket and self._tlsBuffered():
            self._readable = True
            return False
        return True

    def _inboxArrived(self):
        """Notify of "inbox": write the item at once when nothing is queued before it.

        This runs inside the producer's ``send``. The producer is not woken
        by the item being taken (it is running, and the item it has just sent
        is already gone when ``send`` returns); other producers are, as by a
        ``recv``.
        """
        inbox = self._inbox
        if self._plain and len(inbox) == 1 and inbox.size is None:
            try:
                if self._sendInline(inbox):
                    return
            except Exception as e:
                self._inlineError = e
            self._plain = False
        self._deliveryWake()

    def _sendInline(self, inbox):
        current = getattr(self.scheduler, "_current", None)
        item = _listpop(inbox, 0)
        for wake in inbox.wakeOnPop:
            if getattr(wake, "__self__", None) is not current:
                wake()
        data = item if item.__class__ is bytes else self._toBytes(item)
        if not data:
            return True
        try:
            sent = self.socket.send(data)
        except _SEND_WOULDBLOCK:
            sent = 0
        except OSError as e:
            self._failed(e, "sending")
            return False
        if sent < len(data):
            self._sendQueue = collections.deque((data,))
            self._sendOffset = sent
            self._pending += len(data) - sent
            return False
        return True

    def _signalArrived(self):
        """Notify of "control" and "makessl": the adapter's step handles it."""
        self._plain = False
        self._deliveryWake()

    def _outboxTaken(self):
        """Notify of "outbox": the consumer took a chunk; see "Inline work"."""
        if not self._plain:
            self._deliveryWake()

    # -- the original's helper methods -----------------------------------------

    def handleControl(self):
        """Act on control messages; True once the connection should close."""
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, shutdownMicroprocess):
                self._closing = "now"
            elif isinstance(message, producerFinished) and self._closing is None:
                self._closing = "flush"
        if self._closing == "now":
            return True
        return (self._closing == "flush" and not self._sendQueue and not self.dataReady("inbox")
                and (not self.halfCloseOnFinish or self._peerClosed))

    def checkSocketStatus(self):
        """Take the readiness notices waiting on "ReadReady"/"SendReady" (hints: the CSA
        watches its socket itself, so they only make it try at once)."""
        while self.dataReady("ReadReady"):
            self.recv("ReadReady")
            self._readable = True
        while self.dataReady("SendReady"):
            self.recv("SendReady")
            self._writable = True

    def passOnShutdown(self):
        """Send the end-of-connection notices (once)."""
        self.send(socketShutdown(self, [self._rawSocket, self.howDied]), "CreatorFeedback")
        self.send(shutdownCSA(self, (self, self._rawSocket)), "signal")

    def _toBytes(self, data):
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        if isinstance(data, memoryview):
            return data.tobytes()
        if isinstance(data, str):
            try:
                return data.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError as e:
                if self.crashOnBadDataToSend:
                    raise
                _log.error("%s: dropping text that cannot be encoded as UTF-8 (%s): %r",
                           self.name, e.reason, data[:80])
                return b""
        if self.crashOnBadDataToSend:
            raise TypeError("ConnectedSocketAdapter can only send bytes or str, got %r" % (data,))
        _log.error("%s: dropping data that is neither bytes nor str: %r", self.name, data)
        return b""

    def _takeFromInbox(self, limit=-1):
        """Move data from "inbox" to the send queue while under ``limit`` (sendBufferSize)."""
        if limit == -1:
            limit = self.sendBufferSize
        while (limit is None or self._pending < limit) and self.dataReady("inbox"):
            data = self._toBytes(self.recv("inbox"))
            if data:
                if self._sendQueue is _NOQUEUE:
                    self._sendQueue = collections.deque()
                self._sendQueue.append(data)
                self._pending += len(data)

    def _safesend(self, sock, data):
        """Send what the socket accepts of ``data``; returns the count (0 if it would block)."""
        try:
            return sock.send(data)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError, InterruptedError):
            return 0

    def flushSendQueue(self):
        """Write queued data until done or the socket would block; False if it failed."""
        queue = self._sendQueue
        sock = self.socket
        while queue:
            first = queue[0]
            if self._sendOffset == 0 and len(queue) > 1 and len(first) < 16384:
                batch = [queue.popleft()]
                size = len(first)
                while queue and size + len(queue[0]) <= 65536:
                    chunk = queue.popleft()
                    batch.append(chunk)
                    size += len(chunk)
                first = b"".join(batch)
                queue.appendleft(first)
            offset = self._sendOffset
            try:
                sent = self._safesend(sock, memoryview(first)[offset:] if offset else first)
            except OSError as e:
                self._failed(e, "sending")
                return False
            if sent == 0:
                self._watchWrite(True)
                return True
            self._pending -= sent
            self._sendOffset += sent
            if self._sendOffset >= len(first):
                queue.popleft()
                self._sendOffset = 0
        self._sendQueue = _NOQUEUE
        if self._watchingWrite:
            self._watchWrite(False)
        return True

    def _saferecv(self):
        """One recv: bytes, b"" at end of stream, or None if it would block."""
        try:
            return self.socket.recv(self.recvSize)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            return None
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""          # TLS closed by the peer (cleanly or not): end of stream

    def _deliver_out(self, chunk):
        """Send a received chunk on "outbox"; False (chunk held) if the consumer is full."""
        try:
            self.send(chunk, "outbox")
            return True
        except noSpaceInBox:
            self._heldChunk = chunk
            return False

    def handleReceive(self):
        """Read and pass on what the socket has; False once the connection has ended."""
        if self._heldChunk is not None:
            chunk, self._heldChunk = self._heldChunk, None
            if not self._deliver_out(chunk):
                self._watchRead(False)
                return True
        if not self._readable:
            return True
        for _ in range(self.readsPerStep):
            try:
                chunk = self._saferecv()
            except OSError as e:
                self._failed(e, "receiving")
                return False
            if chunk is None:
                self._readable = False
                break
            if not chunk:
                self._peerEOF()
                return True
            if not self._deliver_out(chunk):
                self._watchRead(False)
                return True
            if len(chunk) < self.recvSize and not self._tlsBuffered():
                # The kernel had no more: another recv would only fail with
                # EAGAIN. The (level-triggered) I/O wait reports more data.
                self._readable = False
                break
        if not self._watchingRead:
            self._watchRead(True)
        return True

    def _peerEOF(self):
        """The peer shut down its sending side: stop reading."""
        self._peerClosed = True
        self._readable = False
        self._watchRead(False)
        if not self.closeOnPeerEOF:
            # The end-of-input marker waits, like data, if the consumer is full.
            self._deliver_out(b"")

    def _tlsBuffered(self):
        """True when the TLS layer holds decrypted bytes not yet read."""
        sock = self.socket
        return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0

    def _failed(self, error, doing):
        self.howDied = error
        if self.noisyErrors and not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            _log.warning("%s: error while %s: %s", self.name, doing, error)
        else:
            _log.debug("%s: connection ended while %s: %s", self.name, doing, error)

    # -- TLS ----------------------------------------------------------------------

    def _startTLS(self):
        context, serverSide, hostname = _tlsParameters(self._tlsPending)
        self._tlsPending = None
        self._watchRead(False)
        self._watchWrite(False)
        self.socket = context.wrap_socket(self.socket, server_side=serverSide,
                                          server_hostname=hostname,
                                          do_handshake_on_connect=False)
        self._handshaking = True
        self._readable = self._writable = True

    def _continueHandshake(self):
        """Advance the TLS handshake; False if it failed."""
        try:
            self.socket.do_handshake()
        except ssl.SSLWantReadError:
            self._watchWrite(False)
            self._watchRead(True)
            return True
        except ssl.SSLWantWriteError:
            self._watchWrite(True)
            return True
        except (ssl.SSLError, OSError) as e:
            self._failed(e, "negotiating TLS")
            return False
        self._handshaking = False
        self._watchWrite(False)
        self._watchRead(True)
        self._readable = True
        self.send(b"", "sslready")
        return True

    # -- main loop ------------------------------------------------------------------

    def canDoSomething(self):
        """True when there is work that does not need to wait."""
        return bool((self._readable and self._heldChunk is None) or self.dataReady("inbox")
                    or self.dataReady("control") or self.dataReady("makessl"))

    def _drainedAfterPeerEOF(self):
        """After the peer's EOF: everything delivered was consumed and every reply sent."""
        return (self._peerClosed and self.closeOnPeerEOF and self._heldChunk is None
                and not len(self.outboxes["outbox"]) and not self.dataReady("inbox")
                and not self._sendQueue)

    def main(self):
        inboxes = self.inboxes
        inbox = inboxes["inbox"].storage
        control = inboxes["control"].storage
        makessl = inboxes["makessl"].storage
        hints = (inboxes["ReadReady"].storage, inboxes["SendReady"].storage)
        if self.howDied is None:
            self._watchRead(True)
        while self.howDied is None:
            if self._inlineError is not None:
                error, self._inlineError = self._inlineError, None
                raise error
            # The box storages are read directly (len() is dataReady, pop(0) is
            # recv): this loop runs twice per request/response on every connection.
            for hint in hints:
                while hint:
                    hint.pop(0)
            if (control or self._closing is not None) and self.handleControl():
                break
            while makessl and self._tlsPending is None and not self._handshaking:
                # Whatever is already queued was sent before the request: it goes
                # out in plain text; anything later waits for the handshake.
                self._takeFromInbox(limit=None)
                self._tlsPending = makessl.pop(0)
            if self._handshaking:
                if not self._continueHandshake():
                    break
                if self._handshaking:
                    self.pause()
                    yield 1
                    continue
            if inbox and self._tlsPending is None:
                self._takeFromInbox()
            if self._sendQueue and not self.flushSendQueue():
                break
            if self._tlsPending is not None:
                if self._sendQueue:
                    self._watchRead(False)
                else:
                    try:
                        self._startTLS()
                    except (ValueError, OSError, ssl.SSLError) as e:
                        self._failed(e, "starting TLS")
                        break
                    continue
            elif not self._peerClosed:
                if (self._readable or self._heldChunk is not None) and not self.handleReceive():
                    break
            elif self._heldChunk is not None:
                self.handleReceive()
            if self._peerClosed and self._drainedAfterPeerEOF():
                break
            if self._closing == "flush" and not self._sendQueue and not inbox:
                if not self.halfCloseOnFinish or self._peerClosed:
                    break
                if not self._wroteEOF:
                    self._wroteEOF = True
                    try:
                        self.socket.shutdown(socket.SHUT_WR)
                    except OSError as e:
                        self._failed(e, "half-closing")
                        break
            if not ((self._readable and self._heldChunk is None) or inbox or control or makessl):
                self._plain = self._steady()
                self.pause()
            yield 1
            self._plain = False

    def stop(self):
        """Stop watching the socket, close it and send the end-of-connection notices (once)."""
        if not self._stopped:
            self._stopped = True
            self._plain = False
            scheduler = self.scheduler
            if self._watchingRead:
                scheduler.removeReader(self.socket)
            if self._watchingWrite:
                scheduler.removeWriter(self.socket)
            self._watchingRead = self._watchingWrite = False
            try:
                self.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                _log.debug("%s: socket already disconnected at shutdown", self.name)
            self.socket.close()
            self.passOnShutdown()
        super().stop()


__kamaelia_components__ = (ConnectedSocketAdapter,)
