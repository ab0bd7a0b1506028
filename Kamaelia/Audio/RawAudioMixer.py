"""
Kamaelia.Audio.RawAudioMixer: mix raw audio from sources that come and go
=========================================================================

``RawAudioMixer`` mixes raw signed 16-bit little-endian PCM ("S16_LE")
from any number of sources. Each message on its "inbox" is ``(sourceId,
audioData)``. A source's audio is buffered until it has enough to play
(``readThreshold`` seconds); then, every ``readInterval`` seconds, the
mixer takes the next ``readInterval`` of audio from every playing source,
adds them up sample by sample and sends the result on "outbox".

Example Usage
-------------
Two tones, one starting a moment after the other; ``Show`` prints what
comes out, and stops the mixer once it has had 0.2 s of audio::

    import struct
    from Axon.Component import component
    from Axon.Ipc import shutdownMicroprocess
    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Audio.RawAudioMixer import RawAudioMixer

    def tone(value, samples):
        return struct.pack("<%dh" % samples, *[value] * samples)

    class Show(component):
        Outboxes = {"outbox": "unused", "signal": "shutdownMicroprocess for the mixer"}

        def main(self):
            runs, heard = [], 0
            while heard < 1600:
                while not self.dataReady("inbox"):
                    self.pause()
                    yield 1
                chunk = self.recv("inbox")
                for value in struct.unpack("<%dh" % (len(chunk) // 2), chunk):
                    if runs and runs[-1][0] == value:
                        runs[-1][1] += 1
                    else:
                        runs.append([value, 1])
                    heard += 1
            for value, count in runs:
                print("%d samples of %d" % (count, value))
            self.send(shutdownMicroprocess(), "signal")

    Graphline(
        SOURCES=DataSource([("a", tone(1000, 1600)), ("b", tone(-300, 800))]),
        MIXER=RawAudioMixer(sample_rate=8000, readThreshold=0.1, readInterval=0.05),
        SHOW=Show(),
        linkages={
            ("SOURCES", "outbox"): ("MIXER", "inbox"),
            ("MIXER", "outbox"): ("SHOW", "inbox"),
            ("SHOW", "signal"): ("MIXER", "control"),
        },
    ).run()

prints (the mixer starts as soon as one source has enough, so for its
first 50 ms "a" plays alone)::

    400 samples of 1000
    800 samples of 700
    400 samples of 1000

How does it work?
-----------------
``RawAudioMixer(sample_rate=8000, channels=1, format="S16_LE",
readThreshold=1.0, bufferingLimit=2.0, readInterval=0.1)`` is a
``threadedcomponent``. Only ``"S16_LE"`` is supported (anything else:
``ValueError``). A sample frame is ``quanta = 2*channels`` bytes. When it
starts (so the attributes may be changed after construction) it works out,
in bytes: the buffer limit ``int(sample_rate*bufferingLimit*quanta)``, the
threshold ``int(sample_rate*readThreshold*quanta)`` and the chunk read each
interval ``int(sample_rate*readInterval)*quanta``.

Each source has an ``AudioBuffer`` (created when its first audio arrives).
It becomes *active* once it holds the threshold; beyond the limit its
oldest audio is dropped. Popping from an inactive buffer gives nothing;
popping more than an active buffer holds gives what there is padded with
silence to the size asked for, and the buffer becomes inactive once empty.

The mixer alternates between two phases. *Filling*: it reads messages into
buffers until one becomes active, sleeping while there are none. *Output*:
every ``readInterval`` (a fixed cadence: after a stall it catches up), it
pops one chunk from every buffer, forgets the buffers that are now empty
and, if anything was popped, sends the mix of it. Between those moments it
reads more messages. When no buffers are left it goes back to filling; a
source that never reaches the threshold keeps its buffer, and the mixer in
the output phase, for ever (as in 1.x).

``mix_S16_LE(sources, amount)`` adds up the signed 16-bit little-endian
samples of each source in the first ``amount`` bytes and returns the sums,
wrapped modulo 2**16 (no scaling or clipping), ``amount`` bytes long.

Audio is ``bytes``. As in 1.x, ``str`` with one character per byte also
works, and gives ``str`` out. Time is read through ``_time.time()``, where
``_time`` is this module's name for the ``time`` module -- a test may
replace ``Kamaelia.Audio.RawAudioMixer._time`` with any object that has a
``time()`` method.

Inboxes: "inbox" (``(sourceId, audioData)``), "control" (shutdown
messages). Outboxes: "outbox" (mixed audio, ``bytes``), "signal" (the
shutdown message; also any other control message received).

Termination
-----------
On ``producerFinished`` or ``shutdownMicroprocess`` on "control" it stops
at once, discarding buffered audio, and sends that message on "signal".
Other control messages are passed straight on to "signal" (1.x did so).
"""

import struct
import time as _time

from Axon.AxonExceptions import noSpaceInBox
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.ThreadedComponent import threadedcomponent


def _asStr(data):
    return data.decode("latin-1") if isinstance(data, (bytes, bytearray)) else data


