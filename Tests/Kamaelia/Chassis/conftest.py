"""Small components shared by the chassis tests.

Test files cannot import each other (pytest's importlib mode), so the helper
components are handed out through the ``parts`` fixture.
"""

import types

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Recorder(component):
    """Forwards inbox to outbox (keeping a copy in ``seen``); stops on a shutdown message.

    Data waiting in the inbox is handled before control, so nothing is lost
    when a shutdown arrives together with the last data. Every control
    message is kept in ``controls``; the shutdown one is forwarded to signal.
    """

    def __init__(self, tag=None, **argd):
        super().__init__(**argd)
        self.tag = tag
        self.seen = []
        self.controls = []
        self.started = False

    def main(self):
        self.started = True
        while True:
            while self.dataReady("inbox"):
                item = self.recv("inbox")
                self.seen.append(item)
                self.send(item if self.tag is None else (self.tag, item), "outbox")
            while self.dataReady("control"):
                message = self.recv("control")
                self.controls.append(message)
                if isinstance(message, (producerFinished, shutdownMicroprocess)):
                    self.send(message, "signal")
                    return
            self.pause()
            yield 1


class Source(component):
    """Sends each of ``items`` on outbox, then producerFinished(self) on signal, and ends."""

    def __init__(self, items, **argd):
        super().__init__(**argd)
        self.items = list(items)
        self.started = False

    def main(self):
        self.started = True
        for item in self.items:
            self.send(item, "outbox")
            yield 1
        self.send(producerFinished(self), "signal")


class Stopper(component):
    """Ends as soon as it runs, without sending anything."""

    def main(self):
        yield 1


class Deaf(component):
    """Ignores everything except the string "stop" on control, which ends it.

    A child that must be told to stop, and that shutdown messages do not stop.
    """

    def __init__(self, **argd):
        super().__init__(**argd)
        self.controls = []

    def main(self):
        while True:
            while self.dataReady("control"):
                message = self.recv("control")
                self.controls.append(message)
                if message == "stop":
                    return
            self.pause()
            yield 1


@pytest.fixture
def parts():
    """The helper components."""
    return types.SimpleNamespace(Recorder=Recorder, Source=Source, Stopper=Stopper, Deaf=Deaf)
