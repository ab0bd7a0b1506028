"""
Kamaelia.Util.RateFilter: pacing data
=====================================

Components that control how fast data flows:

* ``ByteRate_RequestControl`` sends requests "give me n items" at a steady
  rate -- typically to a ``PromptedFileReader``, which answers each request
  with n bytes (or lines) of a file.
* ``VariableByteRate_RequestControl`` does the same with a rate that can be
  changed while it runs.
* ``MessageRateLimit`` passes messages on no faster than a given number per
  second, after first filling a buffer.
* ``OnDemandLimit`` passes one message on for each request it receives.

Example Usage
-------------
Read a file at 1000 bytes per second, in 100-byte chunks::

    import os, tempfile
    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.File.Reading import PromptedFileReader
    from Kamaelia.Util.RateFilter import ByteRate_RequestControl
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    path = os.path.join(tempfile.mkdtemp(), "example.txt")
    with open(path, "w") as f:
        f.write("Fifty bytes of text, read at 1000 bytes a second\\n" * 4)

    Graphline(
        RATE=ByteRate_RequestControl(rate=1000, chunksize=100),
        READER=PromptedFileReader(path, readmode="bytes"),
        TEXT=PureTransformer(lambda chunk: chunk.decode("utf-8")),
        OUT=ConsoleEchoer(),
        linkages={
            ("RATE", "outbox"): ("READER", "inbox"),
            ("READER", "outbox"): ("TEXT", "inbox"),
            ("TEXT", "outbox"): ("OUT", "inbox"),
            ("READER", "signal"): ("RATE", "control"),
            ("RATE", "signal"): ("TEXT", "control"),
            ("TEXT", "signal"): ("OUT", "control"),
        },
    ).run()

(``Kamaelia.File.Reading.RateControlledFileReader`` is that Graphline.)

The timing methods can be used without running the component, with times
you choose::

    rc = ByteRate_RequestControl(rate=100, chunksize=25)
    rc.resetTiming(0.0)
    list(rc.getChunksToSend(0.0))     # [25]
    list(rc.getChunksToSend(0.1))     # []
    list(rc.getChunksToSend(0.6))     # [25, 25]  (due at 0.25 and 0.5)

Show at most 5 messages a second (give or take 10%), starting once 10 have
arrived (a fragment: ``source`` and ``display`` are yours)::

    Pipeline(source, MessageRateLimit(5, buffer=10), display)

How does it work?
-----------------
All of them read time from their scheduler's clock (``scheduler.clock()``)
and sleep on scheduler timers (``scheduler.callAt``) until the next item is
due -- they never poll -- so they can be tested with a fake clock.

``ByteRate_RequestControl(rate=100000, chunksize=None, chunkrate=None,
allowchunkaggregation=False)``: ``rate`` items per second, requested as
chunks of ``chunksize`` items, one every ``timestep = 1/chunkrate``
seconds. Give ``chunksize`` (then ``chunkrate`` is ``rate/chunksize``) or
``chunkrate`` (then ``chunksize`` is the float ``rate/chunkrate``, 12.5 for
100/8). With neither, ``chunksize`` is ``max(1, rate/1000)``: a thousand
requests a second (or one per item, for rates under 1000). If both are
given, ``chunksize`` wins. A ``chunksize`` under 1 is refused
(``ValueError``). The attributes ``rate``, ``chunksize``, ``timestep`` and
``aggregate`` hold the settings.

Its timing lives in two methods that the component's ``main`` calls and
that work as well on a component that was never activated:
``resetTiming(now=None)`` starts the count, the first chunk due at once;
``getChunksToSend(now=None)`` is a generator of the request sizes due by
``now``. Each chunk period that has started adds ``chunksize`` to a credit
and requests are whole numbers taken from it, so fractions carry over (100
a second in 3 chunks a second gives 33, 33, 34, 33, ...). Periods missed
because the scheduler was busy are requested at once: one request each, or
one request for the whole credit if ``allowchunkaggregation`` is true.
``now`` defaults to the scheduler's clock once the component is activated,
and to ``time.time()`` before that.

``VariableByteRate_RequestControl(rate=100000, chunksize=None,
chunkrate=10, allowchunkaggregation=False)`` has the same attributes (here
``chunksize`` wins over the default ``chunkrate``) and counts credit in
proportion to the time that has passed. ``resetTiming(now)`` makes a full
chunk due at ``now``; ``getChunksToSend(now)`` yields a request whenever a
whole chunk of credit has built up (all of it at once if aggregating);
``changeRate(newRate, now)`` -- called for each number arriving on its
"inbox" -- credits the time so far at the old rate and then keeps
``chunksize`` and changes the period (``timestep = chunksize/rate``), the
rest of the current chunk due at the new rate. A rate of 0 or less stops
requests until a positive rate arrives.

Both have ``shutdown()``, which takes one message from "control" and says
whether it was a ``producerFinished`` or ``shutdownMicroprocess`` (which
it forwards to "signal").

``MessageRateLimit(messages_per_second, buffer=60, **argd)``: it waits
until ``buffer`` messages are waiting in its inbox (or a
``producerFinished`` arrives), then passes them on, one every
``interval = 1/(1.1*messages_per_second)`` seconds at most (as in 1.x, it
allows 10% more than the nominal rate); when the inbox runs dry it waits
for the next message (no catching up in bursts). ``hardlimit`` (a keyword
or class attribute) limits its inbox to that many messages once the buffer
has filled, so that senders get ``noSpaceInBox``; 0 or None (the default)
means no limit. While it is still filling its buffer it passes other
control messages on to "signal".

``OnDemandLimit()``: each ``"NEXT"`` on "slidecontrol" lets one message
from "inbox" through (anything else there is ignored); requests made while
the inbox is empty are remembered and served as messages arrive.

Termination
-----------
``ByteRate_RequestControl`` and ``VariableByteRate_RequestControl`` stop on
``producerFinished`` or ``shutdownMicroprocess`` on "control", forwarding
it to "signal"; other control messages are discarded. Otherwise they run
for ever.

``MessageRateLimit`` on ``shutdownMicroprocess`` forwards it and stops at
once (discarding what it holds); on ``producerFinished`` it first passes on
everything it holds, still at the limited rate, then forwards the
``producerFinished``.

``OnDemandLimit`` on ``shutdownMicroprocess`` forwards it and stops; on
``producerFinished`` it keeps serving requests until its inbox is empty,
then forwards it and stops.
"""

