"""Axon.Box (spec 1.9): sinks, postboxes, linking chains and who gets woken.

Naming used below: an *outbox* is ``makeOutbox(notify)`` (its notify wakes
the outbox's owner when something downstream is collected); an *inbox* is
``makeInbox(notify)`` (its notify wakes the inbox's owner on delivery).
"""

import logging

import pytest

from Axon import Box
from Axon.AxonExceptions import BoxAlreadyLinkedToDestination, noSpaceInBox
from Axon.Box import makeInbox, makeOutbox, nullsink, postbox, realsink


class Owner(object):
    """Records each time its notify callback is called."""

    def __init__(self, name, log):
        self.name = name
        self.log = log

    def __call__(self):
        self.log.append(self.name)


@pytest.fixture
def woken():
    return []


def inbox(name, woken, size=None):
    return makeInbox(Owner(name, woken), size)


def outbox(name, woken):
    return makeOutbox(Owner(name, woken))


# -- nullsink and realsink ---------------------------------------------------


def test_nullsink_discards_everything():
    s = nullsink()
    s.append("x")
    assert len(s) == 0
    with pytest.raises(IndexError):
        s.pop(0)
    assert s.wakeOnPop == []
    assert s.size is None


def test_realsink_append_stores_and_notifies(woken):
    s = realsink(Owner("rx", woken))
    s.append("a")
    s.append("b")
    assert list(s) == ["a", "b"]
    assert woken == ["rx", "rx"]
    assert s.size is None


def test_realsink_with_size_raises_noSpaceInBox_when_full_without_storing(woken):
    s = realsink(Owner("rx", woken), size=2)
    s.append(1)
    s.append(2)
    with pytest.raises(noSpaceInBox) as info:
        s.append(3)
    assert info.value.args == (2, 2)
    assert list(s) == [1, 2]
    assert woken == ["rx", "rx"]


def test_realsink_pop_removes_and_calls_every_wakeOnPop_callback(woken):
    s = realsink(Owner("rx", woken))
    s.wakeOnPop.append(Owner("p1", woken))
    s.wakeOnPop.append(Owner("p2", woken))
    s.append("a")
    s.append("b")
    del woken[:]
    assert s.pop(0) == "a"
    assert woken == ["p1", "p2"]
    assert list(s) == ["b"]


def test_realsink_pop_of_empty_raises_IndexError(woken):
    s = realsink(Owner("rx", woken))
    with pytest.raises(IndexError):
        s.pop(0)


# -- postbox basics ---------------------------------------------------------


def test_postbox_initial_state():
    storage = realsink()
    box = postbox(storage)
    assert box.storage is storage
    assert box.target is None
    assert box.sink is storage
    assert list(box.sources) == []


def test_makeInbox_and_makeOutbox(woken):
    i = makeInbox(Owner("rx", woken), size=3)
    assert isinstance(i, postbox)
    assert isinstance(i.storage, realsink)
    assert i.getSize() == 3
    i.append("x")
    assert woken == ["rx"]
    assert len(i) == 1 and i.local_len() == 1

    o = makeOutbox(Owner("tx", woken))
    assert isinstance(o, postbox)
    assert isinstance(o.storage, nullsink)
    assert makeInbox(Owner("rx", woken)).getSize() is None


def test_append_pop_and_len_delegate_to_the_final_sink(woken):
    o, i = outbox("tx", woken), inbox("rx", woken)
    i.addsource(o)
    o.append("m1")
    o.append("m2")
    assert len(o) == 2
    assert o.local_len() == 0
    assert i.local_len() == 2
    assert o.pop(0) == "m1"
    assert i.pop(0) == "m2"


def test_sending_from_an_unlinked_outbox_silently_drops(woken):
    o = outbox("tx", woken)
    o.append("lost")
    assert len(o) == 0
    assert woken == []


# -- linking --------------------------------------------------------------


def test_addsource_links_outbox_to_inbox_and_wakes_receiver_on_append(woken):
    o, i = outbox("tx", woken), inbox("rx", woken)
    i.addsource(o)
    assert o.target is i
    assert o.sink is i.storage
    assert list(i.sources) == [o]
    o.append("hello")
    assert list(i.storage) == ["hello"]
    assert woken == ["rx"]


def test_pop_wakes_the_producers_not_the_receiver(woken):
    o, i = outbox("tx", woken), inbox("rx", woken)
    i.addsource(o)
    o.append("hello")
    del woken[:]
    assert i.pop(0) == "hello"
    assert woken == ["tx"]


