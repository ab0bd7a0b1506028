"""
Axon.Postman: the pre-2007 way of making a linkage live
=======================================================

Early versions of Axon moved messages from outboxes to inboxes with a
separate ``postman`` microprocess: a program (or, mostly, a unit test) made
``linkage`` objects, registered them with a postman and asked it to deliver.
Axon now delivers at the moment of ``send``, so the postman has nothing left
to carry; this module keeps its interface so that code written against it
still runs.

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Linkage import linkage
    from Axon.Postman import postman

    producer, consumer = component(), component()
    courier = postman().activate()
    courier.registerlinkage(linkage(source=producer, sink=consumer,
                                    sourcebox="outbox", sinkbox="inbox"))
    producer.send("hello", "outbox")
    courier.domessagedelivery()            # nothing to do: already delivered
    print(consumer.recv("inbox"))          # prints: hello

How does it work?
-----------------
``registerlinkage(thelinkage)`` joins the two boxes the linkage names, just
as ``postoffice.link`` does for the linkage it creates (including the
``pipewidth``/``synchronous`` limit on the sink box), records the linkage
and returns it. From then on ``send`` on the source box puts the message
straight into the sink box.

``deregisterlinkage(thecomponent=None, thelinkage=None)`` undoes that for
one linkage and/or every registered linkage touching a component;
``islinkageregistered`` counts a linkage (0 or 1).

``domessagedelivery()`` does nothing, because there is never anything in
transit, and ``activate()`` does nothing but return the postman: it is not
a microprocess any more and nothing needs to run it.
"""

import logging

from Axon.Base import AxonObject
from Axon.IdentityList import IdentityList

_log = logging.getLogger(__name__)


class postman(AxonObject):
    """postman([debugname]) -> makes already-built linkages live (see the module docs)."""

    def __init__(self, debugname=""):
        self.debugname = debugname
        self.linkages = IdentityList()

    def __str__(self):
        return "{{ POSTMAN: %s links %s }}" % (self.debugname, self.linkages)

    def activate(self, *args, **argd):
        """Nothing to run: return the postman itself."""
        return self

    def registerlinkage(self, thelinkage):
        """Join the boxes ``thelinkage`` names and remember it; return it."""
        sourcebox = thelinkage.getSourcebox()
        sinkbox = thelinkage.getSinkbox()
        if getattr(thelinkage, "wakeProducer", True):
            sinkbox.addsource(sourcebox)
        else:
            sinkbox.addsource(sourcebox, quiet=True)
        thelinkage._boxes = (sourcebox, sinkbox)
        if thelinkage.pipewidth is not None or thelinkage.synchronous:
            thelinkage.setSynchronous(thelinkage.pipewidth)
        self.linkages.append(thelinkage)
        return thelinkage

    def deregisterlinkage(self, thecomponent=None, thelinkage=None):
        """Disconnect ``thelinkage`` and/or every registered linkage touching ``thecomponent``."""
        doomed = []
        if thelinkage is not None and thelinkage in self.linkages:
            doomed.append(thelinkage)
        if thecomponent is not None:
            doomed.extend(link for link in self.linkages
                          if (link.source is thecomponent or link.sink is thecomponent)
                          and link not in doomed)
        for link in doomed:
            self.linkages.remove(link)
            sourcebox, sinkbox = link._boxes
            if sourcebox in sinkbox.sources:
                sinkbox.removesource(sourcebox)

    def islinkageregistered(self, thelinkage):
        """How many times ``thelinkage`` is registered here (0 or 1)."""
        return self.linkages.count(thelinkage)

    def domessagedelivery(self):
        """Deliver what is in transit: nothing is, since ``send`` delivers at once."""
        return None
