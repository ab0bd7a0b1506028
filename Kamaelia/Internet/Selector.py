"""
Kamaelia.Internet.Selector: tell components when their sockets are ready
========================================================================

The ``Selector`` is a service: a component sends it ``newReader``,
``newWriter`` or ``newExceptional`` to have a file or socket watched, and
when that becomes ready the Selector sends the socket object to the
``(component, boxname)`` named in the request. Notification is one-shot:
after telling you, the Selector stops watching, and you send the request
again once you have handled the event.

Example Usage
-------------
::

    from Kamaelia.Internet.Selector import Selector
    from Kamaelia.IPC import newReader, removeReader

    class LineWatcher(component):
        Inboxes = {"inbox": "", "control": "", "readable": "sockets ready to read"}
        Outboxes = {"outbox": "", "signal": "", "selector": "requests to the Selector"}

        def main(self):
            service, shutdownService, newSelector = Selector.getSelectorServices(self.tracker)
            if newSelector:
                newSelector.activate()
            self.link((self, "selector"), service)
            self.send(newReader(self, ((self, "readable"), self.sock)), "selector")
            ...   # each time self.sock arrives on "readable": read, then re-send newReader

How does it work?
-----------------
The Selector does not poll with ``select.select`` in a thread as Kamaelia
1.x did: it registers each request with the scheduler's own I/O wait (epoll
through the ``selectors`` module), which every socket component in the
process shares, so there is no descriptor limit of 1024 and no CPU use while
idle. For each request it creates an outbox ("readerNotify..." etc.) linked
to the reply box; when the object is ready it sends the object there, then
unregisters it and removes the outbox. ``removeReader``/``removeWriter``/
``removeExceptional`` cancel a request. Exceptional conditions (TCP urgent
data) are watched with a secondary epoll object for ``EPOLLPRI`` (Linux).

What epoll refuses -- regular files, objects without a descriptor -- is
polled instead, as 1.x polled everything: each step the Selector calls
``select.select(readers, writers, exceptionals, 0)`` through this module's
attribute ``select`` (so a test may replace it with a stand-in, as 1.x's
tests did), and sleeps ``pollInterval`` seconds (0.05, 1.x's select
timeout) on a timer between polls while such objects are watched. An object
that ``select`` rejects too is dropped with a warning, or, with the module
flag ``FAILHARD`` set, the error propagates.

The Selector registers itself with the coordinating assistant tracker as
the service "selector" (its "notify" inbox) and "selectorshutdown" (its
"control" inbox). ``getSelectorServices(tracker)`` returns
``(service, shutdownService, newSelectorOrNone)``, creating (not activating)
a Selector when none is registered; the caller activates it.

Components shipped with Kamaelia (``TCPServer``, ``TCPClient``,
``ConnectedSocketAdapter``, UDP peers) use the scheduler's I/O wait
directly and do not need a Selector.

Inboxes
-------
- notify -- ``newReader``/``newWriter``/``newExceptional`` and their
  ``remove...`` counterparts
- control -- ``Axon.Ipc.shutdown``: deregister the services and end once
  nothing has been watched for ``timeout`` seconds
- inbox -- not used

Outboxes
--------
- outbox, signal -- not used; one notify outbox is created per request

Termination
-----------
After ``Axon.Ipc.shutdown`` on "control" (see above), or by itself once it
has had nothing to watch for ``idleTimeout`` seconds (3.5 s, as in Kamaelia
1.x, so programs using it can end); a later ``getSelectorServices`` creates
a fresh one. ``stop()`` deregisters the services.
"""

import logging
import select
from select import EPOLLPRI as _EPOLLPRI
from select import epoll as _epoll

from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.Ipc import shutdown
from Kamaelia.IPC import newExceptional, newReader, newWriter, removeExceptional, removeReader, removeWriter

_log = logging.getLogger(__name__)

READERS, WRITERS, EXCEPTIONALS = 0, 1, 2
FAILHARD = False
timeout = 5

_KINDS = {newReader: READERS, newWriter: WRITERS, newExceptional: EXCEPTIONALS}
_REMOVALS = {removeReader: READERS, removeWriter: WRITERS, removeExceptional: EXCEPTIONALS}
_BOXPREFIX = {READERS: "readerNotify", WRITERS: "writerNotify",
              EXCEPTIONALS: "exceptionalNotify"}


