"""
Axon.Component: microprocesses with inboxes and outboxes
========================================================

A component is a microprocess that talks to the world only through named
boxes: it receives from its *inboxes* and sends from its *outboxes*. By
convention "inbox"/"outbox" carry data and "control"/"signal" carry
lifecycle messages (``producerFinished``, ``shutdownMicroprocess``).

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Ipc import producerFinished, shutdownMicroprocess

    class Upper(component):
        Inboxes = {"inbox": "strings to convert", "control": "shutdown messages"}
        Outboxes = {"outbox": "converted strings", "signal": "shutdown messages"}

        def main(self):
            while True:
                while self.dataReady("inbox"):
                    self.send(self.recv("inbox").upper(), "outbox")
                while self.dataReady("control"):
                    msg = self.recv("control")
                    if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                        self.send(msg, "signal")
                        return
                self.pause()
                yield 1

How does it work?
-----------------
Keyword arguments to the constructor become instance attributes before the
boxes are built, so ``Upper(Inboxes=[...])`` or ``Server(port=25)`` work.
The class attributes ``Inboxes`` and ``Outboxes`` (dicts of name ->
description, or lists of names) declare the boxes; the instance gets
``inboxes``/``outboxes`` dicts of name -> ``Axon.Box.postbox``. The dicts
are built on first use (a component that is created and never linked or
sent to costs no box objects), from the boxes declared when the component
was constructed, and are kept in slots, out of ``vars(component)``. When
nothing between ``component`` and ``microprocess`` defines ``__init__``,
the constructor does ``microprocess.__init__``'s work inline.

Threads: a component's boxes belong to the thread running its scheduler;
``send``/``recv``/``dataReady`` are called from there (threaded components
have their own thread-side versions). To hand a message in from another
thread use ``_deliver`` (or ``Axon.Handle``/``likefile``), which marshal it.

``send`` delivers immediately: when it returns, the message is in the
destination inbox and the receiver has been woken. Sending from an outbox
that is not linked anywhere silently drops the message. ``send`` raises
``noSpaceInBox`` if the destination has a size limit and is full.
``recv`` takes the oldest message (``IndexError`` if there is none) and
wakes the components that sent to that inbox, so a producer waiting for
space runs again. ``dataReady`` returns how many messages wait in an inbox.
A wake that would do nothing is skipped: ``send`` does not wake a receiver
already woken in this scheduler cycle, and a second ``recv`` in a cycle
does not wake the producers again, as long as the wakes are the standard
ones (an overridden ``unpause`` or a replaced ``notify`` is always called).
The wake of a sleeping component is done inline.

``link`` joins boxes (see ``Axon.Linkage`` for passthrough links);
``addChildren`` records children so that each child's termination wakes
this component. When a component terminates, the links it made are removed.

A component may implement ``main()`` as a generator (preferred) or the
older ``initialiseComponent``/``mainBody``/``closeDownComponent`` trio:
``main`` then yields ``initialiseComponent()`` once (so returning
``newComponent(...)`` from it activates children), then ``mainBody()`` until
that returns a false value, then ``closeDownComponent()``.
"""

import logging as _logging
from threading import get_ident as _get_ident

from Axon import idGen as _idGenModule
from Axon.AxonExceptions import noSpaceInBox
from Axon.Box import _SHARED_NULLSINK as _nullsink
from Axon.Box import _listappend, _listpop, _traced, makeInbox, makeOutbox
from Axon.Box import postbox as _postbox
from Axon.Box import realsink as _realsink
from Axon.debug import debug
from Axon.IdentityList import IdentityList as _IdentityList
from Axon.idGen import numId, strId
from Axon.Ipc import (
    WaitComplete,
    errorInformation,
    ipc,
    newComponent,
    notify,
    producerFinished,
    reactivate,
    shutdown,
    shutdownMicroprocess,
    status,
    wouldblock,
)
from Axon.Linkage import linkage
from Axon.Microprocess import _ACTIVE, _SLEEPING, microprocess
from Axon.Postoffice import postoffice
from Axon.Scheduler import scheduler
from Axon.util import removeAll

TraceAllSends = False
TraceAllRecvs = False

