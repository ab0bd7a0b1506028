"""Axon.util (spec 1.4): small helpers and the Python 2 compatibility names."""

import builtins

import pytest

from Axon import util
from Axon.AxonExceptions import invalidComponentInterface
from Axon.Component import component
from Axon.util import Finality, axonRaise, listSubset, logError, removeAll, safeList
from Axon.util import testInterface as checkInterface


class Boom(Exception):
    pass


def test_production_flag_defaults_to_false():
    assert util.production is False


def test_logError_is_a_harmless_no_op():
    assert logError(Boom, 1, 2) is None


def test_axonRaise_raises_the_exception_with_its_arguments():
    with pytest.raises(Boom) as info:
        axonRaise(Boom, "a", 2)
    assert info.value.args == ("a", 2)


def test_axonRaise_returns_False_in_production(monkeypatch):
    monkeypatch.setattr(util, "production", True)
    assert axonRaise(Boom, "a") is False


def test_removeAll_removes_every_occurrence_in_place():
    xs = [1, 2, 1, 3, 1]
    same = xs
    assert removeAll(xs, 1) is None
    assert same == [2, 3]
    ys = [4, 5]
    removeAll(ys, 9)
    assert ys == [4, 5]


def test_listSubset_is_a_set_subset_test():
    assert listSubset([1, 2], [3, 2, 1])
    assert listSubset([], [1])
    assert listSubset([1, 1], [1])
    assert not listSubset([1, 4], [1, 2, 3])


class Boxy(component):
    Inboxes = {"inbox": "", "control": "", "extra": ""}
    Outboxes = ["outbox", "signal"]


def test_testInterface_accepts_a_component_with_at_least_the_boxes():
    assert checkInterface(Boxy(), (["inbox", "extra"], ["outbox"])) is True
    assert checkInterface(Boxy(), ([], [])) is True


def test_testInterface_raises_for_missing_inboxes():
    c = Boxy()
    interface = (["inbox", "missing"], ["outbox"])
    with pytest.raises(invalidComponentInterface) as info:
        checkInterface(c, interface)
    assert info.value.args == ("inboxes", c, interface)


def test_testInterface_raises_for_missing_outboxes():
    c = Boxy()
    interface = (["inbox"], ["outbox", "missing"])
    with pytest.raises(invalidComponentInterface) as info:
        checkInterface(c, interface)
    assert info.value.args == ("outboxes", c, interface)


def test_testInterface_returns_False_in_production(monkeypatch):
    monkeypatch.setattr(util, "production", True)
    assert checkInterface(Boxy(), (["nope"], [])) is False


def test_safeList_copies_iterables_and_gives_empty_list_otherwise():
    assert safeList((1, 2)) == [1, 2]
    original = [3]
    copy = safeList(original)
    assert copy == [3] and copy is not original
    assert safeList() == []
    assert safeList(None) == []
    assert safeList(5) == []


def test_Finality_is_an_exception_usable_for_try_finally_in_generators():
    assert issubclass(Finality, Exception)
    cleaned = []

    def gen():
        try:
            yield 1
            raise Finality
        except Finality:
            cleaned.append(True)

    assert list(gen()) == [1]
    assert cleaned == [True]


def test_python2_compatibility_names():
    assert util.next is builtins.next
    assert list(util.vrange(3)) == [0, 1, 2]
    assert util.set is builtins.set
    assert util.apply(lambda a, b=0: a + b, (1,), {"b": 2}) == 3
    assert util.apply(lambda: "x") == "x"


def test_listSubset_tests_membership_so_unhashable_items_work():
    """1.x tested each required item with ``in``; a set-based test raised
    TypeError for unhashable items such as lists or dicts."""
    assert listSubset([[1], {"a": 2}], [{"a": 2}, [3], [1]])
    assert not listSubset([[1], [4]], [[1], [2]])
    assert listSubset(["inbox"], {"inbox": "a dict of boxes", "control": ""})


def test_testInterface_is_not_collected_by_pytest_where_it_is_imported():
    """1.x's tests do `from Axon.util import testInterface`; pytest must not take it for a test."""
    from Axon.util import testInterface
    assert testInterface.__test__ is False
