"""ClientNameService: lookups in worker threads, answers waking the asker, a cache, shutdown.

Most tests run real components on a real scheduler (the root conftest's
``system``: ``runThreads`` in a thread) against the ``dnsServer`` fixture,
shut the service down and check the run then ends by itself; the
bound on a stuck worker is checked on a ComponentHarness with a fake clock.
"""

import threading
import time

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness, FakeClock
from Kamaelia.Apps.Grey.ClientName import OK, TEMPORARY, UNKNOWN_CLIENT, ClientName
from Kamaelia.Apps.Grey.ClientNameService import SERVICE_NAME, ClientNameService

DEADLINE = 20.0
# Long next to how soon shutdown must end; short enough that the abandoned DNS
# query (bounded by it) does not hold up the interpreter's exit for long.
STUCK_TIMEOUT = 10.0


class Asker(component):
    """Runs ``script(self)`` -- a generator function -- in the scheduler's thread."""

    def __init__(self, script, **argd):
        super().__init__(**argd)
        self.script = script

    def main(self):
        yield from self.script(self)


def waitFor(condition, deadline=DEADLINE, message="condition"):
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "timed out waiting for " + message
        time.sleep(0.01)


def stopService(system, service, message=None):
    """Deliver a shutdown message to the service's control, in the scheduler's thread."""
    system.call(service.inboxes["control"].append, message or shutdownMicroprocess())


def runEnds(system, deadline=DEADLINE):
    """Every component has ended, so the scheduler's run is over (within ``deadline``)."""
    system.thread.join(deadline)
    assert not system.thread.is_alive(), "the scheduler did not finish"
    assert system.error is None, system.error


def makeService(dnsServer, **argd):
    return ClientNameService(nameservers=[dnsServer.address], port=dnsServer.port, **argd)


def ptrQueries(dnsServer):
    return [q for q in dnsServer.queries if q[1] == "PTR"]


@pytest.fixture
def zone(dnsServer):
    dnsServer.addPTR("192.0.2.7", "mail.example.org")
    dnsServer.addA("mail.example.org", "192.0.2.7")
    dnsServer.addPTR("192.0.2.8", "other.example.org")
    dnsServer.addA("other.example.org", "192.0.2.8")
    dnsServer.drop(dnsServer.reverseName("192.0.2.66"))
    dnsServer.servfail(dnsServer.reverseName("192.0.2.99"))
    return dnsServer


# -- through a real scheduler -------------------------------------------------------------

def test_query_returns_the_verified_name_to_the_asking_component(zone, system):
    service = makeService(zone)
    answers = []

    def script(self):
        answers.append((yield from service.query(self, "192.0.2.7")))
    system.activate(service, Asker(script))
    waitFor(lambda: answers, message="an answer")
    stopService(system, service)
    runEnds(system)
    assert answers == [ClientName("mail.example.org", "mail.example.org", OK)]


def test_a_slow_lookup_does_not_delay_another_askers(zone, system):
    """Asked after a query the DNS server never answers, the fine answer still comes first."""
    service = makeService(zone, timeout=2.0)
    finished = []

    def ask(address):
        def script(self):
            name = yield from service.query(self, address)
            finished.append((address, name))
        return Asker(script)
    system.activate(service, ask("192.0.2.66"))
    waitFor(lambda: ptrQueries(zone), message="the silent query to reach the DNS server")
    system.activate(ask("192.0.2.7"))
    waitFor(lambda: len(finished) == 2, message="both answers")
    stopService(system, service)
    runEnds(system)
    assert finished == [("192.0.2.7", ClientName("mail.example.org", "mail.example.org", OK)),
                        ("192.0.2.66", TEMPORARY)]


def test_many_askers_at_once_all_get_their_own_answers(zone, system):
    service = makeService(zone)
    answers = {}

    def ask(i, address):
        def script(self):
            answers[i] = (yield from service.query(self, address))
        return Asker(script)
    askers = [ask(i, ("192.0.2.7", "192.0.2.8", "192.0.2.9")[i % 3]) for i in range(30)]
    system.activate(service, *askers)
    waitFor(lambda: len(answers) == 30, message="30 answers")
    stopService(system, service)
    runEnds(system)
    expected = ["mail.example.org", "other.example.org", "[UNAVAILABLE]"]
    assert [answers[i].xclientName for i in range(30)] == [expected[i % 3] for i in range(30)]


