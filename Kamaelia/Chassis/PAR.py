"""
Kamaelia.Chassis.PAR: components side by side
=============================================

A ``PAR`` runs several components at the same time, merging what they
send: every child's "outbox" and "signal" come out of the PAR's.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Chassis.PAR import PAR
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        PAR(
            DataSource(["tick\\n"] * 3),
            DataSource(["tock\\n"] * 3),
        ),
        ConsoleEchoer(),
    ).run()

A policy that copies the PAR's input to every child::

    def broadcast(par, boxname, message):
        par.forwardToChildren(message, boxname)

    Pipeline(
        DataSource(["hello\\n"]),
        PAR(ConsoleEchoer(tag="left: "), ConsoleEchoer(tag="right: "),
            policy=broadcast),
    ).run()

How does it work?
-----------------
``PAR(*components, **argd)``; keyword arguments become attributes. When it
runs, the PAR links every child's "outbox" and "signal" straight out
through its own (passthrough=2; several children may feed the same box),
activates them and makes them its children.

Each message arriving on the PAR's "inbox" or "control" is handed to the
*policy*: the attribute ``policy``, a callable ``policy(par, boxname,
message)``. With the default ``policy=None`` the PAR itself decides:
messages on "inbox" are discarded and every message on "control" is
forwarded to the "control" of every child still running
(``forwardToChildren``, which uses temporary links from the "_cs" outbox
for "control" and from the "_co" outbox for "inbox").

Termination
-----------
The PAR terminates when all its children have terminated, or as soon as a
``shutdownMicroprocess`` arrives on "control" (after the policy has handled
it -- by default, after forwarding it to the children). It then sends that
``shutdownMicroprocess``, or else a ``producerFinished()``, out of "signal",
and forgets its children (removing the links it made to them). Children
also send their own signals out of the PAR's "signal" while they are still
linked.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class PAR(component):
    """PAR(*components, **argd) -> runs ``components`` in parallel, merging their output.

    ``policy=callable(par, boxname, message)`` decides what to do with the
    PAR's input (default: discard "inbox", forward "control" to every child).
    """

    Inboxes = {"inbox": "Handled by the policy (by default: discarded)",
               "control": "Handled by the policy (by default: forwarded to every child); "
                          "shutdownMicroprocess also ends the PAR"}
    Outboxes = {"outbox": "Every child's outbox, merged",
                "signal": "Every child's signal, merged; then the PAR's own final message",
                "_co": "Internal: forwards data to the children",
                "_cs": "Internal: forwards control messages to the children"}

    policy = None

    def __init__(self, *components, **argd):
        super().__init__(**argd)
        self.components = list(components)

    def main(self):
        """Start the children and pass them the input until they, or the PAR, are done."""
        for child in self.components:
            self.link((child, "outbox"), (self, "outbox"), passthrough=2)
            self.link((child, "signal"), (self, "signal"), passthrough=2)
        self.addChildren(*self.components)
        for child in self.components:
            child.activate()

        shutdownMessage = None
        while shutdownMessage is None and not self.childrenDone():
            while self.dataReady("inbox"):
                self._applyPolicy("inbox", self.recv("inbox"))
            while shutdownMessage is None and self.dataReady("control"):
                message = self.recv("control")
                self._applyPolicy("control", message)
                if isinstance(message, shutdownMicroprocess):
                    shutdownMessage = message
            if shutdownMessage is None:
                self.pause()
                yield 1

        if shutdownMessage is not None:
            self.send(shutdownMessage, "signal")
        else:
            self.send(producerFinished(), "signal")
        for child in self.childComponents():
            self.removeChild(child)

    def _applyPolicy(self, boxname, message):
        policy = self.__dict__.get("policy", type(self).policy)
        if policy is None:
            self.defaultPolicy(boxname, message)
        else:
            policy(self, boxname, message)

    def defaultPolicy(self, boxname, message):
        """Discard "inbox" data; forward "control" messages to every child."""
        if boxname == "control":
            self.forwardToChildren(message, "control")

    def forwardToChildren(self, message, boxname="control"):
        """Send ``message`` to inbox ``boxname`` ("inbox" or "control") of every running child."""
        outbox = "_cs" if boxname == "control" else "_co"
        for child in self.childComponents():
            if child._isStopped():
                continue
            link = self.link((self, outbox), (child, boxname))
            try:
                self.send(message, outbox)
            finally:
                self.unlink(thelinkage=link)

    def childrenDone(self):
        """Forget the children that have stopped; True once none are left."""
        for child in self.childComponents():
            if child._isStopped():
                self.removeChild(child)
        return not self.children


__kamaelia_components__ = (PAR,)
