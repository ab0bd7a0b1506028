"""
Kamaelia.Apps.Grey.MaildirServer: a small SMTP server that delivers into a Maildir
=================================================================================

The greylister's embedded default backend: when no real mail server is
configured (``smtp_ip`` empty), the greylister starts one of these on a
loopback port and relays accepted mail to it, so a fresh install works out
of the box. It is built from the same parts as the proxy: ``ServerCore``, a
``MailHandler`` subclass and the pure ``SMTPProtocol``.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.MaildirServer import MaildirServer

    server = MaildirServer(maildir="Maildir", port=0, host="127.0.0.1")
    server.activate()
    print("delivering into Maildir/new, listening on port", server.port)

How does it work?
-----------------
``MaildirDelivery`` (the per-connection handler) speaks ESMTP (PIPELINING,
SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES), accepts any sender and
recipient (it only listens on loopback) and reads each message to its end
(dot-stuffing removed, size and line checks from ``SMTPProtocol``). The
message, preceded by ``Return-Path:`` and ``X-Original-To:`` headers, is
written by a ``ThreadedWorker`` (so the disk never blocks the scheduler) into
``maildir/tmp``, flushed to disk, and renamed into ``maildir/new`` under a
unique name -- the Maildir protocol, so a reader never sees half a message.
Only then is "250 2.0.0 OK queued as <name>" sent; if writing fails the
client gets "451 4.3.0" and can retry.

Termination
-----------
``MaildirServer`` runs until shut down like any ``ServerCore``; its
``ThreadedWorker`` is a child and ends with it.
"""

import itertools
import logging
import os
import socket

from Axon.Ipc import producerFinished
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.MailHandler import MailHandler
from Kamaelia.Apps.Grey.SMTPProtocol import (
    SMTPError,
    SMTPSession,
    allowedParameters,
    encode,
    parseHeloName,
    parseMailFrom,
    parseRcptTo,
)
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Util.ThreadedWorker import ThreadedWorker

_log = logging.getLogger(__name__)

_sequence = itertools.count(1)
EXTENSIONS = ("PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES")


def ensureMaildir(path):
    """Create ``path`` with its tmp, new and cur directories if needed."""
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)


def deliverToMaildir(path, data, now):
    """Write ``data`` into Maildir ``path`` safely; returns the file name in ``new``."""
    ensureMaildir(path)
    name = "%d.M%dP%dQ%d.%s" % (int(now), int((now % 1) * 1e6), os.getpid(), next(_sequence),
                                socket.gethostname().replace("/", "\\057").replace(":", "\\072"))
    temporary = os.path.join(path, "tmp", name)
    with open(temporary, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(temporary, os.path.join(path, "new", name))
    return name


class MaildirDelivery(MailHandler):
    """Per-connection handler of ``MaildirServer``. See the module documentation."""

    servername = "localhost"
    serverid = "Kamaelia Grey Maildir backend"
    maildir = "Maildir"
    worker = None
    max_recipients = 1000

    def __init__(self, **argd):
        for unused in ("peer", "peerport", "localip", "localport"):
            argd.pop(unused, None)
        super().__init__(**argd)
        self.session = SMTPSession()

    def _greet(self, esmtp):
        try:
            name = parseHeloName(self._argument())
        except SMTPError as e:
            self.errorReply(e.reply)
            return False
        self.session.greet(name, esmtp)
        return True

    def handleHelo(self, tokens):
        if self._greet(False):
            self.netPrint("250 %s" % self.servername)

    def handleEhlo(self, tokens):
        if self._greet(True):
            extensions = EXTENSIONS + ("SIZE %d" % self.max_message_size,)
            self.reply(R.Reply(250, None, self.servername, *extensions))

    def handleMail(self, tokens):
        problem = self.session.sequenceError("MAIL")
        if problem is not None:
            return self.errorReply(problem)
        try:
            path = parseMailFrom(self._argument(), allowedParameters(
                ["SIZE", "8BITMIME", "SMTPUTF8"], "MAIL"))
        except SMTPError as e:
            return self.errorReply(e.reply)
        if int(path.params.get("SIZE") or 0) > self.max_message_size:
            return self.reply(R.MESSAGE_TOO_BIG)
        self.session.startTransaction(path)
        self.reply(R.SENDER_OK)

    def handleRcpt(self, tokens):
        problem = self.session.sequenceError("RCPT")
        if problem is not None:
            return self.errorReply(problem)
        try:
            path = parseRcptTo(self._argument())
        except SMTPError as e:
            return self.errorReply(e.reply)
        if len(self.session.recipients) >= self.max_recipients:
            return self.reply(R.TOO_MANY_RECIPIENTS)
        self.session.addRecipient(path)
        self.reply(R.RECIPIENT_OK)

    def handleData(self, tokens):
        problem = self.session.sequenceError("DATA")
        if problem is not None:
            return self.errorReply(problem)
        self.session.startData()
        self.acceptMail()

    def messageReceived(self):
        session = self.session
        headers = "Return-Path: %s\r\nX-Original-To: %s\r\n" % (
            session.sender.bracketed(), ", ".join(r.address for r in session.recipients))
        data = encode(headers) + self.messageData
        session.endData()
        try:
            name = yield from self.worker.call(self, deliverToMaildir, self.maildir, data,
                                               self.scheduler.wallclock())
        except Exception:
            _log.exception("%s: could not deliver into %s", self.name, self.maildir)
            self.reply(R.LOCAL_ERROR)
            return
        self.reply(R.Reply(250, "2.0.0", "OK queued as %s" % name))

    def receiveMessage(self):
        failure = yield from super().receiveMessage()
        if failure is not None and self.session.state == "DATA":
            self.session.endData()
        return failure


class MaildirServer(ServerCore):
    """An SMTP server delivering into ``maildir``. See the module documentation."""

    maildir = "Maildir"
    host = "127.0.0.1"
    port = 0
    protocol = MaildirDelivery

    def __init__(self, **argd):
        super().__init__(**argd)
        ensureMaildir(self.maildir)
        self.worker = ThreadedWorker()
        maildir, worker = self.maildir, self.worker
        self.protocol = type("MaildirDelivery", (MaildirDelivery,),
                             {"maildir": maildir, "worker": worker})

    def main(self):
        self.addChildren(self.worker)
        self.worker.activate()
        yield from super().main()

    def stop(self):
        if not self._stopping:
            self.worker._deliver(producerFinished(self), "control")
        super().stop()


__kamaelia_components__ = (MaildirServer, MaildirDelivery)