class AudioBuffer(object):
    """AudioBuffer(activationThreshold, sizeLimit, silence) -> one source's queued audio."""

    def __init__(self, activationThreshold, sizeLimit, silence):
        self.activationThreshold = activationThreshold
        self.sizeLimit = sizeLimit
        self.silence = silence
        self.buffer = []
        self.size = 0
        self.active = False
        self._empty = silence[:0]

    def __len__(self):
        return self.size

    def append(self, data):
        """Queue ``data``; active once the threshold is reached; oldest dropped beyond the limit."""
        if not self.buffer:
            self._empty = data[:0]      # str in, str out; bytes in, bytes out
        self.buffer.append(data)
        self.size += len(data)
        if self.size >= self.activationThreshold:
            self.active = True
        if self.size > self.sizeLimit:
            self.drop(self.size - self.sizeLimit)

    def drop(self, amount):
        """Remove ``amount`` units from the front."""
        self._take(amount)

    def _take(self, amount):
        taken = []
        while amount > 0 and self.buffer:
            first = self.buffer[0]
            if len(first) <= amount:
                taken.append(self.buffer.pop(0))
                amount -= len(first)
                self.size -= len(first)
            else:
                taken.append(first[:amount])
                self.buffer[0] = first[amount:]
                self.size -= amount
                amount = 0
        return taken

    def pop(self, amount):
        """The next ``amount`` units (padded with silence), or nothing if not active."""
        if not self.active:
            return self._empty
        padding = self._empty
        if amount > self.size:
            shortfall = amount - self.size
            repeats = -(-shortfall // len(self.silence))
            padding = (self.silence * repeats)[:shortfall]
            if isinstance(self._empty, str):
                padding = _asStr(padding)
            amount = self.size
        taken = self._take(amount)
        if self.size == 0:
            self.active = False
        return self._empty.join(taken) + padding


def mix_S16_LE(sources, amount):
    """Sum signed 16-bit little-endian samples of ``sources`` over ``amount`` bytes (wrapping)."""
    count = amount // 2
    if not sources:
        return bytes(2 * count)
    asText = isinstance(sources[0], str)
    totals = [0] * count
    for source in sources:
        raw = source.encode("latin-1") if isinstance(source, str) else bytes(source)
        raw = raw[:2 * count].ljust(2 * count, b"\x00")
        for i, sample in enumerate(struct.unpack("<%dh" % count, raw)):
            totals[i] += sample
    mixed = struct.pack("<%dH" % count, *[total & 0xFFFF for total in totals])
    return _asStr(mixed) if asText else mixed


class RawAudioMixer(threadedcomponent):
    """RawAudioMixer([sample_rate][, channels][, format][, readThreshold][, bufferingLimit]
    [, readInterval]) -> mixes (sourceId, audio) messages into one stream.
    """

    Inboxes = {"inbox": "(sourceId, audioData) tuples: raw S16_LE audio from each source",
               "control": "producerFinished or shutdownMicroprocess to stop (at once)"}
    Outboxes = {"outbox": "The mixed audio (bytes), readInterval seconds per message",
                "signal": "The shutdown message; also any other control message received"}

    mix_S16_LE = staticmethod(mix_S16_LE)

    def __init__(self, sample_rate=8000, channels=1, format="S16_LE", readThreshold=1.0,
                 bufferingLimit=2.0, readInterval=0.1):
        super().__init__()
        if format != "S16_LE":
            raise ValueError("Format '%s' not (yet) supported. Sorry!" % format)
        self.sample_rate = sample_rate
        self.channels = channels
        self.format = format
        self.readThreshold = readThreshold
        self.bufferingLimit = bufferingLimit
        self.readInterval = readInterval
        self.mix = mix_S16_LE
        self.quanta = channels * 2
        self.silence = b"\x00\x00"
        self._computeSizes()

    def _computeSizes(self):
        self.bufferSizeLimit = int(self.sample_rate * self.bufferingLimit * self.quanta)
        self.bufferThreshold = int(self.sample_rate * self.readThreshold * self.quanta)
        self.readChunkSize = int(self.sample_rate * self.readInterval) * self.quanta

    def fillBuffer(self, buffers, data):
        """Queue one ``(sourceId, audio)`` message in its source's buffer; True if it is active."""
        sourceId, audio = data
        buf = buffers.get(sourceId)
        if buf is None:
            buf = buffers[sourceId] = AudioBuffer(self.bufferThreshold, self.bufferSizeLimit,
                                                  self.silence)
        buf.append(audio)
        return buf.active

    def checkForShutdown(self):
        """The first shutdown message waiting on "control" (others go to "signal"), or False."""
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                return msg
            self._send(msg, "signal")
        return False

    def _send(self, message, boxname):
        """Send, waiting for room if the way out is full."""
        while True:
            try:
                self.send(message, boxname)
                return
            except noSpaceInBox:
                self.pause(self.readInterval)

    def _readOne(self, buffers):
        return self.fillBuffer(buffers, self.recv("inbox"))

    def main(self):
        self._computeSizes()
        buffers = {}
        while True:
            # Filling: until one source has enough to play.
            while True:
                activated = False
                while self.dataReady("inbox") and not activated:
                    activated = self._readOne(buffers)
                stop = self.checkForShutdown()
                if stop:
                    self._send(stop, "signal")
                    return
                if activated:
                    break
                self.pause()
            # Output: one chunk from every buffer each readInterval.
            nextReadTime = _time.time()
            while buffers:
                now = _time.time()
                while now < nextReadTime and self.dataReady("inbox"):
                    self._readOne(buffers)
                    now = _time.time()
                if now >= nextReadTime:
                    popped = []
                    for sourceId in list(buffers):
                        audio = buffers[sourceId].pop(self.readChunkSize)
                        if len(audio):
                            popped.append(audio)
                        if len(buffers[sourceId]) == 0:
                            del buffers[sourceId]
                    if popped:
                        self._send(self.mix(popped, self.readChunkSize), "outbox")
                    nextReadTime += self.readInterval
                stop = self.checkForShutdown()
                if stop:
                    self._send(stop, "signal")
                    return
                if buffers and not self.dataReady("inbox"):
                    self.pause(max(0.0, nextReadTime - _time.time()))


__kamaelia_components__ = (RawAudioMixer,)