import logging
import time

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

_log = logging.getLogger(__name__)

# Times and credit are floats: this slack stops a value that lands a hair
# below a due time or a whole number from being counted as short of it.
_EPSILON = 1e-9
_RELATIVE_SLACK = 1e-6


def _isShutdown(msg):
    return isinstance(msg, (producerFinished, shutdownMicroprocess))


class _TimedComponent(component):
    """A component that reads its scheduler's clock and sleeps on one timer at a time."""

    _timer = None

    def _now(self):
        """The scheduler's clock once activated; the wall clock before that."""
        clock = getattr(self.scheduler, "clock", None)
        return time.time() if clock is None else clock()

    def _wakeAt(self, when):
        """Arrange to be woken at ``when`` (None: not needed).

        Returns False if the scheduler has no timers (one with only 1.x's
        interface): the caller must then not sleep.
        """
        callAt = getattr(self.scheduler, "callAt", None)
        if callAt is None:
            return when is None
        if self._timer is not None:
            if when is not None and self._timer.when == when:
                return True
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = callAt(when, self._timerFired)
        return True

    def _timerFired(self):
        self._timer = None
        self.unpause()

    def _cancelTimer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def stop(self):
        self._cancelTimer()
        super().stop()

    def shutdown(self):
        """Take one message from "control": True (forwarding it) if it says stop."""
        if not self.dataReady("control"):
            return False
        msg = self.recv("control")
        if _isShutdown(msg):
            self.send(msg, "signal")
            return True
        return False

    def _shutdownRequested(self):
        """Look at every waiting control message; True once one said stop."""
        while self.dataReady("control"):
            if self.shutdown():
                self._cancelTimer()
                return True
        return False