def test_begin_returns_at_once_and_wait_collects_later(zone, system):
    """begin at connect time (even for a silent DNS server), wait at EHLO."""
    service = makeService(zone, timeout=2.0)
    seen = []

    def script(self):
        started = time.monotonic()
        slow, fine = service.begin("192.0.2.66"), service.begin("192.0.2.7")
        seen.append(time.monotonic() - started)
        seen.append((yield from service.wait(self, fine)))
        seen.append((yield from service.wait(self, slow)))
    system.activate(service, Asker(script))
    waitFor(lambda: len(seen) == 3, message="both answers")
    stopService(system, service)
    runEnds(system)
    assert seen[0] < 1.0, "begin blocked"
    assert seen[1:] == [ClientName("mail.example.org", "mail.example.org", OK), TEMPORARY]


def test_cached_answer_needs_no_second_query_until_it_expires(zone, system):
    clock = FakeClock()
    service = makeService(zone, cacheTTL=300, clock=clock)
    counts = []

    def script(self):
        for advance in (0, 299, 2):
            clock.advance(advance)
            name = yield from service.query(self, "192.0.2.7")
            counts.append((name.xclientName, len(ptrQueries(zone))))
    system.activate(service, Asker(script))
    waitFor(lambda: len(counts) == 3, message="three answers")
    stopService(system, service)
    runEnds(system)
    assert counts == [("mail.example.org", 1), ("mail.example.org", 1), ("mail.example.org", 2)]


def test_permanent_failure_is_cached_and_temporary_failure_is_not(zone, system):
    service = makeService(zone, clock=FakeClock())
    counts = []

    def script(self):
        for address in ("192.0.2.9", "192.0.2.9", "192.0.2.99", "192.0.2.99"):
            name = yield from service.query(self, address)
            counts.append((address, name.status, len(ptrQueries(zone))))
    system.activate(service, Asker(script))
    waitFor(lambda: len(counts) == 4, message="four answers")
    stopService(system, service)
    runEnds(system)
    assert [c[:2] for c in counts] == [("192.0.2.9", "unavailable")] * 2 + [
        ("192.0.2.99", "tempunavail")] * 2
    assert counts[1][2] == counts[0][2], "the permanent failure was asked again"
    assert counts[3][2] > counts[2][2], "the temporary failure was cached"


def test_cache_is_bounded_and_forgets_the_least_recently_used(zone, system):
    service = makeService(zone, cacheSize=2, clock=FakeClock())
    counts = []

    def script(self):
        for address in ("192.0.2.7", "192.0.2.8", "192.0.2.7", "192.0.2.9", "192.0.2.7",
                        "192.0.2.8"):
            yield from service.query(self, address)
            counts.append(len(ptrQueries(zone)))
    system.activate(service, Asker(script))
    waitFor(lambda: len(counts) == 6, message="six answers")
    stopService(system, service)
    runEnds(system)
    # .7 and .8 cached; .7 used again; .9 pushes out .8, so .7 is still there and .8 is not.
    assert counts == [1, 2, 2, 3, 3, 4]


def test_cache_ttl_zero_asks_every_time(zone, system):
    service = makeService(zone, cacheTTL=0)
    counts = []

    def script(self):
        for _ in range(2):
            yield from service.query(self, "192.0.2.7")
            counts.append(len(ptrQueries(zone)))
    system.activate(service, Asker(script))
    waitFor(lambda: len(counts) == 2, message="two answers")
    stopService(system, service)
    runEnds(system)
    assert counts == [1, 2]