def test_second_link_from_same_box_raises_BoxAlreadyLinkedToDestination(woken):
    o = outbox("tx", woken)
    i1, i2 = inbox("r1", woken), inbox("r2", woken)
    i1.addsource(o)
    with pytest.raises(BoxAlreadyLinkedToDestination) as info:
        i2.addsource(o)
    assert info.value.args == (i2, i1, o)
    o.append("x")
    assert i1.local_len() == 1 and i2.local_len() == 0
    assert list(i2.sources) == []


def test_many_to_one_is_allowed_and_pop_wakes_every_producer(woken):
    o1, o2, i = outbox("tx1", woken), outbox("tx2", woken), inbox("rx", woken)
    i.addsource(o1)
    i.addsource(o2)
    o1.append("from1")
    o2.append("from2")
    assert list(i.storage) == ["from1", "from2"]
    del woken[:]
    i.pop(0)
    assert sorted(woken) == ["tx1", "tx2"]


def test_removesource_unlinks_and_stops_waking_that_producer(woken):
    o1, o2, i = outbox("tx1", woken), outbox("tx2", woken), inbox("rx", woken)
    i.addsource(o1)
    i.addsource(o2)
    i.removesource(o1)
    assert o1.target is None
    assert o1.sink is o1.storage
    assert list(i.sources) == [o2]
    o1.append("dropped")
    o2.append("kept")
    assert list(i.storage) == ["kept"]
    del woken[:]
    i.pop(0)
    assert woken == ["tx2"]


def test_an_unlinked_box_can_be_linked_again(woken):
    o, i1, i2 = outbox("tx", woken), inbox("r1", woken), inbox("r2", woken)
    i1.addsource(o)
    i1.removesource(o)
    i2.addsource(o)
    o.append("x")
    assert i2.local_len() == 1 and i1.local_len() == 0


def test_removesource_of_an_inbox_source_gives_it_back_its_own_storage(woken):
    mid, final = inbox("mid", woken), inbox("final", woken)
    final.addsource(mid)
    mid.append("through")
    final.removesource(mid)
    mid.append("kept-here")
    assert list(final.storage) == ["through"]
    assert list(mid.storage) == ["kept-here"]
    assert woken == ["final", "mid"]


# -- passthrough chains ------------------------------------------------------


def test_inbox_to_inbox_passthrough_leaves_the_intermediate_inbox_empty(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken), inbox("final", woken)
    final.addsource(mid)
    mid.addsource(o)
    o.append("m")
    assert mid.local_len() == 0
    assert final.local_len() == 1
    assert len(mid) == 1
    assert woken == ["final"]


def test_outbox_to_outbox_passthrough_delivers_to_the_final_inbox(woken):
    child, parent, final = outbox("child", woken), outbox("parent", woken), inbox("final", woken)
    parent.addsource(child)
    final.addsource(parent)
    child.append("up")
    assert list(final.storage) == ["up"]
    assert woken == ["final"]
    del woken[:]
    final.pop(0)
    assert sorted(woken) == ["child", "parent"]


def test_long_chain_in_either_link_order_delivers_to_the_end(woken):
    for order in ("downstream-first", "upstream-first"):
        del woken[:]
        o, a, b, c = outbox("tx", woken), inbox("a", woken), inbox("b", woken), inbox("c", woken)
        links = [(c, b), (b, a), (a, o)]
        if order == "upstream-first":
            links.reverse()
        for sink, source in links:
            sink.addsource(source)
        o.append(order)
        assert [a.local_len(), b.local_len(), c.local_len()] == [0, 0, 1], order
        assert o.sink is c.storage and a.sink is c.storage and b.sink is c.storage
        assert woken == ["c"], order
        del woken[:]
        c.pop(0)
        assert woken == ["tx"], order


# -- retargeting ----------------------------------------------------------------


def test_linking_a_box_moves_its_stored_items_to_the_new_final_sink(woken):
    mid, final = inbox("mid", woken), inbox("final", woken)
    final.append("already-there")
    mid.append("m1")
    mid.append("m2")
    final.addsource(mid)
    assert mid.local_len() == 0
    assert list(final.storage) == ["already-there", "m1", "m2"]


def test_retargeting_propagates_up_the_chain_of_sources(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken), inbox("final", woken)
    mid.addsource(o)
    o.append("early")
    assert list(mid.storage) == ["early"]
    final.addsource(mid)
    assert o.sink is final.storage
    assert list(final.storage) == ["early"]
    o.append("late")
    assert list(final.storage) == ["early", "late"]
    assert mid.local_len() == 0


def test_breaking_a_chain_in_the_middle_retargets_the_upstream_boxes(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken), inbox("final", woken)
    mid.addsource(o)
    final.addsource(mid)
    final.removesource(mid)
    assert o.sink is mid.storage
    o.append("x")
    assert list(mid.storage) == ["x"]
    assert final.local_len() == 0


