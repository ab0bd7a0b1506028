"""
Axon.experimental._pprocess_support: likefile, a file-like interface to a component
===================================================================================

``likefile`` wraps a component so that ordinary code can ``put`` messages
into its inboxes and ``get`` messages from its outboxes -- blocking, with a
timeout, or not at all -- much like reading and writing a file or a
``queue.Queue``. The component runs on a scheduler in a background thread
(start one with this module's ``background``, or ``Axon.background``).

Example Usage
-------------
::

    from Axon.experimental._pprocess_support import likefile, background
    from Axon.Component import component

    class Reverser(component):
        def main(self):
            while not self.dataReady("control"):
                for text in self.Inbox("inbox"):
                    self.send(text[::-1], "outbox")
                self.pause()
                yield 1

    bg = background()
    bg.start()
    reverser = likefile(Reverser())
    reverser.put("hello")
    print(reverser.get())                 # "olleh" (waits for it)
    reverser.shutdown()
    bg.stop()

(``Axon.LikeFile`` is an alias of this module's public names.)

How does it work?
-----------------
``likefile(child, extraInboxes=(), extraOutboxes=(), wrapDefault=True)``
wraps the child's "inbox" and "control" inboxes and "outbox" and "signal"
outboxes (those it has, if ``wrapDefault``) plus any extra ones named.
Naming a box the child does not have raises ``KeyError``. It builds two
helper components and activates them on the background scheduler:

* ``componentWrapperInput`` has one outbox per wrapped inbox, linked to it.
  ``put(msg, boxname="inbox")`` appends to its thread-safe queue and wakes
  it; it sends messages on in the order they were put, and when an inbox of
  the child is full it waits until the child takes a message from it.
* ``componentWrapperOutput`` has one inbox per wrapped outbox, linked from
  it, and activates the child. Whatever arrives is moved onto a
  ``queue.Queue`` per box, which ``get(boxname="outbox", blocking=True,
  timeout=86400)`` reads (``queue.Empty`` when nothing arrives in time).
  ``get_nowait``, ``empty``, ``qsize`` and ``anyReady`` (names of outboxes
  with messages waiting, or None) look at the same queues.

Nothing polls: the helpers sleep until a ``put``, a delivery, or room in a
full inbox wakes them, and ``get`` blocks on the queue.

``background`` here is ``Axon.background.background`` that also activates a
``dummyComponent``, so the scheduler keeps running while no other component
exists (between likefiles, say). ``addBox`` is the helper the wrappers use to
create their boxes.

Termination
-----------
``shutdown()`` puts ``Axon.Ipc.shutdown()``, ``producerFinished()`` and
``shutdownMicroprocess()`` on the child's "control" (if wrapped), waits up
to a second for the child to end (warning with ``RuntimeWarning`` if it does
not), then ends both helpers. After ``shutdown()``, ``put`` and ``get``
raise ``AttributeError``. When the child ends by itself the helpers end too,
after moving all its output onto the queues. A likefile that is garbage
collected while alive is shut down without waiting; at interpreter exit
nothing is done (the background thread is a daemon and simply stops).

``likefile`` raises ``AttributeError`` if no background scheduler exists.
"""

import collections
import queue
import sys
import threading
import warnings

from Axon import background as _background
from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.Component import component
from Axon.Ipc import producerFinished, shutdown, shutdownMicroprocess

DEFIN = ("inbox", "control")
DEFOUT = ("outbox", "signal")

SHUTDOWN_CONFIRMATION_TIMEOUT = 1.0


def addBox(names, boxMap, addBox):
    """Create a box for each name in ``names`` with ``addBox`` (e.g. ``self.addInbox``).

    Records name -> actual box name in ``boxMap`` and returns it. A name
    already in ``boxMap`` raises ``ValueError``.
    """
    for name in names:
        if name in boxMap:
            raise ValueError("box %r is wrapped twice" % (name,))
        boxMap[name] = addBox(name)
    return boxMap


class dummyComponent(component):
    """Does nothing, forever: keeps a scheduler from running out of components."""

    Inboxes = {"inbox": "Not used", "control": "Not used"}
    Outboxes = {"outbox": "Not used", "signal": "Not used"}

    def main(self):
        while True:
            self.pause()
            yield 1


class background(_background.background):
    """``Axon.background.background`` whose scheduler never runs out of components.

    It activates a ``dummyComponent`` on the scheduler before starting, so
    the thread only ends when ``stop()`` is called (or the process exits).
    """

    def _prepareScheduler(self, sched):
        self.dummy = dummyComponent().activate(sched)


class componentWrapperInput(AdaptiveCommsComponent):
    """Delivers what ``likefile.put`` queued to the wrapped component's inboxes.

    It has one outbox per wrapped inbox (created with ``addBox``), linked to
    that inbox of the child.
    """

    Inboxes = {}
    Outboxes = {}

    def __init__(self, child, inboxes=DEFIN):
        super().__init__()
        self.child = child
        self.childInboxMapping = addBox(inboxes, {}, self.addOutbox)
        for childBox, myBox in self.childInboxMapping.items():
            self.link((self, myBox), (child, childBox))
        self.pending = collections.deque()
        self.finishing = False

    def enqueue(self, message, boxname="inbox"):
        """Queue ``message`` for the child's inbox ``boxname``; any thread."""
        if boxname not in self.childInboxMapping:
            raise KeyError("inbox %r of the wrapped component is not wrapped" % (boxname,))
        self.pending.append((boxname, message))
        self.unpause()

    def finish(self):
        """Deliver what fits, then end; any thread."""
        self.finishing = True
        self.unpause()

    def _forward(self):
        pending = self.pending
        while pending:
            boxname, message = pending[0]
            myBox = self.childInboxMapping[boxname]
            if self.outboxes[myBox].isFull():
                return
            self.send(message, myBox)
            pending.popleft()

    def main(self):
        while True:
            self._forward()
            if self.finishing or self.child._isStopped():
                return
            self.pause()
            yield 1


