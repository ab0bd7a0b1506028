"""
Kamaelia.Util.Clock: a regular tick
===================================

``CheapAndCheerfulClock(interval)`` sends ``True`` on its "outbox" every
``interval`` seconds, for ever.

Example Usage
-------------
Print "tick" three times, half a second apart; the consumer stops the clock
after the third tick, and the program ends::

    from Axon.Component import component
    from Axon.Ipc import producerFinished
    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.Clock import CheapAndCheerfulClock

    class ThreeTicks(component):
        def main(self):
            for _ in range(3):
                while not self.dataReady("inbox"):
                    self.pause()
                    yield 1
                self.recv("inbox")
                print("tick")
            self.clock.stop()

    clock = CheapAndCheerfulClock(0.5)
    consumer = ThreeTicks()
    consumer.clock = clock
    Pipeline(clock, consumer).run()

How does it work?
-----------------
Kamaelia 1.x ran a thread that slept between ticks. This version is an
ordinary component driven by a scheduler timer (``scheduler.callLater``),
so it costs no thread and sleeps between ticks; tests can drive it with a
fake clock. Ticks are due at ``start + n * interval`` (no drift); if the
scheduler falls behind by more than an interval, the missed ticks are
skipped rather than sent in a burst, as a sleeping thread would have done.

Termination
-----------
It never ends by itself, and ignores (discards) anything sent to its
"control" inbox, like the original. Stop it with ``stop()``; the pending
timer is then cancelled.
"""

from Axon.Component import component


class CheapAndCheerfulClock(component):
    """CheapAndCheerfulClock(interval) -> sends True every interval seconds, for ever."""

    Inboxes = {"inbox": "NOT USED",
               "control": "NOT USED (anything sent here is discarded)"}
    Outboxes = {"outbox": "True, every interval seconds",
                "signal": "NOT USED"}

    def __init__(self, interval):
        super().__init__()
        self.interval = interval
        self._timer = None
        self._ticksDue = 0

    def main(self):
        self._nextTick = self.scheduler.clock() + self.interval
        self._timer = self.scheduler.callAt(self._nextTick, self._tick)
        while True:
            while self.dataReady("control"):
                self.recv("control")
            while self._ticksDue:
                self._ticksDue -= 1
                self.send(True, "outbox")
            self.pause()
            yield 1

    def _tick(self):
        self._ticksDue += 1
        now = self.scheduler.clock()
        nextTick = self._nextTick + self.interval
        if nextTick <= now:
            nextTick = now + self.interval
        self._nextTick = nextTick
        self._timer = self.scheduler.callAt(nextTick, self._tick)
        self.unpause()

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().stop()


__kamaelia_components__ = (CheapAndCheerfulClock,)
