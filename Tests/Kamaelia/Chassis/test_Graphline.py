"""Kamaelia.Chassis.Graphline: linkages, external boxes, control forwarding, final signal."""

import importlib
import logging

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning


@pytest.fixture
def restoreGraphlineBoxes(monkeypatch):
    """addExternalPostboxes changes Graphline's class-level box declarations: undo that."""
    monkeypatch.setattr(Graphline, "Inboxes", dict(Graphline.Inboxes))
    monkeypatch.setattr(Graphline, "Outboxes", dict(Graphline.Outboxes))


def test_missing_linkages_raise_an_error_that_is_TypeError_and_ValueError(parts):
    """1.x raised TypeError; older callers (and 1.x's own tests) expect ValueError."""
    with pytest.raises(TypeError):
        Graphline(A=parts.Recorder())
    with pytest.raises(ValueError):
        Graphline(A=parts.Recorder())


def test_a_shutdown_arriving_as_the_children_end_is_the_one_passed_on(parts):
    """The children end on their own; the shutdownMicroprocess put on control before the
    Graphline next runs (so it finds them done before it reads control) still comes out."""
    g = Graphline(A=parts.Stopper(), B=parts.Stopper(), linkages={})
    h = ComponentHarness(g)
    h.step(1)                      # the Graphline starts its children and waits
    assert not h.finished
    h.step(1)                      # the children run and end
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_self_inbox_feeds_a_child_inbox_as_a_passthrough(parts):
    a = parts.Recorder()
    g = Graphline(A=a, linkages={("self", "inbox"): ("A", "inbox")})
    h = ComponentHarness(g)
    h.runUntilIdle()
    h.put("hello", "inbox")
    assert g.dataReady("inbox") == 0
    h.runUntilIdle()
    assert a.seen == ["hello"]


def test_child_outbox_comes_out_of_the_graphline_outbox(parts):
    a = parts.Recorder(tag="A")
    g = Graphline(A=a, linkages={("self", "inbox"): ("A", "inbox"),
                                 ("A", "outbox"): ("self", "outbox")})
    h = ComponentHarness(g)
    h.put(1, "inbox")
    h.put(2, "inbox")
    h.runUntilIdle()
    assert h.getAll("outbox") == [("A", 1), ("A", 2)]


def test_children_are_linked_to_each_other(parts):
    a, b = parts.Recorder(tag="A"), parts.Recorder(tag="B")
    g = Graphline(A=a, B=b, linkages={("self", "inbox"): ("A", "inbox"),
                                      ("A", "outbox"): ("B", "inbox"),
                                      ("B", "outbox"): ("self", "outbox")})
    h = ComponentHarness(g)
    h.put("x", "inbox")
    h.runUntilIdle()
    assert b.seen == [("A", "x")]
    assert h.getAll("outbox") == [("B", ("A", "x"))]


def test_any_name_that_is_not_a_component_means_the_graphline(parts):
    a = parts.Recorder(tag="A")
    g = Graphline(A=a, linkages={("", "inbox"): ("A", "inbox"),
                                 ("A", "outbox"): ("THEGRAPHLINE", "outbox")})
    h = ComponentHarness(g)
    h.put(7, "inbox")
    h.runUntilIdle()
    assert h.getAll("outbox") == [("A", 7)]


def test_self_to_self_link_is_a_plain_link_and_warns(parts, caplog, restoreGraphlineBoxes):
    a = parts.Deaf()
    g = Graphline(A=a, linkages={("self", "loopOut"): ("self", "loopIn")})
    h = ComponentHarness(g)
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Chassis.Graphline"):
        h.runUntilIdle()
    assert any("own outbox" in record.getMessage() for record in caplog.records)
    g.send("loop", "loopOut")
    assert g.dataReady("loopIn") == 1


def test_external_postboxes_are_added_with_the_child_box_descriptions(parts, restoreGraphlineBoxes):
    class Child(component):
        Inboxes = {"inbox": "", "control": "", "query": "questions for the child"}
        Outboxes = {"outbox": "", "signal": "", "answer": "what the child says"}

    g = Graphline(C=Child(), linkages={("self", "ask"): ("C", "query"),
                                       ("C", "answer"): ("self", "reply")})
    assert "ask" in g.inboxes and "reply" in g.outboxes
    assert Graphline.Inboxes["ask"] == "questions for the child"
    assert Graphline.Outboxes["reply"] == "what the child says"


def test_external_postboxes_change_the_class_so_later_graphlines_have_them(parts, restoreGraphlineBoxes):
    """[Q] Kamaelia 1.x mutates the class-level dicts; code relies on it."""
    Graphline(A=parts.Recorder(), linkages={("self", "ReadReady"): ("A", "inbox"),
                                            ("A", "outbox"): ("self", "CreatorFeedback")})
    later = Graphline(linkages={})
    assert "ReadReady" in later.inboxes
    assert "CreatorFeedback" in later.outboxes


