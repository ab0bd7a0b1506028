"""
Axon.Handle: use a component from ordinary (non-Axon) code
==========================================================

A ``Handle`` wraps a component so that code outside the scheduler -- a
script, another thread -- can put messages into its "inbox" and "control"
inboxes and get what it sends from its "outbox" and "signal" outboxes.
Use it with ``Axon.background``, which runs the scheduler in another thread.

This module is an older, simpler interface than
``Axon.experimental._pprocess_support.likefile`` (which can also wait for
output and wrap extra boxes); new code may prefer ``likefile``.

Example Usage
-------------
::

    import queue, time
    from Axon.background import background
    from Axon.Handle import Handle
    from Axon.Component import component
    from Axon.Ipc import shutdownMicroprocess

    class Upper(component):
        def main(self):
            while not self.dataReady("control"):
                for text in self.Inbox("inbox"):
                    self.send(text.upper(), "outbox")
                self.pause()
                yield 1

    bg = background()
    bg.start()
    h = Handle(Upper()).activate()
    h.put("hello", "inbox")
    while True:
        try:
            print(h.get("outbox"))        # HELLO
            break
        except queue.Empty:
            time.sleep(0.01)              # or do other work: get() never blocks
                                          # (likefile offers a blocking get)
    h.put(shutdownMicroprocess(), "control")
    bg.stop()

How does it work?
-----------------
``Handle`` is a ``threadedcomponent``. Its inboxes ``_inbox``/``_control``
are linked from the wrapped component's "outbox"/"signal", and its outboxes
``_outbox``/``_signal`` to the wrapped component's "inbox"/"control". When
it runs it adds the component as its child, makes those links and activates
it (all in the scheduler's thread).

``put(data, boxname)`` (boxname "inbox" or "control") puts ``data`` on a
thread-safe queue and wakes the handle's thread, which sends it on to the
component. Messages the component sends reach the handle's thread through
its inboxes, and the thread puts them on a queue per box that ``get(boxname)``
(boxname "outbox" or "signal") reads without blocking: it raises
``queue.Empty`` if nothing is waiting.

The handle's thread never polls: it blocks until a ``put``, a message from
the component, room freeing up towards the component, or the component's
termination wakes it.

Termination: the handle ends when the wrapped component ends, after moving
everything the component sent onto the ``get`` queues (so nothing is lost
and ``get`` keeps working). Stopping the handle (``stop()``, e.g. when its
scheduler is stopped) also ends its thread.
"""

import queue

from Axon.ThreadedComponent import threadedcomponent

_TO_CHILD = (("inbox", "_outbox"), ("control", "_signal"))
_FROM_CHILD = (("outbox", "_inbox"), ("signal", "_control"))


class _HandleStopped(Exception):
    """The handle was stopped while its thread waited for the scheduler's thread."""


class Handle(threadedcomponent):
    """Lets non-Axon code put to and get from a component. See the module docs."""

    Inboxes = {"_inbox": "From the wrapped component's outbox; read by get('outbox')",
               "_control": "From the wrapped component's signal; read by get('signal')"}
    Outboxes = {"_outbox": "To the wrapped component's inbox; fed by put(data, 'inbox')",
                "_signal": "To the wrapped component's control; fed by put(data, 'control')"}

    def __init__(self, someComponent):
        super().__init__()
        self.comp = someComponent
        self._toChild = {box: queue.Queue() for box, _ in _TO_CHILD}
        self._fromChild = {box: queue.Queue() for box, _ in _FROM_CHILD}

    # -- the interface for ordinary code (any thread) ----------------------------

    def put(self, data, boxname="inbox"):
        """Send ``data`` to the wrapped component's inbox ``boxname`` ("inbox" or "control")."""
        self._toChild[boxname].put(data)
        self.threadWakeUp.set()

    def get(self, boxname="outbox"):
        """The next message from the wrapped component's ``boxname`` ("outbox" or "signal").

        Never blocks: raises ``queue.Empty`` if there is none yet.
        """
        return self._fromChild[boxname].get_nowait()

    # -- scheduler thread ---------------------------------------------------------

    def _adopt(self):
        comp = self.comp
        self.addChildren(comp)
        comp._callOnCloseDown.append(self.threadWakeUp.set)
        for childBox, myBox in _TO_CHILD:
            self.link((self, myBox), (comp, childBox))
        for childBox, myBox in _FROM_CHILD:
            self.link((comp, childBox), (self, myBox))
        comp.activate()

    def _undelivered(self):
        """Messages from the child still waiting in the real inboxes (not yet queued for us)."""
        return sum(len(self.inboxes[myBox].storage) for _, myBox in _FROM_CHILD)

    def childrenDone(self):
        """Forget children that have ended; True when none are left."""
        for child in self.childComponents():
            if child._isStopped():
                self.removeChild(child)
        return not self.childComponents()

    def stop(self):
        """Stop the handle; its thread ends instead of waiting for a scheduler that is gone."""
        super().stop()
        self.axontothreadqueue.put((None, _HandleStopped()))
        self.threadWakeUp.set()

    # -- the handle's own thread ----------------------------------------------------

    def _forwardToChild(self):
        for userBox, myBox in _TO_CHILD:
            pending = self._toChild[userBox]
            outqueue = self.outqueues[myBox]
            while not outqueue.full():
                try:
                    data = pending.get_nowait()
                except queue.Empty:
                    break
                self.send(data, myBox)

    def _collectFromChild(self):
        for userBox, myBox in _FROM_CHILD:
            while self.dataReady(myBox):
                self._fromChild[userBox].put(self.recv(myBox))

    def _collectRemaining(self):
        """The child has ended: move everything it sent onto the get() queues."""
        while True:
            left = self._do_threadsafe(self._undelivered)
            self._collectFromChild()
            if not left:
                return

    def main(self):
        try:
            self._do_threadsafe(self._adopt)
            while not self._isStopped():
                self._forwardToChild()
                self._collectFromChild()
                if self.comp._isStopped():
                    self._collectRemaining()
                    self._do_threadsafe(self.childrenDone)
                    return
                self.pause()
        except _HandleStopped:
            return
