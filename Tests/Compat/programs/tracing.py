"""Trace and helper components shared by the Kamaelia 1.x style programs here.

Written the way 1.x programs wrote their own little helpers: plain
components with a ``main`` generator, ``dataReady``/``recv``/``send`` and
``pause``/``yield 1``.

* ``Tracer(label)`` passes "inbox" to "outbox" and "control" to "signal",
  noting every item in ``EVENTS``; it ends after passing on a
  ``producerFinished`` or ``shutdownMicroprocess``.
* ``Collector(label, expect=1, noteData=True)`` keeps what arrives in
  ``received`` and ``controls`` (and notes it: the data only if
  ``noteData``), and ends once ``expect`` shutdown messages have arrived on
  "control".
* ``NameServer(names, unprompted=True)`` sends one name on "outbox" for
  each request arriving on "inbox" (and, if ``unprompted``, the first one
  at once); asked for more than it has, it says producerFinished on
  "signal" and ends. It answers a Carousel's "requestNext".
* ``report()`` prints the notes, one label at a time (labels sorted, each
  label's notes in the order they were made), so the output does not
  depend on how the scheduler interleaves independent components.

Example::

    Pipeline(DataSource([1, 2]), Tracer("T"), Collector("END")).run()
    report()
    # END control producerFinished
    # END data 1
    # ...
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess

EVENTS = []


def note(label, kind, value):
    EVENTS.append((label, kind, value))


def describe(message):
    return message.__class__.__name__


class Tracer(component):
    def __init__(self, label):
        super(Tracer, self).__init__()
        self.label = label

    def main(self):
        while 1:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                note(self.label, "data", repr(data))
                self.send(data, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                note(self.label, "control", describe(msg))
                self.send(msg, "signal")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    return
            if not self.anyReady():
                self.pause()
            yield 1


class Collector(component):
    def __init__(self, label, expect=1, noteData=True):
        super(Collector, self).__init__()
        self.label = label
        self.expect = expect
        self.noteData = noteData
        self.received = []
        self.controls = []

    def main(self):
        while len(self.controls) < self.expect:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                self.received.append(data)
                if self.noteData:
                    note(self.label, "data", repr(data))
            while self.dataReady("control") and len(self.controls) < self.expect:
                msg = self.recv("control")
                self.controls.append(msg)
                note(self.label, "control", describe(msg))
            if len(self.controls) < self.expect and not self.anyReady():
                self.pause()
            yield 1


class NameServer(component):
    def __init__(self, names, unprompted=True):
        super(NameServer, self).__init__()
        self.names = list(names)
        self.unprompted = unprompted

    def main(self):
        if self.unprompted:
            self.send(self.names.pop(0), "outbox")
        while 1:
            while self.dataReady("inbox"):
                note("NAMESERVER", "request", repr(self.recv("inbox")))
                if self.names:
                    self.send(self.names.pop(0), "outbox")
                else:
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


def report():
    order = sorted(set(label for label, _, _ in EVENTS))
    for label in order:
        for event in EVENTS:
            if event[0] == label:
                print("%s %s %s" % event)
