"""
Kamaelia.Util.Backplane: named publish/subscribe hubs
=====================================================

A ``Backplane`` is a named hub. ``PublishTo(name)`` components send data
into it and every ``SubscribeTo(name)`` component receives a copy of
everything published. Publishers and subscribers find the backplane by
name, so they need not know about each other or be wired together.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.Backplane import Backplane, PublishTo, SubscribeTo
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Console import ConsoleEchoer

    news = Backplane("NEWS")
    Pipeline(SubscribeTo("NEWS"), ConsoleEchoer(tag="reader 1: ")).activate()
    Pipeline(SubscribeTo("NEWS"), ConsoleEchoer(tag="reader 2: ")).activate()
    Pipeline(DataSource(["extra, extra\\n"]), PublishTo("NEWS"), news).run()

Both readers print the headline. The DataSource's ``producerFinished``
passes through the PublishTo (which forwards its control messages) to the
Backplane's "control", which shuts the backplane down -- and with it both
readers -- so the program ends. ``Examples/Kamaelia/BackplaneChat.py`` is a
longer example.

How does it work?
-----------------
``Backplane(name)`` creates a ``PlugSplitter`` and registers two services
with the coordinating assistant tracker: ``"Backplane_I_<name>"`` (the
splitter's "inbox", where publishers send) and ``"Backplane_O_<name>"``
(its "configuration" inbox, where subscribers plug in). Registering a name
that is taken raises ``Axon.AxonExceptions.ServiceAlreadyExists`` (and logs
an error). As in Kamaelia 1.x the backplane's ``name`` attribute becomes
the backplane name. When the Backplane runs, the splitter becomes its
child, the Backplane's "control" is passed straight to the splitter's and
the splitter's "signal" comes out of the Backplane's.

``PublishTo(destination, forwarder=False)`` looks up
``"Backplane_I_<destination>"`` when it starts (``KeyError`` if there is no
such backplane). By default it links its own "inbox" straight through to
the backplane, so data sent to it goes directly into the splitter (its own
``dataReady("inbox")`` stays 0). With ``forwarder=True`` it instead takes
each item and sends it both to the backplane (through "_outbox") and out of
its own "outbox", so it can sit in the middle of a pipeline.

``SubscribeTo(source)`` looks up ``"Backplane_O_<source>"`` when it starts
and runs a ``Plug(splitter, PassThrough())`` as its child: the plug
registers itself with the splitter, whose copies of the published data come
out of the SubscribeTo's "outbox", and whose control messages (for instance
the backplane's shutdown) reach the PassThrough, which forwards them out of
"signal". A subscriber receives what is published after it has plugged in,
not what was published before.

Termination
-----------
The Backplane ends when its splitter does: when ``producerFinished`` or
``shutdownMicroprocess`` arrives on its "control". The splitter passes the
message to every subscriber first (so they end too) and out of the
Backplane's "signal". The two services are deregistered when the Backplane
ends, so the name can be used again.

``PublishTo`` forwards every message from its "control" to its "signal"
and ends on ``producerFinished`` or ``shutdownMicroprocess``. It does not
shut the backplane down.

``SubscribeTo`` ends when its plug does: on ``producerFinished`` or
``shutdownMicroprocess`` arriving on its own "control" or from the
backplane; the message comes out of its "signal".
"""

import logging

from Axon.AxonExceptions import ServiceAlreadyExists
from Axon.Component import component
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Support.Deprecate import makeClassStub
from Kamaelia.Util.PassThrough import PassThrough
from Kamaelia.Util.Splitter import Plug, PlugSplitter

_log = logging.getLogger(__name__)


def _inputService(name):
    return "Backplane_I_" + name


def _outputService(name):
    return "Backplane_O_" + name


