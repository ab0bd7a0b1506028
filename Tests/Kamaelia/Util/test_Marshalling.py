"""Kamaelia.Util.Marshalling: Marshaller and DeMarshaller, driven by hand and by the harness."""

import re
import subprocess
import sys

import pytest

import Kamaelia.Util.Marshalling as Marshalling
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Marshalling import DeMarshaller, Marshaller


class Numbers:
    """The 1.x tests' serialiser: an int to its decimal text and back."""
    marshall = staticmethod(str)
    demarshall = staticmethod(int)


def linkedToRecorder(parts, converter):
    """``converter`` activated (not run), its outbox/signal linked to a Recorder's inbox/control."""
    sink = parts.Recorder()
    converter.link((converter, "outbox"), (sink, "inbox"))
    converter.link((converter, "signal"), (sink, "control"))
    converter.activate()
    return sink


@pytest.mark.parametrize("cls", [Marshaller, DeMarshaller])
def test_construction_keeps_klass_and_has_the_standard_boxes(cls):
    converter = cls(Numbers)
    assert converter.klass is Numbers
    assert sorted(converter.inboxes) == ["control", "inbox"]
    assert sorted(converter.outboxes) == ["outbox", "signal"]


@pytest.mark.parametrize("cls", [Marshaller, DeMarshaller])
def test_idle_steps_send_nothing_and_do_not_end_it(parts, cls):
    converter = cls(Numbers)
    sink = linkedToRecorder(parts, converter)
    for _ in range(99):
        converter.next()
    assert sink.dataReady("inbox") == 0 and sink.dataReady("control") == 0


@pytest.mark.parametrize("cls", [Marshaller, DeMarshaller])
@pytest.mark.parametrize("shutdownClass", [producerFinished, shutdownMicroprocess])
def test_the_step_after_a_shutdown_arrives_ends_it_and_forwards_that_message(parts, cls, shutdownClass):
    converter = cls(Numbers)
    sink = linkedToRecorder(parts, converter)
    for _ in range(10):
        converter.next()
    message = shutdownClass()
    converter._deliver(message, "control")
    with pytest.raises(StopIteration):
        converter.next()
    assert sink.recv("control") is message
    assert sink.dataReady("control") == 0


@pytest.mark.parametrize("cls, item, expected", [
    (Marshaller, 5, "5"), (Marshaller, 0, "0"), (Marshaller, 999, "999"),
    (DeMarshaller, "5", 5), (DeMarshaller, "0", 0), (DeMarshaller, "999", 999),
])
def test_each_item_is_converted_by_the_klass_function(parts, cls, item, expected):
    converter = cls(Numbers)
    sink = linkedToRecorder(parts, converter)
    converter.next()
    converter._deliver(item, "inbox")
    converter.next()
    assert sink.recv("inbox") == expected


def test_the_first_step_only_yields(parts):
    converter = Marshaller(Numbers)
    sink = linkedToRecorder(parts, converter)
    converter._deliver(7, "inbox")
    converter._deliver(producerFinished(), "control")
    converter.next()
    assert sink.dataReady("inbox") == 0 and sink.dataReady("control") == 0
    with pytest.raises(StopIteration):
        converter.next()
    assert sink.recv("inbox") == "7"


def test_items_in_order_and_those_before_the_shutdown_are_still_converted():
    h = ComponentHarness(Marshaller(Numbers))
    for n in [3, 1, 2]:
        h.put(n)
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["3", "1", "2"]
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_other_control_messages_are_dropped_without_stopping_it():
    h = ComponentHarness(DeMarshaller(Numbers))
    h.put("BINGLE", "control")
    h.put(object(), "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0
    h.put("42")
    h.runUntilIdle()
    assert h.get("outbox") == 42


def test_it_sleeps_when_idle():
    h = ComponentHarness(Marshaller(Numbers))
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


def test_each_needs_only_its_own_function_and_results_pass_unchanged():
    class OnlyMarshall:
        @staticmethod
        def marshall(item):
            return ("packed", item)

    class OnlyDemarshall:
        @staticmethod
        def demarshall(item):
            return None

    packer = ComponentHarness(Marshaller(OnlyMarshall))
    packer.put([1])
    packer.runUntilIdle()
    assert packer.get("outbox") == ("packed", [1])
    unpacker = ComponentHarness(DeMarshaller(OnlyDemarshall))
    unpacker.put("anything")
    unpacker.runUntilIdle()
    assert unpacker.getAll("outbox") == [None]


def test_an_exception_from_the_function_propagates():
    h = ComponentHarness(DeMarshaller(Numbers))
    h.put("not a number")
    with pytest.raises(ValueError):
        h.runUntilIdle()


def test_the_example_usage_prints_what_the_docstring_says():
    usage = Marshalling.__doc__.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    code, output = [re.sub(r"(?m)^    ", "", block)
                    for block in re.findall(r"::\n\n((?:(?:    .*)?\n)+)", usage)]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == output.strip()


def test_the_module_documents_its_boxes_and_termination_and_lists_its_components():
    for section in ["Example Usage", "How does it work?", "Inboxes", "Outboxes", "Termination"]:
        assert section in Marshalling.__doc__, section
    assert Marshalling.__kamaelia_components__ == (Marshaller, DeMarshaller)
