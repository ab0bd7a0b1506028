#!/usr/bin/env python3
"""
Graphline demo: wiring named components, and how a Graphline shuts down
=======================================================================

What it shows:

* a ``Graphline`` ("words") wiring three named components, with its own
  "inbox" and "outbox" linked to them ("self" boxes, passed straight
  through), used as a component inside another Graphline;
* a box invented by the linkages: ("self", "tally") becomes a new outbox of
  the Graphline, fed by its COUNT component;
* shutdown: the source's ``producerFinished`` reaches the words Graphline's
  "control". The linkages do not route that box, so the Graphline forwards
  the message to each child whose "control" nothing is linked to -- only
  SPLIT; UPPER and COUNT hear about it from the "signal" of the component
  before them. When all three have finished, the words Graphline (whose
  "signal" is not linked inside it) sends a ``producerFinished`` of its own,
  which stops the printer. The outer Graphline then finishes too and the
  program ends by itself.

Run it::

    python3 Examples/Kamaelia/GraphlineDemo.py

You should see::

    words Graphline boxes: inboxes ['control', 'inbox'], outboxes ['_cs', 'outbox', 'signal', 'tally']
    shown: THE
    shown: CAT
    shown: SAT
    shown: ON
    shown: THE
    shown: MAT
    COUNT saw 6 words
    printer got producerFinished on control: the graphline has finished
    all components have finished
"""

import sys

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Kamaelia.Chassis.Graphline import Graphline


def isShutdown(message):
    return isinstance(message, (producerFinished, shutdownMicroprocess))


class Lines(component):
    """Sends each line, then producerFinished."""

    def __init__(self, lines):
        super().__init__()
        self.lines = lines

    def main(self):
        for line in self.lines:
            self.send(line, "outbox")
            yield 1
        self.send(producerFinished(self), "signal")


class Splitter(component):
    """Splits lines into words, sent both on "outbox" and on "words"."""

    Outboxes = {"outbox": "each word", "words": "each word again", "signal": "shutdown"}

    def main(self):
        while True:
            while self.dataReady("inbox"):
                for word in self.recv("inbox").split():
                    self.send(word, "outbox")
                    self.send(word, "words")
            while self.dataReady("control"):
                message = self.recv("control")
                if isShutdown(message):
                    self.send(message, "signal")
                    return
            self.pause()
            yield 1


class Transformer(component):
    """Sends ``function(item)`` for each item."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.send(self.function(self.recv("inbox")), "outbox")
            while self.dataReady("control"):
                message = self.recv("control")
                if isShutdown(message):
                    self.send(message, "signal")
                    return
            self.pause()
            yield 1


class Counter(component):
    """Counts what arrives; reports the total on "outbox" when told to stop."""

    def main(self):
        count = 0
        while True:
            while self.dataReady("inbox"):
                self.recv("inbox")
                count += 1
            while self.dataReady("control"):
                if isShutdown(self.recv("control")):
                    self.send("COUNT saw %d words" % count, "outbox")
                    return
            self.pause()
            yield 1


class Printer(component):
    """Prints what arrives on "inbox" and on the extra "tally" inbox."""

    Inboxes = {"inbox": "lines to print", "tally": "totals to print",
               "control": "any message here ends the printer"}

    def main(self):
        while True:
            while self.dataReady("inbox"):
                print("shown:", self.recv("inbox"))
            while self.dataReady("tally"):
                print(self.recv("tally"))
            if self.dataReady("control"):
                message = self.recv("control")
                print("printer got %s on control: the graphline has finished"
                      % type(message).__name__)
                return
            self.pause()
            yield 1


def makeWordsGraphline():
    """Words in, upper-case words out, and a word count out of an invented "tally" box."""
    return Graphline(
        SPLIT=Splitter(),
        UPPER=Transformer(lambda word: word.upper()),
        COUNT=Counter(),
        linkages={
            ("self", "inbox"): ("SPLIT", "inbox"),       # passthrough into a child
            ("SPLIT", "outbox"): ("UPPER", "inbox"),
            ("SPLIT", "words"): ("COUNT", "inbox"),
            ("SPLIT", "signal"): ("UPPER", "control"),
            ("UPPER", "signal"): ("COUNT", "control"),
            ("UPPER", "outbox"): ("self", "outbox"),     # passthrough out of a child
            ("COUNT", "outbox"): ("self", "tally"),      # "tally" is created
        },
    )


def main():
    words = makeWordsGraphline()
    print("words Graphline boxes: inboxes %s, outboxes %s"
          % (sorted(words.inboxes), sorted(words.outboxes)))
    Graphline(
        SOURCE=Lines(["the cat sat", "on the mat"]),
        WORDS=words,
        SHOW=Printer(),
        linkages={
            ("SOURCE", "outbox"): ("WORDS", "inbox"),
            ("SOURCE", "signal"): ("WORDS", "control"),
            ("WORDS", "outbox"): ("SHOW", "inbox"),
            ("WORDS", "tally"): ("SHOW", "tally"),
            ("WORDS", "signal"): ("SHOW", "control"),
        },
    ).activate()
    scheduler.run.runThreads()
    print("all components have finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
