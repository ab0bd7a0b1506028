"""Tests for Kamaelia.Apps.Grey.PolicyService: the policy in its own thread, never hanging a session."""

import logging
import sqlite3
import time

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey import SMTPReplies
from Kamaelia.Apps.Grey.GreylistStore import Expired
from Kamaelia.Apps.Grey.Policy import ACCEPT, DEFER, REJECT, Envelope, GreylistPolicy, PolicySettings
from Kamaelia.Apps.Grey.PolicyService import SERVICE_NAME, PolicyService

T0 = 1_700_000_000.0
HOUR = 3600.0
ENVELOPE = Envelope(clientAddress="198.51.100.7", clientName="unknown", heloName="c.example",
                    sender="alice@sender.example", recipients=("bob@example.org",))
SETTINGS = PolicySettings(allowedDomains=("example.org",))


class Asker(component):
    """Asks the service (``decide``, or the generator named ``question``) about each
    (envelope, now) in turn; keeps the answers in order."""

    def __init__(self, service, questions, question="decide"):
        super().__init__()
        self.service = service
        self.questions = questions
        self.question = question
        self.decisions = []

    def main(self):
        ask = getattr(self.service, self.question)
        for envelope, now in self.questions:
            decision = yield from ask(self, envelope, now)
            self.decisions.append(decision)


@pytest.fixture
def running(tmp_path):
    """``running(policy=None, **service options)`` -> (harness of the service, its policy).

    The service runs on a harness scheduler with a fake clock; its thread is real.
    Every service is shut down (and its thread ended) after the test.
    """
    started = []

    def start(policy=None, storeTimeout=5.0, **options):
        if policy is None:
            policy = GreylistPolicy(SETTINGS, SETTINGS.openStore(str(tmp_path / "g.sqlite"),
                                                                 timeout=storeTimeout))
        service = PolicyService(policy, **options)
        h = ComponentHarness(service)
        started.append(h)
        return h, policy

    yield start
    for h in started:
        if not h.finished:
            h.put(producerFinished(), "control")
            until(h, lambda harness=h: harness.finished)


def until(h, condition, deadline=20.0):
    """Run the harness scheduler until ``condition()``, failing after ``deadline`` seconds.

    Answers come from the service's real thread, so between runs this polls
    the condition every millisecond or two.
    """
    end = time.monotonic() + deadline
    h.runUntilIdle()
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.002)
        h.runUntilIdle()


def ask(h, questions, question="decide"):
    asker = Asker(h.component, questions, question)
    asker.activate(h.scheduler)
    until(h, lambda: len(asker.decisions) == len(questions))
    return asker.decisions


def test_decisions_come_back_from_the_service_thread_in_order(running):
    h, policy = running()
    first, early, passed = ask(h, [(ENVELOPE, T0), (ENVELOPE, T0 + 600), (ENVELOPE, T0 + HOUR)])
    assert (first.action, first.reasons) == (DEFER, (("bob@example.org", "new"),))
    assert early.reasons == (("bob@example.org", "early-retry"),)
    assert (passed.action, passed.delay) == (ACCEPT, HOUR)
    assert policy.store.lookup("198.51.100.7", "<alice@sender.example>",
                               "<bob@example.org>").last_pass == T0 + HOUR


def test_now_defaults_to_the_askers_wall_clock(running):
    h, policy = running()
    ask(h, [(ENVELOPE, None)])
    record = policy.store.lookup("198.51.100.7", "<alice@sender.example>", "<bob@example.org>")
    assert record.first_seen == h.scheduler.wallclock() == h.clock.wallclock()


