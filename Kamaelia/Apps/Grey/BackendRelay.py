"""
Kamaelia.Apps.Grey.BackendRelay: a proxy conversation's connection to the real SMTP server
==========================================================================================

``BackendRelay`` is the part of a ``ConcreteMailHandler`` that talks to the
real mail server: it makes the connection (a ``TCPClient`` linked to the
handler's "tcp_*" boxes), opens the SMTP session with the pure
``SMTPClientEngine`` (banner, EHLO or HELO, XCLIENT), sends commands and
waits for their replies, passes message content on with back-pressure,
replays a transaction on a new connection, and closes the connection. The
handler keeps the conversation with the client and asks the relay.

Example Usage
-------------
The relay works from inside a handler's generator hooks::

    class Proxy(ConcreteMailHandler):
        def handleNoop(self, tokens):
            if (yield from self.relay.ensure()):
                reply = yield from self.relay.command("NOOP")
                if reply is not None:
                    self.relayReply(reply)
                    return
            self.reply(R.BACKEND_UNAVAILABLE)

How does it work?
-----------------
The relay has no scheduler thread of its own: its generator methods
(``connect``, ``ensure``, ``command``, ``readReply``, ``sendBytes``,
``sync``, ``resetTransaction``) run inside the handler's ``main`` with
``yield from``, and wait through the handler's ``waitFor`` (so a control
message or the client going away is noticed meanwhile) with the handler's
timeouts: ``connect_timeout`` plus ``backend_timeout`` for the banner,
``backend_timeout`` for a reply, or the timeout given.

Settings are the handler's: ``smtp_ip``, ``smtp_port``, ``servername``
(the name the proxy greets the server with), ``xclient`` (use XCLIENT if
offered), ``backendInboxSize`` (how much the server's connection may queue,
for back-pressure) and ``makeBackendClient()`` (the component that
connects; tests give a fake). XCLIENT needs the client's verified name: the
relay asks the handler's ``lookUpClientName()``.

What each server offered is remembered in the handler's ``CapabilityCache``
(shared by all conversations of the handler class), so a client's EHLO can
be answered while the server is down; a server that offers XCLIENT and
refuses it is warned about once.

A server that cannot be reached, says something that is not SMTP, stays
silent past the timeout or hangs up makes ``readReply``/``command`` return
None (the connection is then dropped, and a warning logged with the
handler's ``logContext()``); a server that spoke unasked between
transactions (a 421 before closing an idle connection) is dropped by
``ensure``, which connects afresh. ``inTransaction`` says whether the
server holds the current transaction's envelope; ``sync(session)``
replays MAIL and every accepted RCPT if it does not.

Termination
-----------
``drop(politely=True)`` says QUIT (if the connection is up and its queue has
room), tells the ``TCPClient`` to close and unlinks it; whatever it had
already delivered is discarded.
"""

import logging

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Apps.Grey.SMTPClientEngine import (
    NEED_CLIENT_NAME,
    READY,
    BackendProtocolError,
    ClientInfo,
    Failed,
    SMTPClientEngine,
    command_bytes,
    envelope_commands,
)

_log = logging.getLogger(__name__)

BACKEND_UNAVAILABLE = "BACKEND UNAVAILABLE"
BACKEND_FAILED = "BACKEND FAILED"