class ByteRate_RequestControl(_TimedComponent):
    """ByteRate_RequestControl([rate][, chunksize][, chunkrate][, allowchunkaggregation])
    -> sends requests for n items at a steady rate.
    """

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "Requests: the number of items wanted (an int)",
                "signal": "The shutdown message that stopped it"}

    def __init__(self, rate=100000, chunksize=None, chunkrate=None, allowchunkaggregation=False):
        super().__init__()
        if rate <= 0:
            raise ValueError("rate must be positive, got %r" % (rate,))
        if chunksize is None and chunkrate is not None:
            chunksize = float(rate) / float(chunkrate)
        else:
            if chunksize is None:
                chunksize = max(1, rate / 1000)
            elif chunkrate is not None:
                _log.warning("ByteRate_RequestControl: chunksize %r given, so chunkrate %r "
                             "is ignored", chunksize, chunkrate)
            chunkrate = rate / chunksize
        if chunksize < 1.0:
            raise ValueError("chunksize must be at least 1 (rate %r, chunksize %r)"
                             % (rate, chunksize))
        self.rate = rate
        self.chunksize = chunksize
        self.timestep = 1.0 / chunkrate
        self.aggregate = allowchunkaggregation
        self.nextTime = None
        self.toSend = 0.0

    def resetTiming(self, now=None):
        """Start counting from ``now``: the first chunk is due at once."""
        self.nextTime = self._origin = self._now() if now is None else now
        self._periods = 0
        self._requested = 0
        self.toSend = 0.0

    def _take(self):
        """The whole items of credit not yet requested, now requested (0 if none)."""
        # Totals are recomputed from the count of periods rather than summed,
        # so neither the due times nor the credit drift.
        total = int(self._periods * self.chunksize + _EPSILON)
        chunk = total - self._requested
        self._requested = total
        self.toSend = self._periods * self.chunksize - total
        return chunk

    def getChunksToSend(self, now=None):
        """Generator: the request sizes due by ``now`` (one per chunk period, or one in all)."""
        if now is None:
            now = self._now()
        if self.nextTime is None:
            self.resetTiming(now)
        while now + _EPSILON >= self.nextTime:
            self._periods += 1
            self.toSend += self.chunksize
            self.nextTime = self._origin + self._periods * self.timestep
            if not self.aggregate:
                chunk = self._take()
                if chunk:
                    yield chunk
        if self.aggregate:
            chunk = self._take()
            if chunk:
                yield chunk

    def main(self):
        self.resetTiming()
        while not self._shutdownRequested():
            for chunk in self.getChunksToSend():
                self.send(chunk, "outbox")
            if self._wakeAt(self.nextTime):
                self.pause()
            yield 1


class VariableByteRate_RequestControl(_TimedComponent):
    """VariableByteRate_RequestControl([rate][, chunksize][, chunkrate][, allowchunkaggregation])
    -> like ByteRate_RequestControl, with the rate changed by numbers sent to its inbox.
    """

    Inboxes = {"inbox": "A new rate (items per second)",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "Requests: the number of items wanted (an int)",
                "signal": "The shutdown message that stopped it"}

    def __init__(self, rate=100000, chunksize=None, chunkrate=10, allowchunkaggregation=False):
        super().__init__()
        if chunksize is None:
            chunksize = float(rate) / float(chunkrate)
        elif rate > 0:
            chunkrate = rate / chunksize
        if chunksize < 1.0:
            raise ValueError("chunksize must be at least 1 (rate %r, chunksize %r)"
                             % (rate, chunksize))
        self.rate = rate
        self.chunksize = chunksize
        self.timestep = 1.0 / chunkrate if rate > 0 else float("inf")
        self.aggregate = allowchunkaggregation
        self.nextTime = None
        self.lastTime = None
        self.toSend = 0.0

    def _period(self, rate):
        """Seconds per chunk at ``rate`` (infinite: no chunks at all)."""
        return self.chunksize / rate if rate > 0 else float("inf")

    def resetTiming(self, now=None):
        """Start counting from ``now``, with a whole chunk due at ``now``."""
        if now is None:
            now = self._now()
        self.nextTime = self._origin = now
        self._periods = 0
        self.toSend = 0.0
        self.lastTime = now - self.timestep
        self._chunksTaken = 0
        self._requested = 0

    def _credit(self, now):
        """Add credit for the time since the last count, at the current rate."""
        if now > self.lastTime:
            if self.rate > 0:
                self.toSend += ((now - self.lastTime) / self.timestep) * self.chunksize
            self.lastTime = now

    def _chunkDue(self):
        # A timer fires exactly at the due time, where the credit computed
        # from float times may fall a hair short of a whole chunk.
        return self.toSend >= self.chunksize * (1 - _RELATIVE_SLACK)

    def getChunksToSend(self, now=None):
        """Generator: the requests that the credit built up by ``now`` pays for."""
        if now is None:
            now = self._now()
        if self.nextTime is None:
            self.resetTiming(now)
        if now + _EPSILON >= self.nextTime:
            self._credit(now)
            while self.nextTime <= now + _EPSILON:
                # Counted from the last change of rate, not summed: no drift.
                self._periods += 1
                self.nextTime = self._origin + self._periods * self.timestep
        while self._chunkDue():
            if self.aggregate:
                chunk = int(self.toSend + self.chunksize * _RELATIVE_SLACK)
                self.toSend -= chunk
            else:
                # One chunk's worth of credit; the whole numbers requested
                # follow the running total, so a chunksize of 33.3 gives
                # 33, 33, 34.
                self.toSend -= self.chunksize
                self._chunksTaken += 1
                total = int(self._chunksTaken * self.chunksize + _EPSILON)
                chunk = total - self._requested
                self._requested = total
            if chunk:
                yield chunk

    def changeRate(self, newRate, now=None):
        """From ``now`` on, request at ``newRate``; the chunk in progress finishes at the new rate."""
        if newRate == self.rate:
            return
        if now is None:
            now = self._now()
        if self.nextTime is None:
            self.resetTiming(now)
        self._credit(now)
        remaining = max(0.0, 1.0 - self.toSend / self.chunksize)
        self.rate = newRate
        self.timestep = self._period(newRate)
        self.nextTime = now + self.timestep * remaining if newRate > 0 else float("inf")
        self._origin = self.nextTime
        self._periods = 0

    def main(self):
        self.resetTiming(self._now())
        while not self._shutdownRequested():
            now = self._now()
            while self.dataReady("inbox"):
                self.changeRate(self.recv("inbox"), now)
            for chunk in self.getChunksToSend(now):
                self.send(chunk, "outbox")
            due = self.nextTime if self.nextTime != float("inf") else None
            if self._wakeAt(due):
                self.pause()
            yield 1


