#!/usr/bin/env python3
"""
LikeFileFromPlainCode: drive a component from ordinary code with likefile
=========================================================================

What it shows: the scheduler runs in a background thread (``background``),
and plain, non-generator code talks to a component through ``likefile``:
``put`` a message into its inbox, ``get`` the reply from its outbox (waiting
for it, or giving up after a timeout with ``queue.Empty``), tell it to
finish through its "control" inbox and read its goodbye from "signal", then
``shutdown()`` the likefile (releasing its helpers) and stop the background
thread.

Run it::

    python3 Examples/Axon/LikeFileFromPlainCode.py

What you should see::

    'the quick brown fox' has 4 words
    'jumps over' has 2 words
    '' has 0 words
    nothing more within 0.1s: queue.Empty, as expected
    counter said: producerFinished
    background stopped: True
"""

import queue

from Axon.Component import component
from Axon.experimental._pprocess_support import background, likefile
from Axon.Ipc import producerFinished, shutdownMicroprocess


class WordCounter(component):
    """Replies to each line with its number of words; ends on shutdownMicroprocess."""

    def main(self):
        while True:
            for line in self.Inbox("inbox"):
                self.send(len(line.split()), "outbox")
            for message in self.Inbox("control"):
                if isinstance(message, shutdownMicroprocess):
                    self.send(producerFinished(self), "signal")
                    return
            self.pause()
            yield 1


def main():
    bg = background()
    bg.start()
    counter = likefile(WordCounter())
    for line in ["the quick brown fox", "jumps over", ""]:
        counter.put(line)
        print("%r has %d words" % (line, counter.get(timeout=5)))
    try:
        counter.get(timeout=0.1)
    except queue.Empty:
        print("nothing more within 0.1s: queue.Empty, as expected")
    counter.put(shutdownMicroprocess(), "control")
    print("counter said:", type(counter.get("signal", timeout=5)).__name__)
    counter.shutdown()
    print("background stopped:", bg.stop(timeout=5))


if __name__ == "__main__":
    main()
