"""
Kamaelia.Apps.Grey.StatusServer: the metrics endpoint and the status page over HTTP
==================================================================================

A small read-only HTTP server beside the greylister: ``GET /metrics`` for
Prometheus, ``GET /`` for the status page an operator opens in a browser
(``StatusPage``), ``GET /status.json`` for the same data as JSON.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Metrics import Metrics
    from Kamaelia.Apps.Grey.StatusServer import StatusServer, makeStatusServer

    metrics = Metrics()
    server = StatusServer(host="127.0.0.1", port=9101, registry=metrics,
                          source=store).activate()
    # or from greylist.conf's metrics_listen = 127.0.0.1:9101 (None when it is empty):
    server = makeStatusServer(config, store, metrics)

``store`` is anything with ``summary(now) -> dict`` and
``outcomeHistory(since, until) -> [(hourStart, outcome, count)]`` (the
greylist stores have both). Then ``curl http://127.0.0.1:9101/metrics``.

How does it work?
-----------------
``StatusServer`` is a ``ServerCore`` running a ``StatusHandler`` per
connection. The handler feeds what it receives to an
``HTTPProtocol.HTTPConnection`` and answers each request in order, many per
connection (keep-alive and pipelining), taking more bytes only when the
machine needs them and waiting while the connection's queue (``csaInboxSize``
responses) is full, so a client that pipelines requests and never reads
the answers is held back by TCP instead of growing memory:

- ``/metrics`` -- ``registry.exposition()`` (a ``Metrics``, which sums the
  worker processes in multiprocess mode) or, for a plain
  ``prometheus_client`` registry, ``generate_latest(registry)``; with the
  Prometheus content type (``CONTENT_TYPE_LATEST``);
- ``/`` -- ``StatusPage.renderPage`` of the source's summary and its last
  24 hours;
- ``/status.json`` -- ``{"now", "summary", "history": [{"hour", "hourStart",
  "outcome", "count"}], "totals"}``;
- any other path: 404; a request ``HTTPConnection`` refuses: its status
  (400, 405, 414, 431, 505) and the connection is closed. HEAD is answered
  as GET without the body. Query strings are ignored.

The store is read in a ``Kamaelia.Util.ThreadedWorker`` of the server's,
never in the scheduler's thread, and the handler waits at most
``readTimeout`` seconds (default 5) for it: a source that raises, is slow,
or hangs gives a "503 Service Unavailable" page (logged), never a hang for
the client nor for anyone else. With ``maxQueuedReads`` (16) reads already
waiting the answer is a 503 at once. What was read is kept for
``cacheSeconds`` (5, by ``clock``), so a page reloaded by many browsers
reads the store once.

Slow or idle clients: a request begun must be complete within
``requestTimeout`` seconds (10) or gets a 408 and is closed (a client
sending a byte now and then holds only its own connection); a connection
with no request under way is closed after ``idleTimeout`` seconds (60).
Beyond ``maxConnections`` (64) connections, a new one gets a 503 and is
closed. A client shutting down its sending side still gets the answers to
what it sent.

With worker processes, give each worker's server the listening socket
the parent opened (``listener=sock``, as ``ServerCore`` takes it) or
``reusePort=True``: whichever worker answers serves the sum of all of them
(``Metrics`` in multiprocess mode).

``clock`` (default ``time.time``) is the wall clock the page and the store
reads use; timeouts use the scheduler's clock.

Inboxes (StatusHandler)
-----------------------
- inbox -- bytes from the client; ``b""`` when it shut its side
- control -- ``socketShutdown``/``shutdownMicroprocess``: the connection is gone

Outboxes (StatusHandler)
------------------------
- outbox -- responses (bytes)
- signal -- ``producerFinished(self)`` to close the connection

Termination
-----------
As ``ServerCore``: ``shutdownMicroprocess`` on "control" closes every
connection and the listening socket; the reader thread ends with it (a read
still under way is abandoned: the thread is a daemon).

Configuration
-------------
``makeStatusServer(config, source, registry)`` reads ``metrics_listen``:
empty (the default) means no server (None); otherwise ``host:port`` or
``[v6]:port`` (``HTTPProtocol.checkListenAddress`` validates it).
"""

from __future__ import annotations

import email.utils
import json
import logging
import time

from prometheus_client import generate_latest

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Apps.Grey import StatusPage
from Kamaelia.Apps.Grey.HTTPProtocol import (
    NEED_DATA,
    BadRequest,
    ConnectionClosed,
    HTTPConnection,
    Request,
    errorResponse,
    formatResponse,
    parseListenAddress,
)
from Kamaelia.Apps.Grey.Metrics import CONTENT_TYPE
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.Internet.TCPServer import TCPServer
from Kamaelia.IPC import socketShutdown
from Kamaelia.Util.ThreadedWorker import ThreadedWorker, WorkerTimeout

_log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
JSON = "application/json"
SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
)


