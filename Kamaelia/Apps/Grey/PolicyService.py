"""
Kamaelia.Apps.Grey.PolicyService: the greylist policy, off the scheduler's thread
================================================================================

``PolicyService`` holds a ``Policy.GreylistPolicy`` and runs its decisions
in a thread of its own (it is a ``Kamaelia.Util.ThreadedWorker``): the
policy asks the greylist store, and a slow disk or a locked database must
never stall the scheduler and every session with it. Both front ends -- the
SMTP proxy's sessions and the Postfix policy server's connections -- find it
as the tracker service ``"Kamaelia.Apps.Grey.policy"`` and ask it for
``Decision``s.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Policy import GreylistPolicy, PolicySettings
    from Kamaelia.Apps.Grey.PolicyService import PolicyService

    settings = PolicySettings.fromConfig(config)
    policy = GreylistPolicy(settings, settings.openStore(config["greylist_db"]))
    service = PolicyService(policy).registerAsService()
    service.activate()

    # in a session (a generator running in the scheduler's thread):
    decision = yield from service.decide(self, envelope)    # a Decision

    # on SIGHUP (any thread):
    service.setPolicy(service.policy.withSettings(PolicySettings.fromConfig(fresh)))

How does it work?
-----------------
``decide(asker, envelope, now=None)`` is a generator for the asking
component: it queues ``policy.decide(envelope, now)`` for the service's
thread and pauses the asker until the answer comes back (``now`` defaults
to the asker's scheduler's wall clock, read when the question is asked, so
a fake clock drives it in tests; ``policy``, if given, answers instead of
the current one -- the proxy passes a policy with a 1.x subclass's own
lists). It always returns a ``Decision``, never
raises for the policy's sake:

- no answer within ``timeout`` seconds (default 10; Postfix gives a policy
  server 100 s, a proxy client waits for its DATA reply): DEFER with
  ``LOCAL_ERROR`` (451 4.3.0), every recipient "store-error", logged. The
  late answer, if it comes, is dropped;
- more than ``maxQueued`` questions already waiting (a store that has
  stopped answering while mail keeps arriving): the same deferral at once,
  without queueing, so the backlog and the memory it takes stay bounded;
- the policy raising (a bug; store errors are already a deferral inside the
  policy): the same deferral, logged with the traceback.

Questions are answered one at a time, in order: SQLite serialises writers
anyway, and a single thread keeps the store's connection to itself.

``setPolicy(policy)`` replaces the policy in one step (an attribute
assignment, safe from any thread); questions already queued are answered by
whichever policy is current when their turn comes. ``policy`` is the
current one.

Each message arriving on "inbox" (e.g. a "tick" from a ``PeriodicWakeup``)
expires stale greylist and auto-whitelist entries in the store
(``GreylistStore.expire``); the ``Expired`` counts go out on "outbox".

History: each decision's outcomes (``Policy.outcomesOf``: deferred,
passed, whitelisted, refused) are tallied per hour in memory, and
``tally(counts, now)`` adds others (the proxy's refusals at RCPT); the
tally is written to the store's hourly history (``countOutcomes``, for the
status page and ``kamaelia-grey stats``) at most every ``flushInterval``
seconds (60) as decisions are made, on every message on "inbox" (the
string ``"flush"`` writes the tally without expiring) and when the service
ends. A failure to write it is logged and those counts are lost; it never
affects a decision.
``decideNow(envelope, now)`` decides in the calling thread, for code that
needs a plain answer outside a component.

``wouldDefer(asker, envelope, now=None, policy=None)`` is the same kind of
generator for ``GreylistPolicy.wouldDefer``: True if the message is sure to
be deferred now, reading the store and recording nothing (nothing is
tallied either). Whenever it cannot tell -- the store failed or was slow,
the queue is full -- it says False, and the decision at DATA, which is
always made, has the last word.

With ``metrics`` (a ``Metrics.Metrics``), each decision's time in the
store is observed, and a decision the store failed (a "store-error"
recipient) is counted as a store error.

Inboxes
-------
- inbox -- ``"flush"``: write the tallied history; anything else: that, and expire stale entries
- control -- ``shutdownMicroprocess``/``producerFinished``: finish the queued
  questions, close the store and end

Outboxes
--------
- outbox -- ``GreylistStore.Expired`` after each expiry
- signal -- the shutdown message, when it ends

Termination
-----------
On a shutdown message on "control": the questions already queued are
answered, the service is deregistered and, if ``closeStore`` (the
default), the current policy's store is closed.
"""

import logging
import threading

from Kamaelia.Apps.Grey import SMTPReplies
from Kamaelia.Apps.Grey.Policy import DEFER, Decision, outcomesOf
from Kamaelia.Apps.Grey.Stores import STORE_ERRORS
from Kamaelia.Util.ThreadedWorker import ThreadedWorker, WorkerTimeout

_log = logging.getLogger(__name__)

SERVICE_NAME = "Kamaelia.Apps.Grey.policy"
HOUR = 3600
FLUSH = "flush"


def failedDecision(envelope):
    """The deferral for a question the policy could not answer (451 4.3.0)."""
    recipients = list(dict.fromkeys(envelope.recipients))
    return Decision(DEFER, SMTPReplies.LOCAL_ERROR,
                    tuple((r, "store-error") for r in recipients),
                    perRecipient={r: DEFER for r in recipients})


