"""Kamaelia.Chassis.Carousel: children on demand, NEXT requests, replacement, shutdown."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Carousel import Carousel


@pytest.fixture
def made():
    """The children the factory has made, in order."""
    return []


@pytest.fixture
def recorders(parts, made):
    """A factory making a Recorder tagged with the "next" message."""
    def factory(message):
        child = parts.Recorder(tag=message)
        made.append(child)
        return child
    return factory


@pytest.fixture
def deafs(parts, made):
    """A factory making children that only stop when sent "stop"."""
    def factory(message):
        child = parts.Deaf()
        child.madeFrom = message
        made.append(child)
        return child
    return factory


def test_make1stRequest_asks_for_a_child_at_start(parts, recorders):
    h = ComponentHarness(Carousel(recorders, make1stRequest=True))
    h.runUntilIdle()
    assert h.getAll("requestNext") == ["NEXT"]


def test_no_request_at_start_by_default(parts, recorders, made):
    h = ComponentHarness(Carousel(recorders))
    h.runUntilIdle()
    assert h.ready("requestNext") == 0
    assert made == []
    assert not h.finished


def test_next_makes_a_child_from_the_message_and_wires_it_in(parts, recorders, made):
    c = Carousel(recorders)
    h = ComponentHarness(c)
    h.put("first", "next")
    h.runUntilIdle()
    assert len(made) == 1 and made[0].tag == "first"
    assert made[0] in c.childComponents()
    h.put("data", "inbox")
    assert c.dataReady("inbox") == 0
    h.runUntilIdle()
    assert made[0].seen == ["data"]
    assert h.getAll("outbox") == [("first", "data")]


def test_data_sent_before_a_child_exists_goes_to_the_next_child(parts, recorders, made):
    h = ComponentHarness(Carousel(recorders))
    h.put("early", "inbox")
    h.runUntilIdle()
    h.put("x", "next")
    h.runUntilIdle()
    assert made[0].seen == ["early"]
    assert h.getAll("outbox") == [("x", "early")]


def test_child_termination_requests_the_next_child_and_child_signal_is_ignored(parts, recorders, made):
    c = Carousel(recorders)
    h = ComponentHarness(c)
    h.put("one", "next")
    h.runUntilIdle()
    made[0]._deliver(producerFinished(), "control")
    h.runUntilIdle()
    assert made[0]._isStopped()
    assert h.getAll("requestNext") == ["NEXT"]
    assert h.ready("signal") == 0
    assert c.childComponents() == []
    assert not h.finished
    h.put("two", "next")
    h.runUntilIdle()
    assert [child.tag for child in made] == ["one", "two"]


def test_next_while_a_child_runs_shuts_it_down_before_making_the_new_one(parts, deafs, made):
    c = Carousel(deafs)
    h = ComponentHarness(c)
    h.put("one", "next")
    h.runUntilIdle()
    h.put("two", "next")
    h.runUntilIdle()
    assert len(made) == 1
    assert len(made[0].controls) == 1 and isinstance(made[0].controls[0], shutdownMicroprocess)
    made[0]._deliver("stop", "control")
    h.runUntilIdle()
    assert [child.madeFrom for child in made] == ["one", "two"]
    assert c.childComponents() == [made[1]]
    assert h.ready("requestNext") == 0          # a next was already waiting


def test_several_nexts_while_a_child_runs_replace_it_only_once_each(parts, recorders, made):
    h = ComponentHarness(Carousel(recorders))
    h.put("one", "next")
    h.runUntilIdle()
    h.put("two", "next")
    h.put("three", "next")
    h.runUntilIdle()
    assert [child.tag for child in made] == ["one", "two", "three"]
    assert made[0]._isStopped() and made[1]._isStopped()
    assert not made[2]._isStopped()
    assert len(made[0].controls) == 1
    assert h.ready("requestNext") == 0


def test_control_reaches_the_child_through_the_private_signal_outbox(parts, deafs, made):
    h = ComponentHarness(Carousel(deafs))
    h.put("one", "next")
    h.runUntilIdle()
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert made[0].controls == [message]


def test_producerFinished_waits_for_the_child_then_is_passed_out(parts, deafs, made):
    h = ComponentHarness(Carousel(deafs))
    h.put("one", "next")
    h.runUntilIdle()
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert not h.finished
    made[0]._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert h.ready("requestNext") == 0


def test_producerFinished_still_handles_queued_nexts(parts, recorders, made):
    c = Carousel(recorders)
    h = ComponentHarness(c)
    c._deliver("one", "next")
    c._deliver("two", "next")
    message = producerFinished()
    c._deliver(message, "control")
    h.runUntilIdle()
    assert [child.tag for child in made] == ["one", "two"]
    assert all(child._isStopped() for child in made)
    assert made[1].controls == [message]
    assert h.finished
    assert h.getAll("signal") == [message]


def test_shutdownMicroprocess_drops_queued_nexts_and_stops_the_child(parts, deafs, made):
    h = ComponentHarness(Carousel(deafs))
    h.put("one", "next")
    h.runUntilIdle()
    h.put("two", "next")
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert message in made[0].controls
    assert not h.finished                   # the child has not gone yet
    made[0]._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished
    assert len(made) == 1
    assert h.getAll("signal") == [message]
    assert h.ready("requestNext") == 0


def test_shutdownMicroprocess_with_no_child_ends_at_once(parts, recorders, made):
    h = ComponentHarness(Carousel(recorders, make1stRequest=True))
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert made == []
    assert h.getAll("signal") == [message]


def test_shutdownMicroprocess_overrides_an_earlier_producerFinished(parts, deafs, made):
    h = ComponentHarness(Carousel(deafs))
    h.put("one", "next")
    h.runUntilIdle()
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    made[0]._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [stop]


def test_other_control_messages_are_ignored(parts, recorders):
    c = Carousel(recorders)
    h = ComponentHarness(c)
    h.put("hello", "control")
    h.runUntilIdle()
    assert not h.finished
    assert h.ready("signal") == 0


def test_carousel_sleeps_while_nothing_happens(parts, deafs):
    c = Carousel(deafs, make1stRequest=True)
    h = ComponentHarness(c)
    h.runUntilIdle()
    assert h.scheduler.isThreadPaused(c)
    h.put("one", "next")
    h.runUntilIdle()
    assert h.scheduler.isThreadPaused(c)


def test_children_may_themselves_be_chassis(parts):
    """Passthrough links chain: Carousel inbox -> Pipeline inbox -> first stage inbox."""
    from Kamaelia.Chassis.Pipeline import Pipeline

    def factory(tag):
        return Pipeline(parts.Recorder(tag=tag), parts.Recorder(tag="second"))

    c = Carousel(factory)
    h = ComponentHarness(c)
    h.put("p1", "next")
    h.put("data", "inbox")
    h.runUntilIdle()
    assert h.getAll("outbox") == [("second", ("p1", "data"))]
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), producerFinished)