class MessageRateLimit(_TimedComponent):
    """MessageRateLimit(messages_per_second[, buffer][, hardlimit=n])
    -> passes messages on at a limited rate.
    """

    Inboxes = {"inbox": "Messages to pass on",
               "control": "producerFinished (finish passing on, then stop) or "
                          "shutdownMicroprocess (stop now)"}
    Outboxes = {"outbox": "The messages, no faster than the rate",
                "signal": "The shutdown message, when it stops (and, while buffering, "
                          "any other control message)"}

    hardlimit = 0

    def __init__(self, messages_per_second, buffer=60, **argd):
        super().__init__(**argd)
        if messages_per_second <= 0:
            raise ValueError("messages_per_second must be positive, got %r"
                             % (messages_per_second,))
        self.mps = messages_per_second
        self.buffer = buffer
        self.interval = 1.0 / (messages_per_second * 1.1)

    def _checkControl(self, buffering):
        """"stop" on shutdownMicroprocess; records producerFinished in ``self.finishing``."""
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, shutdownMicroprocess):
                self.send(msg, "signal")
                return "stop"
            if isinstance(msg, producerFinished):
                self.finishing = msg
            elif buffering:
                self.send(msg, "signal")
        return None

    def _buffered(self):
        return self.dataReady("inbox") >= self.buffer or self.finishing is not None

    def main(self):
        self.finishing = None
        while not self._buffered():
            if self._checkControl(buffering=True) == "stop":
                return
            if self._buffered():
                break
            self.pause()
            yield 1
        if self.hardlimit:
            self.setInboxSize("inbox", self.hardlimit)
        nextSend = self._now()
        while True:
            if self._checkControl(buffering=False) == "stop":
                self._cancelTimer()
                return
            if self.dataReady("inbox"):
                now = self._now()
                if now + _EPSILON >= nextSend:
                    slot = max(nextSend, now)
                    self.send(self.recv("inbox"), "outbox")
                    nextSend = slot + self.interval
                    continue
                if not self._wakeAt(nextSend):
                    yield 1
                    continue
            elif self.finishing is not None:
                self._cancelTimer()
                self.send(self.finishing, "signal")
                return
            self.pause()
            yield 1


class OnDemandLimit(component):
    """OnDemandLimit() -> passes one inbox message on for each request on "slidecontrol"."""

    Inboxes = {"inbox": "Messages to pass on, on demand",
               "control": "producerFinished (serve what is left, then stop) or "
                          "shutdownMicroprocess (stop now)",
               "slidecontrol": "\"NEXT\": pass one message on (anything else is ignored)"}
    Outboxes = {"outbox": "One message per request",
                "signal": "The shutdown message, when it stops"}

    def main(self):
        demand = 0
        finishing = None
        while True:
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, shutdownMicroprocess):
                    self.send(msg, "signal")
                    return
                if isinstance(msg, producerFinished):
                    finishing = msg
            while self.dataReady("slidecontrol"):
                if self.recv("slidecontrol") == "NEXT":
                    demand += 1
            while demand and self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
                demand -= 1
            if finishing is not None and not self.dataReady("inbox"):
                self.send(finishing, "signal")
                return
            self.pause()
            yield 1


__kamaelia_components__ = (MessageRateLimit,
                           ByteRate_RequestControl,
                           VariableByteRate_RequestControl,
                           OnDemandLimit)
