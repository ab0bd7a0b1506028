"""
Axon.STM: software transactional memory for sharing values between threads
===========================================================================

A ``Store`` holds named values. Code that wants to change some of them
checks out private copies, changes the copies and commits them. The commit
succeeds only if nobody else committed those names in the meantime;
otherwise it raises ``ConcurrentUpdate`` and the caller starts again from
fresh copies. No caller ever holds a lock while it works, so nobody can
deadlock, and a commit of several values is all-or-nothing.

Example Usage
-------------
One value::

    from Axon.STM import Store, ConcurrentUpdate, BusyRetry

    store = Store()

    def increment():
        while True:
            try:
                counter = store.usevar("counter")   # a private copy
                counter.set((counter.value or 0) + 1)
                counter.commit()
                return
            except (ConcurrentUpdate, BusyRetry):
                continue                            # someone got there first

Several values at once (all or nothing)::

    def transfer(amount):
        while True:
            try:
                accounts = store.using("alice", "bob")
                accounts["alice"].set(accounts["alice"].value - amount)
                accounts["bob"].set(accounts["bob"].value + amount)
                accounts.commit()
                return
            except (ConcurrentUpdate, BusyRetry):
                continue

How does it work?
-----------------
Every stored ``Value`` has a version number, starting at 0 when the store
first hands out a name (with the value ``None``). ``usevar(key)`` returns a
*clone*: same version, deep copy of the value. ``Value.set(v)`` changes only
the clone; ``Value.commit()`` asks the store to accept it. The store accepts
it if its own version of that name is not newer than the clone's; it then
stores a deep copy of the value under version + 1 and advances the clone's
version to match, so the same clone can be changed and committed again. If
the store's version is newer, another commit got there first and the store
raises ``ConcurrentUpdate``.

``using(*keys)`` returns a ``Collection`` (a dict of key -> clone) and its
``commit()`` checks every version before changing anything.

The store's lock is only ever taken without waiting: if another thread holds
it at that instant the operation raises ``BusyRetry`` and changes nothing.
Both exceptions mean "try again".

``dump()`` writes each key and value to a stream (standard output by
default), for debugging.
"""

import copy
import sys
import threading


class ConcurrentUpdate(Exception):
    """Another commit changed the value since this copy was taken: start again."""


class BusyRetry(Exception):
    """The store was busy with another thread's operation: try again."""


class Value(object):
    """A versioned value checked out of (or held by) a ``Store``."""

    def __init__(self, version, value, store, key):
        self.version = version
        self.value = value
        self.store = store
        self.key = key

    def __repr__(self):
        return "Value(%r, %r)" % (self.version, self.value)

    def set(self, value):
        """Change this (local) copy; nothing is shared until ``commit()``."""
        self.value = value

    def commit(self):
        """Store this copy; ``ConcurrentUpdate`` if the stored version is newer."""
        self.store.set(self.key, self)

    def clone(self):
        """A copy with the same version and a deep copy of the value."""
        return Value(self.version, copy.deepcopy(self.value), self.store, self.key)


class Collection(dict):
    """A dict of key -> ``Value`` checked out together and committed together."""

    store = None

    def set_store(self, store):
        """The store that ``commit()`` writes to."""
        self.store = store

    def commit(self):
        """Store every value, or none of them (``ConcurrentUpdate``)."""
        self.store.set_values(self)


class Store(object):
    """Named, versioned values shared safely between threads. See the module docs."""

    def __init__(self):
        self.store = {}
        self.lock = threading.Lock()

    def _acquire(self):
        if not self.lock.acquire(False):
            raise BusyRetry()

    def _cloneOf(self, key):
        """A clone of the stored value for ``key``, creating it (version 0, None) if new."""
        stored = self.store.get(key)
        if stored is None:
            stored = self.store[key] = Value(0, None, self, key)
        return stored.clone()

    def _stale(self, key, value):
        stored = self.store.get(key)
        return stored is not None and stored.version > value.version

    def _install(self, key, value):
        self.store[key] = Value(value.version + 1, copy.deepcopy(value.value), self, key)
        value.version += 1

    def usevar(self, key, islocked=False):
        """A private copy of the value for ``key``.

        ``islocked=True`` means the caller already holds ``self.lock``.
        """
        if islocked:
            return self._cloneOf(key)
        self._acquire()
        try:
            return self._cloneOf(key)
        finally:
            self.lock.release()

    def set(self, key, value):
        """Commit ``value`` (a ``Value``) as the new value of ``key``."""
        self._acquire()
        try:
            if self._stale(key, value):
                raise ConcurrentUpdate(key)
            self._install(key, value)
        finally:
            self.lock.release()

    def using(self, *keys):
        """Private copies of the values for ``keys``, as a ``Collection``."""
        collection = Collection()
        collection.set_store(self)
        self._acquire()
        try:
            for key in keys:
                collection[key] = self.usevar(key, islocked=True)
        finally:
            self.lock.release()
        return collection

    def set_values(self, values):
        """Commit every ``Value`` in the dict ``values``, or none of them."""
        self._acquire()
        try:
            stale = [key for key, value in values.items() if self._stale(key, value)]
            if stale:
                raise ConcurrentUpdate(*stale)
            for key, value in values.items():
                self._install(key, value)
        finally:
            self.lock.release()

    def dump(self, stream=None):
        """Write "key: Value(version, value)" for every stored value (debugging aid)."""
        out = sys.stdout if stream is None else stream
        self._acquire()
        try:
            snapshot = list(self.store.items())
        finally:
            self.lock.release()
        for key, value in snapshot:
            out.write("%s: %r\n" % (key, value))
