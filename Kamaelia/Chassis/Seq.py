"""
Kamaelia.Chassis.Seq: components one after another
==================================================

A ``Seq`` runs a sequence of components one at a time, each starting when
the previous one has terminated, with each in turn taking the Seq's place:
its "inbox" is fed from the Seq's and its "outbox" comes out of the Seq's.
Strings in the sequence are written to standard output when reached, which
makes a handy running commentary.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Chassis.Seq import Seq
    from Kamaelia.Util.OneShot import OneShot
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        Seq(
            "Greeting...",
            OneShot("hello\\n"),
            "Farewell...",
            OneShot("goodbye\\n"),
        ),
        ConsoleEchoer(),
    ).run()

How does it work?
-----------------
``Seq(*sequence)``. For each item in turn:

* a ``str`` is written to standard output followed by a newline;
* a component is made a child, its "inbox" is linked straight through from
  the Seq's "inbox" (passthrough=1) and its "outbox" straight out to the
  Seq's "outbox" (passthrough=2), and it is activated. Its "control" and
  "signal" are not linked. The Seq sleeps until it has terminated, then
  unlinks it and moves on.

Data sent to the Seq between two components waits in the Seq's inbox and
goes to the next component.

Termination
-----------
After the last item the Seq sends ``producerFinished(self)`` out of
"signal" and terminates. It ignores its own "control" inbox: it cannot be
told to stop early (the components in it decide when they are done).
"""

import sys

from Axon.Component import component
from Axon.Ipc import producerFinished


class Seq(component):
    """Seq(*sequence) -> runs the components of ``sequence`` one after another.

    String items are written to standard output as they are reached.
    """

    Inboxes = {"inbox": "Passed straight through to the component currently running",
               "control": "Ignored"}
    Outboxes = {"outbox": "The running component's outbox, passed straight out",
                "signal": "producerFinished(self) once the whole sequence has run"}

    def __init__(self, *sequence):
        super().__init__()
        self.sequence = sequence

    def main(self):
        """Run each item of the sequence in turn, then signal producerFinished."""
        for item in self.sequence:
            if isinstance(item, str):
                sys.stdout.write(item + "\n")
                sys.stdout.flush()
                continue
            self.link((self, "inbox"), (item, "inbox"), passthrough=1)
            self.link((item, "outbox"), (self, "outbox"), passthrough=2)
            self.addChildren(item)
            item.activate()
            while not item._isStopped():
                self.pause()
                yield 1
            self.removeChild(item)
        self.send(producerFinished(self), "signal")


__kamaelia_components__ = (Seq,)
