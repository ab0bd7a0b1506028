#!/usr/bin/env python3
"""
BackplaneChat: a chat room built on a Backplane
===============================================

What it shows:

* a ``Backplane`` named "CHATROOM" as the room: every user publishes what
  they say with ``PublishTo("CHATROOM")`` and sees what everybody says
  through ``SubscribeTo("CHATROOM")`` -- no user is wired to any other;
* three scripted users (alice, bob and carol) who speak at set moments,
  using scheduler timers (``self.scheduler.callLater``) to wait, so the
  program sleeps between messages instead of spinning;
* each user's "screen" (a ``PureTransformer`` and a ``ConsoleEchoer``)
  shows what the *others* say;
* shutdown: when every user has said their last line, a ``RoomCloser``
  sends ``producerFinished`` to the backplane's "control". The backplane
  passes it to every subscriber, each screen pipeline shuts down in turn,
  the backplane ends and deregisters its name, and once every component
  has finished the program prints "the room is closed" and ends by itself
  (in about half a second).

This chat runs in one process. A networked version would put each
connection's protocol handler in front of a PublishTo/SubscribeTo pair; the
networking parts (``Kamaelia.Internet``) are not used here.

Run it::

    python3 Examples/Kamaelia/BackplaneChat.py

You should see::

    [bob's screen] alice: hello everyone
    [carol's screen] alice: hello everyone
    [alice's screen] bob: hi alice
    [carol's screen] bob: hi alice
    [alice's screen] carol: hello both
    [bob's screen] carol: hello both
    [bob's screen] alice: got to go, bye!
    [carol's screen] alice: got to go, bye!
    [alice's screen] bob: bye alice
    [carol's screen] bob: bye alice
    [alice's screen] carol: bye
    [bob's screen] carol: bye
    the room is closed

(within each message the order of the two screens may differ).
"""

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Scheduler import scheduler
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.Backplane import Backplane, PublishTo, SubscribeTo
from Kamaelia.Util.Console import ConsoleEchoer
from Kamaelia.Util.PureTransformer import PureTransformer

ROOM = "CHATROOM"

SCRIPTS = {
    "alice": [(0.05, "hello everyone"), (0.20, "got to go, bye!")],
    "bob": [(0.10, "hi alice"), (0.25, "bye alice")],
    "carol": [(0.15, "hello both"), (0.30, "bye")],
}


class ScriptedUser(component):
    """Says each ``(at, text)`` of its script ``at`` seconds after starting, then leaves."""

    Inboxes = {"inbox": "NOT USED", "control": "NOT USED"}
    Outboxes = {"outbox": '"name: text" lines', "signal": "producerFinished when done"}

    def __init__(self, name, script):
        super().__init__()
        self.username = name
        self.script = script

    def _wake(self):
        self.due = True
        self.unpause()

    def main(self):
        start = self.scheduler.clock()
        for at, text in self.script:
            self.due = False
            self.scheduler.callAt(start + at, self._wake)
            while not self.due:
                self.pause()
                yield 1
            self.send("%s: %s\n" % (self.username, text), "outbox")
        self.send(producerFinished(self), "signal")


class RoomCloser(component):
    """Waits for the given components to finish, then sends producerFinished on outbox."""

    def __init__(self, waitFor):
        super().__init__()
        self.waitFor = list(waitFor)

    def main(self):
        self.addChildren(*self.waitFor)      # not activated here: only to be woken when they end
        while not all(c._isStopped() for c in self.waitFor):
            self.pause()
            yield 1
        self.send(producerFinished(self), "outbox")


def screen(name):
    """What ``name`` sees: everybody's lines but their own, labelled with their name."""
    def show(line):
        if line.startswith(name + ":"):
            return None
        return "[%s's screen] %s" % (name, line)
    return show


def main():
    room = Backplane(ROOM)
    speakers = []
    for name, script in SCRIPTS.items():
        Pipeline(SubscribeTo(ROOM), PureTransformer(screen(name)), ConsoleEchoer()).activate()
        speaker = Pipeline(ScriptedUser(name, script), PublishTo(ROOM))
        speakers.append(speaker)
    closer = RoomCloser(speakers)
    closer.link((closer, "outbox"), (room, "control"))
    for c in [room, closer] + speakers:
        c.activate()
    scheduler.run.runThreads()          # returns once every component has finished
    print("the room is closed")


if __name__ == "__main__":
    main()
