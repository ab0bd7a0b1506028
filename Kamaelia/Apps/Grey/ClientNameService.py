"""
Kamaelia.Apps.Grey.ClientNameService: client name lookups off the scheduler's thread
===================================================================================

``ClientNameService`` finds each SMTP client's verified name
(``Kamaelia.Apps.Grey.ClientName.lookupClientName``: PTR, then a forward
lookup that must lead back to the address) in a pool of worker threads, so
that a slow or silent DNS server never stalls the scheduler, and one slow
answer never delays another session's. Results are cached for a while.
Sessions find it as the tracker service ``"Kamaelia.Apps.Grey.clientnames"``.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.ClientNameService import ClientNameService

    names = ClientNameService(nameservers=["192.0.2.53"], timeout=5.0).activate()
    names.registerAsService()

    # in a session (a generator running in the scheduler's thread):
    service = ClientNameService.lookup(self.tracker)
    handle = service.begin(peer)                  # at connect: returns at once
    ...
    name = yield from service.wait(self, handle)  # at EHLO: a ClientName
    # or both at once:
    name = yield from service.query(self, peer)

How does it work?
-----------------
``begin(address)`` answers from the cache if it can; otherwise it joins a
lookup already running for the same address, or submits a new one to the
``concurrent.futures.ThreadPoolExecutor`` (``threads`` workers), and
returns a handle at once. It never blocks and never raises.

``wait(asker, handle)`` is a generator for the asking component to run
(``yield from``) in the scheduler's thread. It pauses the asker until the
lookup's future is done -- the future's done-callback wakes it with
``scheduler.callSoonThreadsafe`` -- and returns the ``ClientName``. The
wait is bounded: ``timeout + 1`` seconds after ``begin`` (by the asker's
scheduler clock) it gives up and returns ``ClientName.TEMPORARY``
(``[TEMPUNAVAIL]``), even if a worker thread is stuck; the lookup itself is
bounded by ``timeout`` in dnspython, so the slack is only for scheduling.
A lookup that raised, or was cancelled at shutdown, also gives TEMPORARY.
``query(asker, address)`` is ``begin`` then ``wait``.

The cache keeps verified names and permanent failures (no PTR, a name that
does not resolve back) for ``cacheTTL`` seconds by ``clock`` (default the
scheduler's clock), at most ``cacheSize`` addresses, the least recently
used going first. Temporary failures are never cached: the next session
asks again. ``cacheTTL=0`` or ``cacheSize=0`` turn the cache off.

Inboxes
-------
- inbox -- not used
- control -- ``shutdownMicroprocess``/``producerFinished``: stop and end

Outboxes
--------
- outbox -- not used
- signal -- the shutdown message, when it ends

Termination
-----------
On a shutdown message on "control" (or when stopped): the executor is shut
down without waiting -- queued lookups are cancelled, so their waiters get
TEMPORARY at once, and a running one is left to finish within its DNS
lifetime (the interpreter waits at most ``timeout`` for it at exit) --
every asker still waiting is woken and gets TEMPORARY, the service is
deregistered and the message is passed on on "signal". After that
``begin`` answers TEMPORARY.

Configuration
-------------
``nameservers`` (None: the system's resolv.conf, and the hosts file
``hostsFile``, default ``/etc/hosts``, before DNS, as the system resolver
does for Postfix), ``port``, ``timeout`` (seconds for the whole lookup),
``threads``, ``cacheTTL``, ``cacheSize``, ``clock``. See
``ClientName.makeResolver`` for what happens without any DNS server.
"""

import collections
import concurrent.futures
import functools
import logging
import threading
import time

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Apps.Grey.ClientName import (
    TEMPORARY,
    TEMPUNAVAIL,
    UNKNOWN_CLIENT,
    loadHostsFile,
    lookupClientName,
    makeResolver,
    parseClientAddress,
)

_log = logging.getLogger(__name__)

SERVICE_NAME = "Kamaelia.Apps.Grey.clientnames"


class LookupHandle:
    """What ``begin`` returns, for ``wait``: a finished answer or a lookup in flight."""

    __slots__ = ("address", "future", "result", "scheduler", "startedAt")

    def __init__(self, address, result=None, future=None, scheduler=None, startedAt=None):
        self.address = address
        self.result = result
        self.future = future
        self.scheduler = scheduler
        self.startedAt = startedAt

    def __repr__(self):
        state = "done" if self.future is None else "pending"
        return f"<LookupHandle {self.address} {state}>"


