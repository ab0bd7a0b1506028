"""
Kamaelia.Util.RateFilter: pacing data with the scheduler's clock
================================================================

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

Show at most 5 messages a second, starting once 10 have arrived (a
fragment: ``source`` and ``display`` are yours)::

    Pipeline(source, MessageRateLimit(5, buffer=10), display)

How does it work?
-----------------
All of them read time from their scheduler's clock (``scheduler.clock()``)
and sleep on scheduler timers (``scheduler.callAt``) until the next item is
due -- they never poll -- so they can be tested with a fake clock.

``ByteRate_RequestControl(rate=100000, chunksize=None, chunkrate=None,
allowchunkaggregation=False)``: ``rate`` items per second, requested as
chunks of ``chunksize`` items or ``chunkrate`` chunks per second (give one
or neither: with neither, ``chunkrate`` is 10). The first request is sent
as soon as it starts and then one every ``1/chunkrate`` seconds. Chunk
sizes are whole numbers whose running total follows ``rate`` exactly (with
``rate=1000`` and ``chunkrate=3`` they are 333, 333, 334, ...); a chunk
that rounds to 0 is not sent. If the scheduler falls behind, the missed
chunks are sent at once to catch up -- as one request for their total if
``allowchunkaggregation`` is true, else one request each.

``VariableByteRate_RequestControl`` takes the same arguments; a number
arriving on its "inbox" becomes the new ``rate`` from that moment (chunks
due at the old rate are sent first; the next chunk at the new rate is due
one chunk period later). A rate of 0 or less stops requests until a
positive rate arrives.

``MessageRateLimit(messages_per_second, buffer=60, hardlimit=None)``:
it waits until ``buffer`` messages are waiting in its inbox (or a
``producerFinished`` arrives), then passes them on, one every
``1/messages_per_second`` seconds at most; when the inbox runs dry it waits
for the next message (no catching up in bursts). ``hardlimit`` (a keyword)
limits its inbox to that many messages, so that senders get
``noSpaceInBox`` -- keep it at least ``buffer``, or it can never start.

``OnDemandLimit()``: each message on "slidecontrol" (for example "NEXT")
lets one message from "inbox" through; requests made while the inbox is
empty are remembered and served as messages arrive.

Termination
-----------
``ByteRate_RequestControl`` and ``VariableByteRate_RequestControl`` stop on
``producerFinished`` or ``shutdownMicroprocess`` on "control", forwarding
it to "signal"; otherwise they run for ever.

``MessageRateLimit`` on ``shutdownMicroprocess`` forwards it and stops at
once (discarding what it holds); on ``producerFinished`` it first passes on
everything it holds, still at the limited rate, then forwards the
``producerFinished``.

``OnDemandLimit`` on ``shutdownMicroprocess`` forwards it and stops; on
``producerFinished`` it keeps serving requests until its inbox is empty,
then forwards it and stops.
"""

import math

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

DEFAULT_CHUNKRATE = 10

# Timers fire exactly when due, but float arithmetic may put "now" a hair
# before a computed due time; this slack stops that from re-arming a timer
# for the same instant.
_EPSILON = 1e-9


class _ChunkSchedule(object):
    """Which chunk sizes are due by a given time, for a steady rate."""

    def __init__(self, rate, chunksize, chunkrate, start, immediate=True):
        if chunksize is not None and chunkrate is not None:
            raise ValueError("give chunksize or chunkrate, not both")
        self.rate = rate
        self.start = start
        self.sent = 0
        self.total = 0
        self.offset = 0 if immediate else 1
        if rate <= 0:
            self.chunkrate = 0
            self.chunksize = 0
            return
        if chunksize is None:
            self.chunkrate = DEFAULT_CHUNKRATE if chunkrate is None else chunkrate
            self.chunksize = rate / self.chunkrate
        else:
            if chunksize <= 0:
                raise ValueError("chunksize must be positive, got %r" % (chunksize,))
            self.chunksize = chunksize
            self.chunkrate = rate / chunksize

    def nextDue(self):
        """When the next chunk is due, or None if none ever will be."""
        if self.chunkrate <= 0:
            return None
        return self.start + (self.sent + self.offset) / self.chunkrate

    def take(self, now):
        """The sizes of the chunks due by ``now`` (zero sizes left out), marking them sent."""
        if self.chunkrate <= 0:
            return []
        due = math.floor((now - self.start) * self.chunkrate + _EPSILON) + 1 - self.offset
        sizes = []
        while self.sent < due:
            self.sent += 1
            total = math.floor(self.sent * self.chunksize + _EPSILON)
            size = total - self.total
            self.total = total
            if size > 0:
                sizes.append(size)
        return sizes


