"""Kamaelia.Util.Chooser.ForwardIteratingChooser (spec more-3.3.2): forward-only over any iterable."""

import itertools

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Chooser import ForwardIteratingChooser

FRUIT = ["apple", "banana", "cherry"]


# -- construction and the cursor methods ---------------------------------------------------


def test_construction_fetches_the_first_item_so_items_holds_the_rest():
    assert list(ForwardIteratingChooser(FRUIT).items) == FRUIT[1:]


def test_construction_from_a_range_consumes_its_first_number():
    assert list(ForwardIteratingChooser(range(0, 5)).items) == [1, 2, 3, 4]


def test_construction_with_no_arguments_has_nothing_left():
    assert list(ForwardIteratingChooser().items) == []


def test_the_boxes_are_those_of_1x():
    c = ForwardIteratingChooser()
    assert set(c.Inboxes) == {"inbox", "control"}
    assert set(c.Outboxes) == {"outbox", "signal"}


def test_with_no_items_the_current_choice_is_an_IndexError():
    with pytest.raises(IndexError):
        ForwardIteratingChooser([]).getCurrentChoice()


def test_the_first_item_is_current_after_construction():
    assert ForwardIteratingChooser(FRUIT).getCurrentChoice() == "apple"


def test_gotoNext_fetches_each_following_item():
    c = ForwardIteratingChooser(FRUIT)
    assert c.gotoNext() is True
    assert c.getCurrentChoice() == "banana"
    assert c.gotoNext() is True
    assert c.getCurrentChoice() == "cherry"


def test_gotoNext_past_the_end_is_False_and_keeps_the_last_item():
    c = ForwardIteratingChooser(FRUIT)
    c.gotoNext()
    c.gotoNext()
    assert c.gotoNext() is False
    assert c.getCurrentChoice() == "cherry"
    assert c.gotoNext() is False
    assert c.getCurrentChoice() == "cherry"


def test_an_endless_iterator_is_consumed_only_as_far_as_asked():
    c = ForwardIteratingChooser(itertools.count(10))
    for _ in range(3):
        c.gotoNext()
    assert c.getCurrentChoice() == 13
    assert next(c.items) == 14


# -- the component -------------------------------------------------------------------------


def run(chooser, *commands):
    h = ComponentHarness(chooser)
    for command in commands:
        h.put(command)
    h.runUntilIdle()
    return h


def test_on_starting_it_sends_the_first_item():
    h = run(ForwardIteratingChooser(FRUIT))
    assert h.getAll("outbox") == ["apple"]
    assert not h.finished


def test_NEXT_sends_the_next_item_and_SAME_sends_the_current_one_again():
    h = run(ForwardIteratingChooser(FRUIT), "SAME", "NEXT", "SAME", "NEXT")
    assert h.getAll("outbox") == ["apple", "apple", "banana", "banana", "cherry"]


def test_other_messages_are_ignored():
    h = run(ForwardIteratingChooser(FRUIT), "PREV", "FIRST", 7, "NEXT")
    assert h.getAll("outbox") == ["apple", "banana"]


def test_NEXT_past_the_end_sends_producerFinished_from_itself_and_ends_it():
    c = ForwardIteratingChooser(["only"])
    h = run(c, "NEXT")
    assert h.getAll("outbox") == ["only"]
    finished = h.get("signal")
    assert isinstance(finished, producerFinished) and finished.caller is c
    assert h.finished


def test_commands_after_the_end_in_the_same_batch_are_still_carried_out():
    """As in 1.x: a second NEXT beyond the end sends a second producerFinished."""
    h = run(ForwardIteratingChooser(["only"]), "NEXT", "SAME", "NEXT")
    assert h.getAll("outbox") == ["only", "only"]
    signals = h.getAll("signal")
    assert len(signals) == 2 and all(isinstance(s, producerFinished) for s in signals)
    assert h.finished


def test_with_no_items_it_sends_nothing_and_the_first_NEXT_ends_it():
    h = run(ForwardIteratingChooser([]), "SAME", "NEXT")
    assert h.getAll("outbox") == []
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_shutdownMicroprocess_is_forwarded_on_signal_and_ends_it():
    h = run(ForwardIteratingChooser(FRUIT))
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.getAll("signal") == [stop]
    assert h.finished


def test_once_exhausted_the_control_inbox_is_not_read():
    h = ComponentHarness(ForwardIteratingChooser([]))
    h.put("NEXT")
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished
    assert [type(s) for s in h.getAll("signal")] == [producerFinished]
    assert h.component.dataReady("control") == 1


def test_producerFinished_on_control_is_ignored():
    h = run(ForwardIteratingChooser(FRUIT))
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0


def test_it_sleeps_while_no_message_is_waiting_even_over_an_endless_iterator():
    h = run(ForwardIteratingChooser(itertools.count()), "NEXT")
    assert h.scheduler.isIdle() and not h.finished
    assert h.getAll("outbox") == [0, 1]


def test_it_can_be_driven_by_hand_with_next_and_ends_in_the_step_that_runs_out():
    c = ForwardIteratingChooser(["a"])
    c.activate()
    c.next()
    c._deliver("SAME", "inbox")
    c.next()
    c._deliver("NEXT", "inbox")
    with pytest.raises(StopIteration):
        c.next()