# -- wakeOnPop maintenance ---------------------------------------------------------


def wakeNames(box):
    return sorted(cb.name for cb in box.storage.wakeOnPop)


def test_wakeOnPop_lists_outbox_owners_only_never_intermediate_inbox_owners(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken), inbox("final", woken)
    mid.addsource(o)
    final.addsource(mid)
    assert wakeNames(final) == ["tx"]
    assert wakeNames(mid) == []


def test_wakeOnPop_follows_a_chain_broken_and_remade(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken), inbox("final", woken)
    mid.addsource(o)
    assert wakeNames(mid) == ["tx"]
    final.addsource(mid)
    assert wakeNames(mid) == [] and wakeNames(final) == ["tx"]

    final.removesource(mid)
    assert wakeNames(mid) == ["tx"] and wakeNames(final) == []
    o.append("a")
    del woken[:]
    mid.pop(0)
    assert woken == ["tx"]

    final.addsource(mid)
    assert wakeNames(mid) == [] and wakeNames(final) == ["tx"]
    o.append("b")
    del woken[:]
    final.pop(0)
    assert woken == ["tx"]

    mid.removesource(o)
    assert wakeNames(mid) == [] and wakeNames(final) == []
    o.append("dropped")
    assert final.local_len() == 0


def test_wakeOnPop_with_outbox_passthrough_chain_broken_and_remade(woken):
    child, parent, final = outbox("child", woken), outbox("parent", woken), inbox("final", woken)
    final.addsource(parent)
    parent.addsource(child)
    assert wakeNames(final) == ["child", "parent"]
    parent.removesource(child)
    assert wakeNames(final) == ["parent"]
    parent.addsource(child)
    assert wakeNames(final) == ["child", "parent"]
    final.removesource(parent)
    assert wakeNames(final) == []
    other = inbox("other", woken)
    other.addsource(parent)
    assert wakeNames(other) == ["child", "parent"]
    child.append("x")
    assert list(other.storage) == ["x"]


def test_wakeOnPop_many_to_one_removing_one_keeps_the_other(woken):
    o1, o2, mid, final = outbox("o1", woken), outbox("o2", woken), inbox("mid", woken), inbox("f", woken)
    mid.addsource(o1)
    final.addsource(mid)
    final.addsource(o2)
    assert wakeNames(final) == ["o1", "o2"]
    final.removesource(mid)
    assert wakeNames(final) == ["o2"]
    assert wakeNames(mid) == ["o1"]


def test_quiet_source_delivers_but_a_pop_does_not_wake_its_owner(woken):
    """addsource(quiet=True): items flow as usual; the quiet producer is not woken on pop."""
    loud, quiet, i = outbox("loud", woken), outbox("quiet", woken), inbox("rx", woken)
    i.addsource(loud)
    i.addsource(quiet, quiet=True)
    quiet.append("q")
    loud.append("l")
    assert list(i.storage) == ["q", "l"]
    assert wakeNames(i) == ["loud"]
    del woken[:]
    i.pop(0)
    assert woken == ["loud"]


def test_unlinking_a_quiet_source_leaves_the_other_wakes_alone(woken):
    """Removing a quiet link must not remove a wake that a normal link put there."""
    tx, i = outbox("tx", woken), inbox("rx", woken)
    other = outbox("tx", woken)
    other.notify = tx.notify            # the same owner feeding the box twice
    i.addsource(tx)
    i.addsource(other, quiet=True)
    i.removesource(other)
    assert wakeNames(i) == ["tx"]
    i.removesource(tx)
    assert wakeNames(i) == []


def test_quiet_link_hides_the_whole_upstream_chain_and_relinks_loudly(woken):
    """Owners upstream of a quiet link are not woken; relinked normally, they are again."""
    child, parent, final = outbox("child", woken), outbox("parent", woken), inbox("final", woken)
    parent.addsource(child)
    final.addsource(parent, quiet=True)
    assert wakeNames(final) == []
    child.append("x")
    assert list(final.storage) == ["x"]
    final.removesource(parent)
    final.addsource(parent)
    assert wakeNames(final) == ["child", "parent"]


def test_quiet_producer_is_woken_only_by_a_pop_from_a_full_sink(woken):
    """wakeProducer=False still wakes a producer waiting for room: a pop that frees a
    place in a full sink wakes it; other pops do not."""
    tx, i = outbox("tx", woken), inbox("rx", woken, size=2)
    i.addsource(tx, quiet=True)
    tx.append("a")
    tx.append("b")
    with pytest.raises(noSpaceInBox):
        tx.append("c")
    del woken[:]
    i.pop(0)
    assert woken == ["tx"]
    del woken[:]
    i.pop(0)
    assert woken == []


