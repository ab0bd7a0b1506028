"""
Kamaelia.Apps.Grey.Metrics: the greylister's Prometheus metrics, in one place
============================================================================

Every number the greylister exports -- sessions, decisions, relay outcomes,
backend and store latency and errors -- is a ``prometheus_client`` metric
held by one ``Metrics`` object, with a small method per event for the rest
of the code to call. ``exposition()`` is the Prometheus text format that
``StatusServer`` serves on ``/metrics``.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Metrics import Metrics

    metrics = Metrics()
    metrics.sessionOpened("proxy")
    metrics.countDecision("policy", decision)        # a Policy.Decision
    with metrics.timeStore():                        # latency, and an error if it raises
        store.check(ip, sender, recipient, now)
    metrics.relayOutcome(250)
    metrics.sessionClosed("proxy")
    body = metrics.exposition()                      # bytes, CONTENT_TYPE

With worker processes (``workers = N``)::

    from Kamaelia.Apps.Grey import Metrics as M

    M.setUpMultiprocess("/run/kamaelia-grey/metrics")  # in the parent, before forking
    ...                                                # each worker: metrics = M.Metrics()
    M.workerExited(pid)                                # in the parent, when a worker ends
    M.Metrics().exposition()                           # any process: the sum over all

How does it work?
-----------------
Each ``Metrics()`` has a registry of its own (``registry``), so a test makes
a fresh one and sees only its own counts; nothing is registered in
``prometheus_client``'s global registry. The metrics (all prefixed
``kamaelia_grey_``):

===================================  =========  ===============================
name                                 type       labels
===================================  =========  ===============================
sessions_open                        gauge      frontend
sessions_total                       counter    frontend
decisions_total                      counter    frontend, reason
relay_outcomes_total                 counter    code_class (2xx 4xx 5xx none)
backend_latency_seconds              histogram
backend_errors_total                 counter    kind
store_latency_seconds                histogram
store_errors_total                   counter
===================================  =========  ===============================

Label values are bounded so that a peer can never grow the number of time
series: ``frontend`` is "proxy" or "policy"; ``reason`` one of
``Policy.REASONS`` (anything else counts as "other"); ``kind`` one of
``BACKEND_ERRORS``. ``countDecision`` counts one per recipient reason of a
``Decision`` (the proxy's all-or-nothing decision counts each recipient, as
the policy server counts each RCPT request).

Several processes: prometheus_client's multiprocess mode. Values are kept
in memory-mapped files, one per process, in a directory named by
``PROMETHEUS_MULTIPROC_DIR``, and read back summed by a
``MultiProcessCollector``. ``setUpMultiprocess(directory)`` creates the
directory, empties it of an earlier run's files (or counts would carry
over), sets the variable and switches prometheus_client to file-backed
values; it must run before any ``Metrics`` is made and before the workers
are forked (they inherit it; a spawned process inherits the variable).
``sessions_open`` is a "livesum" gauge: only live processes count, and
``workerExited(pid)`` (``mark_process_dead``) drops a worker that has ended,
whatever sessions it had open; counters and histograms keep what it
counted. ``exposition()`` then reads every process's files, so any process
(the parent or a worker) can serve the sum.

Components find the process's metrics as the tracked value
``"Kamaelia.Apps.Grey.metrics"`` (``registerAsService``, ``lookup``); where
none is registered (``metrics_listen`` empty, or a 1.x program) nothing is
counted.

Configuration
-------------
None here: ``metrics_listen`` (``StatusServer.makeStatusServer``) says where
the numbers are served; the directory of multiprocess mode is for the
caller to choose (a private directory, e.g. under the pid file's).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import time
from typing import Iterable, Iterator, Optional

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from Axon.AxonExceptions import AccessToUndeclaredTrackedVariable
from Kamaelia.Apps.Grey.Policy import REASONS

__all__ = ["Metrics", "CONTENT_TYPE", "FRONTENDS", "BACKEND_ERRORS", "CODE_CLASSES",
           "setUpMultiprocess", "workerExited", "multiprocessDirectory", "codeClass"]

_log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "kamaelia_grey"
FRONTENDS = ("proxy", "policy")
BACKEND_ERRORS = ("connect", "timeout", "closed", "protocol", "other")
CODE_CLASSES = ("2xx", "4xx", "5xx", "none")
OTHER_REASON = "other"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0, 30.0, 60.0)

_ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"


def multiprocessDirectory() -> Optional[str]:
    """The directory of multiprocess mode, or None when each process counts alone."""
    return os.environ.get(_ENVIRONMENT) or None


def setUpMultiprocess(directory: str) -> None:
    """Count in files under ``directory`` from now on, shared by every process (see above)."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    stale = glob.glob(os.path.join(directory, "*.db"))
    for path in stale:
        os.unlink(path)
    if stale:
        _log.info("metrics: removed %d files of an earlier run from %s", len(stale), directory)
    os.environ[_ENVIRONMENT] = directory
    values.ValueClass = values.MultiProcessValue()


def workerExited(pid: int) -> None:
    """Forget the live gauges of the ended worker ``pid`` (call in the parent)."""
    directory = multiprocessDirectory()
    if directory is not None:
        multiprocess.mark_process_dead(pid, directory)


def codeClass(code: Optional[int | str]) -> str:
    """ "2xx", "4xx", "5xx" for an SMTP reply code (int or text), "none" for anything else."""
    try:
        number = int(str(code).strip()[:3])
    except (TypeError, ValueError):
        return "none"
    first = number // 100
    return "%dxx" % first if first in (2, 4, 5) and 200 <= number <= 599 else "none"


