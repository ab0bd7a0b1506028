"""
Axon.AxonExceptions: the exceptions Axon raises
===============================================

Every exception here is a direct subclass of ``AxonException``; none of them
inherit from one another, so catch the precise one you mean.

Example Usage
-------------
::

    from Axon.AxonExceptions import noSpaceInBox

    try:
        self.send(data, "outbox")
    except noSpaceInBox:
        ...  # the destination inbox is full: wait and try again

How does it work?
-----------------
``AxonException`` stores its positional arguments in ``args`` exactly as
``Exception`` does, so ``str()`` of an exception shows what was passed.
"""


class AxonException(Exception):
    """Base class of every Axon exception; the arguments are kept in ``args``."""

    def __init__(self, *args):
        super().__init__(*args)
        self.args = args


class normalShutdown(AxonException):
    """Raised to indicate an expected, orderly shutdown."""


class invalidComponentInterface(AxonException):
    """A component lacks the inboxes or outboxes an interface requires."""


class noSpaceInBox(AxonException):
    """The destination inbox is full. Arguments: ``(current length, size limit)``."""


class BadParentTracker(AxonException):
    """A coordinating assistant tracker was given a parent that is not a tracker."""


class ServiceAlreadyExists(AxonException):
    """A service of that name is already registered with the tracker."""


class BadComponent(AxonException):
    """The object registered as a service is not a component (it has no inboxes)."""


class BadInbox(AxonException):
    """The inbox named for a service does not exist on its component."""


class MultipleServiceDeletion(AxonException):
    """An attempt to deregister a service that is not registered."""


class NamespaceClash(AxonException):
    """A tracked value of that name already exists."""


class AccessToUndeclaredTrackedVariable(AxonException):
    """A tracked value was read or updated before being declared with trackValue."""


class ArgumentsClash(AxonException):
    """Arguments were supplied that contradict one another."""


class BoxAlreadyLinkedToDestination(AxonException):
    """A box may feed only one destination.

    Arguments: ``(destination box, current target, source box)``.
    """