_log = _logging.getLogger("Axon.Component")
_microprocessUnpause = microprocess.unpause
_deliveryWakeFunction = microprocess._deliveryWake


def _allDeliveryWakes(callbacks):
    """True if every callback is a microprocess's standard delivery wake."""
    for wake in callbacks:
        if getattr(wake, "__func__", None) is not _deliveryWakeFunction:
            return False
    return True


class _ClassGivenAsChild(TypeError, AttributeError):
    """``addChildren`` was given a class, not an instance.

    A TypeError (what is wrong) that is also the AttributeError 1.x raised
    when it went on to register the class as a child.
    """


class _LazyAttribute(object):
    """Per-instance attribute created on first use (keeps idle components small)."""

    def __init__(self, name, factory):
        self.name = name
        self.factory = factory

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = self.factory(instance)
        setattr(instance, self.name, value)
        return value


class component(microprocess):
    """A microprocess with inboxes and outboxes. See the module documentation."""

    Inboxes = {"inbox": "Default inbox for bulk data. Used in a pipeline much like stdin",
               "control": "Secondary inbox often used for signals. The closest analogy is unix signals"}
    Outboxes = {"outbox": "Default data out outbox, used in a pipeline much like stdout",
                "signal": ("The default signal based outbox - kinda like stderr, but more for "
                           "sending singal type signals")}
    Usescomponents = []

    children = _LazyAttribute("children", lambda self: _IdentityList())
    _callOnCloseDown = _LazyAttribute("_callOnCloseDown", lambda self: [])
    postoffice = _LazyAttribute("postoffice", lambda self: postoffice(self.name))

    # True when ``super().__init__()`` here would only run microprocess's
    # __init__ with its defaults (no class between them in the MRO, and none
    # after, defines __init__): the constructor then does that inline.
    _plainInitChain = True

    def __init_subclass__(cls, **argd):
        super().__init_subclass__(**argd)
        inits = [k for k in cls.__mro__ if "__init__" in k.__dict__]
        cls._plainInitChain = inits[inits.index(component):] == [component, microprocess, object]

    def __init__(self, *args, **argd):
        if self._plainInitChain:
            self.id = next(_idGenModule._counter)    # microprocess.__init__()
        else:
            super().__init__()
        if argd:
            for key, value in argd.items():
                setattr(self, key, value)
        # The boxes are built on first use (most components are linked at
        # once; one that never is costs no box objects), from the boxes
        # declared now: a declaration extended later (Graphline extends its
        # class's) does not reach this component, as in 1.x.
        self._inboxCount = len(self.Inboxes)
        self._outboxCount = len(self.Outboxes)
        if TraceAllSends:
            self.send = self._debug_send
        if TraceAllRecvs:
            self.recv = self._debug_recv

    def _declared(self, declarations, count):
        if len(declarations) == count:
            return declarations
        return list(declarations)[:count]

    def _makeInboxes(self):
        wake = self._boxWake()
        owner = self if wake.__func__ is _deliveryWakeFunction else None
        inboxes = {}
        for name in self._declared(self.Inboxes, self._inboxCount):
            inboxes[name] = _postbox(_realsink(wake, None, owner))
        return inboxes

    def _makeOutboxes(self):
        wake = self._boxWake()
        outboxes = {}
        for name in self._declared(self.Outboxes, self._outboxCount):
            outboxes[name] = _postbox(_nullsink, wake)
        return outboxes

    # The box dicts live in slots, so they stay out of ``vars(component)``
    # whether or not they have been built yet.
    __slots__ = ("_inboxes", "_outboxes")

    @property
    def inboxes(self):
        """Inbox name -> ``postbox`` (built on first use)."""
        try:
            return self._inboxes
        except AttributeError:
            inboxes = self._inboxes = self._makeInboxes()
            return inboxes

    @inboxes.setter
    def inboxes(self, value):
        self._inboxes = value

    @property
    def outboxes(self):
        """Outbox name -> ``postbox`` (built on first use)."""
        try:
            return self._outboxes
        except AttributeError:
            outboxes = self._outboxes = self._makeOutboxes()
            return outboxes

    @outboxes.setter
    def outboxes(self, value):
        self._outboxes = value

    def _boxWake(self):
        """What this component's boxes call to wake it: ``unpause``, as in 1.x.

        ``_deliveryWake`` is the same wake made cheaper for box operations
        (which run in the scheduler's thread); a class that overrides
        ``unpause`` gets its own ``unpause`` called instead.
        """
        if type(self).unpause is _microprocessUnpause:
            return self._deliveryWake
        return self.unpause

    def __str__(self):
        return "Component %s [ inboxes : %s outboxes : %s" % (
            self.name, self.inboxes, self.outboxes)

    def setInboxSize(self, boxname, size):
        """Limit inbox ``boxname`` to ``size`` messages (None: unlimited)."""
        self.inboxes[boxname].setSize(size)

    # -- children ------------------------------------------------------------

    def addChildren(self, *children):
        """Record children; each child's termination wakes this component.

        Children are not activated here.
        """
        for child in children:
            if isinstance(child, type):
                _log.warning("%s.addChildren was given the class %s, not an instance",
                             self.name, child.__name__)
                raise _ClassGivenAsChild("addChildren expects component instances, "
                                         "got the class %r" % child)
            children = self.children
            if child not in children:
                children.append(child)
                child._callOnCloseDown.append(self.unpause)

    def removeChild(self, child):
        """Forget ``child``, stop being woken by it and remove the links made to it here."""
        children = self.children
        if isinstance(children, _IdentityList):
            children.discard(child)
        else:
            removeAll(children, child)
        try:
            child._callOnCloseDown.remove(self.unpause)
        except (ValueError, AttributeError):
            pass
        self.postoffice.unlink(thecomponent=child)

    def childComponents(self):
        """A copy of the list of children."""
        return self.children[:]

    # -- boxes ------------------------------------------------------------------

    def anyReady(self):
        """The name of the first inbox holding a message (by ``dataReady``), or False."""
        for name in self.inboxes:
            if self.dataReady(name):
                return name
        return False

    def dataReady(self, boxname="inbox"):
        """How many messages wait in inbox ``boxname``."""
        try:
            return len(self._inboxes[boxname].storage)
        except AttributeError:        # the boxes are not built yet
            return len(self.inboxes[boxname].storage)

    def recv(self, boxname="inbox"):
        """Take the oldest message from inbox ``boxname`` (IndexError if empty)."""
        # The final destination: for an inbox passed through to a child's
        # (passthrough=1) that is where its messages are, as in 1.x.
        try:
            storage = self._inboxes[boxname].sink
        except AttributeError:
            storage = self.inboxes[boxname].sink
        if storage.__class__ is not _realsink:
            return storage.pop(0)
        # realsink.pop inlined (this is the hottest path in Axon): take the
        # item, then wake the producers feeding the box.
        item = _listpop(storage, 0)
        callbacks = storage._wakeOnPop
        if callbacks:
            # A second recv in the same cycle need not wake the producers
            # again when every wake is a standard delivery wake (it would
            # do nothing: woken in a cycle, a microprocess stays awake
            # through it). Cycle numbers are unique across schedulers.
            try:
                cycle = self.scheduler._cycleNumber
            except AttributeError:    # a scheduler with only 1.x's interface
                cycle = None
            if storage._poppedIn != cycle or cycle is None:
                standard = storage._popStandard
                if standard is None:
                    standard = storage._popStandard = _allDeliveryWakes(callbacks)
                if standard:
                    for wake in callbacks:
                        # microprocess._deliveryWake's sleeping case, inline.
                        producer = wake.__self__
                        try:
                            running = producer.scheduler
                            threads = running.threads
                            if threads.get(producer) is _SLEEPING:
                                threads[producer] = _ACTIVE
                                running._woken.append(producer)
                                producer._wokenInCycle = running._cycleNumber
                                continue
                        except AttributeError:
                            pass
                        wake()
                    storage._poppedIn = cycle
                else:
                    for wake in callbacks:
                        wake()
        if storage._wakeWhenFull:
            storage._wakeQuietProducers(len(storage) + 1)
        return item

    def Inbox(self, boxname="inbox"):
        """Iterate over the messages waiting in ``boxname``, removing each.

        It uses ``dataReady`` and ``recv``, as 1.x did, so a subclass that
        overrides them is drained through its own versions.
        """
        while self.dataReady(boxname):
            yield self.recv(boxname)

    def sendWhenRoom(self, message, boxname="outbox", giveUp=None):
        """Generator (``yield from``): send ``message``, pausing while its destination is full.

        The component sleeps until the receiver takes something from the
        full inbox (back-pressure instead of ``noSpaceInBox``). ``giveUp``,
        a callable, is asked before each wait: once it returns true the
        message is dropped. Returns True if the message was sent.
        """
        while True:
            try:
                self.send(message, boxname)
                return True
            except noSpaceInBox:
                if giveUp is not None and giveUp():
                    return False
                self.pause()
                yield 1

    def send(self, message, boxname="outbox"):
        """Deliver ``message`` now through outbox ``boxname``."""
        try:
            box = self._outboxes[boxname]
        except AttributeError:
            box = self.outboxes[boxname]
        if _traced:
            box.append(message)
            return
        sink = box.sink
        if sink.__class__ is not _realsink:
            sink.append(message)
            return
        # realsink.append inlined: the size check, then store and wake the owner.
        size = sink.size
        if size is not None and len(sink) >= size:
            raise noSpaceInBox(len(sink), size)
        _listappend(sink, message)
        # The owner's wake does nothing if it was woken already this cycle.
        owner = sink.owner
        if owner is not None:
            try:
                running = owner.scheduler
                cycle = running._cycleNumber
                if owner._wokenInCycle == cycle:
                    return
                # microprocess._deliveryWake's sleeping case, inline.
                threads = running.threads
                if threads.get(owner) is _SLEEPING:
                    threads[owner] = _ACTIVE
                    running._woken.append(owner)
                    owner._wokenInCycle = cycle
                    return
            except AttributeError:    # a scheduler with only 1.x's interface
                pass
        sink._notify()

    def _debug_send(self, message, boxname="outbox"):
        _log.info("SEND: %s %s: %r", self.name, boxname, message)
        self.outboxes[boxname].append(message)

    def _debug_recv(self, boxname="inbox"):
        message = self.inboxes[boxname].sink.pop(0)
        _log.info("RECV: %s %s: %r", self.name, boxname, message)
        return message

    def _deliver(self, message, boxname="inbox"):
        """Put ``message`` straight into this component's inbox ``boxname``.

        Safe from any thread: called from outside the thread running this
        component's scheduler, the delivery is made by that thread at its
        next cycle boundary.
        """
        running = self.scheduler
        owner = getattr(running, "_ownerThread", None)
        if owner is not None and owner != _get_ident():
            running.callSoonThreadsafe(self.inboxes[boxname].append, message)
        else:
            self.inboxes[boxname].append(message)

    def link(self, source=None, sink=None, *optionalargs, **kwoptionalargs):
        """Link ``source=(component, box)`` to ``sink=(component, box)``; returns the linkage.

        Keywords: ``passthrough`` (0, 1 or 2), ``pipewidth``, ``synchronous``,
        ``wakeProducer`` (False: a ``recv`` from the sink wakes the source only if the sink was full).
        """
        return self.postoffice.link(source, sink, *optionalargs, **kwoptionalargs)

    def unlink(self, thecomponent=None, thelinkage=None):
        """Remove a linkage made by this component, or all it made involving a component."""
        return self.postoffice.unlink(thecomponent, thelinkage)

    # -- behaviour ------------------------------------------------------------

    def main(self):
        """Run ``initialiseComponent``, ``mainBody`` until falsy, ``closeDownComponent``."""
        result = self.initialiseComponent()
        yield result if result else 1
        while True:
            result = self.mainBody()
            if not result:
                break
            yield result
        yield self.closeDownComponent()

    def initialiseComponent(self):
        return 1

    def mainBody(self):
        return None

    def closeDownComponent(self):
        return 1

    def _closeDownMicroprocess(self):
        """Wake the parents, remove the links this component made; no knock-on."""
        callbacks = self.__dict__.get("_callOnCloseDown")
        if callbacks:
            for callback in callbacks:
                callback()
        po = self.__dict__.get("postoffice")
        if po is not None:
            po.unlinkAll()
        return None
