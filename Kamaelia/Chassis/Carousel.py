"""
Kamaelia.Chassis.Carousel: one child at a time, replaced on request
===================================================================

A ``Carousel`` runs one child component at a time, made on demand by a
factory function. Each message on its "next" inbox makes a new child from
that message; data sent to the Carousel goes to the current child and the
child's output comes out of the Carousel. When a child finishes, the
Carousel asks for the next one.

Example Usage
-------------
Each name sent to "next" becomes a new child; here the children just
announce themselves::

    from Kamaelia.Chassis.Carousel import Carousel
    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.OneShot import OneShot
    from Kamaelia.Util.Console import ConsoleEchoer

    Graphline(
        NAMES=DataSource(["first", "second", "third"]),
        CAROUSEL=Carousel(lambda name: OneShot("child made from %s\\n" % name)),
        OUTPUT=ConsoleEchoer(),
        linkages={
            ("NAMES", "outbox"): ("CAROUSEL", "next"),
            ("NAMES", "signal"): ("CAROUSEL", "control"),
            ("CAROUSEL", "outbox"): ("OUTPUT", "inbox"),
            ("CAROUSEL", "signal"): ("OUTPUT", "control"),
        },
    ).run()

``Kamaelia.Chassis.Prefab.JoinChooserToCarousel`` wires a Carousel to
something that chooses what each next child should be made from.

How does it work?
-----------------
``Carousel(componentFactory, make1stRequest=False)``. With
``make1stRequest=True`` it sends "NEXT" out of "requestNext" as soon as it
starts.

For each message on "next", ``componentFactory(message)`` makes the new
child. The Carousel's "inbox" is passed straight through to the child's
"inbox" (data sent while there is no child waits in the Carousel's inbox and
moves to the next child), the child's "outbox" comes straight out of the
Carousel's "outbox", and the Carousel's private "_signal" outbox feeds the
child's "control". The child's "signal" is not connected.

* When a child terminates by itself, the Carousel sends "NEXT" out of
  "requestNext" -- unless another "next" message is already waiting or the
  Carousel is shutting down.
* A "next" message while a child is running sends the child a
  ``shutdownMicroprocess``; the new child is made once the old one has
  terminated.

Termination
-----------
A ``producerFinished`` or ``shutdownMicroprocess`` on "control" makes the
Carousel shut down; it is forwarded to the current child's "control" (and
to any child made afterwards).

* ``producerFinished``: the "next" messages already queued are still
  handled, one child after another; once the last child has terminated the
  Carousel sends the ``producerFinished`` out of "signal" and terminates.
* ``shutdownMicroprocess``: queued "next" messages are dropped; once the
  current child (if any) has terminated, the Carousel sends the
  ``shutdownMicroprocess`` out of "signal" and terminates. It overrides an
  earlier ``producerFinished``.

Other messages on "control" are ignored. The Carousel sleeps whenever it
has nothing to do; a child's termination wakes it.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Carousel(component):
    """Carousel(componentFactory[, make1stRequest]) -> runs children made by
    ``componentFactory(message)`` for each message on "next", one at a time.
    """

    Inboxes = {"inbox": "Data for the current child (passed straight through)",
               "next": "Each message here replaces the child with componentFactory(message)",
               "control": "producerFinished or shutdownMicroprocess to shut down"}
    Outboxes = {"outbox": "Data from the current child (passed straight out)",
                "signal": "The shutdown message, sent when the Carousel terminates",
                "_signal": "Internal: shutdown messages for the current child's control",
                "requestNext": "'NEXT' when the Carousel wants a new child"}

    def __init__(self, componentFactory, make1stRequest=False):
        super().__init__()
        self.factory = componentFactory
        self.make1stRequest = make1stRequest
        self.child = None
        self.childDone = False
        self.shutdownMsg = None
        self._childBeingReplaced = False

    def main(self):
        """Make children on request, replace them, and shut down when told."""
        if self.make1stRequest:
            self.requestNext()
        while True:
            self.checkControl()
            self.handleChildTerminations()
            if self.child is None and self.dataReady("next"):
                self.instantiateNewChild(self.recv("next"))
            if (self.child is not None and self.dataReady("next")
                    and not self._childBeingReplaced):
                self._childBeingReplaced = True
                self.shutdownChild(shutdownMicroprocess(self))
            if self.child is None and self.shutdownMsg is not None \
                    and not self.dataReady("next"):
                break
            self.pause()
            yield 1
        self.send(self.shutdownMsg, "signal")

    def checkControl(self):
        """Take shutdown messages from "control"; True once a shutdown is pending."""
        while self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, shutdownMicroprocess):
                self.shutdownMsg = message
                while self.dataReady("next"):
                    self.recv("next")
                self.shutdownChild(message)
            elif isinstance(message, producerFinished):
                if not isinstance(self.shutdownMsg, shutdownMicroprocess):
                    self.shutdownMsg = message
                    self.shutdownChild(message)
        return self.shutdownMsg is not None

    def handleChildTerminations(self):
        """If the child has terminated, forget it and (unless unwanted) request the next.

        Returns True if a child had terminated.
        """
        child = self.child
        if child is None or not child._isStopped():
            return False
        self.removeChild(child)
        self.child = None
        self.childDone = True
        self._childBeingReplaced = False
        if not self.dataReady("next") and self.shutdownMsg is None:
            self.requestNext()
        return True

    def requestNext(self):
        """Send "NEXT" out of "requestNext"."""
        self.send("NEXT", "requestNext")

    def instantiateNewChild(self, args):
        """Make ``componentFactory(args)`` the new child: link it in and activate it."""
        child = self.factory(args)
        self.child = child
        self.childDone = False
        self.addChildren(child)
        self.link((self, "inbox"), (child, "inbox"), passthrough=1)
        self.link((child, "outbox"), (self, "outbox"), passthrough=2)
        self.link((self, "_signal"), (child, "control"))
        child.activate()
        if self.shutdownMsg is not None:
            self.shutdownChild(self.shutdownMsg)

    def shutdownChild(self, message):
        """Send ``message`` to the current child's "control" (if there is a child)."""
        if self.child is not None:
            self.send(message, "_signal")


__kamaelia_components__ = (Carousel,)
