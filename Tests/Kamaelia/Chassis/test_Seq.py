"""Kamaelia.Chassis.Seq: one component after another, printed strings, final signal."""

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Seq import Seq


def test_components_run_in_order_and_their_output_comes_out(parts):
    h = ComponentHarness(Seq(parts.Source([1, 2]), parts.Source([3]), parts.Source([4, 5])))
    h.runUntilIdle()
    assert h.getAll("outbox") == [1, 2, 3, 4, 5]
    assert h.finished


def test_next_component_starts_only_after_the_previous_one_ends(parts):
    first, second = parts.Deaf(), parts.Recorder()
    s = Seq(first, second)
    h = ComponentHarness(s)
    h.runUntilIdle()
    assert not second.started and second not in h.scheduler.threads
    assert s.childComponents() == [first]
    first._deliver("stop", "control")
    h.runUntilIdle()
    assert second.started
    assert s.childComponents() == [second]


def test_string_items_are_written_to_stdout_when_reached(parts, capsys):
    h = ComponentHarness(Seq("starting", parts.Source(["x"]), "done"))
    h.runUntilIdle()
    assert capsys.readouterr().out == "starting\ndone\n"
    assert h.getAll("outbox") == ["x"]


def test_final_signal_is_producerFinished_from_the_seq_and_child_signals_stay_inside(parts):
    s = Seq(parts.Source(["a"]), parts.Source(["b"]))
    h = ComponentHarness(s)
    h.runUntilIdle()
    signals = h.getAll("signal")
    assert len(signals) == 1
    assert isinstance(signals[0], producerFinished) and signals[0].caller is s


def test_seq_inbox_is_passed_through_to_the_running_component(parts):
    first = parts.Recorder(tag="first")
    s = Seq(first)
    h = ComponentHarness(s)
    h.runUntilIdle()
    h.put("data", "inbox")
    assert s.dataReady("inbox") == 0
    h.runUntilIdle()
    assert first.seen == ["data"]
    assert h.getAll("outbox") == [("first", "data")]


def test_inbox_is_relinked_to_each_component_in_turn(parts):
    first, second = parts.Recorder(tag=1), parts.Recorder(tag=2)
    h = ComponentHarness(Seq(first, second))
    h.put("early", "inbox")
    h.runUntilIdle()
    first._deliver(producerFinished(), "control")
    h.runUntilIdle()
    h.put("later", "inbox")
    h.runUntilIdle()
    assert first.seen == ["early"] and second.seen == ["later"]
    assert h.getAll("outbox") == [(1, "early"), (2, "later")]


def test_control_is_ignored_and_does_not_stop_the_seq(parts):
    child = parts.Deaf()
    s = Seq(child)
    h = ComponentHarness(s)
    h.runUntilIdle()
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert not h.finished
    assert child.controls == []
    assert h.scheduler.isThreadPaused(s)


def test_empty_seq_just_signals(parts):
    h = ComponentHarness(Seq())
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), producerFinished)


def test_seq_in_a_whole_system_ends_by_itself(parts, capsys):
    sink = parts.Recorder()
    from Kamaelia.Chassis.Pipeline import Pipeline
    Pipeline(Seq("go", parts.Source([1]), parts.Source([2])), sink).activate()
    scheduler.run.runThreads()
    assert sink.seen == [1, 2]
    assert isinstance(sink.controls[0], producerFinished)
    assert capsys.readouterr().out == "go\n"
