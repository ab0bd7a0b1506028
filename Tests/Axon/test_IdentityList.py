"""Axon.IdentityList: a list of distinct objects with O(1) membership and removal."""

import pytest

from Axon.IdentityList import IdentityList


class Same(object):
    """Objects that all compare equal: IdentityList must still tell them apart."""

    def __eq__(self, other):
        return isinstance(other, Same)

    __hash__ = object.__hash__


def test_keeps_insertion_order_and_compares_equal_to_a_list():
    a, b, c = object(), object(), object()
    items = IdentityList([a, b])
    items.append(c)
    assert items == [a, b, c] and not (items != [a, b, c])
    assert list(items) == [a, b, c] and len(items) == 3 and items
    assert items[0] is a and items[-1] is c and items[1:] == [b, c]
    assert repr(items) == repr([a, b, c])
    assert items.copy() == [a, b, c] and isinstance(items.copy(), list)
    assert items + [1] == [a, b, c, 1] and [1] + items == [1, a, b, c]
    assert list(reversed(items)) == [c, b, a]


def test_membership_and_removal_are_by_identity_not_equality():
    x, y = Same(), Same()
    items = IdentityList([x])
    assert x in items and y not in items
    items.append(y)
    assert items.count(y) == 1 and items.index(y) == 1
    items.remove(x)
    assert items == [y] and items[0] is y
    with pytest.raises(ValueError):
        items.remove(x)
    with pytest.raises(ValueError):
        items.index(x)


def test_appending_a_present_item_is_ignored():
    a = object()
    items = IdentityList([a, a])
    items.append(a)
    items += [a]
    assert items == [a] and isinstance(items, IdentityList)


def test_none_is_an_ordinary_item():
    items = IdentityList()
    assert None not in items
    items.append(None)
    assert None in items and items == [None]


def test_pop_discard_insert_delitem_clear():
    a, b, c, d = object(), object(), object(), object()
    items = IdentityList([a, b, c])
    assert items.pop() is c and items == [a, b]
    assert items.pop(0) is a and items == [b]
    assert items.discard(b) is True and items.discard(b) is False
    with pytest.raises(IndexError):
        items.pop()
    items.extend([a, c])
    items.insert(1, d)
    assert items == [a, d, c]
    del items[0]
    assert items == [d, c]
    items.clear()
    assert items == [] and not items


def test_iterating_while_removing_sees_every_original_item():
    objs = [object() for _ in range(5)]
    items = IdentityList(objs)
    seen = []
    for o in items:
        seen.append(o)
        items.remove(o)
    assert seen == objs and items == []