class BackendRelay(object):
    """The connection from ``owner`` (a ConcreteMailHandler) to the real server. See the module docs."""

    def __init__(self, owner, cache):
        self.owner = owner
        self.cache = cache
        self.client = None
        self.engine = None
        self.up = False
        self.error = None
        self.inTransaction = False
        self.lastReply = None

    @property
    def server(self):
        return (self.owner.smtp_ip, self.owner.smtp_port)

    @property
    def capabilities(self):
        """The extensions the server offered on this connection ({} when not connected)."""
        return self.engine.capabilities if self.engine is not None else {}

    @property
    def xclientUsed(self):
        """True if the server took XCLIENT on this connection (it sees the real client)."""
        return self.engine is not None and self.engine.xclient_used

    def knownCapabilities(self):
        """What the server offers: on this connection if up, else as remembered."""
        if self.up:
            return self.capabilities
        return self.cache.recall(self.server)

    # -- bytes ---------------------------------------------------------------------------------

    def absorb(self):
        """Take what the server's connection delivered into the engine; notice it ending."""
        owner = self.owner
        while owner.dataReady("tcp_inbox"):
            chunk = owner.recv("tcp_inbox")
            if chunk and self.engine is not None:
                self.engine.receive_data(chunk)
        while owner.dataReady("tcp_control"):
            message = owner.recv("tcp_control")
            if isinstance(message, producerFinished):
                self.up = False
                if message.message is not None:
                    self.error = message.message

    def readReply(self, timeout=None, failure=None):
        """Generator: the server's next complete reply, or None if it failed (and is dropped).

        The wait is counted in the process's metrics, if any: its latency,
        or an error of kind ``failure`` (default: timeout, protocol or
        closed, by what went wrong).
        """
        owner = self.owner
        found = []

        def ready():
            self.absorb()
            try:
                reply = self.engine.next_reply() if self.engine is not None else None
            except BackendProtocolError as e:
                self.error = e
                self.up = False
                return True
            if reply is not None:
                found.append(reply)
                return True
            return not self.up

        started = owner.scheduler.clock()
        yield from owner.waitFor(ready, owner.backend_timeout if timeout is None else timeout)
        metrics = Metrics.lookup(owner.tracker)
        if not found:
            if self.up:
                self.error = TimeoutError("no reply from %s port %s" % self.server)
            if metrics is not None:
                metrics.backendError(failure or (
                    "timeout" if isinstance(self.error, TimeoutError) else
                    "protocol" if isinstance(self.error, BackendProtocolError) else "closed"))
            _log.warning("%s: real SMTP server %s:%s failed: %s", owner.logContext(),
                         self.server[0], self.server[1], self.error)
            self.drop(politely=False)
            self.lastReply = None
            return None
        reply = self.lastReply = found[0]
        if metrics is not None:
            metrics.observeBackend(owner.scheduler.clock() - started)
        owner.noteToDebugLog("backend: " + " / ".join(reply.toLines()))
        return reply

    def sendBytes(self, data):
        """Generator: send bytes to the server, waiting while its queue is full; False if it is gone."""
        if not self.up:
            return False
        return (yield from self.owner.sendWhenRoom(data, "tcp_outbox", self._downNow))

    def _downNow(self):
        """While waiting to send: take in what the server said; True once it is gone."""
        self.absorb()
        return not self.up

    def command(self, line, timeout=None):
        """Generator: send a command line; its reply, or None if the server failed."""
        self.owner.noteToDebugLog("to backend: " + line)
        if not (yield from self.sendBytes(command_bytes(line))):
            return None
        return (yield from self.readReply(timeout))

    # -- the connection ------------------------------------------------------------------------

    def connect(self):
        """Generator: connect and open the SMTP session (banner, EHLO, XCLIENT); True if ready."""
        self.drop()
        owner = self.owner
        client = owner.makeBackendClient()
        owner.link((owner, "tcp_outbox"), (client, "inbox"))
        owner.link((owner, "tcp_signal"), (client, "control"))
        owner.link((client, "outbox"), (owner, "tcp_inbox"))
        owner.link((client, "signal"), (owner, "tcp_control"))
        client.activate()
        self.client = client
        self.up = True
        self.error = None
        session = owner.session
        who = ClientInfo(str(owner.peer), owner.peerport, session.heloName, session.esmtp)
        engine = self.engine = SMTPClientEngine(owner.servername, who if owner.xclient else None)
        reply = yield from self.readReply(owner.connect_timeout + owner.backend_timeout,
                                          failure="connect")
        if reply is None:
            return False
        action = engine.handle(reply)
        if not isinstance(action, Failed):
            # Back-pressure: the server's connection queues little, so a slow server slows the client.
            csa = getattr(client, "CSA_instance", None)
            if csa is not None:
                csa.setInboxSize("inbox", owner.backendInboxSize)
        while action is not READY:
            if isinstance(action, Failed):
                _log.warning("%s: the real SMTP server %s:%s %s: %s", owner.logContext(),
                             self.server[0], self.server[1], action.why, action.reply)
                self.drop()
                return False
            if action is NEED_CLIENT_NAME:
                name = yield from owner.lookUpClientName()
                action = engine.client_name(name.xclientName, name.xclientReverseName)
                continue
            reply = yield from self.command(action.line)
            if reply is None:
                return False
            action = engine.handle(reply)
        if engine.xclient_refusal is not None and self.cache.first_xclient_refusal(self.server):
            _log.warning("%s: the real SMTP server %s:%s offers XCLIENT but refused it: %s "
                         "(is the proxy in its smtpd_authorized_xclient_hosts?); it will "
                         "see the proxy as the client", owner.logContext(), self.server[0],
                         self.server[1], engine.xclient_refusal)
        self.cache.remember(self.server, engine.capabilities)
        self.inTransaction = False
        return True

    def ensure(self):
        """Generator: a ready connection (connecting if there is none); True if there is one."""
        # Between transactions the server may have closed the connection (a restart, its
        # idle timeout), perhaps saying 421 first: notice it and connect afresh.
        self.absorb()
        if self.up and self.engine is not None and self.engine.buffered:
            self.drop(politely=False)
        if self.client is not None and self.up:
            return True
        return (yield from self.connect())

    def sync(self, session):
        """Generator: a connection holding the envelope so far; None, or what went wrong.

        The server is told of a transaction's sender with its first
        recipient: MAIL is sent (with every RCPT already accepted, if the
        connection was lost and made again) before the caller's command.
        What went wrong is "BACKEND UNAVAILABLE" (no connection), "BACKEND
        FAILED" (the replay failed; the server is then left with no
        transaction) or, if the server refused the sender when first told
        of it, its ``Reply``.
        """
        if not (yield from self.ensure()):
            return BACKEND_UNAVAILABLE
        sender = session.sender
        if sender is None or self.inTransaction:
            return None
        if session.recipients:
            self.owner.noteToDebugLog("replaying the envelope to the real server")
        for command in envelope_commands(sender, session.recipients):
            reply = yield from self.command(command)
            if reply is None:
                return BACKEND_FAILED
            if not reply.isPositive and not session.recipients:
                return reply
            if not reply.isPositive:
                _log.warning("%s: the real SMTP server refused the replayed %r: %s",
                             self.owner.logContext(), command, reply)
                yield from self.resetTransaction()
                return BACKEND_FAILED
            self.inTransaction = True
        return None

    def resetTransaction(self):
        """Generator: RSET the server's transaction (dropping the connection if that fails)."""
        self.inTransaction = False
        if self.client is not None and self.up:
            if (yield from self.command("RSET")) is None:
                self.drop(politely=False)

    def drop(self, politely=True):
        """Close the connection (with QUIT if ``politely``); discard what it delivered."""
        client = self.client
        if client is None:
            return
        owner = self.owner
        if politely and self.up:
            try:
                owner.send(b"QUIT\r\n", "tcp_outbox")
            except noSpaceInBox:
                _log.debug("%s: backend queue full; closing without QUIT", owner.name)
        owner.send(producerFinished(owner), "tcp_signal")
        owner.unlink(thecomponent=client)
        while owner.dataReady("tcp_inbox"):
            owner.recv("tcp_inbox")
        while owner.dataReady("tcp_control"):
            owner.recv("tcp_control")
        self.client = None
        self.engine = None
        self.up = False
        self.inTransaction = False