class Backplane(component):
    """Backplane(name) -> a named hub that PublishTo(name) and SubscribeTo(name) connect to."""

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess shuts the backplane "
                          "(and its subscribers) down"}
    Outboxes = {"outbox": "NOT USED",
                "signal": "Control messages passed on by the backplane"}

    def __init__(self, name):
        super().__init__()
        if not isinstance(name, str):
            raise TypeError("a backplane name must be a str, got %r" % (name,))
        self.name = name
        self.splitter = PlugSplitter()
        self._registered = []
        self._cat = cat = coordinatingassistanttracker.getcat()
        try:
            for service, box in ((_inputService(name), "inbox"),
                                 (_outputService(name), "configuration")):
                cat.registerService(service, self.splitter, box)
                self._registered.append(service)
        except ServiceAlreadyExists:
            _log.error("a backplane named %r already exists: choose another name", name)
            self._deregister()
            raise

    def _deregister(self):
        """Withdraw the services this backplane registered (once; safe to repeat)."""
        while self._registered:
            service = self._registered.pop()
            try:
                owner = self._cat.retrieveService(service)[0]
            except KeyError:
                continue
            if owner is self.splitter:
                self._cat.deRegisterService(service)

    def main(self):
        splitter = self.splitter
        self.link((self, "control"), (splitter, "control"), passthrough=1)
        self.link((splitter, "signal"), (self, "signal"), passthrough=2)
        self.addChildren(splitter)
        splitter.activate()
        while not splitter._isStopped():
            self.pause()
            yield 1
        self.removeChild(splitter)
        self._deregister()

    def stop(self):
        self._deregister()
        super().stop()


class PublishTo(component):
    """PublishTo(destination[, forwarder]) -> sends what it receives to the named backplane."""

    Inboxes = {"inbox": "Data to publish (passed straight to the backplane unless forwarder)",
               "control": "Forwarded to signal; producerFinished or shutdownMicroprocess "
                          "stops it"}
    Outboxes = {"outbox": "With forwarder=True, a copy of everything published",
                "signal": "The control messages received",
                "_outbox": "Internal: to the backplane, with forwarder=True"}

    forwarder = False

    def __init__(self, destination, **argd):
        super().__init__(**argd)
        self.destination = destination

    def main(self):
        cat = coordinatingassistanttracker.getcat()
        service = cat.retrieveService(_inputService(self.destination))
        if self.forwarder:
            self.link((self, "_outbox"), service)
        else:
            self.link((self, "inbox"), service, passthrough=1)
        while True:
            if self.forwarder:
                while self.dataReady("inbox"):
                    data = self.recv("inbox")
                    self.send(data, "_outbox")
                    self.send(data, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                self.send(msg, "signal")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1


class SubscribeTo(component):
    """SubscribeTo(source) -> sends on everything published to the named backplane."""

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess unsubscribes and stops it"}
    Outboxes = {"outbox": "Everything published to the backplane after subscribing",
                "signal": "The control message that ended the subscription"}

    def __init__(self, source):
        super().__init__()
        self.source = source

    def main(self):
        cat = coordinatingassistanttracker.getcat()
        splitter, configbox = cat.retrieveService(_outputService(self.source))
        plug = Plug((splitter, configbox), PassThrough())
        self.link((plug, "outbox"), (self, "outbox"), passthrough=2)
        self.link((plug, "signal"), (self, "signal"), passthrough=2)
        self.link((self, "control"), (plug, "control"), passthrough=1)
        self.addChildren(plug)
        plug.activate()
        while not plug._isStopped():
            self.pause()
            yield 1
        self.removeChild(plug)


publishTo = makeClassStub(
    PublishTo, "publishTo is deprecated: use Kamaelia.Util.Backplane.PublishTo (capital P)")
subscribeTo = makeClassStub(
    SubscribeTo, "subscribeTo is deprecated: use Kamaelia.Util.Backplane.SubscribeTo (capital S)")


__kamaelia_components__ = (Backplane, PublishTo, SubscribeTo)