class Selector(AdaptiveCommsComponent):
    """Watches files and sockets on request; see the module documentation."""

    Inboxes = {"control": "Axon.Ipc.shutdown: deregister and end when idle",
               "inbox": "Not used",
               "notify": "newReader/newWriter/newExceptional and remove... requests"}
    Outboxes = {"outbox": "Not used", "signal": "Not used"}

    idleTimeout = 3.5
    pollInterval = 0.05

    def __init__(self, **argd):
        super().__init__(**argd)
        self.watching = ({}, {}, {})   # kind -> {selectable: outboxname}
        self._polled = ([], [], [])    # kind -> selectables epoll refused, in request order
        self._pollTimer = None
        self._ready = []
        self._priPoll = None
        self._priFds = {}
        self._idleTimer = None
        self._idleExpired = False
        self._shuttingDown = False
        self._registered = False

    @staticmethod
    def setSelectorServices(selector, tracker=None):
        """Register ``selector`` as the "selector" and "selectorshutdown" services."""
        from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
        tracker = tracker or coordinatingassistanttracker.getcat()
        tracker.registerService("selector", selector, "notify")
        tracker.registerService("selectorshutdown", selector, "control")
        selector._registered = True

    @staticmethod
    def getSelectorServices(tracker=None):
        """``(service, shutdownService, newSelectorOrNone)``; creates a Selector if needed."""
        from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
        tracker = tracker or coordinatingassistanttracker.getcat()
        try:
            service = tracker.retrieveService("selector")
            shutdownService = tracker.retrieveService("selectorshutdown")
            return service, shutdownService, None
        except KeyError:
            selector = Selector()
            Selector.setSelectorServices(selector, tracker)
            return ((selector, "notify"), (selector, "control"), selector)

    # -- requests -----------------------------------------------------------------

    def _ready_cb(self, kind, selectable):
        self._ready.append((kind, selectable))
        self._deliveryWake()

    def addSelectable(self, kind, selectable, replyService):
        """Watch ``selectable`` for ``kind``; notify ``replyService`` once when ready."""
        if selectable in self.watching[kind]:
            self.removeSelectable(kind, selectable)
        outbox = self.addOutbox(_BOXPREFIX[kind])
        self.link((self, outbox), replyService)
        self.watching[kind][selectable] = outbox
        try:
            if kind == READERS:
                self.scheduler.addReader(selectable, self._ready_cb, READERS, selectable)
            elif kind == WRITERS:
                self.scheduler.addWriter(selectable, self._ready_cb, WRITERS, selectable)
            else:
                self._watchExceptional(selectable)
        except (ValueError, TypeError, AttributeError, OSError):
            # epoll cannot take it (a regular file, no descriptor): poll it.
            self._polled[kind].append(selectable)

    def removeSelectable(self, kind, selectable):
        """Stop watching ``selectable`` for ``kind`` (ignored if not watched)."""
        outbox = self.watching[kind].pop(selectable, None)
        if outbox is None:
            return
        polled = self._polled[kind]
        if any(item is selectable for item in polled):
            polled[:] = [item for item in polled if item is not selectable]
        elif kind == READERS:
            self.scheduler.removeReader(selectable)
        elif kind == WRITERS:
            self.scheduler.removeWriter(selectable)
        else:
            self._unwatchExceptional(selectable)
        self.unlink(thelinkage=self._linkageFrom(outbox))
        self.deleteOutbox(outbox)

    def _linkageFrom(self, outbox):
        for linkage in self.postoffice.linkages:
            if linkage.source is self and linkage.sourcebox == outbox:
                return linkage
        return None

    def _watchExceptional(self, selectable):
        fd = selectable if isinstance(selectable, int) else selectable.fileno()
        if self._priPoll is None:
            self._priPoll = _epoll()
            self.scheduler.addReader(self._priPoll.fileno(), self._exceptionalReady)
        self._priPoll.register(fd, _EPOLLPRI)
        self._priFds[fd] = selectable

    def _unwatchExceptional(self, selectable):
        fd = selectable if isinstance(selectable, int) else selectable.fileno()
        if self._priFds.pop(fd, None) is not None:
            try:
                self._priPoll.unregister(fd)
            except (OSError, ValueError):
                _log.debug("exceptional watch on fd %s was already gone", fd)

    def _exceptionalReady(self):
        for fd, _events in self._priPoll.poll(0):
            selectable = self._priFds.get(fd)
            if selectable is not None:
                self._ready_cb(EXCEPTIONALS, selectable)

    def handleNotify(self):
        """Act on every request waiting on "notify"."""
        while self.dataReady("notify"):
            message = self.recv("notify")
            kind = _KINDS.get(type(message))
            if kind is not None:
                replyService, selectable = message.object
                self.addSelectable(kind, selectable, replyService)
                continue
            kind = _REMOVALS.get(type(message))
            if kind is not None:
                self.removeSelectable(kind, message.object)
                continue
            _log.warning("%s: ignoring unexpected request %r", self.name, message)

    def _anythingWatched(self):
        return any(self.watching)

    def _startIdleTimer(self, seconds):
        if self._idleTimer is None:
            self._idleExpired = False
            self._idleTimer = self.scheduler.callLater(seconds, self._idleTimeout)

    def _cancelIdleTimer(self):
        if self._idleTimer is not None:
            self._idleTimer.cancel()
            self._idleTimer = None

    def _idleTimeout(self):
        self._idleTimer = None
        self._idleExpired = True
        self._deliveryWake()

    # -- polling what epoll refused -------------------------------------------------

    def _pollTimeout(self):
        self._pollTimer = None
        self._deliveryWake()

    def _cancelPollTimer(self):
        if self._pollTimer is not None:
            self._pollTimer.cancel()
            self._pollTimer = None

    def _dropUnselectable(self, error):
        """``select`` raised ``error``: drop every polled object it rejects on its own."""
        if FAILHARD:
            raise error
        for kind in (READERS, WRITERS, EXCEPTIONALS):
            for selectable in list(self._polled[kind]):
                lists = ([], [], [])
                lists[kind].append(selectable)
                try:
                    select.select(*lists, 0)
                except (ValueError, TypeError, OSError) as e:
                    _log.warning("%s: cannot watch %r (%s); dropping the request",
                                 self.name, selectable, e)
                    self.removeSelectable(kind, selectable)

    def pollSelectables(self):
        """Poll the objects epoll refused with ``select.select``; queue those that are ready."""
        try:
            ready = select.select(list(self._polled[READERS]), list(self._polled[WRITERS]),
                                  list(self._polled[EXCEPTIONALS]), 0)
        except (ValueError, TypeError, OSError) as e:
            self._dropUnselectable(e)
            return
        for kind, selectables in zip((READERS, WRITERS, EXCEPTIONALS), ready):
            for selectable in selectables:
                self._ready.append((kind, selectable))

    def main(self):
        while True:
            self.handleNotify()
            while self.dataReady("control"):
                if isinstance(self.recv("control"), shutdown):
                    self._shuttingDown = True
                    self._deregister()
                    self._cancelIdleTimer()
            if any(self._polled):
                self.pollSelectables()
            ready, self._ready = self._ready, []
            for kind, selectable in ready:
                outbox = self.watching[kind].get(selectable)
                if outbox is not None:
                    self.send(selectable, outbox)
                    self.removeSelectable(kind, selectable)
            if any(self._polled):
                if self._pollTimer is None:
                    self._pollTimer = self.scheduler.callLater(self.pollInterval,
                                                               self._pollTimeout)
            else:
                self._cancelPollTimer()
            if self._anythingWatched():
                self._cancelIdleTimer()
            else:
                if self._idleExpired:
                    return
                self._startIdleTimer(timeout if self._shuttingDown else self.idleTimeout)
            if not self._ready and not self.dataReady("notify") and not self.dataReady("control"):
                self.pause()
            yield 1

    def _deregister(self):
        if self._registered:
            self._registered = False
            tracker = self.tracker
            for name in ("selector", "selectorshutdown"):
                try:
                    if tracker.retrieveService(name)[0] is self:
                        tracker.deRegisterService(name)
                except KeyError:
                    _log.debug("service %s already deregistered", name)

    def stop(self):
        """Deregister the services and stop watching everything (idempotent)."""
        self._deregister()
        self._cancelIdleTimer()
        self._cancelPollTimer()
        for kind in (READERS, WRITERS, EXCEPTIONALS):
            for selectable in list(self.watching[kind]):
                self.removeSelectable(kind, selectable)
        if self._priPoll is not None:
            self.scheduler.removeReader(self._priPoll.fileno())
            self._priPoll.close()
            self._priPoll = None
        super().stop()


__kamaelia_components__ = (Selector,)
