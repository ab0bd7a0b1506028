"""
Axon.util: small helpers used across Axon and Kamaelia
======================================================

Example Usage
-------------
::

    >>> from Axon.util import removeAll, listSubset, safeList
    >>> xs = [1, 2, 1, 3]; removeAll(xs, 1); xs
    [2, 3]
    >>> listSubset([1, 2], [3, 2, 1])
    True
    >>> safeList(None)
    []

``testInterface(component, (inboxes, outboxes))`` checks that a component
declares at least the given boxes, raising ``invalidComponentInterface``
(unless ``production`` is set, when it returns False instead).

``next``, ``vrange``, ``apply`` and ``set`` are the Python 2 compatibility
names Kamaelia 1.x code imports from here; on Python 3 they are the builtins
(``vrange`` is ``range``).
"""

import builtins

from Axon.AxonExceptions import invalidComponentInterface

production = False

next = builtins.next
vrange = range
set = builtins.set


def apply(function, args=(), kwargs=None):
    """Call ``function(*args, **kwargs)`` (the Python 2 builtin)."""
    return function(*args, **(kwargs or {}))


def logError(someException, *args):
    """Hook for recording errors in production mode; does nothing by default."""


def axonRaise(someException, *args):
    """Raise ``someException(*args)``, or return False when ``production`` is set."""
    if production:
        logError(someException, *args)
        return False
    raise someException(*args)


def removeAll(xs, y):
    """Remove every occurrence of ``y`` from the list ``xs`` in place."""
    xs[:] = [x for x in xs if x != y]


def listSubset(requiredList, suppliedList):
    """True when every item of ``requiredList`` appears in ``suppliedList`` (``in``).

    Membership is tested with ``in``, as in 1.x, so the items need not be
    hashable and ``suppliedList`` may be any container (a dict of boxes).
    """
    return all(item in suppliedList for item in requiredList)


def testInterface(theComponent, interface):
    """True when ``theComponent`` declares at least ``interface = (inboxes, outboxes)``."""
    requiredInboxes, requiredOutboxes = interface
    if not listSubset(requiredInboxes, theComponent.Inboxes):
        return axonRaise(invalidComponentInterface, "inboxes", theComponent, interface)
    if not listSubset(requiredOutboxes, theComponent.Outboxes):
        return axonRaise(invalidComponentInterface, "outboxes", theComponent, interface)
    return True


# 1.x's tests import testInterface into their modules; its name must not make
# pytest collect it as a test.
testInterface.__test__ = False


def safeList(arg=None):
    """``list(arg)``, or ``[]`` when ``arg`` is not iterable."""
    try:
        return list(arg)
    except TypeError:
        return []


class Finality(Exception):
    """Marker exception used to run cleanup code in generators (try/finally idiom)."""
