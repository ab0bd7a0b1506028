"""
Axon.ThreadedComponent: components whose main() runs in its own thread
======================================================================

A ``threadedcomponent`` is a component whose ``main()`` is an ordinary
method -- it may block on I/O, sleep or call slow libraries -- run in a
separate (daemon) thread. It uses the same box API as any component:
``dataReady``, ``recv``, ``send``, ``pause``, ``link``.

Example Usage
-------------
::

    import time
    from Axon.ThreadedComponent import threadedcomponent
    from Axon.Ipc import producerFinished

    class Ticker(threadedcomponent):
        def main(self):
            for i in range(3):
                time.sleep(0.1)
                self.send(i, "outbox")
            self.send(producerFinished(self), "signal")

How does it work?
-----------------
Each box has a bounded queue (``queuelengths``, default 1000). In the
scheduler's thread, the generator ``_localmain`` runs in place of ``main``:
it starts the thread, moves messages from the real inboxes into the inbound
queues (the "control" inbox last, so a control message does not overtake
data that has room in its queue; when an inbound queue is full, control
still goes through, as in 1.x, so a thread that only watches "control"
ends), moves messages from the outbound queues into the real outboxes
while the destination has room, performs calls the thread asked to be done
in the scheduler's thread, and otherwise sleeps until the thread or a
delivery wakes it. It ends once the thread has ended *and* every outbound
queue has been flushed, so nothing the thread sent is lost; after seeing
the thread gone it yields once more before it ends (a component stepped by
hand with ``next()`` returns once more, as in 1.x).

In the thread, ``send`` raises ``noSpaceInBox`` when the outbound queue is
full (capacity is roughly ``queuelengths`` plus the destination inbox's
size), ``recv`` raises an error that is both ``IndexError`` and
``queue.Empty`` when nothing is waiting, and ``pause(timeout)`` blocks until
a message arrives, a sent message is collected, or the timeout passes.
``link``/``unlink`` (and ``addInbox`` etc. on the adaptive variant) are
carried out in the scheduler's thread and return their result.

Errors: an exception raised by ``main()`` in the thread is re-raised in the
scheduler's thread, with the thread's traceback and ``str(component)``
appended to its ``args``.
"""

import queue
import sys
import threading

from Axon.AdaptiveCommsComponent import _AdaptiveCommsable
from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Microprocess import microprocess

DefaultQueueSize = 1000


class UnHandledException(Exception):
    """Wraps an exception from a component's thread that could not be re-raised as is."""


class _BoxEmpty(IndexError, queue.Empty):
    """Nothing waiting in a threaded component's inbox (an IndexError and a queue.Empty)."""


