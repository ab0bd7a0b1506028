"""
Axon.idGen: unique identifiers for Axon objects
===============================================

One process-wide counter numbers every microprocess, component, tracker and
dynamically created box, so every id is unique for the life of the process.

Example Usage
-------------
::

    >>> from Axon.idGen import numId, strId, tupleId
    >>> n = numId()
    >>> strId(object()).startswith("object_")
    True

How does it work?
-----------------
Ids come from one ``itertools.count`` (atomic, so thread-safe);
``idGen.lowestAllocatedId`` (on the class or any instance) reads the id most
recently handed out; setting it on the class restarts the count after the
value given.
``idToString`` names a thing after its class, as ``"<module>.<Class>_<n>"``.
The module-level ``numId``, ``strId`` and ``tupleId`` are bound methods of
fresh instances and all draw on the same counter.
"""

import itertools

from Axon import debug as _debugmodule

_counter = itertools.count(1)
_classNames = {}


def _className(cls):
    """``str(cls)[8:-2]``: "<module>.<QualName>", or the bare name for builtins."""
    try:
        return _classNames[cls]
    except KeyError:
        name = str(cls)[8:-2]
        _classNames[cls] = name
        return name


class _idGenType(type):
    """Makes ``idGen.lowestAllocatedId`` read (and reset) the shared counter."""

    @property
    def lowestAllocatedId(cls):
        """The id most recently handed out."""
        return _counter.__reduce__()[1][0] - 1

    @lowestAllocatedId.setter
    def lowestAllocatedId(cls, value):
        global _counter
        _counter = itertools.count(value + 1)


class _LowestAllocatedIdOfInstance(object):
    """``anIdGen.lowestAllocatedId`` reads the shared counter too, as in 1.x.

    Only ``__get__``: assigning to it on an instance makes an instance
    attribute, as assigning to 1.x's class attribute through an instance did.
    """

    def __get__(self, instance, owner):
        return type(owner).lowestAllocatedId.__get__(owner)


class idGen(object, metaclass=_idGenType):
    """Generator of process-unique integer ids and the names built from them."""

    lowestAllocatedId = _LowestAllocatedIdOfInstance()

    def nextId(self, thing=None):
        """Allocate and return the next id."""
        return nextUniqueId()

    next = nextId
    __next__ = nextId

    def idToString(self, thing, aNumId):
        """Return ``"<module>.<Class>_<aNumId>"`` for ``thing``."""
        return "%s_%d" % (_className(thing.__class__), aNumId)

    def numId(self, thing=None):
        """Allocate an id and return it as an int."""
        return self.nextId()

    def strId(self, thing):
        """Allocate an id and return it as a name for ``thing``."""
        return self.idToString(thing, self.nextId())

    def tupleId(self, thing):
        """Allocate an id and return ``(id, name)`` for ``thing``."""
        n = self.nextId()
        return n, self.idToString(thing, n)


def nextUniqueId():
    """Allocate the next id (thread-safe: the counter is an ``itertools.count``)."""
    return next(_counter)


numId = idGen().numId
strId = idGen().strId
tupleId = idGen().tupleId
newId = strId

debugger = _debugmodule.debug()
debugger.useConfig()
Debug = debugger.debug