class PolicyService(ThreadedWorker):
    """The greylist policy behind a worker thread. See the module documentation."""

    Inboxes = {"inbox": "Anything: expire stale entries now",
               "control": "shutdownMicroprocess/producerFinished: close the store and end"}
    Outboxes = {"outbox": "GreylistStore.Expired after each expiry",
                "signal": "The shutdown message, when it ends"}

    timeout = 10.0
    maxQueued = 1000
    flushInterval = 60.0

    def __init__(self, policy, timeout=None, maxQueued=None, closeStore=True, metrics=None,
                 **argd):
        super().__init__(**argd)
        self.policy = policy
        if timeout is not None:
            self.timeout = timeout
        if maxQueued is not None:
            self.maxQueued = maxQueued
        self.closeStore = closeStore
        self.metrics = metrics
        self._registered = False
        self._tally = {}
        self._tallyLock = threading.Lock()
        self._lastFlush = None
        self._storeLock = threading.Lock()

    def registerAsService(self, tracker=None):
        """Register as the tracker service front ends look up; returns self."""
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

    def setPolicy(self, policy):
        """Make ``policy`` the one that answers from now on (any thread)."""
        self.policy = policy

    def _decide(self, envelope, now, policy=None):
        metrics = self.metrics
        if metrics is None:
            with self._storeLock:
                decision = (policy or self.policy).decide(envelope, now)
        else:
            with self._storeLock, metrics.timeStore():
                decision = (policy or self.policy).decide(envelope, now)
            if any(reason == "store-error" for _, reason in decision.reasons):
                metrics.storeError()
        self.tally(outcomesOf(decision), now)
        if self._lastFlush is None:
            self._lastFlush = now
        elif now - self._lastFlush >= self.flushInterval:
            self.flushTally(now)
        return decision

    def tally(self, counts, now):
        """Add ``counts`` (outcome -> number) to the history kept for the store (any thread)."""
        if not counts:
            return
        hour = now - now % HOUR
        with self._tallyLock:
            bucket = self._tally.setdefault(hour, {})
            for outcome, number in counts.items():
                bucket[outcome] = bucket.get(outcome, 0) + number

    def flushTally(self, now):
        """Write the tallied outcomes to the store's history (in the service's thread)."""
        self._lastFlush = now
        with self._tallyLock:
            tally, self._tally = self._tally, {}
        store = getattr(self.policy, "store", None)
        if store is None or not hasattr(store, "countOutcomes"):
            return
        try:
            with self._storeLock:
                for hour, counts in sorted(tally.items()):
                    store.countOutcomes(counts, hour)
        except STORE_ERRORS as error:
            _log.error("cannot record the greylist history (%s); %d hours of counts lost",
                       error, len(tally))
        except Exception:
            _log.exception("cannot record the greylist history; %d hours of counts lost",
                           len(tally))

    def decideNow(self, envelope, now, policy=None):
        """Decide in the calling thread (blocking)."""
        return self._decide(envelope, now, policy)

    def decide(self, asker, envelope, now=None, policy=None):
        """Generator for ``asker``: the ``Decision`` for ``envelope`` (see the module docs)."""
        if now is None:
            now = asker.scheduler.wallclock()
        if self._requests.qsize() >= self.maxQueued:
            _log.error("%s: %d questions already waiting; deferring %s", self.name,
                       self._requests.qsize(), envelope)
            return failedDecision(envelope)
        try:
            return (yield from self.call(asker, self._decide, envelope, now, policy))
        except WorkerTimeout as e:
            _log.error("%s: %s; deferring %s", self.name, e, envelope)
        except Exception:
            _log.exception("%s: the policy failed; deferring %s", self.name, envelope)
        return failedDecision(envelope)

    def _preview(self, envelope, now, policy=None):
        with self._storeLock:
            return (policy or self.policy).wouldDefer(envelope, now)

    def wouldDefer(self, asker, envelope, now=None, policy=None):
        """Generator for ``asker``: True if the message is sure to be deferred (see the module docs)."""
        if now is None:
            now = asker.scheduler.wallclock()
        if self._requests.qsize() >= self.maxQueued:
            return False
        try:
            return bool((yield from self.call(asker, self._preview, envelope, now, policy)))
        except WorkerTimeout as e:
            _log.warning("%s: %s; asking again at DATA for %s", self.name, e, envelope)
        except STORE_ERRORS as error:
            _log.warning("%s: greylist store unavailable (%s); asking again at DATA for %s",
                         self.name, error, envelope)
        except Exception:
            _log.exception("%s: the policy's preview failed; asking again at DATA for %s",
                           self.name, envelope)
        return False

    def handleInbox(self, message):
        now = self.scheduler.wallclock()
        self.flushTally(now)
        store = getattr(self.policy, "store", None)
        if store is None or message == FLUSH:
            return
        try:
            with self._storeLock:
                expired = store.expire(now)
        except STORE_ERRORS as error:
            _log.error("greylist expiry failed (%s); it is tried again in an hour", error)
            return
        except Exception:
            _log.exception("greylist expiry failed")
            return
        _log.info("greylist expiry removed %d attempts, %d passed triplets, %d client and "
                  "%d domain auto-whitelist entries", expired.attempts, expired.passed,
                  expired.clients, expired.domains)
        self.send(expired, "outbox")

    def finish(self):
        if self._registered:
            self._registered = False
            try:
                if self.tracker.retrieveService(SERVICE_NAME)[0] is self:
                    self.tracker.deRegisterService(SERVICE_NAME)
            except KeyError:
                _log.debug("policy service already deregistered")
        self.flushTally(self.scheduler.wallclock())
        store = getattr(self.policy, "store", None)
        if self.closeStore and store is not None:
            with self._storeLock:
                store.close()


__kamaelia_components__ = (PolicyService,)
