"""
Kamaelia.Util.ThreadedWorker: run blocking calls off the scheduler's thread
==========================================================================

A ``ThreadedWorker`` is a threaded component that performs blocking work --
disk I/O, a database query -- on behalf of ordinary components, so that the
scheduler (and every other component with it) never waits for it.

Example Usage
-------------
::

    from Kamaelia.Util.ThreadedWorker import ThreadedWorker

    worker = ThreadedWorker().activate()

    class Saver(component):
        def main(self):
            while not self.dataReady("control"):
                while self.dataReady("inbox"):
                    size = yield from worker.call(self, writeFile, "out.txt", self.recv("inbox"))
                    self.send(size, "outbox")
                self.pause()
                yield 1

How does it work?
-----------------
``call(asker, function, *args, timeout=None)`` is a generator for the asking
component to run (``yield from``) in the scheduler's thread. It queues the
call for the worker's thread and pauses the asker; the worker runs
``function(*args)`` and hands the result (or the exception) back with
``scheduler.callSoonThreadsafe``, which wakes the asker. ``call`` then
returns the result or re-raises the exception. If no answer arrives within
``timeout`` seconds (default ``self.timeout``, 30) it raises
``WorkerTimeout``; the call may still complete later and its result is then
dropped. Calls run one at a time, in the order made.

Subclasses may override ``handleInbox(message)`` (called in the worker's
thread for each message arriving on "inbox") and ``finish()`` (called in the
worker's thread when it ends).

Inboxes
-------
- inbox -- messages for ``handleInbox`` (ignored by default)
- control -- ``shutdownMicroprocess``/``producerFinished``: finish queued
  calls, call ``finish()`` and end

Outboxes
--------
- outbox -- whatever subclasses send
- signal -- the shutdown message, when the worker ends

Termination
-----------
On a shutdown message on "control", after the calls already queued.
"""

import logging
import queue

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.ThreadedComponent import threadedcomponent

_log = logging.getLogger(__name__)


class WorkerTimeout(RuntimeError):
    """A ``ThreadedWorker`` did not answer in time."""


class ThreadedWorker(threadedcomponent):
    """Runs blocking calls in its own thread. See the module documentation."""

    Inboxes = {"inbox": "Messages for handleInbox (ignored by default)",
               "control": "shutdownMicroprocess/producerFinished: finish and end"}
    Outboxes = {"outbox": "Whatever subclasses send",
                "signal": "The shutdown message, when the worker ends"}

    timeout = 30.0

    def __init__(self, **argd):
        super().__init__(**argd)
        self._requests = queue.SimpleQueue()

    def call(self, asker, function, *args, timeout=None):
        """Generator for ``asker``: ``function(*args)`` run in the worker's thread."""
        scheduler = asker.scheduler
        answer = []

        def deliver(outcome):
            answer.append(outcome)
            asker._deliveryWake()

        self._requests.put((function, args, lambda outcome: scheduler.callSoonThreadsafe(deliver, outcome)))
        self.threadWakeUp.set()
        limit = self.timeout if timeout is None else timeout
        timer = scheduler.callLater(limit, asker._deliveryWake)
        try:
            while not answer:
                if scheduler.clock() >= timer.when:
                    raise WorkerTimeout("%s did not answer within %s s" % (self.name, limit))
                asker.pause()
                yield 1
        finally:
            timer.cancel()
        ok, value = answer[0]
        if not ok:
            raise value
        return value

    def _runQueued(self):
        while True:
            try:
                function, args, reply = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = (True, function(*args))
            except Exception as e:
                outcome = (False, e)
            reply(outcome)

    def handleInbox(self, message):
        """Called in the worker's thread for each message on "inbox"."""

    def finish(self):
        """Called in the worker's thread when it ends."""

    def main(self):
        try:
            while True:
                self._runQueued()
                while self.dataReady("inbox"):
                    self.handleInbox(self.recv("inbox"))
                while self.dataReady("control"):
                    message = self.recv("control")
                    if isinstance(message, (shutdownMicroprocess, producerFinished)):
                        self._runQueued()
                        self.send(message, "signal")
                        return
                if self._requests.empty():
                    self.pause()
        finally:
            self.finish()


__kamaelia_components__ = (ThreadedWorker,)
