#!/usr/bin/env python3
"""
WaitComplete: run a sub-generator in place of the component that yields it
==========================================================================

What it shows: a component factors a waiting step out into a helper
generator, ``waitForMessage``, and runs it with ``yield WaitComplete(...)``.
While the helper runs (and pauses, waiting for input) the component itself
is suspended; when the helper ends, the component carries on from the line
after the ``yield``. Helpers may themselves yield ``WaitComplete`` (here
``waitForMessage`` uses ``delay``), so they nest.

Run it::

    python3 Examples/Axon/WaitComplete.py

What you should see (the sender spaces its messages 0.1 s apart)::

    reader: asking for message 1
      helper: waiting for a message...
      helper: got 'alpha'
    reader: message 1 is 'alpha'
    ...
    reader: message 3 is 'gamma'
      helper: waiting 0.2s
    reader: all done

and the program ends by itself.
"""

from Axon.Component import component
from Axon.Ipc import WaitComplete, newComponent, producerFinished
from Axon.Scheduler import scheduler


class Sender(component):
    """Sends a few words, one every 0.1 s, using a scheduler timer (no threads)."""

    def main(self):
        for word in ["alpha", "beta", "gamma"]:
            yield WaitComplete(delay(self, 0.1))
            self.send(word, "outbox")
        self.send(producerFinished(self), "signal")


def delay(comp, seconds):
    """A helper generator: pause ``comp`` until a timer ``seconds`` from now fires."""
    fired = []

    def wake():
        fired.append(True)
        comp.unpause()

    comp.scheduler.callLater(seconds, wake)
    while not fired:
        comp.pause()
        yield 1


class Reader(component):
    """Reads three messages, each through the waitForMessage helper."""

    def waitForMessage(self):
        print("  helper: waiting for a message...")
        while not self.dataReady("inbox"):
            self.pause()
            yield 1
        self.message = self.recv("inbox")
        print("  helper: got %r" % self.message)

    def main(self):
        for n in range(1, 4):
            print("reader: asking for message %d" % n)
            yield WaitComplete(self.waitForMessage())
            print("reader: message %d is %r" % (n, self.message))
        print("  helper: waiting 0.2s")
        yield WaitComplete(delay(self, 0.2))
        print("reader: all done")


class System(component):
    """Creates and links the two components and waits for both to end."""

    def main(self):
        sender, reader = Sender(), Reader()
        self.link((sender, "outbox"), (reader, "inbox"))
        self.addChildren(sender, reader)
        yield newComponent(sender, reader)
        while not all(child._isStopped() for child in self.childComponents()):
            self.pause()
            yield 1


if __name__ == "__main__":
    System().activate()
    scheduler.run.runThreads()
