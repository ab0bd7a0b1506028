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
* ``EchoTalker(lines, closeWith=None)`` drives a TCPClient ("outbox" to its
  "inbox", its "outbox" to "inbox", its "signal" to "control"): sends each
  line, waits until as many bytes have come back, prints them; then sends
  ``closeWith`` (for a server that closes on it) or, if None, says
  producerFinished on "signal" (which closes the client's connection);
  once the client says it has closed, sends ``serverShutdown()`` on
  "serverctl" (link it to the server's "control").
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
from Kamaelia.IPC import serverShutdown

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


class EchoTalker(component):
    Outboxes = {"outbox": "lines for the server",
                "signal": "producerFinished to close the client (if closeWith is None)",
                "serverctl": "serverShutdown for the server, once the client has closed"}

    def __init__(self, lines, closeWith=None):
        super(EchoTalker, self).__init__()
        self.lines = lines
        self.closeWith = closeWith

    def main(self):
        for line in self.lines:
            self.send(line, "outbox")
            answer = b""
            while len(answer) < len(line):
                while self.dataReady("inbox"):
                    answer += self.recv("inbox")
                if len(answer) < len(line):
                    self.pause()
                    yield 1
            print("client got back:", answer)
        if self.closeWith is not None:
            self.send(self.closeWith, "outbox")
        else:
            self.send(producerFinished(self), "signal")
        while not self.dataReady("control"):
            while self.dataReady("inbox"):
                self.recv("inbox")
            self.pause()
            yield 1
        note("TALKER", "control", describe(self.recv("control")))
        self.send(serverShutdown(), "serverctl")


def report():
    order = sorted(set(label for label, _, _ in EVENTS))
    for label in order:
        for event in EVENTS:
            if event[0] == label:
                print("%s %s %s" % event)