class threadedcomponent(component):
    """A component whose ``main()`` runs in its own thread. See the module docs."""

    def __init__(self, queuelengths=DefaultQueueSize, **argd):
        super().__init__(**argd)
        self.queuelengths = queuelengths
        self.inqueues = {name: queue.Queue(queuelengths) for name in self.inboxes}
        self.outqueues = {name: queue.Queue(queuelengths) for name in self.outboxes}
        self.threadtoaxonqueue = queue.Queue()
        self.axontothreadqueue = queue.Queue()
        self.threadWakeUp = threading.Event()
        self._threadRunning = False
        self._threadFailure = None
        self._localThreadId = None
        self._thethread = None

    # -- scheduler side -----------------------------------------------------

    def activate(self, Scheduler=None, Tracker=None, mainmethod="main"):
        """Create (not start) the thread and schedule ``_localmain``; returns self."""
        self._thethread = threading.Thread(target=self._threadmain, args=(mainmethod,),
                                           name=self.name, daemon=True)
        return microprocess.activate(self, Scheduler, Tracker, mainmethod="_localmain")

    def _threadmain(self, mainmethod):
        self._localThreadId = threading.get_ident()
        try:
            getattr(self, mainmethod)()
        except BaseException:
            self._threadFailure = sys.exc_info()
        finally:
            self._threadRunning = False
            self.unpause()

    def _localmain(self):
        """Scheduler-side generator: shuttle messages between boxes and the thread."""
        self._threadRunning = True
        self._thethread.start()
        firstPass = True
        while True:
            # The pass that starts the thread always yields, even if the thread is
            # already over, so what follows is the same whatever the thread's speed.
            running = self._threadRunning or firstPass
            firstPass = False
            wakeThread = False
            for box in self._inboxOrder():
                if self.forwardInboxToThread(box):
                    wakeThread = True
            pending = False
            for box, outqueue in list(self.outqueues.items()):
                moved, blocked = self._flushOutqueue(box, outqueue)
                wakeThread = wakeThread or moved
                pending = pending or blocked
            while not self.threadtoaxonqueue.empty():
                cmd, argL, argD = self.threadtoaxonqueue.get()
                try:
                    result = (cmd(*argL, **argD), None)
                except Exception as e:
                    result = (None, e)
                self.axontothreadqueue.put(result)
            if wakeThread:
                self.threadWakeUp.set()
            if not running:
                if self._threadFailure is not None:
                    self._reraise()
                if not pending and not any(q.qsize() for q in self.outqueues.values()):
                    break
            microprocess.pause(self)
            yield 1
        yield 1

    def _inboxOrder(self):
        names = [name for name in self.inboxes if name != "control"]
        if "control" in self.inboxes:
            names.append("control")
        return names

    def _flushOutqueue(self, box, outqueue):
        """Move what the thread sent on ``box`` to the real outbox; (moved?, blocked?)."""
        moved = False
        outbox = self.outboxes.get(box)
        while outqueue.qsize():
            if outbox is None:
                outqueue.get_nowait()
                continue
            if outbox.isFull():
                return moved, True
            message = outqueue.queue[0]
            try:
                outbox.append(message)
            except noSpaceInBox:
                return moved, True
            outqueue.get_nowait()
            moved = True
        return moved, False

    def forwardInboxToThread(self, box):
        """Move messages from inbox ``box`` to the thread's queue while it has room."""
        moved = False
        inqueue = self.inqueues.get(box)
        if inqueue is None:
            return False
        storage = self.inboxes[box].storage
        while len(storage) and not inqueue.full():
            inqueue.put_nowait(storage.pop(0))
            moved = True
        return moved

    def _reraise(self):
        excType, exc, tb = self._threadFailure
        self._threadFailure = None
        try:
            exc.args = tuple(exc.args) + (str(self),)
        except (AttributeError, TypeError):
            exc = UnHandledException(exc, str(self))
        if hasattr(exc, "add_note"):
            exc.add_note("raised in the thread of %s" % self.name)
        raise exc.with_traceback(tb)

    def _inThread(self):
        return self._threadRunning and threading.get_ident() == self._localThreadId

    # -- thread side --------------------------------------------------------

    def main(self):
        """Default thread body: ``initialiseComponent``, ``mainBody`` until falsy, ``closeDownComponent``."""
        self.initialiseComponent()
        while self.mainBody():
            pass
        self.closeDownComponent()

    def pause(self, timeout=None):
        """In the thread: block until woken (a delivery or a collected send) or timeout."""
        if self._inThread():
            self.threadWakeUp.wait(timeout)
            self.threadWakeUp.clear()
        else:
            microprocess.pause(self)

    def dataReady(self, boxname="inbox"):
        """How many messages wait for the thread in inbox ``boxname``."""
        return self.inqueues[boxname].qsize()

    def anyReady(self):
        for name, inqueue in self.inqueues.items():
            if inqueue.qsize():
                return name
        return False

    def recv(self, boxname="inbox"):
        """Take the oldest message from inbox ``boxname`` (IndexError/queue.Empty if none)."""
        try:
            message = self.inqueues[boxname].get_nowait()
        except queue.Empty:
            raise _BoxEmpty("no message waiting in %r" % boxname) from None
        self.unpause()
        return message

    def Inbox(self, boxname="inbox"):
        while self.dataReady(boxname):
            yield self.recv(boxname)

    def send(self, message, boxname="outbox"):
        """Queue ``message`` for outbox ``boxname`` (noSpaceInBox if the queue is full)."""
        try:
            self.outqueues[boxname].put_nowait(message)
        except queue.Full:
            raise noSpaceInBox(self.outqueues[boxname].qsize(), self.queuelengths) from None
        self.unpause()

    def _nonthread_dataReady(self, boxname="inbox"):
        return component.dataReady(self, boxname)

    def _nonthread_recv(self, boxname="inbox"):
        return component.recv(self, boxname)

    def _nonthread_send(self, message, boxname="outbox"):
        return component.send(self, message, boxname)

    def _do_threadsafe(self, cmd, argL=(), argD=None):
        """Run ``cmd(*argL, **argD)`` in the scheduler's thread and return its result."""
        argD = argD or {}
        if not self._inThread():
            return cmd(*argL, **argD)
        self.threadtoaxonqueue.put((cmd, argL, argD))
        self.unpause()
        result, error = self.axontothreadqueue.get()
        if error is not None:
            raise error
        return result

    def link(self, source=None, sink=None, *optionalargs, **kwoptionalargs):
        return self._do_threadsafe(component.link, (self, source, sink) + optionalargs,
                                   kwoptionalargs)

    def unlink(self, thecomponent=None, thelinkage=None):
        return self._do_threadsafe(component.unlink, (self, thecomponent, thelinkage))

    def sync(self):
        """Round trip through the scheduler's thread (a way to let it catch up)."""
        return self._do_threadsafe(lambda: None)


class threadedadaptivecommscomponent(threadedcomponent, _AdaptiveCommsable):
    """A threaded component that can add and remove boxes while it runs."""

    def addInbox(self, *args):
        def add():
            name = _AdaptiveCommsable.addInbox(self, *args)
            self.inqueues[name] = queue.Queue(self.queuelengths)
            return name
        return self._do_threadsafe(add)

    def deleteInbox(self, name):
        def delete():
            _AdaptiveCommsable.deleteInbox(self, name)
            del self.inqueues[name]
        return self._do_threadsafe(delete)

    def addOutbox(self, *args):
        def add():
            name = _AdaptiveCommsable.addOutbox(self, *args)
            self.outqueues[name] = queue.Queue(self.queuelengths)
            return name
        return self._do_threadsafe(add)

    def deleteOutbox(self, name):
        def delete():
            _AdaptiveCommsable.deleteOutbox(self, name)
            del self.outqueues[name]
        return self._do_threadsafe(delete)
