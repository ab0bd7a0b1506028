"""StatusServer on real loopback sockets: /metrics, the status page and status.json, HTTP
errors, hostile and slow clients that never hold up anyone else, and a store that fails or
hangs answered with a 503, never a hang."""

import http.client
import json
import random
import select
import socket
import threading
import time

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter

from Axon.Component import component
from Kamaelia.Apps.Grey.HTTPProtocol import MAX_HEADER_BYTES
from Kamaelia.Apps.Grey.Metrics import Metrics
from Kamaelia.Apps.Grey.StatusPage import hourSlots
from Kamaelia.Apps.Grey.StatusServer import StatusServer, makeStatusServer

DEADLINE = 10.0
NOW = 1764645000.0          # 2025-12-02 03:10 UTC


class Source:
    """A greylist store's two read methods over fixed data; counts its reads.

    ``fail`` makes them raise; ``hang`` makes them wait until ``release()``.
    """

    def __init__(self, summary=None, history=(), fail=False, hang=False):
        self.summaryData = summary if summary is not None else {
            "pending": 12, "passed": 340, "whitelistedClients": 5, "whitelistedDomains": 2}
        self.history = list(history)
        self.fail = fail
        self.hang = hang
        self.reads = 0
        self.asked = []
        self._released = threading.Event()

    def release(self):
        self._released.set()

    def summary(self, now):
        self.reads += 1
        if self.hang:
            self._released.wait(DEADLINE)
        if self.fail:
            raise RuntimeError("database is down")
        return self.summaryData

    def outcomeHistory(self, since, until):
        self.asked.append((since, until))
        return list(self.history)


class Keeper(component):
    """Keeps the test's scheduler running after the servers under test have stopped."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


@pytest.fixture
def statusServer(system):
    """start(**attributes) -> a running StatusServer on 127.0.0.1 (a free port)."""
    started, sources = [], []
    system.activate(Keeper())

    def start(source=None, registry=None, **attributes):
        source = source if source is not None else Source()
        sources.append(source)
        attributes.setdefault("clock", lambda: NOW)
        server = system.call(lambda: StatusServer(host="127.0.0.1", port=0, registry=registry,
                                                  source=source, **attributes).activate())
        started.append(server)
        return server

    yield start
    for source in sources:
        source.release()
    for server in started:
        system.call(lambda s=server: s._isStopped() or s.stop())


def get(server, path, method="GET", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def raw(port, data, shutdown=True, timeout=DEADLINE):
    """Send ``data``, (shut our side,) read until the server closes; returns the bytes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    finally:
        sock.close()


def responses(answer, methods=None):
    """Split ``answer`` into ``(status, headers, body)`` by Content-Length; ``methods`` names
    the request method of each (HEAD responses have no body), GET by default."""
    found = []
    while answer:
        head, _, answer = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        method = methods[len(found)] if methods else "GET"
        length = 0 if method == "HEAD" else int(headers["Content-Length"])
        found.append((int(lines[0].split(" ")[1]), headers, answer[:length]))
        answer = answer[length:]
    return found


def statusLines(answer, methods=None):
    return [b"%d" % status for status, _, _ in responses(answer, methods)]