class _TimedComponent(component):
    """A component that sleeps on one scheduler timer at a time."""

    _timer = None

    def _wakeAt(self, when):
        """Make sure this component is woken at ``when`` (None: no wake-up needed)."""
        if self._timer is not None:
            if when is not None and self._timer.when == when:
                return
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = self.scheduler.callAt(when, self._timerFired)

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


def _isShutdown(msg):
    return isinstance(msg, (producerFinished, shutdownMicroprocess))


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
        if chunksize is not None and chunkrate is not None:
            raise ValueError("give chunksize or chunkrate, not both")
        self.rate = rate
        self.chunksize = chunksize
        self.chunkrate = chunkrate
        self.allowchunkaggregation = allowchunkaggregation
        self.schedule = None

    def resetTiming(self, immediate=True):
        """Start counting chunks from now, at the current rate."""
        self.schedule = _ChunkSchedule(self.rate, self.chunksize, self.chunkrate,
                                       self.scheduler.clock(), immediate)

    def getChunksToSend(self):
        """The request sizes due now (aggregated into one if allowed)."""
        sizes = self.schedule.take(self.scheduler.clock())
        if self.allowchunkaggregation and len(sizes) > 1:
            return [sum(sizes)]
        return sizes

    def handleInbox(self):
        """Deal with the "inbox" (nothing to do here; see the variable-rate subclass)."""

    def main(self):
        self.resetTiming()
        while True:
            while self.dataReady("control"):
                msg = self.recv("control")
                if _isShutdown(msg):
                    self._cancelTimer()
                    self.send(msg, "signal")
                    return
            self.handleInbox()
            for size in self.getChunksToSend():
                self.send(size, "outbox")
            self._wakeAt(self.schedule.nextDue())
            self.pause()
            yield 1


class VariableByteRate_RequestControl(ByteRate_RequestControl):
    """VariableByteRate_RequestControl([rate][, chunksize][, chunkrate][, allowchunkaggregation])
    -> like ByteRate_RequestControl, with the rate changed by numbers sent to its inbox.
    """

    Inboxes = {"inbox": "A new rate (items per second)",
               "control": "producerFinished or shutdownMicroprocess to stop"}
    Outboxes = {"outbox": "Requests: the number of items wanted (an int)",
                "signal": "The shutdown message that stopped it"}

    def handleInbox(self):
        while self.dataReady("inbox"):
            newRate = self.recv("inbox")
            for size in self.getChunksToSend():
                self.send(size, "outbox")
            self.rate = newRate
            self.resetTiming(immediate=False)


class MessageRateLimit(_TimedComponent):
    """MessageRateLimit(messages_per_second[, buffer]) -> passes messages on at a limited rate."""

    Inboxes = {"inbox": "Messages to pass on",
               "control": "producerFinished (finish passing on, then stop) or "
                          "shutdownMicroprocess (stop now)"}
    Outboxes = {"outbox": "The messages, no faster than messages_per_second",
                "signal": "The shutdown message, when it stops"}

    hardlimit = None

    def __init__(self, messages_per_second, buffer=60, **argd):
        super().__init__(**argd)
        if messages_per_second <= 0:
            raise ValueError("messages_per_second must be positive")
        self.mps = messages_per_second
        self.buffer = buffer
        if self.hardlimit is not None:
            self.setInboxSize("inbox", self.hardlimit)

    def _checkControl(self):
        """Returns "stop" on shutdownMicroprocess; records producerFinished."""
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, shutdownMicroprocess):
                self.send(msg, "signal")
                return "stop"
            if isinstance(msg, producerFinished):
                self.finishing = msg
        return None

    def main(self):
        self.finishing = None
        while self.dataReady("inbox") < self.buffer and self.finishing is None:
            if self._checkControl() == "stop":
                return
            if self.dataReady("inbox") >= self.buffer or self.finishing is not None:
                break
            self.pause()
            yield 1
        interval = 1.0 / self.mps
        nextSend = self.scheduler.clock()
        while True:
            if self._checkControl() == "stop":
                self._cancelTimer()
                return
            if self.dataReady("inbox"):
                now = self.scheduler.clock()
                if now + _EPSILON >= nextSend:
                    slot = max(nextSend, now)
                    self.send(self.recv("inbox"), "outbox")
                    nextSend = slot + interval
                    continue
                self._wakeAt(nextSend)
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
               "slidecontrol": "Requests (for example \"NEXT\"): one message each"}
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
                self.recv("slidecontrol")
                demand += 1
            while demand and self.dataReady("inbox"):
                self.send(self.recv("inbox"), "outbox")
                demand -= 1
            if finishing is not None and not self.dataReady("inbox"):
                self.send(finishing, "signal")
                return
            self.pause()
            yield 1


__kamaelia_components__ = (ByteRate_RequestControl,
                           VariableByteRate_RequestControl,
                           MessageRateLimit,
                           OnDemandLimit)
