"""
Axon.AdaptiveCommsComponent: components that add and remove boxes at run time
=============================================================================

An ``AdaptiveCommsComponent`` can create and delete inboxes and outboxes
while it runs, and keep track of which boxes belong to which resource (for
example, the boxes that talk to one client connection).

Example Usage
-------------
::

    from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent

    class Hub(AdaptiveCommsComponent):
        def attach(self, handler):
            out = self.addOutbox("toHandler")        # may be renamed if taken
            self.link((self, out), (handler, "inbox"))
            self.trackResourceInformation(handler, [], [out], None)

        def detach(self, handler):
            inboxes, outboxes, info = self.retrieveTrackedResourceInformation(handler)
            for box in outboxes:
                self.deleteOutbox(box)
            self.ceaseTrackingResource(handler)

How does it work?
-----------------
``addInbox(name)``/``addOutbox(name)`` return the name actually used: the
requested one if free, else the name with a process-unique number appended.
``deleteInbox``/``deleteOutbox`` raise ``KeyError`` for unknown boxes and do
not remove linkages (unlink first). ``trackResource(resource, inbox)``
associates a resource with an inbox; ``trackResourceInformation`` records
``(inboxes, outboxes, information)`` for a resource, checking that every
named box exists.
"""

from Axon.Box import makeInbox, makeOutbox
from Axon.Component import component
from Axon.idGen import numId


class _AdaptiveCommsable(object):
    """Mixin: dynamic boxes and resource tracking for a component."""

    def __init__(self, *args, **argd):
        super().__init__(*args, **argd)
        self._resourceStore = {}
        self._resourceLookup = {}

    def trackResource(self, resource, inbox):
        """Associate ``resource`` with inbox ``inbox`` (which must exist)."""
        self.inboxes[inbox]
        self._resourceLookup[inbox] = resource

    def retrieveTrackedResource(self, inbox):
        """The resource associated with ``inbox``."""
        return self._resourceLookup[inbox]

    def trackResourceInformation(self, resource, inboxes, outboxes, information):
        """Record ``(inboxes, outboxes, information)`` for ``resource``; boxes must exist."""
        for inbox in inboxes:
            self.inboxes[inbox]
        for outbox in outboxes:
            self.outboxes[outbox]
        self._resourceStore[resource] = (inboxes, outboxes, information)

    def ceaseTrackingResource(self, resource):
        """Forget ``resource``'s recorded information (KeyError if unknown)."""
        del self._resourceStore[resource]

    def retrieveTrackedResourceInformation(self, resource):
        """``(inboxes, outboxes, information)`` recorded for ``resource``."""
        return self._resourceStore[resource]

    def _freeName(self, boxes, name):
        while name in boxes:
            name = name + str(numId())
        return name

    def addInbox(self, *args):
        """Create an inbox; returns its name (``args[0]``, default "inbox", made unique)."""
        name = self._freeName(self.inboxes, args[0] if args else "inbox")
        self.inboxes[name] = makeInbox(self._boxWake())
        return name

    def deleteInbox(self, name):
        """Delete inbox ``name`` (KeyError if absent)."""
        del self.inboxes[name]

    def addOutbox(self, *args):
        """Create an outbox; returns its name (``args[0]``, default "outbox", made unique)."""
        name = self._freeName(self.outboxes, args[0] if args else "outbox")
        self.outboxes[name] = makeOutbox(self._boxWake())
        return name

    def deleteOutbox(self, name):
        """Delete outbox ``name`` (KeyError if absent)."""
        del self.outboxes[name]


class AdaptiveCommsComponent(component, _AdaptiveCommsable):
    """A component whose boxes can be added and removed while it runs."""
