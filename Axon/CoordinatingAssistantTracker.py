"""
Axon.CoordinatingAssistantTracker: a process-wide registry of services and values
================================================================================

The coordinating assistant tracker (CAT) lets components find each other by
name. A *service* is a named ``(component, inboxname)``: for example the
network ``Selector`` registers itself as ``"selector"`` so any component can
send it requests. A *tracked value* is a named piece of shared information.

Example Usage
-------------
::

    from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker as CAT

    cat = CAT.getcat()
    cat.registerService("logger", loggerComponent, "inbox")
    ...
    service = cat.retrieveService("logger")     # -> (loggerComponent, "inbox")
    self.link((self, "log"), service)

    cat.trackValue("connections", 0)
    cat.updateValue("connections", cat.retrieveValue("connections") + 1)

How does it work?
-----------------
The first tracker created becomes the process-wide one returned by
``getcat()``. ``retrieveService`` raises ``KeyError`` for an unknown name
(callers rely on that). Registering a duplicate name raises
``ServiceAlreadyExists``; registering something without ``inboxes`` raises
``BadComponent``; naming an inbox it lacks raises ``BadInbox``.
"""

import threading

from Axon import idGen
from Axon.AxonExceptions import (
    AccessToUndeclaredTrackedVariable,
    BadComponent,
    BadInbox,
    BadParentTracker,
    MultipleServiceDeletion,
    NamespaceClash,
    ServiceAlreadyExists,
)
from Axon.Base import AxonObject

_lock = threading.RLock()


class coordinatingassistanttracker(AxonObject):
    """Registry of named services and tracked values."""

    basecat = None

    def __init__(self, parent=None):
        super().__init__()
        self.id, self.name = idGen.tupleId(self)
        if parent is not None and not isinstance(parent, coordinatingassistanttracker):
            raise BadParentTracker(parent)
        self._parent = parent
        self._informationItems = {}
        self._services = {}
        with _lock:
            if coordinatingassistanttracker.basecat is None:
                coordinatingassistanttracker.basecat = self

    @property
    def parent(self):
        """The parent tracker given at construction (1.x keeps it as ``_parent``)."""
        return self._parent

    @classmethod
    def getcat(cls):
        """The process-wide tracker (created on first use)."""
        cat = coordinatingassistanttracker.basecat
        if cat is None:
            with _lock:
                if coordinatingassistanttracker.basecat is None:
                    coordinatingassistanttracker()
                cat = coordinatingassistanttracker.basecat
        return cat

    def zap(self):
        """Forget every service and tracked value."""
        with _lock:
            self._informationItems.clear()
            self._services.clear()

    def main(self):
        """The tracker has no behaviour of its own when scheduled."""
        yield 1

    def registerService(self, service, thecomponent, inbox):
        """Register ``service`` as ``(thecomponent, inbox)``."""
        with _lock:
            if service in self._services:
                raise ServiceAlreadyExists("service", service, thecomponent, inbox)
            if not hasattr(thecomponent, "inboxes"):
                raise BadComponent(thecomponent)
            if inbox not in thecomponent.inboxes:
                raise BadInbox(thecomponent, inbox)
            self._services[service] = (thecomponent, inbox)

    def deRegisterService(self, service):
        """Remove ``service`` (MultipleServiceDeletion if it is not registered)."""
        with _lock:
            if service not in self._services:
                raise MultipleServiceDeletion("service", service)
            del self._services[service]

    def retrieveService(self, name):
        """``(component, inboxname)`` for service ``name`` (KeyError if unknown)."""
        return self._services[name]

    def servicesRegistered(self):
        """Names of every registered service."""
        return list(self._services)

    def informationItemsLogged(self):
        """Names of every tracked value."""
        return list(self._informationItems)

    def trackValue(self, name, value):
        """Declare tracked value ``name`` (NamespaceClash if it exists)."""
        with _lock:
            if name in self._informationItems:
                raise NamespaceClash("trackValue", name, value)
            self._informationItems[name] = value

    def updateValue(self, name, value):
        """Change tracked value ``name`` (it must have been declared)."""
        with _lock:
            if name not in self._informationItems:
                raise AccessToUndeclaredTrackedVariable("updateValue", name, value)
            self._informationItems[name] = value

    def retrieveValue(self, name):
        """The tracked value ``name`` (it must have been declared)."""
        try:
            return self._informationItems[name]
        except KeyError:
            raise AccessToUndeclaredTrackedVariable("retrieveValue", name) from None
