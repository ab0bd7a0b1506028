"""Plain Axon programs, Kamaelia 1.x style.

Run: python3 axon_programs.py shutdown|immortal|waitcomplete|threaded

* shutdown: a Timer busy-yields until scheduler.time says 0.2 s have
  passed, then calls self.scheduler.stop(). A Sleeper that paused for ever
  and a Spinner that never pauses are still running; the scheduler calls
  stop() on each of them (they note it), and runThreads() returns.
* immortal: with scheduler.immortalise(), a Crasher raising in its main()
  is stopped on its own; a Counter on the same scheduler carries on to 5
  and ends, and runThreads() returns normally.
* waitcomplete: a component that yields WaitComplete(generator) three
  levels deep, and newComponent(...) from inside one of them, resumes
  where it was each time.
* threaded: a threadedcomponent producer (blocking, with time.sleep and
  self.pause(timeout)) feeding a threadedcomponent consumer that answers
  through an outbox linked from its own thread, into a plain component.

Each prints what happened and "finished".
"""

import sys
import time

from tracing import note, report

from Axon.Component import component
from Axon.Ipc import WaitComplete, newComponent, producerFinished
from Axon.Scheduler import scheduler
from Axon.ThreadedComponent import threadedcomponent


class Timer(component):
    def main(self):
        start = self.scheduler.time
        while self.scheduler.time - start < 0.2:
            yield 1
        print("timer: time is up, stopping the system")
        self.scheduler.stop()
        yield 1


class Sleeper(component):
    def main(self):
        while 1:
            self.pause()
            yield 1

    def stop(self):
        note("SLEEPER", "stop", "called")
        super(Sleeper, self).stop()


class Spinner(component):
    def main(self):
        while 1:
            yield 1

    def stop(self):
        note("SPINNER", "stop", "called")
        super(Spinner, self).stop()


class Crasher(component):
    def main(self):
        yield 1
        raise ValueError("deliberate crash")


class Counter(component):
    def main(self):
        for n in range(1, 6):
            print("counter", n)
            yield 1


class Nested(component):
    def main(self):
        print("nested: start")
        yield WaitComplete(self.level(1))
        print("nested: back in main")

    def level(self, depth):
        print("  " * depth + "level %d: start" % depth)
        yield 1
        if depth < 3:
            yield WaitComplete(self.level(depth + 1))
        else:
            child = Counter()
            self.addChildren(child)
            yield newComponent(child)
            while not child._isStopped():
                self.pause()
                yield 1
        print("  " * depth + "level %d: end" % depth)


class Producer(threadedcomponent):
    def main(self):
        for n in range(4):
            time.sleep(0.01)
            self.send(n, "outbox")
        self.send(producerFinished(self), "signal")


class Squarer(threadedcomponent):
    Outboxes = {"outbox": "squares", "signal": "producerFinished", "answers": "linked from the thread"}

    def main(self):
        self.link((self, "answers"), (self.downstream, "inbox"))
        while 1:
            while self.dataReady("inbox"):
                n = self.recv("inbox")
                self.send(n * n, "answers")
            if self.dataReady("control"):
                self.send(self.recv("control"), "signal")
                return
            self.pause(0.5)


class Printer(component):
    def main(self):
        while 1:
            while self.dataReady("inbox"):
                print("square", self.recv("inbox"))
            if self.dataReady("control"):
                print("printer told:", self.recv("control").__class__.__name__)
                return
            self.pause()
            yield 1


mode = sys.argv[1]
if mode == "shutdown":
    Sleeper().activate()
    Spinner().activate()
    Timer().activate()
    scheduler.run.runThreads()
    report()
elif mode == "immortal":
    scheduler.immortalise()
    Crasher().activate()
    Counter().activate()
    scheduler.run.runThreads()
elif mode == "waitcomplete":
    Nested().run()
elif mode == "threaded":
    producer, squarer, printer = Producer(), Squarer(), Printer()
    squarer.downstream = printer
    producer.link((producer, "outbox"), (squarer, "inbox"))
    producer.link((producer, "signal"), (squarer, "control"))
    squarer.link((squarer, "signal"), (printer, "control"))
    printer.activate()
    squarer.activate()
    producer.activate()
    scheduler.run.runThreads()
print("finished")