def test_metrics_are_served_in_the_prometheus_format(statusServer):
    metrics = Metrics()
    metrics.sessionOpened("policy")
    metrics.countReasons("policy", ["new", "new", "passed"])
    server = statusServer(registry=metrics)
    status, headers, body = get(server, "/metrics")
    assert status == 200
    assert headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert b'kamaelia_grey_decisions_total{frontend="policy",reason="new"} 2.0' in body
    assert b'kamaelia_grey_sessions_open{frontend="policy"} 1.0' in body
    status, headers, body = get(server, "/metrics", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 100


def test_a_plain_prometheus_registry_can_be_served(statusServer):
    registry = CollectorRegistry()
    Counter("things", "Things", registry=registry).inc(3)
    status, _, body = get(statusServer(registry=registry), "/metrics")
    assert status == 200 and b"things_total 3.0" in body


def test_status_page_and_json_show_the_store_data(statusServer):
    hour = hourSlots(NOW)[-1]
    source = Source(history=[(hour, "deferred", 7), (hour - 3600, "passed", 3),
                             (hour, "whitelisted", 2)])
    server = statusServer(source=source)
    status, headers, body = get(server, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    assert 'data-hour="2025-12-02T03:00Z" data-outcome="deferred" data-count="7"' in page
    assert 'data-hour="2025-12-02T02:00Z" data-outcome="passed" data-count="3"' in page
    assert '<dd data-key="pending">12</dd>' in page
    status, headers, body = get(server, "/status.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["summary"]["pending"] == 12
    assert document["totals"] == {"deferred": 7, "passed": 3, "never-retried": 0,
                                  "whitelisted": 2, "refused": 0}
    assert {"hour": "2025-12-02T03:00Z", "hourStart": hour, "outcome": "deferred",
            "count": 7} in document["history"]
    assert source.asked[0] == (hourSlots(NOW)[0], hour + 3600), "the 24 hours up to now's"


def test_reads_are_cached_for_a_few_seconds(statusServer):
    clock = [NOW]
    source = Source()
    server = statusServer(source=source, clock=lambda: clock[0], cacheSeconds=5.0)
    for _ in range(3):
        assert get(server, "/")[0] == 200
    assert source.reads == 1
    clock[0] += 6
    assert get(server, "/status.json")[0] == 200
    assert source.reads == 2


def test_unknown_paths_are_404_and_the_connection_stays_open(statusServer):
    server = statusServer()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
    try:
        for path in ("/nope", "/metrics", "/../etc/passwd", "/?x=<script>"):
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            expected = 200 if path.startswith("/?") else 404
            assert response.status == expected, (path, body)
            assert b"<script>" not in body
    finally:
        conn.close()


@pytest.mark.parametrize("data, status", [
    (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 405),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505),
])
def test_bad_requests_get_their_status_and_are_closed(statusServer, data, status):
    server = statusServer()
    answer = raw(server.port, data + b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", shutdown=False)
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:80]
    assert statusLines(answer) == [b"%d" % status], "nothing after a bad request is answered"
    assert b"\r\nConnection: close\r\n" in answer
    assert get(server, "/status.json")[0] == 200


def test_pipelined_requests_are_answered_in_order(statusServer):
    server = statusServer(registry=Metrics())
    answer = raw(server.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n")
    (first, _, metrics), second, (third, _, document) = responses(answer, ["GET", "HEAD", "GET"])
    assert (first, second[0], third) == (200, 404, 200)
    assert b"kamaelia_grey_sessions_total" in metrics and second[2] == b""
    assert json.loads(document)["summary"]["pending"] == 12


def test_random_garbage_connections_leave_the_server_answering(statusServer):
    server = statusServer(registry=Metrics())
    rng = random.Random(1111)
    for _ in range(40):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
        if rng.random() < 0.5:
            data = b"GET / HTTP/1.1\r\n" + data
        answer = raw(server.port, data + b"\r\n\r\n")
        assert answer == b"" or answer.startswith(b"HTTP/1.1 "), answer[:80]
    assert get(server, "/metrics")[0] == 200


def test_http_1_0_is_answered_and_closed(statusServer):
    answer = raw(statusServer().port, b"GET /status.json HTTP/1.0\r\n\r\n", shutdown=False)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in answer


def test_a_slow_partial_request_does_not_block_others_and_times_out(statusServer):
    server = statusServer(requestTimeout=0.5)
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Drip: ")
        started = time.monotonic()
        assert get(server, "/status.json")[0] == 200
        assert select.select([slow], [], [], 0)[0] == [], \
            "the other client was answered while the slow one was still waiting"
        slow.sendall(b"a")
        received = b""
        while True:
            chunk = slow.recv(65536)
            if not chunk:
                break
            received += chunk
        assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert time.monotonic() - started < DEADLINE
    finally:
        slow.close()


def test_an_idle_keep_alive_connection_is_closed(statusServer):
    server = statusServer(idleTimeout=0.3)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        sock.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert statusLines(received) == [b"404"]
    finally:
        sock.close()


def test_a_failing_store_gives_503(statusServer, caplog):
    server = statusServer(source=Source(fail=True), registry=Metrics())
    for path in ("/", "/status.json"):
        status, _, body = get(server, path)
        assert status == 503 and b"cannot be read" in body
    assert get(server, "/metrics")[0] == 200
    assert "reading the greylist store failed" in caplog.text


def test_a_hanging_store_gives_503_in_bounded_time_and_others_are_served(statusServer):
    source = Source(hang=True)
    server = statusServer(source=source, registry=Metrics(), readTimeout=0.5)
    results = []
    waiter = threading.Thread(target=lambda: results.append(get(server, "/")))
    started = time.monotonic()
    waiter.start()
    assert get(server, "/metrics")[0] == 200
    waiter.join(DEADLINE)
    assert results and results[0][0] == 503
    assert time.monotonic() - started < DEADLINE
    source.release()


def test_queued_reads_are_bounded(statusServer):
    source = Source(hang=True)
    server = statusServer(source=source, readTimeout=3.0, maxQueuedReads=1, cacheSeconds=0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(get(server, "/")[0]))
               for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + DEADLINE
    while results.count(503) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert results.count(503) >= 2, "reads beyond the queue's bound are refused at once"
    source.release()
    for t in threads:
        t.join(DEADLINE)


def test_too_many_connections_get_503(statusServer):
    server = statusServer(maxConnections=1)
    first = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        first.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        assert first.recv(100).startswith(b"HTTP/1.1 404")
        answer = raw(server.port, b"", shutdown=False)
        assert answer.startswith(b"HTTP/1.1 503 ")
    finally:
        first.close()


def test_a_client_that_pipelines_and_never_reads_is_held_back(statusServer, system):
    server = statusServer(registry=Metrics())
    flood = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    flood.setblocking(False)
    chunk = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 1000
    sent, limit, blocked = 0, 100_000_000, False
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline and sent < limit:
            if not select.select([], [flood], [], 0.5)[1]:
                blocked = True                   # the server has stopped reading
                break
            try:
                sent += flood.send(chunk)
            except BlockingIOError:
                continue
        assert blocked and sent < limit, "the server kept reading a client that never reads"
        assert get(server, "/status.json")[0] == 200, "others are still answered"

        def queued():
            handlers = [h for h in server.childComponents() if hasattr(h, "connection")]
            return [(len(h.inboxes["inbox"]), h.connection.buffered) for h in handlers]
        for inboxLength, buffered in system.call(queued):
            assert inboxLength <= 16 and buffered <= 70000
    finally:
        flood.close()


def test_a_listening_socket_opened_beforehand_is_served(statusServer):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    server = statusServer(listener=listener)
    assert server.port == listener.getsockname()[1]
    assert get(server, "/status.json")[0] == 200


def freePort(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_make_status_server_reads_metrics_listen(system):
    assert makeStatusServer({}, Source(), Metrics()) is None
    assert makeStatusServer({"metrics_listen": ""}, Source(), Metrics()) is None
    with pytest.raises(ValueError):
        makeStatusServer({"metrics_listen": "9101"}, Source(), Metrics())
    system.activate(Keeper())
    port = freePort()
    server = system.call(lambda: makeStatusServer({"metrics_listen": "127.0.0.1:%d" % port},
                                                  Source(), Metrics()).activate())
    try:
        assert server.port == port
        assert get(server, "/metrics")[0] == 200
    finally:
        system.call(server.stop)


def test_make_status_server_on_ipv6_loopback(system):
    try:
        port = freePort(socket.AF_INET6, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    system.activate(Keeper())
    server = system.call(lambda: makeStatusServer({"metrics_listen": "[::1]:%d" % port},
                                                  Source(), Metrics()).activate())
    try:
        conn = http.client.HTTPConnection("::1", port, timeout=DEADLINE)
        conn.request("GET", "/metrics")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        system.call(server.stop)
