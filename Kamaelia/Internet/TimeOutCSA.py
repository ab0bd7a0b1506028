"""
Kamaelia.Internet.TimeOutCSA: close connections that go quiet
=============================================================

``NoActivityTimeout(ConnectedSocketAdapter, timeout=60)`` makes a drop-in
replacement for a server's CSA class that closes a connection when nothing
has been sent or received on it for ``timeout`` seconds.

Example Usage
-------------
::

    from Kamaelia.Chassis.ConnectedServer import MoreComplexServer
    from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
    from Kamaelia.Internet.TimeOutCSA import NoActivityTimeout
    from Kamaelia.Protocol.EchoProtocol import EchoProtocol

    class QuietEchoServer(MoreComplexServer):
        protocol = EchoProtocol
        port = 1500
        class TCPS(MoreComplexServer.TCPS):
            CSA = NoActivityTimeout(ConnectedSocketAdapter, timeout=30)

    QuietEchoServer().run()

How does it work?
-----------------
``InactivityChassis(component, timeout)`` wraps a CSA in a ``Graphline``:

* ``ActivityMonitor`` sits on both data paths (to the socket and from it),
  passing everything through and sending "RESET" on "observed" for each
  message;
* ``ResettableSender`` restarts its countdown on every "RESET" and, when
  ``timeout`` seconds pass without one, sends ``producerFinished()`` to the
  CSA's "control", which closes the connection.

The Graphline exposes the CSA's boxes ("inbox", "control", "ReadReady",
"SendReady", "makessl" / "outbox", "CreatorFeedback", "signal", "sslready"),
so the TCPServer and the protocol handler cannot tell it from a plain CSA.

Kamaelia 1.x ran one OS thread per connection for the countdown (a
``threadedcomponent`` polling every second); here ``ResettableSender`` is an
ordinary component using a scheduler timer, so thousands of connections
cost no threads and an idle server no CPU.

``NoActivityTimeout(someclass, timeout, debug)`` returns a function meant to
be the ``CSA`` class attribute of a ``TCPServer`` subclass (it is called with
the server as its first argument); ``ExtendedInactivity(someclass)`` returns
one taking ``timeout``/``debug`` per call.

``PeriodicWakeup`` sends ``message`` every ``interval`` seconds;
``WakeableIntrospector`` lists the running components each time its inbox
receives something and ends when nothing but itself and its companions is
left. ``EchoServer`` is an echo server on port 1500 whose connections time
out after 2 s.

Termination
-----------
``ResettableSender`` ends after sending its message; ``ActivityMonitor`` on
``producerFinished`` or ``shutdownCSA`` on "control" (forwarded to
"signal"); the chassis when all three have ended.
"""

import logging
import socket

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.ConnectedServer import MoreComplexServer
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.IPC import shutdownCSA
from Kamaelia.Protocol.EchoProtocol import EchoProtocol

_log = logging.getLogger(__name__)


class ResettableSender(component):
    """Sends ``message`` once ``timeout`` seconds pass with nothing arriving on "inbox"."""

    Inboxes = {"inbox": "Anything: restarts the countdown",
               "control": "Ignored"}
    Outboxes = {"outbox": "``message`` when the countdown expires",
                "signal": "Not used"}

    timeout = 5
    message = "NEXT"
    debug = False

    def _expire(self):
        self._expired = True
        self._deliveryWake()

    def main(self):
        self._expired = False
        timer = self.scheduler.callLater(self.timeout, self._expire)
        while not self._expired:
            if self.dataReady("inbox"):
                while self.dataReady("inbox"):
                    self.recv("inbox")
                timer.cancel()
                timer = self.scheduler.callLater(self.timeout, self._expire)
            while self.dataReady("control"):
                self.recv("control")
            if not self._expired:
                self.pause()
                yield 1
        if self.debug:
            _log.info("%s: no activity for %s s, sending %r", self.name, self.timeout, self.message)
        self.send(self.message, "outbox")


class ActivityMonitor(component):
    """Passes three data paths through and reports activity on "observed"."""

    Inboxes = {"inbox": "Passed to outbox", "inbox2": "Passed to outbox2",
               "inbox3": "Passed to outbox3",
               "control": "producerFinished or shutdownCSA ends it (forwarded to signal)"}
    Outboxes = {"outbox": "From inbox", "outbox2": "From inbox2", "outbox3": "From inbox3",
                "signal": "The shutdown message that ended it",
                "observed": "``message`` for every message passed through"}

    message = "RESET"

    def main(self):
        paths = (("inbox", "outbox"), ("inbox2", "outbox2"), ("inbox3", "outbox3"))
        while True:
            for inbox, outbox in paths:
                while self.dataReady(inbox):
                    self.send(self.recv(inbox), outbox)
                    self.send(self.message, "observed")
            while self.dataReady("control"):
                message = self.recv("control")
                if isinstance(message, (producerFinished, shutdownCSA)):
                    self.send(message, "signal")
                    return
            self.pause()
            yield 1


