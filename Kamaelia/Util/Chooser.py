"""
Kamaelia.Util.Chooser: step through a sequence on command
=========================================================

Two cursor-like components that hold a sequence of items and send the item
under the cursor when asked:

* ``Chooser(items, loop=False)`` holds a finite list and moves either way:
  "NEXT", "PREV", "FIRST", "LAST" and "SAME", optionally wrapping around at
  the ends. A slide show with forward and back buttons, for example.
* ``ForwardIteratingChooser(items)`` takes any iterable, even an endless
  one, and only moves forward ("NEXT", "SAME"); when the items run out it
  says so with ``producerFinished`` on "signal".

Example Usage
-------------
::

    from Axon.Component import component
    from Axon.Ipc import producerFinished, shutdownMicroprocess
    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.Chooser import Chooser, ForwardIteratingChooser

    class Presses(component):
        # Sends each command in turn, then shuts the chooser down.
        def __init__(self, commands):
            super().__init__()
            self.commands = commands
        def main(self):
            for command in self.commands:
                self.send(command, "outbox")
                yield 1
            self.send(shutdownMicroprocess(), "signal")

    class Show(component):
        # Prints what the chooser sends; ends when the chooser does.
        def main(self):
            while True:
                while self.dataReady("inbox"):
                    print("showing", self.recv("inbox"))
                if self.dataReady("control"):
                    return
                self.pause()
                yield 1

    Graphline(
        PRESS=Presses(["NEXT", "NEXT", "NEXT", "PREV", "FIRST"]),
        CHOOSE=Chooser(["one.png", "two.png", "three.png"], loop=True),
        SHOW=Show(),
        linkages={("PRESS", "outbox"): ("CHOOSE", "inbox"),
                  ("PRESS", "signal"): ("CHOOSE", "control"),
                  ("CHOOSE", "outbox"): ("SHOW", "inbox"),
                  ("CHOOSE", "signal"): ("SHOW", "control")},
    ).run()

prints ``showing one.png``, ``two.png``, ``three.png``, ``one.png`` (NEXT
wrapped round), ``three.png`` (PREV wrapped back) and ``one.png`` again.
With ``ForwardIteratingChooser(iter(["a", "b"]))`` in place of the Chooser
and commands ``["NEXT", "NEXT"]``, it shows ``a`` and ``b``, and the second
NEXT ends the sequence: a ``producerFinished`` goes out on "signal" and the
chooser stops.

How does it work?
-----------------
**Chooser** keeps a copy of the items as a list (``items``) and the
position of the cursor (``index``, starting at 0). On starting it sends the
first item. Each message on "inbox" is then a command:

======== ==========================================================
"NEXT"   move forward; past the last item, wrap to the first if
         ``loop`` is set, otherwise stay on the last and send nothing
"PREV"   move back; before the first item, wrap to the last if
         ``loop`` is set, otherwise stay on the first and send nothing
"FIRST"  move to the first item
"LAST"   move to the last item
"SAME"   do not move
======== ==========================================================

After every command that moved the cursor (or did not need to), the item
under the cursor is sent on "outbox". Any other message is treated like
"SAME", as in Kamaelia 1.x. With no items at all nothing is ever sent.
The methods ``gotoNext``, ``gotoPrev``, ``gotoFirst`` and ``gotoLast``
move the cursor and return whether the current item should be sent;
``getCurrentChoice()`` returns it (``IndexError`` if there are no items).

**ForwardIteratingChooser** takes an iterator over the items and fetches
the first one as soon as it is constructed, so ``items`` is an iterator
over the rest. On starting it sends the current item (if there is one).
"SAME" sends it again, "NEXT" fetches and sends the next one; when there is
no next one it sends ``producerFinished(self)`` on "signal" and ends after
the rest of the commands already waiting (a second "NEXT" among them sends
a second ``producerFinished``, as 1.x did). Other messages are ignored.
``gotoNext()`` returns False, leaving the current item as it was, once the
items are exhausted.

Both sleep while no message is waiting.

Inboxes
-------
- inbox -- commands: "NEXT", "SAME" (both); "PREV", "FIRST", "LAST"
  (Chooser only)
- control -- ``shutdownMicroprocess`` to stop; other messages are taken and
  ignored (including ``producerFinished``)

Outboxes
--------
- outbox -- the item under the cursor, after each command
- signal -- the ``shutdownMicroprocess`` received, when shut down;
  ``producerFinished(self)`` when a ForwardIteratingChooser runs out

Termination
-----------
Each chooser checks "control" for one message per step, after the commands
waiting on "inbox": a ``shutdownMicroprocess`` is forwarded on "signal" and
the chooser ends. A ForwardIteratingChooser also ends when its items run
out.
"""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class _ChooserBase(component):
    """What both choosers share: sending the current item, and the control check."""

    Inboxes = {"inbox": "Commands: NEXT, SAME (and PREV, FIRST, LAST for Chooser)",
               "control": "shutdownMicroprocess to stop; anything else is ignored"}
    Outboxes = {"outbox": "The item under the cursor, after each command",
                "signal": "The shutdownMicroprocess received (or producerFinished at the end)"}

    def getCurrentChoice(self):
        raise NotImplementedError

    def _sendCurrent(self):
        try:
            current = self.getCurrentChoice()
        except IndexError:
            return
        self.send(current, "outbox")

    def _shutdownRequested(self):
        """Take at most one control message; True (forwarded) if it is a shutdownMicroprocess."""
        if self.dataReady("control"):
            message = self.recv("control")
            if isinstance(message, shutdownMicroprocess):
                self.send(message, "signal")
                return True
        return False