def test_quiet_wakes_follow_the_chain_when_it_is_relinked(woken):
    """Wakes behind a quiet link move with the chain: relinking the downstream end keeps
    them conditional, unlinking the quiet link takes them away."""
    child, parent = outbox("child", woken), outbox("parent", woken)
    first, second = inbox("first", woken, size=1), inbox("second", woken, size=1)
    parent.addsource(child, quiet=True)
    first.addsource(parent)
    assert wakeNames(first) == ["parent"]
    assert sorted(cb.name for cb in first.storage.wakeWhenFull) == ["child"]
    first.removesource(parent)
    second.addsource(parent)
    assert not first.storage.wakeWhenFull and not first.storage.wakeOnPop
    assert sorted(cb.name for cb in second.storage.wakeWhenFull) == ["child"]
    child.append("x")
    del woken[:]
    second.pop(0)
    assert sorted(woken) == ["child", "parent"]
    parent.removesource(child)
    assert not second.storage.wakeWhenFull and wakeNames(second) == ["parent"]


# -- size limits -------------------------------------------------------------------


def test_setSize_getSize_and_unlimited(woken):
    i = inbox("rx", woken)
    assert i.getSize() is None
    i.setSize(2)
    assert i.getSize() == 2
    i.append(1)
    i.append(2)
    assert i.isFull()
    with pytest.raises(noSpaceInBox):
        i.append(3)
    i.setSize(None)
    i.append(3)
    assert not i.isFull()
    assert i.local_len() == 3


def test_size_limit_applies_only_at_the_final_sink(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken, size=1), inbox("final", woken)
    final.addsource(mid)
    mid.addsource(o)
    for n in range(5):
        o.append(n)
    assert list(final.storage) == [0, 1, 2, 3, 4]
    assert not o.isFull() and not mid.isFull()

    final.setSize(5)
    assert o.isFull() and mid.isFull() and final.isFull()
    with pytest.raises(noSpaceInBox) as info:
        o.append(5)
    assert info.value.args == (5, 5)


def test_size_limit_of_an_intermediate_box_returns_when_it_becomes_final(woken):
    o, mid, final = outbox("tx", woken), inbox("mid", woken, size=1), inbox("final", woken)
    mid.addsource(o)
    final.addsource(mid)
    o.append(1)
    o.append(2)
    final.removesource(mid)
    o.append(3)
    with pytest.raises(noSpaceInBox):
        o.append(4)


def test_isFull_is_false_for_an_unlinked_outbox(woken):
    o = outbox("tx", woken)
    assert not o.isFull()


# -- transit tracing ----------------------------------------------------------------


def test_setShowTransit_logs_each_delivery_through_that_box(woken, caplog):
    o, i = outbox("tx", woken), inbox("rx", woken)
    i.addsource(o)
    o.setShowTransit(True, "TAG-1")
    with caplog.at_level(logging.DEBUG, logger="Axon.Box"):
        o.append("payload-1")
        o.setShowTransit(False)
        o.append("payload-2")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "TAG-1" in text and "payload-1" in text
    assert "payload-2" not in text
    assert list(i.storage) == ["payload-1", "payload-2"]


def test_ShowAllTransits_traces_boxes_created_while_it_is_set(woken, caplog, monkeypatch):
    monkeypatch.setattr(Box, "ShowAllTransits", True)
    i = inbox("rx", woken)
    monkeypatch.setattr(Box, "ShowAllTransits", False)
    try:
        with caplog.at_level(logging.DEBUG, logger="Axon.Box"):
            i.append("traced-payload")
        assert any("traced-payload" in r.getMessage() for r in caplog.records)
    finally:
        i.setShowTransit(False)


def test_an_outbox_records_its_size_limit_but_never_fills(woken):
    """1.x set the size on any box's own storage, an outbox's null sink
    included, so getSize returned it; what an outbox stores is discarded,
    so it never fills. Other outboxes keep no limit."""
    o, other = outbox("tx", woken), outbox("tx2", woken)
    o.setSize(3)
    assert o.getSize() == 3 and other.getSize() is None
    for n in range(5):
        o.append(n)
    assert not o.isFull() and len(o) == 0
    final = inbox("rx", woken)
    final.addsource(o)
    o.append("x")
    assert list(final.storage) == ["x"] and o.getSize() == 3
    final.removesource(o)
    o.setSize(None)
    assert o.getSize() is None