class _HalfCloseAdapter(ConnectedSocketAdapter):
    """Keeps the sending side open after the client's EOF, to answer what it sent."""

    closeOnPeerEOF = False


class _StatusTCPServer(TCPServer):
    CSA = _HalfCloseAdapter


class _StoreReader(ThreadedWorker):
    """The thread the store is read in; ``waiting`` is how many reads are queued."""

    @property
    def waiting(self) -> int:
        return self._requests.qsize()


class StatusHandler(component):
    """One HTTP connection to the status server. See the module documentation."""

    Inboxes = {"inbox": "Bytes from the client (b'' when it shut its side)",
               "control": "socketShutdown / shutdownMicroprocess: the connection is gone"}
    Outboxes = {"outbox": "Responses to the client (bytes)",
                "signal": "producerFinished(self) to close the connection"}

    inboxSize = 16
    server = None
    refuse = False
    peer, peerport, localip, localport = "", 0, "", 0

    def __init__(self, **argd):
        super().__init__(**argd)
        self.setInboxSize("inbox", self.inboxSize)
        self.connection = HTTPConnection()
        self.answered = 0
        self._gone = False
        self._deadline = 0.0
        self._timer = None

    def logContext(self) -> str:
        return "status client %s port %s" % (self.peer or "-", self.peerport)

    def _checkControl(self) -> None:
        while self.dataReady("control"):
            if isinstance(self.recv("control"), (socketShutdown, shutdownMicroprocess)):
                self._gone = True

    def _setDeadline(self, seconds: float) -> None:
        """Wake up ``seconds`` from now (one timer; a later deadline moves it)."""
        scheduler = self.scheduler
        self._deadline = scheduler.clock() + seconds
        if self._timer is not None and self._timer.when > self._deadline:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = scheduler.callAt(self._deadline, self._wake)

    def _wake(self) -> None:
        self._timer = None
        if self.scheduler.clock() < self._deadline:
            self._timer = self.scheduler.callAt(self._deadline, self._wake)
        else:
            self._deliveryWake()

    def _expired(self) -> bool:
        return self.scheduler.clock() >= self._deadline

    def _send(self, data: bytes):
        """Generator: send ``data``, waiting while the connection's queue is full."""
        if not self._gone:
            yield from self.sendWhenRoom(data, "outbox", self._goneNow)

    def _goneNow(self) -> bool:
        self._checkControl()
        return self._gone

    def main(self):
        try:
            if self.refuse:
                yield from self._send(errorResponse(503, "too many connections"))
            else:
                yield from self._serve()
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not self._gone:
            self.send(producerFinished(self), "signal")

    def _serve(self):
        server, connection = self.server, self.connection
        began = False
        self._setDeadline(server.idleTimeout)
        while True:
            event = connection.next_event()
            if event is NEED_DATA:
                if connection.inRequest and not began:
                    began = True
                    self._setDeadline(server.requestTimeout)
                while not self.dataReady("inbox"):
                    self._checkControl()
                    if self._gone:
                        return
                    if self._expired():
                        if began:
                            _log.info("%s: request not complete within %s s; closing",
                                      self.logContext(), server.requestTimeout)
                            yield from self._send(errorResponse(408, "request too slow"))
                        return
                    self.pause()
                    yield 1
                connection.receive_data(self.recv("inbox"))
                continue
            if isinstance(event, ConnectionClosed):
                return
            if isinstance(event, BadRequest):
                _log.info("%s: bad request (%d %s)", self.logContext(), event.status,
                          event.reason)
                yield from self._send(errorResponse(event.status, event.reason))
                return
            began = False
            response = yield from server.respond(self, event)
            yield from self._send(response)
            self.answered += 1
            self._checkControl()
            if self._gone or not event.keepAlive:
                return
            self._setDeadline(server.idleTimeout)