class Chooser(_ChooserBase):
    """Chooser([items][, loop]) -> sends the item under a cursor moved by commands.

    Commands on "inbox": "NEXT", "PREV", "FIRST", "LAST", "SAME". With
    ``loop`` set, NEXT and PREV wrap around at the ends.
    """

    def __init__(self, items=(), loop=False):
        super().__init__()
        self.items = list(items)
        self.index = 0
        self.loop = loop

    def getCurrentChoice(self):
        """The item under the cursor (IndexError if there are no items)."""
        return self.items[self.index]

    def gotoNext(self):
        """Move forward one item; False if at the end without ``loop`` (the cursor stays)."""
        if self.index + 1 < len(self.items):
            self.index += 1
            return True
        if self.loop:
            self.index = 0
            return True
        return False

    def gotoPrev(self):
        """Move back one item; False if at the start without ``loop`` (the cursor stays)."""
        if self.index > 0:
            self.index -= 1
            return True
        if self.loop:
            self.index = len(self.items) - 1
            return True
        self.index = 0
        return False

    def gotoFirst(self):
        """Move to the first item."""
        self.index = 0
        return True

    def gotoLast(self):
        """Move to the last item."""
        self.index = len(self.items) - 1
        return True

    def _obey(self, command):
        """Carry out one command; True if the current item is to be sent."""
        if command == "NEXT":
            return self.gotoNext()
        if command == "PREV":
            return self.gotoPrev()
        if command == "FIRST":
            return self.gotoFirst()
        if command == "LAST":
            return self.gotoLast()
        return True

    def main(self):
        self._sendCurrent()
        while True:
            yield 1
            while self.dataReady("inbox"):
                if self._obey(self.recv("inbox")):
                    self._sendCurrent()
            if self._shutdownRequested():
                return
            if not self.anyReady():
                self.pause()


class ForwardIteratingChooser(_ChooserBase):
    """ForwardIteratingChooser([items]) -> steps forward through any iterable on command.

    Commands on "inbox": "NEXT", "SAME". ``producerFinished(self)`` goes out
    on "signal" when a NEXT finds no more items.
    """

    def __init__(self, items=()):
        super().__init__()
        self.items = iter(items)
        self.gotoNext()

    def getCurrentChoice(self):
        """The current item (IndexError if there never was one)."""
        try:
            return self.currentitem
        except AttributeError:
            raise IndexError("%s has no items" % self.name) from None

    def gotoNext(self):
        """Fetch the next item; False, keeping the current one, when there are no more."""
        try:
            self.currentitem = next(self.items)
        except StopIteration:
            return False
        return True

    def main(self):
        self._sendCurrent()
        while True:
            yield 1
            exhausted = False
            while self.dataReady("inbox"):
                command = self.recv("inbox")
                if command == "SAME":
                    self._sendCurrent()
                elif command == "NEXT":
                    if self.gotoNext():
                        self._sendCurrent()
                    else:
                        self.send(producerFinished(self), "signal")
                        exhausted = True
            if exhausted or self._shutdownRequested():
                return
            if not self.anyReady():
                self.pause()


__kamaelia_components__ = (Chooser, ForwardIteratingChooser)