def test_external_boxes_carry_data(parts, restoreGraphlineBoxes):
    a = parts.Recorder(tag="A")
    g = Graphline(A=a, linkages={("self", "extra"): ("A", "inbox"),
                                 ("A", "outbox"): ("self", "result")})
    h = ComponentHarness(g)
    h.put("data", "extra")
    h.runUntilIdle()
    assert h.getAll("result") == [("A", "data")]


def test_children_are_activated_only_when_the_graphline_runs(parts):
    a = parts.Recorder()
    g = Graphline(A=a, linkages={})
    h = ComponentHarness(g)
    assert not a.started and a not in h.scheduler.threads
    h.runUntilIdle()
    assert a.started and a in h.scheduler.threads


def test_control_is_forwarded_to_children_with_unlinked_control(parts):
    a, b, c = parts.Recorder(), parts.Recorder(), parts.Deaf()
    g = Graphline(A=a, B=b, C=c, linkages={("A", "signal"): ("C", "control")})
    h = ComponentHarness(g)
    h.runUntilIdle()
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert a.controls == [message]
    assert b.controls == [message]
    assert c.controls == [message]          # once: through A's signal, not forwarded
    assert not h.finished


def test_nothing_is_forwarded_when_self_control_is_linked(parts):
    a, b = parts.Recorder(), parts.Recorder()
    g = Graphline(A=a, B=b, linkages={("self", "control"): ("A", "control")})
    h = ComponentHarness(g)
    h.runUntilIdle()
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert a.controls == [message]
    assert b.controls == []
    assert not h.finished


def test_final_signal_is_the_remembered_shutdownMicroprocess(parts):
    a, b = parts.Recorder(), parts.Recorder()
    g = Graphline(A=a, B=b, linkages={})
    h = ComponentHarness(g)
    h.runUntilIdle()
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_final_signal_is_producerFinished_when_no_shutdownMicroprocess_came(parts):
    g = Graphline(A=parts.Recorder(), linkages={})
    h = ComponentHarness(g)
    h.runUntilIdle()
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.finished
    signals = h.getAll("signal")
    assert len(signals) == 1 and isinstance(signals[0], producerFinished)


def test_children_ending_by_themselves_give_a_producerFinished(parts):
    g = Graphline(A=parts.Stopper(), B=parts.Stopper(), linkages={})
    h = ComponentHarness(g)
    h.runUntilIdle()
    assert h.finished
    signals = h.getAll("signal")
    assert len(signals) == 1 and isinstance(signals[0], producerFinished)
    assert not isinstance(signals[0], shutdownMicroprocess)


def test_no_final_signal_when_signal_is_linked(parts):
    a = parts.Recorder()
    g = Graphline(A=a, linkages={("A", "signal"): ("self", "signal")})
    h = ComponentHarness(g)
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]      # A's own, passed out; nothing added


def test_graphline_ends_only_when_all_children_have_ended(parts):
    a, d = parts.Stopper(), parts.Deaf()
    g = Graphline(A=a, D=d, linkages={})
    h = ComponentHarness(g)
    h.runUntilIdle()
    assert a._isStopped() and not h.finished
    assert g.childComponents() == [d]
    assert h.scheduler.isThreadPaused(g)
    d._deliver("stop", "control")
    h.runUntilIdle()
    assert h.finished


def test_graphline_with_no_components_ends_at_once(parts):
    h = ComponentHarness(Graphline(linkages={}))
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), producerFinished)


def test_whole_system_runs_to_completion_on_the_default_scheduler(parts):
    sink = parts.Recorder()
    g = Graphline(SRC=parts.Source(["a", "b"]), MID=parts.Recorder(tag="m"), SINK=sink,
                  linkages={("SRC", "outbox"): ("MID", "inbox"),
                            ("SRC", "signal"): ("MID", "control"),
                            ("MID", "outbox"): ("SINK", "inbox"),
                            ("MID", "signal"): ("SINK", "control")})
    g.activate()
    scheduler.run.runThreads()
    assert sink.seen == [("m", "a"), ("m", "b")]
    assert g._isStopped()


def test_plain_harness_leaves_private_outboxes_to_the_component(parts):
    """The Graphline links its private "_cs" outbox to children itself, under the harness too."""
    a = parts.Recorder()
    g = Graphline(A=a, linkages={})
    h = ComponentHarness(g)
    message = producerFinished()
    h.put(message, "control")
    h.runUntilIdle()
    assert a.controls == [message]
    assert h.finished
    assert h.ready("_cs") == 0


def test_legacy_module_reexports_graphline_with_a_warning():
    legacy = importlib.import_module("Kamaelia.Util.Graphline")
    with pytest.warns(KamaeliaDeprecationWarning, match="Kamaelia.Util.Graphline"):
        legacy = importlib.reload(legacy)
    assert legacy.Graphline is Graphline