class ClientNameService(component):
    """Client name lookups in worker threads, with a cache. See the module documentation."""

    Inboxes = {"inbox": "Not used",
               "control": "shutdownMicroprocess/producerFinished: stop and end"}
    Outboxes = {"outbox": "Not used",
                "signal": "The shutdown message, when it ends"}

    def __init__(self, nameservers=None, port=53, timeout=5.0, threads=8, cacheTTL=300,
                 cacheSize=10000, clock=None, hostsFile="/etc/hosts", **argd):
        super().__init__(**argd)
        self.timeout = float(timeout)
        self.cacheTTL = cacheTTL
        self.cacheSize = cacheSize
        self.resolver = makeResolver(nameservers, port=port, lifetime=self.timeout)
        self.hosts = None if nameservers or not hostsFile else loadHostsFile(hostsFile)
        self._clock = clock
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="clientname")
        self._lock = threading.Lock()
        self._cache = collections.OrderedDict()
        self._pending = {}
        self._waiters = {}
        self._closed = False
        self._registered = False

    # -- the service ----------------------------------------------------------------------

    def registerAsService(self, tracker=None):
        """Register as the tracker service sessions look up; returns self."""
        (tracker or self.tracker).registerService(SERVICE_NAME, self, "inbox")
        self._registered = True
        return self

    @staticmethod
    def lookup(tracker):
        """The registered service, or None."""
        try:
            return tracker.retrieveService(SERVICE_NAME)[0]
        except KeyError:
            return None

    def _now(self):
        if self._clock is not None:
            return self._clock()
        return getattr(self.scheduler, "clock", time.monotonic)()

    def begin(self, address):
        """Start finding ``address``'s name (or answer from the cache); returns a handle at once."""
        ip = parseClientAddress(str(address))
        if ip is None:
            _log.debug("%r is not an IP address: no client name", address)
            return LookupHandle(address, result=UNKNOWN_CLIENT)
        key = str(ip)
        with self._lock:
            cached = self._fromCache(key)
            if cached is not None:
                return LookupHandle(key, result=cached)
            future = self._pending.get(key)
            if future is None:
                if self._closed:
                    return LookupHandle(key, result=TEMPORARY)
                try:
                    future = self._executor.submit(lookupClientName, key, self.resolver,
                                                   self.timeout, time.monotonic, self.hosts)
                except RuntimeError:
                    return LookupHandle(key, result=TEMPORARY)
                self._pending[key] = future
                isNew = True
            else:
                isNew = False
        if isNew:
            # Outside the lock: a future already done runs the callback right here.
            future.add_done_callback(functools.partial(self._finished, key))
        scheduler = self.scheduler
        clock = getattr(scheduler, "clock", None)
        return LookupHandle(key, future=future, scheduler=scheduler,
                            startedAt=clock() if clock is not None else None)

    def wait(self, asker, handle):
        """Generator for ``asker``: the ``ClientName`` for ``handle`` (bounded; never raises)."""
        future = handle.future
        if future is None:
            return handle.result
        if future.done():
            return self._outcome(handle)
        scheduler = asker.scheduler
        wake = asker._deliveryWake
        token = object()
        with self._lock:
            if self._closed:
                return TEMPORARY
            self._waiters[token] = (scheduler, wake)
        future.add_done_callback(lambda _: scheduler.callSoonThreadsafe(wake))
        bound = self.timeout + 1
        if handle.scheduler is scheduler and handle.startedAt is not None:
            deadline = handle.startedAt + bound
        else:
            deadline = scheduler.clock() + bound
        timer = scheduler.callAt(deadline, wake)
        try:
            while not future.done():
                if self._closed:
                    return TEMPORARY
                if scheduler.clock() >= deadline:
                    _log.warning("client name lookup for %s: no answer within %.1f s",
                                 handle.address, bound)
                    return TEMPORARY
                asker.pause()
                yield 1
        finally:
            timer.cancel()
            with self._lock:
                self._waiters.pop(token, None)
        return self._outcome(handle)

    def query(self, asker, address):
        """Generator for ``asker``: ``begin`` then ``wait``."""
        return (yield from self.wait(asker, self.begin(address)))

    @staticmethod
    def _outcome(handle):
        future = handle.future
        if future.cancelled():
            return TEMPORARY
        error = future.exception()
        if error is not None:
            _log.error("client name lookup for %s failed: %s: %s",
                       handle.address, type(error).__name__, error)
            return TEMPORARY
        return future.result()

    # -- the cache -------------------------------------------------------------------------

    def _fromCache(self, key):
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires, result = entry
        if self._now() >= expires:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return result

    def _finished(self, key, future):
        """Done-callback (a worker thread, or the canceller's): forget it, cache the answer."""
        with self._lock:
            if self._pending.get(key) is future:
                del self._pending[key]
            if future.cancelled() or future.exception() is not None:
                return
            result = future.result()
            if (TEMPUNAVAIL in (result.status, result.reverseStatus)
                    or self.cacheTTL <= 0 or self.cacheSize <= 0):
                return
            self._cache[key] = (self._now() + self.cacheTTL, result)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cacheSize:
                self._cache.popitem(last=False)

    # -- life ------------------------------------------------------------------------------

    def _close(self):
        with self._lock:
            self._closed = True
            waiters = list(self._waiters.values())
        self._executor.shutdown(wait=False, cancel_futures=True)
        for scheduler, wake in waiters:
            scheduler.callSoonThreadsafe(wake)
        if self._registered:
            self._registered = False
            try:
                if self.tracker.retrieveService(SERVICE_NAME)[0] is self:
                    self.tracker.deRegisterService(SERVICE_NAME)
            except KeyError:
                _log.debug("client name service already deregistered")

    def main(self):
        try:
            while True:
                while self.dataReady("inbox"):
                    self.recv("inbox")
                while self.dataReady("control"):
                    message = self.recv("control")
                    if isinstance(message, (shutdownMicroprocess, producerFinished)):
                        self._close()
                        self.send(message, "signal")
                        return
                self.pause()
                yield 1
        finally:
            self._close()


__kamaelia_components__ = (ClientNameService,)
