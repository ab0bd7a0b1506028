"""
Kamaelia.Apps.Grey.GreylistService: the greylist store, off the scheduler's thread
=================================================================================

``GreylistService`` owns a ``GreylistStore`` (SQLite) and consults it in its
own thread (it is a ``Kamaelia.Util.ThreadedWorker``), so a slow disk never
stalls the scheduler and every other SMTP session with it. Sessions find it
as the tracker service ``"Kamaelia.Apps.Grey.greylist"``.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.GreylistService import GreylistService
    from Kamaelia.Apps.Grey.GreylistStore import GreylistStore

    service = GreylistService(store=GreylistStore("greylist.sqlite")).activate()
    service.registerAsService()

    # in a session (a generator running in the scheduler's thread):
    verdicts = yield from service.query(self, ip, sender, recipients)   # list of Verdict

How does it work?
-----------------
``query(asker, ip, sender, recipients, now=None)`` checks -- and records --
each recipient's triplet in one call to the worker thread and returns the
list of ``GreylistVerdict.Verdict``. It raises ``GreylistUnavailable`` if the
store fails or does not answer within ``timeout`` seconds; callers must then
defer, never accept. ``now`` defaults to the scheduler's wall clock.

Each message arriving on "inbox" (e.g. a "tick" from a ``PeriodicWakeup``)
expires stale entries; the counts removed go out on "outbox". ``sync``
checks one triplet directly in the calling thread, for code that needs a
plain answer (``GreyListingPolicy.isGreylisted``).

Inboxes
-------
- inbox -- anything: expire stale entries now
- control -- ``shutdownMicroprocess``/``producerFinished``: close the store and end

Outboxes
--------
- outbox -- ``(attempts, passed)`` removed by each expiry
- signal -- the shutdown message, when it ends

Termination
-----------
On a shutdown message on "control": the store is closed and the service
deregistered.
"""

import logging
import threading

from Kamaelia.Util.ThreadedWorker import ThreadedWorker, WorkerTimeout

_log = logging.getLogger(__name__)

SERVICE_NAME = "Kamaelia.Apps.Grey.greylist"


class GreylistUnavailable(RuntimeError):
    """The greylist could not be consulted (store error or no answer in time)."""


class GreylistService(ThreadedWorker):
    """The greylist store behind a worker thread. See the module documentation."""

    Inboxes = {"inbox": "Anything: expire stale entries now",
               "control": "shutdownMicroprocess/producerFinished: close the store and end"}
    Outboxes = {"outbox": "(attempts, passed) removed by each expiry",
                "signal": "The shutdown message, when it ends"}

    def __init__(self, store, **argd):
        super().__init__(**argd)
        self.store = store
        self._registered = False
        self._storeLock = threading.Lock()

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

    def _checkAll(self, ip, sender, recipients, now):
        with self._storeLock:
            return [self.store.check(ip, sender, recipient, now) for recipient in recipients]

    def sync(self, ip, sender, recipient, now):
        """Check one triplet in the calling thread (blocking)."""
        return self._checkAll(ip, sender, [recipient], now)[0]

    def query(self, asker, ip, sender, recipients, now=None):
        """Generator for ``asker``: the verdicts for ``recipients`` (see the module docs)."""
        if now is None:
            now = asker.scheduler.wallclock()
        try:
            return (yield from self.call(asker, self._checkAll, ip, sender, list(recipients), now))
        except WorkerTimeout as e:
            raise GreylistUnavailable(str(e)) from e
        except Exception as e:
            raise GreylistUnavailable("the greylist store failed: %s" % e) from e

    def handleInbox(self, message):
        try:
            with self._storeLock:
                expired = self.store.expire(self.scheduler.wallclock())
        except Exception:
            _log.exception("greylist expiry failed")
            return
        _log.info("greylist expiry removed %d attempts and %d passed triplets",
                  expired.attempts, expired.passed)
        self.send((expired.attempts, expired.passed), "outbox")

    def finish(self):
        if self._registered:
            self._registered = False
            try:
                if self.tracker.retrieveService(SERVICE_NAME)[0] is self:
                    self.tracker.deRegisterService(SERVICE_NAME)
            except KeyError:
                _log.debug("greylist service already deregistered")
        with self._storeLock:
            self.store.close()


__kamaelia_components__ = (GreylistService,)
