#!/usr/bin/env python3
"""
Immortalise: a crashing component does not bring the system down
=================================================================

What it shows: normally an exception raised by a component propagates out
of ``runThreads()`` (with the component's name attached) and the program
stops. After ``scheduler.immortalise()`` the scheduler instead logs the
error with its traceback, stops just the crashing component, and carries on
running everything else. ``scheduler.mortalise()`` restores the default.

Run it::

    python3 Examples/Axon/Immortalise.py

What you should see::

    survivor: step 1
    crasher: about to divide by zero
    ERROR Axon.Scheduler: __main__.Crasher_... crashed and was stopped
    Traceback (most recent call last):
      ...
    ZeroDivisionError: division by zero
    survivor: step 2
    ...
    survivor: step 5
    all done: runThreads() returned normally

(the survivor's steps are 0.05 s apart; the error and traceback go to
standard error, through ``logging``).
"""

import logging

from Axon.Component import component
from Axon.Scheduler import scheduler


class Crasher(component):
    def main(self):
        yield 1
        print("crasher: about to divide by zero", flush=True)
        yield 1 / 0


class Survivor(component):
    """Counts to five, one step every 0.05 s, using a scheduler timer."""

    def main(self):
        for step in range(1, 6):
            print("survivor: step", step, flush=True)
            self.scheduler.callLater(0.05, self.unpause)
            self.pause()
            yield 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    scheduler.immortalise()
    Survivor().activate()
    Crasher().activate()
    scheduler.run.runThreads()
    print("all done: runThreads() returned normally")
