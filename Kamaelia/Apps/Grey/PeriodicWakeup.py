"""
Kamaelia.Apps.Grey.PeriodicWakeup: a message every so many seconds
==================================================================

``PeriodicWakeup`` sends ``message`` ("tick") on "outbox" every
``interval`` seconds (300 by default) until anything arrives on "control",
which it passes on to "signal" as it ends. The greylister uses it to dump
the list of running components to the debug log and to expire stale
greylist entries.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Apps.Grey.PeriodicWakeup import PeriodicWakeup
    from Kamaelia.Apps.Grey.WakeableIntrospector import LoggingWakeableIntrospector

    Pipeline(PeriodicWakeup(interval=300),
             LoggingWakeableIntrospector(logfile="greylist-debug.log")).activate()

How does it work?
-----------------
It uses a scheduler timer, not a sleeping thread, so a control message stops
it at once rather than after the current interval (Kamaelia 1.x slept in a
thread), and tests can drive it with a fake clock. Ticks do not drift: each
is scheduled ``interval`` after the previous one was due.

Inboxes
-------
- inbox -- not used
- control -- any message stops it (and is forwarded to "signal")

Outboxes
--------
- outbox -- ``message`` every ``interval`` seconds
- signal -- the control message that stopped it

Termination
-----------
As soon as anything arrives on "control".
"""

from Axon.Component import component


class PeriodicWakeup(component):
    """Sends ``message`` every ``interval`` seconds. See the module documentation."""

    Inboxes = {"inbox": "Not used", "control": "Any message stops it"}
    Outboxes = {"outbox": "``message`` every interval", "signal": "The message that stopped it"}

    interval = 300
    message = "tick"

    def _tick(self):
        self._due += self.interval
        self._ticks += 1
        self._timer = self.scheduler.callAt(self._due, self._tick)
        self._deliveryWake()

    def main(self):
        self._ticks = 0
        self._due = self.scheduler.clock() + self.interval
        self._timer = self.scheduler.callAt(self._due, self._tick)
        try:
            while not self.dataReady("control"):
                while self._ticks:
                    self._ticks -= 1
                    self.send(self.message, "outbox")
                self.pause()
                yield 1
            self.send(self.recv("control"), "signal")
        finally:
            self._timer.cancel()


__kamaelia_components__ = (PeriodicWakeup,)
