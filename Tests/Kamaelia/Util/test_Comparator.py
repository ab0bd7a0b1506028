"""Kamaelia.Util.Comparator (spec more-3.7): pairs from inA and inB, one per step, and shutdown."""

import warnings

import pytest

from Axon import util
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Linkage import linkage
from Axon.Postman import postman
from Axon.Testing import ComponentHarness
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
from Kamaelia.Util.Comparator import Comparator, comparator


def test_the_boxes_are_those_of_1x():
    assert util.testInterface(Comparator(), (["inbox", "control", "inA", "inB"], ["outbox", "signal"]))


def feed(h, pairs):
    for a, b in pairs:
        h.put(a, "inA")
        h.put(b, "inB")


def test_an_equal_pair_gives_True():
    h = ComponentHarness(Comparator())
    feed(h, [("same", "same")])
    h.runUntilIdle()
    assert h.getAll("outbox") == [True]


def test_an_unequal_pair_gives_False():
    h = ComponentHarness(Comparator())
    feed(h, [(1, 2)])
    h.runUntilIdle()
    assert h.getAll("outbox") == [False]


def test_a_hundred_pairs_are_compared_in_order():
    h = ComponentHarness(Comparator())
    pairs = [(i, i if i % 3 else -i) for i in range(100)]
    feed(h, pairs)
    h.runUntilIdle()
    assert h.getAll("outbox") == [a == b for a, b in pairs]


def test_items_on_one_side_wait_in_order_until_the_other_side_arrives():
    h = ComponentHarness(Comparator())
    for i in range(100):
        h.put(i, "inA")
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    for i in range(100):
        h.put(i if i != 50 else "x", "inB")
    h.runUntilIdle()
    assert h.getAll("outbox") == [i != 50 for i in range(100)]


def test_it_sleeps_while_only_one_side_has_items():
    h = ComponentHarness(Comparator())
    h.put(1, "inA")
    h.put(2, "inA")
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished
    h.put(1, "inB")
    h.runUntilIdle()
    assert h.getAll("outbox") == [True]


def test_combine_can_be_overridden_to_send_something_else():
    class Difference(Comparator):
        def combine(self, valA, valB):
            return valA - valB

    h = ComponentHarness(Difference())
    feed(h, [(10, 3), (1, 1)])
    h.runUntilIdle()
    assert h.getAll("outbox") == [7, 0]


@pytest.mark.parametrize("stopClass", [shutdownMicroprocess, producerFinished])
def test_a_shutdown_message_ends_it_and_a_new_producerFinished_is_sent(stopClass):
    h = ComponentHarness(Comparator())
    received = stopClass()
    h.put(received, "control")
    h.runUntilIdle()
    assert h.finished
    sent = h.getAll("signal")
    assert len(sent) == 1
    assert isinstance(sent[0], producerFinished) and sent[0] is not received


def test_other_control_messages_are_dropped_and_it_carries_on():
    h = ComponentHarness(Comparator())
    h.put("stop?", "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0
    assert h.component.dataReady("control") == 0


def test_a_pair_completed_with_the_shutdown_is_still_compared():
    h = ComponentHarness(Comparator())
    feed(h, [(1, 1)])
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [True]
    assert h.finished


def test_the_old_lowercase_name_warns_and_makes_a_Comparator():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = comparator()
    assert isinstance(old, Comparator)
    assert any(issubclass(w.category, KamaeliaDeprecationWarning) for w in caught)


# -- driven by hand, as the 1.x tests do -----------------------------------------------------


class Feeder(component):
    Outboxes = ["outA", "outB", "outbox", "signal"]


@pytest.fixture
def wired():
    """A Comparator activated but not run, linked to a Feeder through a postman."""
    c, t = Comparator(), Feeder()
    courier = postman()
    for link in [linkage(t, c, "outA", "inA"), linkage(t, c, "outB", "inB"),
                 linkage(t, c, "signal", "control"),
                 linkage(c, t, "outbox", "inbox"), linkage(c, t, "signal", "control")]:
        courier.registerlinkage(link)
    c.activate()
    c.next()
    return c, t


def test_by_hand_at_most_one_pair_is_compared_per_step(wired):
    c, t = wired
    for i in range(3):
        t.send(i, "outA")
        t.send(i, "outB")
    c.next()
    assert len(c.outboxes["outbox"]) == 1
    c.next()
    c.next()
    assert len(c.outboxes["outbox"]) == 3
    c.next()
    assert [t.recv("inbox") for _ in range(3)] == [True, True, True]
    assert t.dataReady("inbox") == 0


@pytest.mark.parametrize("stopClass", [shutdownMicroprocess, producerFinished])
def test_by_hand_a_shutdown_ends_it_within_five_steps(stopClass, wired):
    c, t = wired
    t.send(stopClass(), "signal")
    with pytest.raises(StopIteration):
        for _ in range(5):
            c.next()
    assert isinstance(t.recv("control"), producerFinished)