def test_a_store_that_does_not_answer_in_time_gives_a_fast_deferral(running, tmp_path, caplog):
    """A real lock held elsewhere blocks the store; the session still gets 451 4.3.0 at once."""
    h, policy = running(storeTimeout=30.0, timeout=5.0)
    ask(h, [(ENVELOPE, T0)])                            # the file exists, in WAL mode
    holder = sqlite3.connect(str(tmp_path / "g.sqlite"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        asker = Asker(h.component, [(ENVELOPE, T0 + HOUR)])
        asker.activate(h.scheduler)
        h.runUntilIdle()
        assert asker.decisions == []                    # the worker is stuck on the lock
        with caplog.at_level(logging.ERROR, logger="Kamaelia.Apps.Grey.PolicyService"):
            h.advance(5.0)                              # the service's timeout, on the fake clock
        assert len(asker.decisions) == 1
        decision = asker.decisions[0]
        assert (decision.action, decision.reply) == (DEFER, SMTPReplies.LOCAL_ERROR)
        assert decision.reasons == (("bob@example.org", "store-error"),)
        assert any("did not answer within" in r.getMessage() for r in caplog.records)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # the late answer is dropped; the service goes on answering
    assert ask(h, [(ENVELOPE, T0 + HOUR + 10)])[0].action == ACCEPT


def test_a_full_queue_defers_at_once_without_queueing(running, tmp_path, caplog):
    h, policy = running(storeTimeout=30.0, maxQueued=2)
    ask(h, [(ENVELOPE, T0)])
    holder = sqlite3.connect(str(tmp_path / "g.sqlite"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        stuck = [Asker(h.component, [(ENVELOPE, T0 + HOUR)]) for _ in range(3)]
        for asker in stuck:
            asker.activate(h.scheduler)
        with caplog.at_level(logging.ERROR, logger="Kamaelia.Apps.Grey.PolicyService"):
            until(h, lambda: h.component._requests.qsize() >= 2 or
                  any(a.decisions for a in stuck))
            overflow = Asker(h.component, [(ENVELOPE, T0 + HOUR)])
            overflow.activate(h.scheduler)
            until(h, lambda: overflow.decisions)
        assert overflow.decisions[0].reply == SMTPReplies.LOCAL_ERROR
        assert any("already waiting" in r.getMessage() for r in caplog.records)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    until(h, lambda: all(a.decisions for a in stuck))


class BrokenPolicy(GreylistPolicy):
    """A policy with a bug: decide raises."""

    def decide(self, envelope, now):
        raise RuntimeError("a bug in the policy")


def test_a_policy_that_raises_gives_a_deferral_and_a_traceback(running, caplog):
    h, _ = running(policy=BrokenPolicy(SETTINGS, None))
    with caplog.at_level(logging.ERROR, logger="Kamaelia.Apps.Grey.PolicyService"):
        decision = ask(h, [(ENVELOPE, T0)])[0]
    assert (decision.action, decision.reply) == (DEFER, SMTPReplies.LOCAL_ERROR)
    assert any(r.exc_info and "a bug in the policy" in str(r.exc_info[1]) for r in caplog.records)


def preview(h, questions):
    return ask(h, questions, "wouldDefer")


class PreviewRaises(GreylistPolicy):
    def wouldDefer(self, envelope, now):
        raise sqlite3.OperationalError("disk I/O error")


def test_would_defer_is_answered_in_the_service_thread_and_records_nothing(running):
    h, policy = running()
    assert preview(h, [(ENVELOPE, T0)]) == [True]
    assert policy.store.lookup("198.51.100.7", "<alice@sender.example>", "<bob@example.org>") is None
    assert h.component._tally == {}, "a preview is not an outcome"
    ask(h, [(ENVELOPE, T0)])
    assert preview(h, [(ENVELOPE, T0 + 60), (ENVELOPE, T0 + HOUR)]) == [True, False]


def test_would_defer_says_false_when_it_cannot_tell(running, caplog):
    """A failing store: False, so the decision at DATA (which defers safely) has the last word."""
    h, _ = running(policy=PreviewRaises(SETTINGS, None))
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Apps.Grey.PolicyService"):
        assert preview(h, [(ENVELOPE, T0)]) == [False]
    assert any("asking again at DATA" in r.getMessage() for r in caplog.records)


def test_set_policy_swaps_the_policy_for_the_next_question(running):
    h, policy = running()
    other = Envelope("198.51.100.7", "unknown", "c.example", "a@x.example", ("carol@example.net",))
    assert ask(h, [(other, T0)])[0].action == REJECT
    h.component.setPolicy(policy.withSettings(PolicySettings(
        allowedDomains=("example.org", "example.net"))))
    assert ask(h, [(other, T0)])[0].action == DEFER
    assert h.component.policy.store is policy.store


def test_decide_now_answers_in_the_calling_thread(running):
    h, _ = running()
    assert h.component.decideNow(ENVELOPE, T0).reasons == (("bob@example.org", "new"),)


def test_registered_as_a_tracker_service_and_deregistered_at_shutdown(running):
    h, policy = running()
    service = h.component.registerAsService()
    assert PolicyService.lookup(service.tracker) is service
    assert service.tracker.retrieveService(SERVICE_NAME)[0] is service
    h.put(producerFinished(), "control")
    until(h, lambda: h.finished)
    assert PolicyService.lookup(service.tracker) is None
    assert isinstance(h.get("signal"), producerFinished)
    with pytest.raises(sqlite3.ProgrammingError):      # the store was closed
        policy.store.stats()


def test_a_message_on_inbox_expires_stale_entries(running):
    h, policy = running()
    ask(h, [(ENVELOPE, h.clock.wallclock() - 30000)])  # an attempt older than max_defer
    h.put("tick", "inbox")
    until(h, lambda: h.ready("outbox"))
    assert h.get("outbox") == Expired(attempts=1, passed=0, clients=0, domains=0)
    assert policy.store.stats()["triplets"] == 0
