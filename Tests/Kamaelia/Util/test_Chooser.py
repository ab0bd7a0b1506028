"""Kamaelia.Util.Chooser.Chooser (spec more-3.3.1): the cursor methods and the command loop."""

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Linkage import linkage
from Axon.Postman import postman
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Chooser import Chooser

FRUIT = ["apple", "banana", "cherry", "damson"]


# -- construction --------------------------------------------------------------------


def test_no_arguments_means_no_items_at_index_0_without_looping():
    c = Chooser()
    assert c.items == [] and c.index == 0 and c.loop is False


def test_items_are_kept_as_a_copy_of_the_list_given():
    given = list(FRUIT)
    c = Chooser(given)
    given.append("elderberry")
    assert c.items == FRUIT


def test_any_iterable_is_accepted_as_items():
    assert Chooser(range(0, 5)).items == [0, 1, 2, 3, 4]
    assert Chooser(items=iter("ab"), loop=True).items == ["a", "b"]


def test_the_boxes_are_those_of_1x():
    c = Chooser()
    assert set(c.Inboxes) == {"inbox", "control"}
    assert set(c.Outboxes) == {"outbox", "signal"}


# -- the cursor methods ----------------------------------------------------------------


def test_with_no_items_the_current_choice_is_an_IndexError():
    with pytest.raises(IndexError):
        Chooser().getCurrentChoice()


def test_the_first_item_is_current_to_begin_with():
    assert Chooser(FRUIT).getCurrentChoice() == "apple"


def test_stepping_forwards_visits_every_item_in_order():
    c = Chooser(FRUIT)
    seen = [c.getCurrentChoice()]
    for _ in FRUIT[1:]:
        assert c.gotoNext() is True
        seen.append(c.getCurrentChoice())
    assert seen == FRUIT


def test_stepping_past_the_end_without_loop_stays_on_the_last_item_and_says_so():
    c = Chooser(FRUIT)
    for _ in range(len(FRUIT) - 1):
        c.gotoNext()
    assert c.gotoNext() is False
    assert c.getCurrentChoice() == "damson"
    assert c.gotoNext() is False
    assert c.getCurrentChoice() == "damson"


def test_stepping_backwards_past_the_start_without_loop_stays_on_the_first_item():
    c = Chooser(FRUIT)
    c.gotoNext()
    assert c.gotoPrev() is True
    assert c.getCurrentChoice() == "apple"
    assert c.gotoPrev() is False
    assert c.getCurrentChoice() == "apple"
    assert c.index == 0


def test_forward_back_forward_returns_to_the_same_items():
    c = Chooser(FRUIT)
    c.gotoNext()
    c.gotoNext()
    assert c.getCurrentChoice() == "cherry"
    c.gotoPrev()
    assert c.getCurrentChoice() == "banana"
    c.gotoNext()
    assert c.getCurrentChoice() == "cherry"


def test_gotoLast_twice_stays_on_the_last_item():
    c = Chooser(FRUIT)
    assert c.gotoLast() is True
    assert c.getCurrentChoice() == "damson"
    assert c.gotoLast() is True
    assert c.getCurrentChoice() == "damson"


def test_gotoFirst_goes_back_to_the_first_item_from_anywhere():
    c = Chooser(FRUIT)
    c.gotoLast()
    assert c.gotoFirst() is True
    assert c.getCurrentChoice() == "apple"
    assert c.gotoFirst() is True
    assert c.getCurrentChoice() == "apple"


def test_with_loop_next_past_the_end_wraps_to_the_first_item():
    c = Chooser(FRUIT, loop=True)
    c.gotoLast()
    assert c.gotoNext() is True
    assert c.getCurrentChoice() == "apple"


def test_with_loop_prev_before_the_start_wraps_to_the_last_item():
    """1.x set the index past the end here (a bug); the port wraps to the last item."""
    c = Chooser(FRUIT, loop=True)
    assert c.gotoPrev() is True
    assert c.index == len(FRUIT) - 1
    assert c.getCurrentChoice() == "damson"


# -- the component -------------------------------------------------------------------------


def run(chooser, *commands):
    h = ComponentHarness(chooser)
    for command in commands:
        h.put(command)
    h.runUntilIdle()
    return h


def test_on_starting_it_sends_the_current_item():
    h = run(Chooser(FRUIT))
    assert h.getAll("outbox") == ["apple"]


def test_with_no_items_it_sends_nothing_whatever_it_is_told():
    h = run(Chooser(), "SAME", "NEXT", "PREV", "FIRST", "LAST", "anything")
    assert h.getAll("outbox") == []
    assert not h.finished


def test_each_command_sends_the_item_it_moves_to():
    h = run(Chooser(FRUIT), "NEXT", "NEXT", "PREV", "LAST", "FIRST", "SAME")
    assert h.getAll("outbox") == ["apple", "banana", "cherry", "banana", "damson", "apple", "apple"]


def test_a_move_that_cannot_be_made_sends_nothing():
    h = run(Chooser(["only", "two"]), "PREV", "NEXT", "NEXT")
    assert h.getAll("outbox") == ["only", "two"]


def test_with_loop_the_commands_wrap_around_both_ways():
    h = run(Chooser(["a", "b"], loop=True), "NEXT", "NEXT", "PREV", "PREV")
    assert h.getAll("outbox") == ["a", "b", "a", "b", "a"]


def test_any_other_message_sends_the_current_item_again():
    h = run(Chooser(FRUIT), "NEXT", "what?", 42, ["NEXT"])
    assert h.getAll("outbox") == ["apple", "banana", "banana", "banana", "banana"]


def test_shutdownMicroprocess_is_forwarded_on_signal_and_ends_it():
    h = run(Chooser(FRUIT))
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.get("signal") is stop
    assert h.finished


def test_commands_already_waiting_are_carried_out_before_a_shutdown():
    h = ComponentHarness(Chooser(FRUIT))
    h.put("NEXT")
    h.put("LAST")
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["apple", "banana", "damson"]
    assert h.finished


def test_producerFinished_and_other_control_messages_are_taken_and_ignored():
    h = run(Chooser(FRUIT))
    h.put(producerFinished(), "control")
    h.put("stop?", "control")
    h.runUntilIdle()
    assert not h.finished
    assert h.ready("signal") == 0
    assert h.component.dataReady("control") == 0
    h.put("NEXT")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["apple", "banana"]


def test_one_control_message_is_taken_per_step():
    h = ComponentHarness(Chooser(FRUIT))
    h.step()
    h.put("ignored", "control")
    h.put(shutdownMicroprocess(), "control")
    h.step()
    assert not h.finished
    assert h.component.dataReady("control") == 1
    h.runUntilIdle()
    assert h.finished


def test_it_sleeps_while_no_message_is_waiting():
    h = run(Chooser(FRUIT))
    assert h.scheduler.isIdle() and not h.finished


class Viewer(component):
    pass


def test_it_can_be_driven_by_hand_as_1x_tests_do():
    """activate(), then next() by hand, with a postman linking its outbox to a viewer."""
    c = Chooser(FRUIT)
    viewer = Viewer()
    postman().registerlinkage(linkage(source=c, sink=viewer, sourcebox="outbox", sinkbox="inbox"))
    c.activate()
    c.next()
    assert viewer.recv("inbox") == "apple"
    c._deliver("NEXT", "inbox")
    c.next()
    assert viewer.recv("inbox") == "banana"
