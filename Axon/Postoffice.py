"""
Axon.Postoffice: a component's record of the links it made
==========================================================

Each component owns a ``postoffice``. ``link`` creates a ``linkage``, joins
the two boxes and remembers the linkage; ``unlink`` and ``unlinkAll`` undo
that. When a component terminates, its postoffice's linkages are removed,
so links a component made disappear with it, while links *other*
components made to its boxes survive until their makers remove them.

``linkages`` is an ``IdentityList`` (compares equal to a list) and the
linkages are also indexed by the components they join, so adding and
removing one link, or every link to one component, costs the same however
many links the postoffice holds (a server makes several per connection).

Example Usage
-------------
::

    from Axon.Postoffice import postoffice

    po = postoffice("demo")
    l = po.link((producer, "outbox"), (consumer, "inbox"))
    ...
    po.unlink(thelinkage=l)
"""

import logging

from Axon.Base import AxonObject
from Axon.IdentityList import IdentityList
from Axon.Linkage import linkage

_log = logging.getLogger("Axon.Postoffice")


class postoffice(AxonObject):
    """Creates, records and removes linkages on behalf of one component."""

    def __init__(self, debugname=""):
        self.linkages = IdentityList()
        self._byComponent = {}
        # "name:debug " for a named postoffice, as 1.x; "" when unnamed.
        self.debugname = debugname + ":debug " if debugname else ""

    def __str__(self):
        return "{{ POSTOFFICE: %slinks %s }}" % (self.debugname, self.linkages)

    def link(self, source, sink, *optionalargs, **kwoptionalargs):
        """Link ``source=(component, box)`` to ``sink=(component, box)``; return the linkage.

        Further arguments are passed to ``linkage``: ``passthrough``,
        ``pipewidth``, ``synchronous``, ``wakeProducer``.
        """
        sourceComp, sourceBox = source
        sinkComp, sinkBox = sink
        thelink = linkage(sourceComp, sinkComp, sourceBox, sinkBox,
                          *optionalargs, **kwoptionalargs)
        sinkbox = thelink.getSinkbox()
        sourcebox = thelink.getSourcebox()
        # Only a quiet link passes the keyword, so a 1.x-style box (or test
        # double) with addsource(source) keeps working.
        if thelink.wakeProducer:
            sinkbox.addsource(sourcebox)
        else:
            sinkbox.addsource(sourcebox, quiet=True)
        # Remember the box objects: a box may be deleted (AdaptiveCommsComponent)
        # before the link is removed.
        thelink._boxes = (sourcebox, sinkbox)
        self.linkages.append(thelink)
        self._index(thelink.source).append(thelink)
        if thelink.sink is not thelink.source:
            self._index(thelink.sink).append(thelink)
        return thelink

    def _index(self, component):
        # Keyed by id(): the linkages listed hold the component, so its id
        # cannot be reused while the entry exists. The lists are short (the
        # links one component has through this postoffice).
        entry = self._byComponent.get(id(component))
        if entry is None:
            entry = self._byComponent[id(component)] = []
        return entry

    def _forget(self, thelinkage):
        byComponent = self._byComponent
        for component in (thelinkage.source, thelinkage.sink):
            entry = byComponent.get(id(component))
            if entry is not None and thelinkage in entry:
                entry.remove(thelinkage)
                if not entry:
                    del byComponent[id(component)]

    def _unlinkOne(self, thelinkage):
        linkages = self.linkages
        if isinstance(linkages, IdentityList):
            if not linkages.discard(thelinkage):
                return
        else:
            try:
                linkages.remove(thelinkage)
            except ValueError:
                return
        self._forget(thelinkage)
        self._disconnect(thelinkage)

    @staticmethod
    def _disconnect(thelinkage):
        if thelinkage._boxes is not None:
            source, sink = thelinkage._boxes
        else:
            sink = thelinkage.getSinkbox()
            source = thelinkage.getSourcebox()
        if source in sink.sources:
            sink.removesource(source)

    def unlink(self, thecomponent=None, thelinkage=None):
        """Remove ``thelinkage`` and/or every linkage made here that touches ``thecomponent``.

        Linkages this postoffice did not make are silently ignored.
        """
        if thelinkage is not None:
            self._unlinkOne(thelinkage)
        if thecomponent is None:
            return
        if isinstance(self.linkages, IdentityList):
            touching = list(self._byComponent.get(id(thecomponent), ()))
        else:
            touching = [link for link in self.linkages
                        if link.source is thecomponent or link.sink is thecomponent]
        for link in touching:
            self._unlinkOne(link)

    def unlinkAll(self):
        """Remove every linkage made through this postoffice."""
        linkages = self.linkages
        self._byComponent.clear()
        while linkages:
            self._disconnect(linkages.pop())

    def deregisterlinkage(self, thecomponent=None, thelinkage=None):
        """Deprecated name of ``unlink``."""
        _log.warning("postoffice.deregisterlinkage is deprecated; use unlink")
        self.unlink(thecomponent, thelinkage)

    def islinkageregistered(self, thelinkage):
        """How many times ``thelinkage`` is recorded here (0 or 1)."""
        return self.linkages.count(thelinkage)