class StatusServer(ServerCore):
    """The metrics endpoint and status page. See the module documentation."""

    Outboxes = dict(ServerCore.Outboxes, _readerControl="Shutdown of the store-reading thread")

    TCPS = _StatusTCPServer
    host = "127.0.0.1"
    port = 9101
    registry = None
    source = None
    readTimeout = 5.0
    maxQueuedReads = 16
    cacheSeconds = 5.0
    requestTimeout = 10.0
    idleTimeout = 60.0
    maxConnections = 64
    csaInboxSize = 16
    title = "Kamaelia Grey"

    def __init__(self, host=None, port=None, registry=None, source=None, clock=time.time,
                 **argd):
        argd.setdefault("protocol", StatusHandler)
        if host is not None:
            argd["host"] = host
        if port is not None:
            argd["port"] = port
        super().__init__(**argd)
        self.registry = registry
        self.source = source
        self.clock = clock
        self.reader = _StoreReader()
        self.link((self, "_readerControl"), (self.reader, "control"))
        self._cache = None

    def mkProtocolHandler(self, **sock_info):
        refuse = len(self.connectedSockets) >= self.maxConnections
        if refuse:
            _log.warning("status server: %d connections open; refusing %s",
                         len(self.connectedSockets), sock_info.get("peer"))
        return self.protocol(server=self, refuse=refuse, **sock_info)

    def handleNewConnection(self, newCSAMessage):
        handler = super().handleNewConnection(newCSAMessage)
        newCSAMessage.object.setInboxSize("inbox", self.csaInboxSize)
        return handler

    def main(self):
        self.addChildren(self.reader)
        self.reader.activate()
        yield from super().main()

    def stop(self):
        if not self._stopping:
            self.send(shutdownMicroprocess(), "_readerControl")
        super().stop()

    # -- answering ----------------------------------------------------------------------

    def respond(self, handler, request: Request):
        """Generator for ``handler``: the response (bytes) to ``request``."""
        head = request.method == "HEAD"
        if request.path == "/metrics" and self.registry is not None:
            try:
                body = self.exposition()
            except Exception:
                _log.exception("status server: the metrics could not be collected")
                return self._error(500, "the metrics could not be collected", request)
            return self._ok(body, CONTENT_TYPE, request, head)
        if request.path in ("/", "/status.json"):
            now = self.clock()
            data = yield from self.readSource(handler, now)
            if data is None:
                return self._error(503, "the greylist store cannot be read just now; "
                                   "see the log", request)
            summary, history = data
            if request.path == "/":
                page = StatusPage.renderPage(summary, history, now, title=self.title)
                return self._ok(page.encode("utf-8"), HTML, request, head)
            return self._ok(statusJSON(summary, history, now), JSON, request, head)
        return self._error(404, "no such page: try /, /status.json or /metrics", request)

    def exposition(self) -> bytes:
        registry = self.registry
        if hasattr(registry, "exposition"):
            return registry.exposition()
        return generate_latest(registry)

    def _headers(self, contentType: str):
        return ((("Content-Type", contentType),
                 ("Date", email.utils.formatdate(self.clock(), usegmt=True)))
                + SECURITY_HEADERS)

    def _ok(self, body: bytes, contentType: str, request: Request, head: bool) -> bytes:
        return formatResponse(200, body, self._headers(contentType), head=head,
                              keepAlive=request.keepAlive)

    def _error(self, status: int, text: str, request: Request) -> bytes:
        return errorResponse(status, text, head=request.method == "HEAD",
                             keepAlive=request.keepAlive)

    # -- reading the store ---------------------------------------------------------------

    def _read(self, now: float):
        """In the reader's thread: the source's summary and last 24 hours."""
        since, until = StatusPage.historyWindow(now)
        summary = dict(self.source.summary(now))
        history = [(float(hour), str(outcome), int(count))
                   for hour, outcome, count in self.source.outcomeHistory(since, until)]
        return summary, history

    def readSource(self, handler, now: float):
        """Generator for ``handler``: ``(summary, history)``, or None if it cannot be read."""
        if self.source is None:
            _log.error("status server: no greylist store to read")
            return None
        cache = self._cache
        if cache is not None and 0 <= now - cache[0] < self.cacheSeconds:
            return cache[1]
        if self.reader.waiting >= self.maxQueuedReads:
            _log.error("status server: %d store reads already waiting; answering 503",
                       self.reader.waiting)
            return None
        try:
            data = yield from self.reader.call(handler, self._read, now,
                                               timeout=self.readTimeout)
        except WorkerTimeout:
            _log.error("status server: the greylist store did not answer within %s s",
                       self.readTimeout)
            return None
        except Exception:
            _log.exception("status server: reading the greylist store failed")
            return None
        self._cache = (now, data)
        return data


def statusJSON(summary, history, now: float) -> bytes:
    """The ``/status.json`` document (see the module docs)."""
    counts = StatusPage.tally(history, now)
    rows = [{"hour": StatusPage.hourText(slot), "hourStart": slot, "outcome": outcome,
             "count": counts[slot][outcome]}
            for slot in StatusPage.hourSlots(now) for outcome in StatusPage.OUTCOMES]
    totals = {outcome: sum(counts[slot][outcome] for slot in counts)
              for outcome in StatusPage.OUTCOMES}
    document = {"now": now, "summary": {str(k): _plain(v) for k, v in summary.items()},
                "history": rows, "totals": totals}
    return json.dumps(document, sort_keys=True).encode("utf-8")


def _plain(value):
    """``value`` if JSON can hold it as it is, else its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def makeStatusServer(config: dict, source, registry, **argd):
    """The StatusServer for ``metrics_listen`` in greylist.conf, or None when it is empty."""
    listen = (config.get("metrics_listen") or "").strip()
    if not listen:
        return None
    host, port = parseListenAddress(listen)
    return StatusServer(host=host, port=port, registry=registry, source=source, **argd)


__kamaelia_components__ = (StatusServer, StatusHandler)
