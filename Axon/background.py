"""
Axon.background: run the Axon scheduler in a background thread
===============================================================

``background`` runs the default scheduler (``Axon.Scheduler.scheduler.run``)
in a daemon thread, so that ordinary, non-generator code -- a script, an
interactive session, another framework -- can keep its own thread and still
use components: activate them from any thread and talk to them through
``Axon.Handle`` or ``likefile``.

Example Usage
-------------
::

    from Axon.background import background
    from Axon.Handle import Handle
    from Axon.Component import component

    class Doubler(component):
        def main(self):
            while not self.dataReady("control"):
                for x in self.Inbox("inbox"):
                    self.send(x * 2, "outbox")
                self.pause()
                yield 1

    bg = background()
    bg.start()
    h = Handle(Doubler()).activate()
    h.put(21, "inbox")
    ...                                   # later, h.get("outbox") == 42
    bg.stop()                             # stop the scheduler, join the thread

How does it work?
-----------------
Only one background may exist at a time: constructing a second one while
the first exists raises ``RuntimeError``. A background stops existing when
its scheduler finishes (or ``stop()`` is called).

``start()`` chooses the scheduler: with ``zap=True`` a fresh scheduler
becomes the default (``scheduler.run``) and the coordinating assistant
tracker's services and values are cleared; otherwise the current default is
used. If nothing has been activated on it yet it is told to
``waitForOne()``, so it stays alive until the first activation instead of
finishing at once. ``start()`` returns once the scheduler is running in the
new thread; components activated afterwards from any thread are handed to it
through its thread-safe wake queue. The scheduler blocks (uses no CPU) while
nothing is runnable.

Termination: the thread ends when the scheduler finishes -- when every
microprocess has ended (after the first one was activated) -- or when
``stop()`` is called: that asks the scheduler to stop every microprocess and
end, then waits for the thread (``stop(timeout)`` waits at most ``timeout``
seconds). The thread is a daemon, so it never keeps the interpreter alive.
An error raised by a component propagates out of the scheduler and ends the
thread (reported by ``threading.excepthook``), unless the scheduler was
``immortalise()``\\ d.
"""

import threading

from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Scheduler import scheduler


class background(threading.Thread):
    """A daemon thread running the default scheduler. See the module documentation."""

    lock = threading.Lock()
    _instance = None

    def __init__(self, slowmo=0, zap=False):
        if not background.lock.acquire(False):
            raise RuntimeError("only one Axon background scheduler may exist at a time")
        super().__init__(name="Axon.background", daemon=True)
        self.slowmo = slowmo
        self.zap = zap
        self.scheduler = None
        self._schedulerRunning = threading.Event()
        self._released = False
        self._releaseLock = threading.Lock()
        background._instance = self

    def _prepareScheduler(self, sched):
        """Keep a scheduler with nothing on it alive until the first activation."""
        if not sched.threads:
            sched.waitForOne()

    def start(self):
        """Start the thread; returns once its scheduler is running."""
        if self.zap:
            sched = scheduler()
            scheduler.run = sched
            coordinatingassistanttracker.getcat().zap()
        else:
            sched = scheduler.run
        self.scheduler = sched
        self._prepareScheduler(sched)
        sched.callSoonThreadsafe(self._schedulerRunning.set)
        super().start()
        self._schedulerRunning.wait()

    def run(self):
        try:
            self.scheduler.runThreads(slowmo=self.slowmo)
        finally:
            self._schedulerRunning.set()
            self._release()

    def _release(self):
        with self._releaseLock:
            if self._released:
                return
            self._released = True
        if background._instance is self:
            background._instance = None
        background.lock.release()

    def stop(self, timeout=None):
        """Stop the scheduler (and every microprocess on it) and wait for the thread.

        Returns True if the thread has ended. A background that was never
        started simply stops existing.
        """
        if self.scheduler is None:
            self._release()
            return True
        if self.is_alive():
            self.scheduler.callSoonThreadsafe(self.scheduler.stop)
            self.join(timeout)
        return not self.is_alive()