class PeriodicWakeup(component):
    """Sends ``message`` every ``interval`` seconds until told to stop."""

    Inboxes = {"inbox": "Not used",
               "control": "shutdownMicroprocess or producerFinished stops it"}
    Outboxes = {"outbox": "``message`` every interval", "signal": "The shutdown message"}

    interval = 300
    message = "tick"

    def shutdown(self):
        """True (after forwarding it) if a shutdown message has arrived."""
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, (shutdownMicroprocess, producerFinished)):
                self.send(message, "signal")
                return True
        return False

    def _tick(self):
        self._ticks += 1
        self._timer = self.scheduler.callLater(self.interval, self._tick)
        self._deliveryWake()

    def main(self):
        self._ticks = 0
        self._timer = self.scheduler.callLater(self.interval, self._tick)
        while not self.shutdown():
            while self._ticks:
                self._ticks -= 1
                self.send(self.message, "outbox")
            self.pause()
            yield 1

    def stop(self):
        """Cancel the timer (it would reschedule itself for ever)."""
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.cancel()
            self._timer = None
        super().stop()


class WakeableIntrospector(component):
    """On each wake (a message on "inbox") sends the sorted names of running components.

    Ends, sending ``producerFinished``, once the only components left are
    Graphlines, PeriodicWakeups and itself.
    """

    Inboxes = {"inbox": "Anything: list the running components",
               "control": "Not used"}
    Outboxes = {"outbox": "Sorted list of running component names",
                "signal": "producerFinished when only the monitoring remains"}

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.recv("inbox")
            threads = self.scheduler.listAllThreads()
            names = sorted(t.name for t in threads)
            self.send(names, "outbox")
            if all(t is self or isinstance(t, (Graphline, PeriodicWakeup)) for t in threads):
                self.send(producerFinished(self), "signal")
                return
            self.pause()
            yield 1


def InactivityChassis(somecomponent, timeout=2, debug=False):
    """``somecomponent`` (a CSA) wrapped so it closes after ``timeout`` quiet seconds."""
    return Graphline(
        OBJ=somecomponent,
        ACT=ActivityMonitor(),
        SHUTTERDOWNER=ResettableSender(timeout=timeout, message=producerFinished(),
                                       debug=debug),
        linkages={
            ("self", "inbox"): ("ACT", "inbox"),
            ("ACT", "outbox"): ("OBJ", "inbox"),
            ("OBJ", "outbox"): ("ACT", "inbox2"),
            ("ACT", "outbox2"): ("self", "outbox"),
            ("self", "control"): ("OBJ", "control"),
            ("self", "ReadReady"): ("OBJ", "ReadReady"),
            ("self", "SendReady"): ("OBJ", "SendReady"),
            ("self", "makessl"): ("OBJ", "makessl"),
            ("OBJ", "sslready"): ("self", "sslready"),
            ("OBJ", "CreatorFeedback"): ("self", "CreatorFeedback"),
            ("OBJ", "signal"): ("ACT", "control"),
            ("ACT", "signal"): ("self", "signal"),
            ("ACT", "observed"): ("SHUTTERDOWNER", "inbox"),
            ("SHUTTERDOWNER", "outbox"): ("OBJ", "control"),
        })


def NoActivityTimeout(someclass, timeout=2, debug=False):
    """A ``TCPServer.CSA`` replacement: ``someclass`` instances that time out when quiet."""
    def maker(self, *args, **argd):
        return InactivityChassis(someclass(*args, **argd), timeout=timeout, debug=debug)
    return maker


def ExtendedInactivity(someclass):
    """Like ``NoActivityTimeout`` but the timeout is given per call."""
    def maker(timeout=2, debug=False, *args, **argd):
        return InactivityChassis(someclass(*args, **argd), timeout=timeout, debug=debug)
    return maker


class EchoServer(MoreComplexServer):
    """An echo server on port 1500 whose connections close after 2 quiet seconds."""

    protocol = EchoProtocol
    port = 1500
    socketOptions = (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    class TCPS(MoreComplexServer.TCPS):
        CSA = NoActivityTimeout(ConnectedSocketAdapter, timeout=2, debug=True)


__kamaelia_components__ = (ResettableSender, ActivityMonitor, PeriodicWakeup,
                           WakeableIntrospector, EchoServer)
__kamaelia_prefabs__ = (InactivityChassis, NoActivityTimeout, ExtendedInactivity)