def test_shutdown_with_a_stuck_lookup_ends_promptly_and_wakes_the_waiter(zone, system):
    """The service's timeout is long; shutdown must not wait for it."""
    service = makeService(zone, timeout=STUCK_TIMEOUT).registerAsService()
    answers = []

    def script(self):
        answers.append((yield from service.query(self, "192.0.2.66")))
    started = time.monotonic()
    system.activate(service, Asker(script))
    waitFor(lambda: ptrQueries(zone), message="the query to reach the DNS server")
    stopService(system, service)
    runEnds(system)
    assert time.monotonic() - started < STUCK_TIMEOUT / 2
    assert answers == [TEMPORARY]
    assert ClientNameService.lookup(service.tracker) is None


def test_shutdown_cancels_queued_lookups(zone, system):
    """With one thread busy on a silent query, the queued one is cancelled, not run later."""
    service = makeService(zone, timeout=STUCK_TIMEOUT, threads=1)
    answers = []

    def script(self):
        stuck = service.begin("192.0.2.66")
        queued = service.begin("192.0.2.7")
        answers.append(stuck)
        answers.append((yield from service.wait(self, queued)))
    system.activate(service, Asker(script))
    waitFor(lambda: ptrQueries(zone), message="the first query to reach the DNS server")
    stopService(system, service)
    runEnds(system)
    assert answers[1] == TEMPORARY
    assert answers[0].future.running() or answers[0].future.done()
    assert ptrQueries(zone) == [(zone.reverseName("192.0.2.66"), "PTR")]


@pytest.mark.parametrize("message", [shutdownMicroprocess(), producerFinished()])
def test_shutdown_message_is_passed_on_and_deregisters(dnsServer, message):
    service = makeService(dnsServer)
    h = ComponentHarness(service)
    service.registerAsService()
    assert ClientNameService.lookup(service.tracker) is service
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.get("signal") is message
    assert ClientNameService.lookup(service.tracker) is None
    assert service.begin("192.0.2.7").result == TEMPORARY
    assert dnsServer.queries == []


def test_lookup_finds_the_registered_service_by_name(dnsServer):
    service = makeService(dnsServer)
    ComponentHarness(service)
    assert ClientNameService.lookup(service.tracker) is None
    service.registerAsService()
    assert service.tracker.retrieveService(SERVICE_NAME)[0] is service
    assert ClientNameService.lookup(service.tracker) is service


def test_identical_concurrent_queries_share_one_lookup(zone):
    service = makeService(zone, timeout=1.0)
    first, second = service.begin("192.0.2.66"), service.begin("::ffff:192.0.2.66")
    assert first.future is second.future
    assert first.future.result(timeout=DEADLINE) == TEMPORARY
    assert ptrQueries(zone) == [(zone.reverseName("192.0.2.66"), "PTR")]
    service._close()


def test_not_an_address_answers_at_once_without_dns(dnsServer):
    service = makeService(dnsServer)
    handle = service.begin("unix:/var/run/sock")
    assert handle.future is None and handle.result == UNKNOWN_CLIENT
    assert dnsServer.queries == []
    service._close()


# -- the bound on a stuck worker (fake clock) ----------------------------------------------

class BlockingResolver:
    """A resolver whose every lookup blocks until released: a stuck worker thread.

    dnspython keeps to its lifetime, so a real server cannot make a worker
    overrun it; this stand-in does, to test the bound in ``wait`` itself.
    """

    def __init__(self):
        self.release = threading.Event()
        self.entered = threading.Event()

    def resolve(self, *args, **argd):
        self.entered.set()
        self.release.wait(DEADLINE)
        raise OSError("released")


@pytest.fixture
def stuck():
    resolver = BlockingResolver()
    yield resolver
    resolver.release.set()


def test_wait_gives_tempunavail_after_timeout_plus_one_even_if_the_worker_is_stuck(stuck):
    service = ClientNameService(nameservers=["127.0.0.1"], timeout=5.0)
    service.resolver = stuck
    answers = []

    def script(self):
        answers.append((yield from service.query(self, "192.0.2.7")))
    h = ComponentHarness(Asker(script))
    service.activate(h.scheduler)
    h.runUntilIdle()
    assert stuck.entered.wait(DEADLINE)
    h.advance(5.9)
    assert answers == []
    h.advance(0.2)
    assert answers == [TEMPORARY]
    service._close()
