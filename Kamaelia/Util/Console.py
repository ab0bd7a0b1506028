"""
Kamaelia.Util.Console: read lines from the keyboard, write to the screen
========================================================================

``ConsoleReader`` sends each line typed at the console; ``ConsoleEchoer``
writes whatever it receives to standard output.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(DataSource(["one\\n", "two\\n"]), ConsoleEchoer(tag="> ")).run()

An interactive echo (type lines; end with Ctrl-D, which stops the program
with ``EOFError`` as in Kamaelia 1.x)::

    from Kamaelia.Util.Console import ConsoleReader

    Pipeline(ConsoleReader(prompt="say: "), ConsoleEchoer()).run()

How does it work?
-----------------
``ConsoleReader(prompt=">>> ", eol="\\n")`` is a threaded component: its
thread calls ``input(prompt)`` and sends the line with ``eol`` appended on
"outbox". Only after a line has been read does it look at "control".

``ConsoleEchoer(forwarder=False, use_repr=False, tag="")`` writes
``tag + str(item)`` (``repr`` with ``use_repr=True``) to ``sys.stdout`` for
each item, adding no newline, and flushes. With ``forwarder=True`` it also
sends each item on "outbox".

Termination
-----------
``ConsoleReader`` stops after reading a line if ``producerFinished`` or
``shutdownMicroprocess`` has arrived on "control" (forwarded to "signal").
Since ``input`` blocks, a shutdown takes effect only when the next line is
typed. End of input on stdin raises ``EOFError`` in its thread, which is
re-raised in the scheduler's thread (Kamaelia 1.x behaved the same); the
error ends ``runThreads``, so with piped input the last lines read may not
have reached the components after the reader.

``ConsoleEchoer`` stops when *any* message arrives on "control": it first
writes out the data already waiting, then forwards every waiting control
message to "signal".
"""

import sys

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.ThreadedComponent import threadedcomponent


class ConsoleReader(threadedcomponent):
    """ConsoleReader([prompt][, eol]) -> sends each line typed at the console (plus eol)."""

    Inboxes = {"inbox": "NOT USED",
               "control": "producerFinished or shutdownMicroprocess: stop after the next line"}
    Outboxes = {"outbox": "Each line typed, with eol appended",
                "signal": "The shutdown message that stopped it"}

    def __init__(self, prompt=">>> ", eol="\n"):
        super().__init__()
        self.prompt = prompt
        self.eol = eol

    def main(self):
        while True:
            line = input(self.prompt)
            self.send(line + self.eol, "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    self.send(msg, "signal")
                    return


class ConsoleEchoer(component):
    """ConsoleEchoer([forwarder][, use_repr][, tag]) -> writes what it receives to stdout."""

    Inboxes = {"inbox": "Anything: written to stdout",
               "control": "Any message stops it (and is forwarded to signal)"}
    Outboxes = {"outbox": "What arrived on inbox, if forwarder is true",
                "signal": "The control messages that stopped it"}

    def __init__(self, forwarder=False, use_repr=False, tag=""):
        super().__init__()
        self.forwarder = forwarder
        self.use_repr = use_repr
        self.tag = tag
        self.serialise = repr if use_repr else str

    def main(self):
        while True:
            while self.dataReady("inbox"):
                data = self.recv("inbox")
                sys.stdout.write(self.tag + self.serialise(data))
                sys.stdout.flush()
                if self.forwarder:
                    self.send(data, "outbox")
            if self.dataReady("control"):
                break
            self.pause()
            yield 1
        while self.dataReady("control"):
            self.send(self.recv("control"), "signal")


__kamaelia_components__ = (ConsoleReader, ConsoleEchoer)
