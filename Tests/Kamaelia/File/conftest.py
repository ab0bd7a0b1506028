"""Helpers shared by the Kamaelia.File tests (handed out through the ``parts`` fixture)."""

import types

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess


class Recorder(component):
    """Keeps control messages in ``controls``; ends on a shutdown message.

    Its inbox (limited to ``size`` messages, if given) is left for the test
    to read.
    """

    def __init__(self, size=None, **argd):
        super().__init__(**argd)
        self.controls = []
        if size is not None:
            self.setInboxSize("inbox", size)

    def main(self):
        while True:
            while self.dataReady("control"):
                message = self.recv("control")
                self.controls.append(message)
                if isinstance(message, (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1


@pytest.fixture
def parts():
    return types.SimpleNamespace(Recorder=Recorder)
