#!/usr/bin/env python3
"""
Threaded: a threadedcomponent doing blocking work, feeding a normal component
=============================================================================

What it shows: ``BlockingWorker`` is a ``threadedcomponent``; its ``main()``
is an ordinary method that runs in its own thread, so it may block (here
``time.sleep`` stands in for a slow library call or blocking I/O). It still
uses ``send`` like any component. ``Reporter`` is a normal generator
component on the scheduler: it prints results as they arrive and, to show
that the scheduler is not held up by the blocked thread, prints a tick from
a scheduler timer every 0.1 s meanwhile. The worker ends with
``producerFinished``; the reporter then ends and so does the program.

Run it::

    python3 Examples/Axon/Threaded.py

What you should see: ticks interleaved with results, roughly::

    tick 1
    tick 2
    result: 1 squared is 1 (computed in thread __main__.BlockingWorker_4)
    tick 3
    ...
    result: 4 squared is 16 (computed in thread __main__.BlockingWorker_4)
    reporter: worker finished

(the exact number of ticks between results depends on timing).
"""

import threading
import time

from Axon.Component import component
from Axon.Ipc import newComponent, producerFinished
from Axon.Scheduler import scheduler
from Axon.ThreadedComponent import threadedcomponent


class BlockingWorker(threadedcomponent):
    """Squares numbers slowly, blocking its own thread for each one."""

    def main(self):
        for n in range(1, 5):
            time.sleep(0.25)
            self.send((n, n * n, threading.current_thread().name), "outbox")
        self.send(producerFinished(self), "signal")


class Reporter(component):
    """Prints results; ticks every 0.1 s from a scheduler timer until the worker finishes."""

    def tick(self):
        self.ticks += 1
        print("tick", self.ticks)
        self.timer = self.scheduler.callLater(0.1, self.tick)

    def main(self):
        self.ticks = 0
        self.timer = self.scheduler.callLater(0.1, self.tick)
        while True:
            for n, square, threadName in self.Inbox("inbox"):
                print("result: %d squared is %d (computed in thread %s)" % (n, square, threadName))
            if any(isinstance(m, producerFinished) for m in self.Inbox("control")):
                self.timer.cancel()
                print("reporter: worker finished")
                return
            self.pause()
            yield 1


class System(component):
    """Links worker -> reporter and waits for both to end."""

    def main(self):
        worker, reporter = BlockingWorker(), Reporter()
        self.link((worker, "outbox"), (reporter, "inbox"))
        self.link((worker, "signal"), (reporter, "control"))
        self.addChildren(worker, reporter)
        yield newComponent(worker, reporter)
        while not all(child._isStopped() for child in self.childComponents()):
            self.pause()
            yield 1


if __name__ == "__main__":
    System().activate()
    scheduler.run.runThreads()
