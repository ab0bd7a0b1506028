"""Kamaelia.Util.Splitter: addsink/removesink, Splitter, PlugSplitter and Plug."""

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.PassThrough import PassThrough
from Kamaelia.Util.Splitter import Plug, PlugSplitter, Splitter, addsink, removesink


def test_config_messages_carry_their_arguments_with_defaults():
    a = addsink("sink")
    assert (a.sink, a.sinkbox, a.sinkcontrol, a.passthrough) == ("sink", "inbox", None, 0)
    r = removesink("sink", "box", "ctl")
    assert (r.sink, r.sinkbox, r.sinkcontrol) == ("sink", "box", "ctl")


# -- Splitter -------------------------------------------------------------------------


def test_splitter_copies_inbox_to_every_sink_added(parts):
    one, two = parts.Recorder(), parts.Recorder()
    h = ComponentHarness(Splitter())
    h.put(addsink(one), "configuration")
    h.put(addsink(two), "configuration")
    h.runUntilIdle()
    h.put("data")
    h.runUntilIdle()
    assert one.dataReady("inbox") == 1 and two.dataReady("inbox") == 1
    assert one.recv("inbox") == "data"


def test_splitter_removesink_stops_the_copies_and_deletes_the_outbox(parts):
    one, two = parts.Recorder(), parts.Recorder()
    splitter = Splitter()
    h = ComponentHarness(splitter)
    h.put(addsink(one), "configuration")
    h.put(addsink(two), "configuration")
    h.runUntilIdle()
    boxes = set(splitter.outboxes)
    h.put(removesink(one), "configuration")
    h.runUntilIdle()
    h.put("only for two")
    h.runUntilIdle()
    assert one.dataReady("inbox") == 0 and two.dataReady("inbox") == 1
    assert len(set(splitter.outboxes)) == len(boxes) - 1


def test_splitter_sinkcontrol_links_a_control_box_too(parts):
    one = parts.Recorder()
    splitter = Splitter()
    h = ComponentHarness(splitter)
    h.put(addsink(one, "inbox", "control"), "configuration")
    h.runUntilIdle()
    assert len(splitter.outboxes) == 4
    h.put(removesink(one, "inbox", "control"), "configuration")
    h.runUntilIdle()
    assert set(splitter.outboxes) == {"outbox", "signal"}


def test_splitter_a_full_sink_misses_the_item_and_the_others_still_get_it(parts):
    full, fine = parts.Recorder(size=1), parts.Recorder()
    h = ComponentHarness(Splitter())
    h.put(addsink(full), "configuration")
    h.put(addsink(fine), "configuration")
    h.put(1)
    h.put(2)
    h.runUntilIdle()
    assert full.dataReady("inbox") == 1
    assert [fine.recv("inbox"), fine.recv("inbox")] == [1, 2]


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_splitter_stops_on_shutdown_and_forwards_it(message):
    h = ComponentHarness(Splitter())
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]


def test_splitter_sleeps_when_idle():
    h = ComponentHarness(Splitter())
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


# -- PlugSplitter -----------------------------------------------------------------------


def test_plugsplitter_copies_data_to_outbox_and_sinks_and_control_to_signal_and_sink_controls(parts):
    one, two = parts.Recorder(), parts.Recorder()
    h = ComponentHarness(PlugSplitter())
    h.put(addsink(one, "inbox", "control"), "configuration")
    h.put(addsink(two, "inbox"), "configuration")
    h.put("data")
    h.put("note", "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["data"]
    assert h.getAll("signal") == ["note"]
    assert one.recv("inbox") == "data" and one.recv("control") == "note"
    assert two.recv("inbox") == "data" and two.dataReady("control") == 0


def test_plugsplitter_config_is_handled_before_data_in_the_same_step(parts):
    one = parts.Recorder()
    h = ComponentHarness(PlugSplitter())
    h.put("early")
    h.put(addsink(one), "configuration")
    h.runUntilIdle()
    assert one.recv("inbox") == "early"


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_plugsplitter_without_child_stops_on_shutdown_after_passing_it_on(parts, message):
    one = parts.Recorder()
    splitter = PlugSplitter()
    h = ComponentHarness(splitter)
    h.put(addsink(one, "inbox", "control"), "configuration")
    h.runUntilIdle()
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert one.recv("control") is message
    assert set(splitter.outboxes) == {"outbox", "signal"}     # every sink removed


def test_plugsplitter_with_a_child_splits_the_childs_output_and_ends_with_it(parts):
    child = PassThrough()
    one = parts.Recorder()
    splitter = PlugSplitter(child)
    h = ComponentHarness(splitter)
    h.put(addsink(one, "inbox", "control"), "configuration")
    h.put("through the child")
    h.runUntilIdle()
    assert child.dataReady("inbox") == 0
    assert h.getAll("outbox") == ["through the child"]
    assert one.recv("inbox") == "through the child"
    h.put("not a shutdown", "control")
    h.runUntilIdle()
    assert h.getAll("signal") == ["not a shutdown"]
    assert not h.finished
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert child._isStopped()
    assert h.finished
    assert isinstance(h.get("signal"), producerFinished)
    assert one.recv("control") == "not a shutdown"
    assert isinstance(one.recv("control"), producerFinished)


def test_plugsplitter_with_a_child_does_not_stop_on_shutdown_itself():
    class Stubborn(component):
        def main(self):
            while True:
                while self.dataReady("control"):
                    self.send(self.recv("control"), "signal")
                self.pause()
                yield 1

    h = ComponentHarness(PlugSplitter(Stubborn()))
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert isinstance(h.get("signal"), shutdownMicroprocess)
    assert not h.finished


# -- Plug ---------------------------------------------------------------------------------


def test_plug_registers_while_its_child_runs_and_unregisters_when_it_ends(parts):
    splitter = PlugSplitter()
    h = ComponentHarness(splitter)
    child = PassThrough()
    plug = Plug(splitter, child)
    out = parts.Recorder()
    plug.link((plug, "outbox"), (out, "inbox"))
    plug.activate(h.scheduler)
    out.activate(h.scheduler)
    h.runUntilIdle()
    assert len(splitter.outboxes) == 4           # a data sink and a control sink
    h.put("broadcast")
    h.runUntilIdle()
    assert out.seen == ["broadcast"]
    plug._deliver(shutdownMicroprocess(), "control")   # through the plug to the child
    h.runUntilIdle()
    assert child._isStopped() and plug._isStopped()
    assert set(splitter.outboxes) == {"outbox", "signal"}
    h.put("after")
    h.runUntilIdle()
    assert out.seen == ["broadcast"]


def test_plug_passes_its_boxes_through_to_the_child(parts):
    splitter = PlugSplitter()
    child = PassThrough()
    plug = Plug(splitter, child)
    h = ComponentHarness(plug)
    splitter.activate(h.scheduler)
    h.put("direct")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["direct"]
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_plug_accepts_a_splitter_configuration_box_pair(parts):
    splitter = PlugSplitter()
    plug = Plug((splitter, "configuration"), PassThrough())
    h = ComponentHarness(plug)
    splitter.activate(h.scheduler)
    h.runUntilIdle()
    assert len(splitter.outboxes) == 4
