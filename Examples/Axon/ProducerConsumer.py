#!/usr/bin/env python3
"""
Producer and consumer: the smallest complete Axon program
=========================================================

What it shows: two components, a link between them, shutdown signalling
with ``producerFinished``, and the scheduler ending by itself when every
component has finished.

Run it::

    python3 Examples/Axon/ProducerConsumer.py

You should see "received: 0" to "received: 4", then "consumer finished".
"""

import Axon
from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Scheduler import scheduler


class Producer(component):
    def main(self):
        for i in range(5):
            self.send(i, "outbox")
            yield 1
        self.send(producerFinished(self), "signal")


class Consumer(component):
    def main(self):
        while True:
            while self.dataReady("inbox"):
                print("received:", self.recv("inbox"))
            if self.dataReady("control"):
                self.recv("control")
                print("consumer finished")
                return
            self.pause()
            yield 1


class System(component):
    """Owns the links, so they live as long as the system does."""

    def main(self):
        producer, consumer = Producer(), Consumer()
        self.link((producer, "outbox"), (consumer, "inbox"))
        self.link((producer, "signal"), (consumer, "control"))
        self.addChildren(producer, consumer)
        yield Axon.Ipc.newComponent(producer, consumer)
        while not all(child._isStopped() for child in self.childComponents()):
            self.pause()
            yield 1


if __name__ == "__main__":
    System().activate()
    scheduler.run.runThreads()
