"""
Axon.Testing: unit-test a component by feeding its inboxes
==========================================================

``ComponentHarness`` runs one component (and any children it creates) on a
fresh scheduler of its own, with a fake clock. A test puts messages into the
component's inboxes, runs the scheduler until nothing is runnable (or for a
given number of cycles), and reads what came out of each outbox. No
threads, sockets or real time are involved, so tests are fast and
deterministic.

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Testing import ComponentHarness
    from Axon.Ipc import producerFinished
    from Kamaelia.Util.PureTransformer import PureTransformer

    def test_doubles_and_finishes():
        h = ComponentHarness(PureTransformer(lambda x: x * 2))
        h.put(1, "inbox")
        h.put(2, "inbox")
        h.runUntilIdle()
        assert h.getAll("outbox") == [2, 4]

        h.put(producerFinished(), "control")
        h.runUntilIdle()
        assert h.finished
        assert isinstance(h.get("signal"), producerFinished)

    class Alarm(component):
        timeout = 60
        def main(self):
            self.scheduler.callLater(self.timeout, self.unpause)
            start = self.scheduler.clock()
            while self.scheduler.clock() < start + self.timeout:
                self.pause()
                yield 1
            self.send("timeout", "outbox")

    def test_timeout_fires():
        h = ComponentHarness(Alarm(timeout=60))
        h.advance(59);  assert not h.ready("outbox")
        h.advance(1);   assert h.get("outbox") == "timeout"

How does it work?
-----------------
The harness creates a new ``Axon.Scheduler.scheduler`` (the default
scheduler is untouched) whose ``clock`` is a ``FakeClock`` and activates the
component on it. Every outbox of the component that is not linked anywhere
gets a store instead of discarding what is sent, so messages accumulate
there for the test to read; if the component links an outbox somewhere
itself, that link takes precedence, as it would in a real system (what was
stored moves along). Outboxes added while the component runs are collected
from the next step on. ``put`` delivers straight into the component's inbox,
waking it like a real delivery. Components the component activates while
running go to the same scheduler (activation defaults to the scheduler
running in the current thread).

``step(n)`` runs n scheduler cycles; ``runUntilIdle()`` runs cycles until
nothing is runnable, raising ``AssertionError`` if that takes more than
``maxCycles`` (a component that never pauses). ``advance(seconds)`` moves
the fake clock forward, firing due timers in order, and runs until idle
after each. Errors raised by the component propagate out of these calls.

``ready(box)``, ``get(box)`` (oldest message; IndexError if none) and
``getAll(box)`` read the collected output. ``finished`` is True once the
component has terminated; ``scheduler``, ``clock`` and ``component`` are
available for anything else.
"""


from Axon.Box import nullsink, realsink
from Axon.Scheduler import scheduler


class FakeClock(object):
    """A clock that only moves when told to: ``clock()`` returns ``now``."""

    def __init__(self, start=1000.0, epoch=1_700_000_000.0):
        self.now = float(start)
        self.epoch = epoch

    def __call__(self):
        return self.now

    def wallclock(self):
        """A wall-clock reading consistent with ``now`` (for ``scheduler.time``)."""
        return self.epoch + self.now

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self.now += seconds


class ComponentHarness(object):
    """Run one component on a private scheduler with a fake clock. See the module docs."""

    def __init__(self, theComponent, clock=None, activate=True):
        self.component = theComponent
        self.clock = clock if clock is not None else FakeClock()
        self.scheduler = self._newScheduler()
        self._collectOutboxes()
        if activate:
            theComponent.activate(self.scheduler)

    def _collectOutboxes(self):
        """Give every unlinked outbox a store (once), so what is sent accumulates."""
        for box in self.component.outboxes.values():
            if isinstance(box.storage, nullsink):
                box.storage = realsink()
                box._retarget(box.target)
                if box.target is None:
                    box._addnotifys(box.getnotifys())

    def _store(self, boxname):
        self._collectOutboxes()
        storage = self.component.outboxes[boxname].storage
        return storage if isinstance(storage, realsink) else ()

    def _newScheduler(self):
        previous = scheduler.run
        sched = scheduler()
        scheduler.run = previous
        return sched.useClock(self.clock)

    # -- input ------------------------------------------------------------------

    def put(self, message, boxname="inbox"):
        """Deliver ``message`` into the component's inbox ``boxname``."""
        self.component.inboxes[boxname].append(message)

    # -- running ------------------------------------------------------------------

    def step(self, cycles=1):
        """Run ``cycles`` scheduler cycles (fewer if nothing is left to run)."""
        for _ in range(cycles):
            self._collectOutboxes()
            if not self.scheduler.runCycle():
                break

    def runUntilIdle(self, maxCycles=10000):
        """Run cycles until nothing is runnable; AssertionError after ``maxCycles``."""
        for _ in range(maxCycles):
            if self.scheduler.isIdle():
                return
            self._collectOutboxes()
            self.scheduler.runCycle()
        raise AssertionError("%s still runnable after %d cycles (does it ever pause?)"
                             % (self.component.name, maxCycles))

    def advance(self, seconds, maxCycles=10000):
        """Move the fake clock forward ``seconds``, firing timers in order on the way."""
        self.runUntilIdle(maxCycles)
        target = self.clock.now + seconds
        while True:
            due = self.scheduler.nextTimerDue()
            if due is None or due > target:
                break
            self.clock.now = max(self.clock.now, due)
            self.step()
            self.runUntilIdle(maxCycles)
        self.clock.now = target
        self.step()
        self.runUntilIdle(maxCycles)

    @property
    def finished(self):
        """True once the component has terminated."""
        return self.component not in self.scheduler.threads and self.component._isStopped()

    # -- output -----------------------------------------------------------------

    def ready(self, boxname="outbox"):
        """How many messages the component has sent from ``boxname`` and not yet read."""
        return len(self._store(boxname))

    def get(self, boxname="outbox"):
        """The oldest unread message sent from ``boxname`` (IndexError if none).

        Like a real consumer's ``recv``, this wakes the component.
        """
        store = self._store(boxname)
        if not store:
            raise IndexError("nothing has been sent from %r" % boxname)
        return store.pop(0)

    def getAll(self, boxname="outbox"):
        """Every unread message sent from ``boxname``, oldest first."""
        store = self._store(boxname)
        messages = []
        while store:
            messages.append(store.pop(0))
        return messages
