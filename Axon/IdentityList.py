"""
Axon.IdentityList: an ordered collection of distinct objects with O(1) membership
=================================================================================

``IdentityList`` behaves like a list of distinct objects (insertion order,
indexing, slicing, iteration, ``==`` against a plain list) but tests
membership and removes items in constant time, comparing items by identity.
Axon uses it where a component may hold very many entries and add and remove
them one at a time: a component's ``children`` and a postoffice's
``linkages``. With a plain list, a server holding 10,000 connections spent
seconds scanning those lists as connections came and went.

Example Usage
-------------
::

    from Axon.IdentityList import IdentityList

    things = IdentityList()
    a, b = object(), object()
    things.append(a)
    things.append(b)
    things.append(a)            # already there: ignored
    assert things == [a, b] and a in things
    things.remove(a)
    assert things == [b]

How does it work?
-----------------
Items are the values of a dict keyed by ``id(item)``; the dict keeps
insertion order and holds a reference to every item, so an id cannot be
reused while its item is present. Appending an item already present does
nothing: the collection never holds duplicates (the places Axon uses it never
add one). Positional operations (``insert``, indexing, ``pop(i)`` for ``i``
other than the ends) copy the items to a list and cost O(n), like a list's.
Iteration runs over a snapshot, so removing items while iterating is safe.
"""


class IdentityList(object):
    """Distinct objects in insertion order; ``in`` and ``remove`` are O(1)."""

    __slots__ = ("_items",)

    def __init__(self, iterable=()):
        self._items = {}
        for item in iterable:
            self.append(item)

    def append(self, item):
        """Add ``item`` at the end unless it is already present."""
        self._items.setdefault(id(item), item)

    def extend(self, iterable):
        """Append every item of ``iterable``."""
        for item in iterable:
            self.append(item)

    def insert(self, index, item):
        """Insert ``item`` before position ``index`` (no-op if already present)."""
        if item in self:
            return
        items = list(self._items.values())
        items.insert(index, item)
        self._items = {id(x): x for x in items}

    def remove(self, item):
        """Remove ``item``; ValueError if it is not present."""
        try:
            del self._items[id(item)]
        except KeyError:
            raise ValueError("IdentityList.remove(x): x not in list") from None

    def discard(self, item):
        """Remove ``item`` if present; True if it was."""
        return self._items.pop(id(item), None) is not None

    def pop(self, index=-1):
        """Remove and return the item at ``index`` (the last by default)."""
        items = self._items
        if not items:
            raise IndexError("pop from empty IdentityList")
        if index == -1:
            return items.popitem()[1]
        item = list(items.values())[index]
        del items[id(item)]
        return item

    def clear(self):
        """Remove every item."""
        self._items.clear()

    def index(self, item):
        """Position of ``item``; ValueError if it is not present."""
        if item not in self:
            raise ValueError("IdentityList.index(x): x not in list")
        for position, key in enumerate(self._items):
            if key == id(item):
                return position

    def count(self, item):
        """1 if ``item`` is present, else 0."""
        return 1 if item in self else 0

    def copy(self):
        """A plain list of the items."""
        return list(self._items.values())

    def __contains__(self, item):
        return self._items.get(id(item), self) is item

    def __len__(self):
        return len(self._items)

    def __bool__(self):
        return bool(self._items)

    def __iter__(self):
        return iter(list(self._items.values()))

    def __reversed__(self):
        return reversed(list(self._items.values()))

    def __getitem__(self, index):
        return list(self._items.values())[index]

    def __delitem__(self, index):
        items = list(self._items.values())
        del items[index]
        self._items = {id(x): x for x in items}

    def __eq__(self, other):
        if isinstance(other, IdentityList):
            other = other.copy()
        if isinstance(other, list):
            return list(self._items.values()) == other
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __add__(self, other):
        return list(self._items.values()) + list(other)

    def __iadd__(self, other):
        self.extend(other)
        return self

    def __radd__(self, other):
        return list(other) + list(self._items.values())

    def __repr__(self):
        return repr(list(self._items.values()))
