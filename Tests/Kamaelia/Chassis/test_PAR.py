"""Kamaelia.Chassis.PAR: parallel children, merged output, policy, termination."""

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.PAR import PAR


def test_children_outboxes_are_merged_into_the_par_outbox(parts):
    h = ComponentHarness(PAR(parts.Source(["a1", "a2"]), parts.Source(["b1"])))
    h.runUntilIdle()
    assert sorted(h.getAll("outbox")) == ["a1", "a2", "b1"]


def test_children_end_by_themselves_then_par_sends_producerFinished(parts):
    a, b = parts.Source(["x"]), parts.Source(["y"])
    h = ComponentHarness(PAR(a, b))
    h.runUntilIdle()
    assert h.finished
    signals = h.getAll("signal")
    assert [s.caller for s in signals[:2]] == [a, b]      # the children's own, passed out
    assert len(signals) == 3
    assert isinstance(signals[2], producerFinished) and signals[2].caller is None


def test_par_waits_for_all_children(parts):
    a, d = parts.Stopper(), parts.Deaf()
    p = PAR(a, d)
    h = ComponentHarness(p)
    h.runUntilIdle()
    assert not h.finished
    assert p.childComponents() == [d]
    assert h.scheduler.isThreadPaused(p)
    d._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished


def test_default_policy_discards_inbox_data(parts):
    a = parts.Recorder()
    p = PAR(a)
    h = ComponentHarness(p)
    h.put("data", "inbox")
    h.runUntilIdle()
    assert p.dataReady("inbox") == 0
    assert a.seen == []
    assert h.ready("outbox") == 0


def test_default_policy_forwards_control_to_every_child(parts):
    a, b = parts.Deaf(), parts.Deaf()
    h = ComponentHarness(PAR(a, b))
    h.runUntilIdle()
    h.put("hello", "control")
    h.runUntilIdle()
    assert a.controls == ["hello"] and b.controls == ["hello"]
    assert not h.finished


def test_producerFinished_is_forwarded_and_par_ends_with_its_children(parts):
    a, b = parts.Recorder(), parts.Recorder()
    h = ComponentHarness(PAR(a, b))
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert a.controls == [message] and b.controls == [message]
    assert h.finished
    signals = h.getAll("signal")
    assert signals[:2] == [message, message]
    assert isinstance(signals[2], producerFinished) and signals[2] is not message


def test_shutdownMicroprocess_ends_par_at_once_and_is_passed_out(parts):
    a, b = parts.Deaf(), parts.Deaf()
    p = PAR(a, b)
    h = ComponentHarness(p)
    h.runUntilIdle()
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert a.controls == [message] and b.controls == [message]
    assert not a._isStopped()                 # PAR does not wait for them
    assert h.getAll("signal") == [message]
    assert p.childComponents() == []
    assert a.outboxes["outbox"].target is None


def test_children_are_activated_only_when_par_runs(parts):
    a = parts.Recorder()
    p = PAR(a)
    h = ComponentHarness(p)
    assert not a.started and a not in h.scheduler.threads
    h.runUntilIdle()
    assert a.started


def test_a_policy_sees_every_input_message(parts):
    seen = []

    def policy(par, boxname, message):
        seen.append((par, boxname, message))

    a = parts.Deaf()
    p = PAR(a, policy=policy)
    h = ComponentHarness(p)
    h.put("data", "inbox")
    h.put("ctl", "control")
    h.runUntilIdle()
    assert seen == [(p, "inbox", "data"), (p, "control", "ctl")]
    assert a.controls == []                   # the policy chose not to forward


def test_a_broadcasting_policy_copies_input_to_every_child(parts):
    def broadcast(par, boxname, message):
        par.forwardToChildren(message, boxname)

    a, b = parts.Recorder(tag="a"), parts.Recorder(tag="b")
    h = ComponentHarness(PAR(a, b, policy=broadcast))
    h.put("data", "inbox")
    h.runUntilIdle()
    assert a.seen == ["data"] and b.seen == ["data"]
    assert sorted(h.getAll("outbox")) == [("a", "data"), ("b", "data")]


def test_policy_can_be_a_method_of_a_subclass(parts):
    class Counting(PAR):
        def policy(self, boxname, message):
            self.count = getattr(self, "count", 0) + 1
            self.defaultPolicy(boxname, message)

    a = parts.Deaf()
    p = Counting(a)
    h = ComponentHarness(p)
    h.put("one", "control")
    h.put("two", "inbox")
    h.runUntilIdle()
    assert p.count == 2
    assert a.controls == ["one"]


def test_shutdown_still_ends_par_under_a_custom_policy(parts):
    h = ComponentHarness(PAR(parts.Deaf(), policy=lambda par, box, msg: None))
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_par_in_a_whole_system_ends_by_itself(parts):
    sink = parts.Recorder()
    from Kamaelia.Chassis.Pipeline import Pipeline
    Pipeline(PAR(parts.Source([1]), parts.Source([2])), sink).activate()
    scheduler.run.runThreads()
    assert sorted(sink.seen) == [1, 2]
    assert isinstance(sink.controls[0], producerFinished)
