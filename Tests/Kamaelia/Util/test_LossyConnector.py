"""Kamaelia.Util.LossyConnector (spec more-3.8): pass on what fits downstream, drop the rest."""

import pytest

from Axon import util
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Linkage import linkage
from Axon.Postman import postman
from Axon.Testing import ComponentHarness
from Kamaelia.Util.LossyConnector import LossyConnector


def test_the_boxes_are_those_of_1x():
    assert util.testInterface(LossyConnector(), (["inbox", "control"], ["outbox", "signal"]))


def test_messages_are_passed_on_in_order_as_the_same_objects():
    h = ComponentHarness(LossyConnector())
    messages = [object(), ["a", "list"], "text", b"bytes"]
    for m in messages:
        h.put(m)
    h.runUntilIdle()
    out = h.getAll("outbox")
    assert len(out) == len(messages)
    assert all(a is b for a, b in zip(out, messages))


def test_it_sleeps_while_nothing_is_waiting():
    h = ComponentHarness(LossyConnector())
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished


@pytest.mark.parametrize("stopClass", [producerFinished, shutdownMicroprocess])
def test_a_shutdown_message_is_forwarded_itself_and_ends_it_after_the_data_waiting(stopClass):
    h = ComponentHarness(LossyConnector())
    stop = stopClass()
    h.put("last")
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["last"]
    assert h.getAll("signal") == [stop]
    assert h.finished


def test_other_control_messages_are_dropped():
    h = ComponentHarness(LossyConnector())
    h.put("stop?", "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0
    assert h.component.dataReady("control") == 0


# -- against a full inbox downstream, driven by hand as the 1.x tests do -------------------


class Consumer(component):
    pass


@pytest.fixture
def wired():
    """A LossyConnector feeding a Consumer whose link holds at most 2 messages."""
    lossy, consumer = LossyConnector(), Consumer()
    courier = postman()
    courier.registerlinkage(linkage(source=lossy, sink=consumer, sourcebox="outbox",
                                    sinkbox="inbox", pipewidth=2))
    courier.registerlinkage(linkage(source=lossy, sink=consumer, sourcebox="signal",
                                    sinkbox="control"))
    lossy.activate()
    lossy.next()
    return lossy, consumer


def test_messages_that_do_not_fit_downstream_are_dropped_and_counted(wired):
    lossy, consumer = wired
    sent = ["one", "two", "three", "four"]
    for m in sent:
        lossy._deliver(m, "inbox")
    lossy.next()
    assert len(lossy.outboxes["outbox"]) == 2
    assert lossy.dataReady("inbox") == 0
    assert lossy.dropped == 2
    assert [consumer.recv("inbox"), consumer.recv("inbox")] == ["one", "two"]


def test_when_room_is_made_messages_pass_again(wired):
    lossy, consumer = wired
    for m in ["a", "b", "dropped"]:
        lossy._deliver(m, "inbox")
    lossy.next()
    consumer.recv("inbox")
    lossy._deliver("c", "inbox")
    lossy.next()
    assert [consumer.recv("inbox"), consumer.recv("inbox")] == ["b", "c"]
    assert lossy.dropped == 1


def test_a_hundred_rounds_each_pass_two_and_drop_one(wired):
    lossy, consumer = wired
    received = []
    for n in range(100):
        for m in [(n, "kept"), (n, "kept too"), (n, "dropped")]:
            lossy._deliver(m, "inbox")
        lossy.next()
        received.append(consumer.recv("inbox"))
        received.append(consumer.recv("inbox"))
        assert consumer.dataReady("inbox") == 0
    assert received == [(n, tag) for n in range(100) for tag in ("kept", "kept too")]
    assert lossy.dropped == 100


@pytest.mark.parametrize("stopClass", [producerFinished, shutdownMicroprocess])
def test_by_hand_a_shutdown_ends_it_on_the_third_step(stopClass):
    lossy, consumer = LossyConnector(), Consumer()
    postman().registerlinkage(linkage(source=lossy, sink=consumer, sourcebox="signal",
                                      sinkbox="control"))
    stop = stopClass()
    lossy.activate()
    lossy._deliver(stop, "control")
    lossy.next()
    lossy.next()
    with pytest.raises(StopIteration):
        lossy.next()
    assert consumer.recv("control") is stop