class Metrics:
    """The greylister's metrics and the calls that count them. See the module docs."""

    SERVICE_NAME = "Kamaelia.Apps.Grey.metrics"

    def registerAsService(self, tracker) -> "Metrics":
        """Make this the process's metrics, found by components with ``lookup``; returns self."""
        if self.SERVICE_NAME in tracker.informationItemsLogged():
            tracker.updateValue(self.SERVICE_NAME, self)
        else:
            tracker.trackValue(self.SERVICE_NAME, self)
        return self

    @classmethod
    def lookup(cls, tracker) -> Optional["Metrics"]:
        """The registered metrics, or None (metrics off: nothing is counted)."""
        try:
            return tracker.retrieveValue(cls.SERVICE_NAME)
        except AccessToUndeclaredTrackedVariable:
            return None

    def __init__(self, registry: Optional[CollectorRegistry] = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.directory = multiprocessDirectory()
        r = self.registry
        self.sessionsOpen = Gauge(PREFIX + "_sessions_open", "Client sessions open now",
                                  ["frontend"], registry=r, multiprocess_mode="livesum")
        self.sessions = Counter(PREFIX + "_sessions", "Client sessions accepted",
                                ["frontend"], registry=r)
        self.decisions = Counter(PREFIX + "_decisions", "Greylisting decisions, one per "
                                 "recipient, by reason", ["frontend", "reason"], registry=r)
        self.relayOutcomes = Counter(PREFIX + "_relay_outcomes", "Messages relayed to the real "
                                     "mail server, by the class of its final reply",
                                     ["code_class"], registry=r)
        self.backendLatency = Histogram(PREFIX + "_backend_latency_seconds", "Time the real "
                                        "mail server took to answer", registry=r,
                                        buckets=LATENCY_BUCKETS)
        self.backendErrors = Counter(PREFIX + "_backend_errors", "Failures talking to the real "
                                     "mail server, by kind", ["kind"], registry=r)
        self.storeLatency = Histogram(PREFIX + "_store_latency_seconds", "Time a greylist "
                                      "store operation took", registry=r, buckets=LATENCY_BUCKETS)
        self.storeErrors = Counter(PREFIX + "_store_errors", "Greylist store operations that "
                                   "failed", registry=r)
        for frontend in FRONTENDS:
            self.sessionsOpen.labels(frontend)
            self.sessions.labels(frontend)
        for kind in CODE_CLASSES:
            self.relayOutcomes.labels(kind)

    @staticmethod
    def _frontend(frontend: str) -> str:
        if frontend not in FRONTENDS:
            raise ValueError("frontend must be one of %s, got %r" % (FRONTENDS, frontend))
        return frontend

    # -- sessions ---------------------------------------------------------------------------

    def sessionOpened(self, frontend: str) -> None:
        """A client connected to ``frontend`` ("proxy" or "policy")."""
        frontend = self._frontend(frontend)
        self.sessions.labels(frontend).inc()
        self.sessionsOpen.labels(frontend).inc()

    def sessionClosed(self, frontend: str) -> None:
        """A session of ``frontend`` ended (once per ``sessionOpened``)."""
        self.sessionsOpen.labels(self._frontend(frontend)).dec()

    # -- decisions ----------------------------------------------------------------------------

    def countReasons(self, frontend: str, reasons: Iterable[str]) -> None:
        """Count one decision per reason given (one per recipient)."""
        frontend = self._frontend(frontend)
        for reason in reasons:
            self.decisions.labels(frontend, reason if reason in REASONS else OTHER_REASON).inc()

    def countDecision(self, frontend: str, decision) -> None:
        """Count a ``Policy.Decision``: one per ``(recipient, reason)`` it gives."""
        self.countReasons(frontend, (reason for _, reason in decision.reasons))

    # -- the real mail server ------------------------------------------------------------------

    def relayOutcome(self, code: Optional[int | str]) -> None:
        """A relayed message ended with reply ``code`` (None: no reply, e.g. the link broke)."""
        self.relayOutcomes.labels(codeClass(code)).inc()

    def observeBackend(self, seconds: float) -> None:
        self.backendLatency.observe(max(0.0, seconds))

    def backendError(self, kind: str = "other") -> None:
        """A failure talking to the real mail server: one of ``BACKEND_ERRORS``."""
        self.backendErrors.labels(kind if kind in BACKEND_ERRORS else "other").inc()

    # -- the store ---------------------------------------------------------------------------

    def observeStore(self, seconds: float) -> None:
        self.storeLatency.observe(max(0.0, seconds))

    def storeError(self) -> None:
        self.storeErrors.inc()

    @contextlib.contextmanager
    def timeStore(self, clock=time.monotonic) -> Iterator[None]:
        """Time the block as a store operation; count an error if it raises (and re-raise)."""
        started = clock()
        try:
            yield
        except Exception:
            self.storeError()
            raise
        finally:
            self.observeStore(clock() - started)

    @contextlib.contextmanager
    def timeBackend(self, clock=time.monotonic) -> Iterator[None]:
        """Time the block as a wait for the real server; an error ("other") if it raises."""
        started = clock()
        try:
            yield
        except Exception:
            self.backendError("other")
            raise
        finally:
            self.observeBackend(clock() - started)

    # -- reading -----------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's metrics, or every process's summed."""
        if self.directory is None:
            return generate_latest(self.registry)
        collecting = CollectorRegistry()
        multiprocess.MultiProcessCollector(collecting, path=self.directory)
        return generate_latest(collecting)