class componentWrapperOutput(AdaptiveCommsComponent):
    """Activates the wrapped component and moves its output onto ``outQueues``.

    It has one inbox per wrapped outbox (created with ``addBox``), linked
    from that outbox of the child. ``childDone`` is set once the child has
    ended and all it sent is on the queues; the input wrapper
    (``inputHandler``) is told to finish when this component ends.
    """

    Inboxes = {}
    Outboxes = {}

    def __init__(self, child, inputHandler, outboxes=DEFOUT):
        super().__init__()
        self.child = child
        self.inputHandler = inputHandler
        self.childOutboxMapping = addBox(outboxes, {}, self.addInbox)
        self.outQueues = {name: queue.Queue() for name in self.childOutboxMapping}
        for childBox, myBox in self.childOutboxMapping.items():
            self.link((child, childBox), (self, myBox))
        self.addChildren(child)
        self.childDone = threading.Event()
        self.finishing = False

    def finish(self):
        """End (without waiting for the child); any thread."""
        self.finishing = True
        self.unpause()

    def _collect(self):
        for childBox, myBox in self.childOutboxMapping.items():
            outQueue = self.outQueues[childBox]
            while self.dataReady(myBox):
                outQueue.put(self.recv(myBox))

    def main(self):
        self.child.activate()
        try:
            while True:
                childEnded = self.child._isStopped()
                self._collect()
                if childEnded:
                    self.childDone.set()
                    return
                if self.finishing:
                    return
                self.pause()
                yield 1
        finally:
            self.inputHandler.finish()


class likefile(object):
    """A file-like (queue-like) interface to a component. See the module docs."""

    def __init__(self, child, extraInboxes=(), extraOutboxes=(), wrapDefault=True):
        runner = _background.background._instance
        if runner is None or runner.scheduler is None:
            raise AttributeError("no running scheduler found: start a background first")
        inboxes = [name for name in DEFIN if wrapDefault and name in child.inboxes]
        inboxes += _names(extraInboxes)
        outboxes = [name for name in DEFOUT if wrapDefault and name in child.outboxes]
        outboxes += _names(extraOutboxes)
        for name in inboxes:
            if name not in child.inboxes:
                raise KeyError("component to wrap has no such inbox: %r" % (name,))
        for name in outboxes:
            if name not in child.outboxes:
                raise KeyError("component to wrap has no such outbox: %r" % (name,))
        self.child = child
        self._runner = runner
        self.inputComponent = componentWrapperInput(child, inboxes)
        self.outputComponent = componentWrapperOutput(child, self.inputComponent, outboxes)
        self.outQueues = self.outputComponent.outQueues
        self.inputComponent.activate(runner.scheduler)
        self.outputComponent.activate(runner.scheduler)
        self.alive = True

    def _checkAlive(self):
        if not self.alive:
            raise AttributeError("shutdown was previously called on this likefile")

    def put(self, msg, boxname="inbox"):
        """Send ``msg`` to the wrapped component's inbox ``boxname``."""
        self._checkAlive()
        self.inputComponent.enqueue(msg, boxname)

    def get(self, boxname="outbox", blocking=True, timeout=86400):
        """The next message from outbox ``boxname``; waits up to ``timeout`` s if ``blocking``.

        Raises ``queue.Empty`` when there is none (in time).
        """
        self._checkAlive()
        return self.outQueues[boxname].get(blocking, timeout)

    def get_nowait(self, boxname="outbox"):
        """``get(boxname, blocking=False)``."""
        return self.get(boxname, blocking=False)

    def empty(self, boxname="outbox"):
        """True if no message from ``boxname`` is waiting."""
        return self.outQueues[boxname].empty()

    def qsize(self, boxname="outbox"):
        """How many messages from ``boxname`` are waiting."""
        return self.outQueues[boxname].qsize()

    def anyReady(self):
        """Names of the wrapped outboxes with messages waiting, or None."""
        names = [name for name, q in self.outQueues.items() if q.qsize()]
        return names or None

    def _sendShutdown(self):
        if "control" in self.inputComponent.childInboxMapping:
            for message in (shutdown(), producerFinished(), shutdownMicroprocess()):
                self.inputComponent.enqueue(message, "control")
            return True
        return False

    def shutdown(self):
        """Ask the component to end, wait up to a second for it, then end the helpers."""
        self._checkAlive()
        asked = self._sendShutdown()
        done = self.outputComponent.childDone
        if threading.current_thread() is self._runner:
            confirmed = done.is_set()
        else:
            confirmed = done.wait(SHUTDOWN_CONFIRMATION_TIMEOUT) if asked else done.is_set()
        if not confirmed:
            warnings.warn("likefile: %s did not end after being asked to shut down; "
                          "it may still be running" % (self.child.name,), RuntimeWarning,
                          stacklevel=2)
        self.alive = False
        self.outputComponent.finish()

    def __del__(self):
        if not getattr(self, "alive", False) or sys.is_finalizing():
            return
        self.alive = False
        self._sendShutdown()
        self.outputComponent.finish()


def _names(boxes):
    if isinstance(boxes, str):
        return [boxes]
    return list(boxes)
