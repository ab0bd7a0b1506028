"""
Kamaelia.Util.Introspector: the running system's topology, as text
==================================================================

The Kamaelia home of ``Axon.Introspector.Introspector``: it sends, on its
"outbox", the changes to the set of running components and the links
between them, in the topology viewer's text protocol ("ADD NODE ...",
"ADD LINK ...", "DEL NODE ...").

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.Introspector import Introspector
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(Introspector(), ConsoleEchoer()).activate()

How does it work?
-----------------
It is a subclass of ``Axon.Introspector.Introspector`` and behaves exactly
like it: it sends "DEL ALL" first, then re-examines the system every
``interval`` seconds (a scheduler timer; 0.1 s by default) and sends one
batch of text describing what changed, if anything did.

Termination
-----------
``producerFinished`` or ``shutdownMicroprocess`` on "control" is forwarded
to "signal" and it ends.
"""

from Axon.Introspector import Introspector as _AxonIntrospector


class Introspector(_AxonIntrospector):
    """Introspector() -> sends topology changes of the running system as text."""


__kamaelia_components__ = (Introspector,)
