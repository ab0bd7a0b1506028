"""Kamaelia.Chassis.Pipeline: wiring, activation, termination, circular mode."""

import importlib

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Pipeline import Pipeline, pipeline
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning


def test_data_flows_through_every_component_in_order(parts):
    first, second = parts.Recorder(tag="A"), parts.Recorder(tag="B")
    h = ComponentHarness(Pipeline(first, second))
    for item in [1, 2, 3]:
        h.put(item, "inbox")
    h.runUntilIdle()
    assert first.seen == [1, 2, 3]
    assert second.seen == [("A", 1), ("A", 2), ("A", 3)]
    assert h.getAll("outbox") == [("B", ("A", 1)), ("B", ("A", 2)), ("B", ("A", 3))]


def test_pipeline_inbox_is_passed_straight_through_to_the_first_child(parts):
    first, second = parts.Deaf(), parts.Deaf()
    p = Pipeline(first, second)
    h = ComponentHarness(p)
    h.runUntilIdle()
    h.put("x", "inbox")
    assert p.dataReady("inbox") == 0
    assert first.dataReady("inbox") == 1


def test_signal_goes_to_next_control_and_last_signal_comes_out(parts):
    first, second = parts.Recorder(), parts.Recorder()
    h = ComponentHarness(Pipeline(first, second))
    h.put("data", "inbox")
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert first.controls == [message]
    assert second.controls == [message]
    assert h.getAll("outbox") == ["data"]
    assert h.getAll("signal") == [message]
    assert h.finished


def test_children_are_activated_only_when_the_pipeline_runs(parts):
    first, second = parts.Recorder(), parts.Recorder()
    p = Pipeline(first, second)
    assert p.childComponents() == []
    h = ComponentHarness(p, activate=False)
    h.runUntilIdle()
    assert first not in h.scheduler.threads and not first.started
    p.activate(h.scheduler)
    h.runUntilIdle()
    assert first.started and second.started
    assert first in h.scheduler.threads and second in h.scheduler.threads


def test_pipeline_ends_only_when_all_children_have_ended(parts):
    source, sink = parts.Source(["a"]), parts.Deaf()
    p = Pipeline(source, sink)
    h = ComponentHarness(p)
    h.runUntilIdle()
    assert source._isStopped()
    assert not h.finished
    assert p.childComponents() == [sink]
    sink._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished


def test_pipeline_sleeps_while_children_run(parts):
    p = Pipeline(parts.Deaf(), parts.Deaf())
    h = ComponentHarness(p)
    h.runUntilIdle()
    assert h.scheduler.isThreadPaused(p)
    assert not h.finished


def test_pipeline_sends_nothing_itself(parts):
    h = ComponentHarness(Pipeline(parts.Stopper(), parts.Stopper()))
    h.runUntilIdle()
    assert h.finished
    assert h.ready("outbox") == 0 and h.ready("signal") == 0


def test_finished_children_are_unlinked(parts):
    source, sink = parts.Source([]), parts.Deaf()
    p = Pipeline(source, sink)
    h = ComponentHarness(p)
    h.runUntilIdle()
    assert source._isStopped()
    assert all(link.source is not source and link.sink is not source
               for link in p.postoffice.linkages)
    assert sink.inboxes["inbox"].sources == []


def test_keyword_arguments_become_attributes(parts):
    p = Pipeline(parts.Stopper(), circular=False, colour="blue")
    assert p.colour == "blue" and p.circular is False


def test_circular_pipeline_feeds_the_last_output_back_to_the_first(parts):
    first, second = parts.Recorder(tag="A"), parts.Recorder(tag="B")
    p = Pipeline(first, second, circular=True)
    h = ComponentHarness(p)
    h.runUntilIdle()
    h.put(0, "inbox")
    h.step(12)
    assert first.seen[:3] == [0, ("B", ("A", 0)), ("B", ("A", ("B", ("A", 0))))]
    assert h.ready("outbox") == 0


def test_circular_pipeline_signal_goes_round_to_the_first_control(parts):
    first, second = parts.Recorder(), parts.Recorder()
    h = ComponentHarness(Pipeline(first, second, circular=True))
    h.runUntilIdle()
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert first.controls == [message] and second.controls == [message]
    assert h.ready("signal") == 0


def test_empty_pipeline_ends_at_once():
    h = ComponentHarness(Pipeline())
    h.runUntilIdle()
    assert h.finished


def test_whole_system_runs_to_completion_on_the_default_scheduler(parts):
    sink = parts.Recorder()
    Pipeline(parts.Source([1, 2, 3]), parts.Recorder(tag="mid"), sink).activate()
    scheduler.run.runThreads()
    assert sink.seen == [("mid", 1), ("mid", 2), ("mid", 3)]
    assert isinstance(sink.controls[0], producerFinished)


def test_lowercase_pipeline_is_a_deprecated_pipeline(parts):
    with pytest.warns(KamaeliaDeprecationWarning, match="Pipeline"):
        p = pipeline(parts.Stopper())
    assert isinstance(p, Pipeline)
    h = ComponentHarness(p)
    h.runUntilIdle()
    assert h.finished


@pytest.mark.parametrize("module", ["Kamaelia.Util.Pipeline", "Kamaelia.Util.PipelineComponent"])
def test_legacy_modules_reexport_pipeline_with_a_warning(module):
    legacy = importlib.import_module(module)
    with pytest.warns(KamaeliaDeprecationWarning, match=module):
        legacy = importlib.reload(legacy)
    assert legacy.Pipeline is Pipeline
    assert legacy.pipeline is pipeline
