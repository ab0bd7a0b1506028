"""Shared fixtures for the greylister's component tests: a scripted in-process backend."""

import types

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler
from Kamaelia.Support.LineBuffer import LineBuffer


class FakeBackend(component):
    """Stands in for TCPClient + a real SMTP server, scripted by the test.

    It records every command line and every message (raw bytes as received,
    dot-stuffing included) and answers with ``replies`` (verb -> reply text,
    or a callable taking the command line), ``rcpt`` (address -> reply) and
    ``final`` (the end-of-data reply). ``closeAt``/``silentAt`` name a verb at
    which it hangs up or stops answering; ``refuse`` makes it fail to connect.
    """

    def __init__(self, script, **argd):
        super().__init__(**argd)
        self.script = script
        self.buffer = LineBuffer(b"\r\n", None)
        self.inData = False
        self.current = []

    def say(self, text):
        self.send(text.encode() + b"\r\n", "outbox")

    def hangUp(self):
        self.send(producerFinished(self, self.script.hangupReason), "signal")

    def answer(self, line):
        script = self.script
        text = line.decode("utf-8", "surrogateescape")
        script.commands.append(text)
        verb = text.split(" ")[0].upper() if text else ""
        if verb == script.closeAt:
            return False
        if verb == script.silentAt:
            return True
        if verb == "EHLO":
            lines = ["backend.test"] + list(script.extensions)
            for i, ext in enumerate(lines):
                self.say("250%s%s" % (" " if i == len(lines) - 1 else "-", ext))
        elif verb == "XCLIENT":
            self.say("220 backend.test ESMTP again")
        elif verb == "RCPT":
            address = text.split(":", 1)[1].split(" ")[0].strip("<>")
            self.say(script.rcpt.get(address, "250 2.1.5 Ok"))
        elif verb == "DATA":
            self.say(script.dataStart)
            self.inData = script.dataStart.startswith("354")
        elif verb == "QUIT":
            self.say("221 2.0.0 Bye")
            return False
        else:
            reply = script.replies.get(verb, "250 2.0.0 Ok")
            self.say(reply(text) if callable(reply) else reply)
        return True

    def main(self):
        script = self.script
        script.connections += 1
        if script.refuse:
            self.send(producerFinished(self, ConnectionRefusedError("refused")), "signal")
            return
        self.say(script.banner)
        while True:
            while self.dataReady("inbox"):
                self.buffer.feed(self.recv("inbox"))
            while True:
                line = self.buffer.nextLine()
                if line is None:
                    break
                if self.inData:
                    if line == b".":
                        self.inData = False
                        script.messages.append(b"".join(self.current))
                        self.current = []
                        if script.closeAt == "END":
                            self.hangUp()
                            return
                        if script.silentAt != "END":
                            self.say(script.final)
                    else:
                        self.current.append(line + b"\r\n")
                    continue
                if not self.answer(line):
                    self.hangUp()
                    return
            if self.dataReady("control"):
                self.recv("control")
                script.closedByProxy += 1
                self.send(producerFinished(self), "signal")
                return
            self.pause()
            yield 1


def makeScript(**overrides):
    script = types.SimpleNamespace(
        banner="220 backend.test ESMTP", extensions=("PIPELINING", "SIZE 20000000", "8BITMIME"),
        replies={}, rcpt={}, dataStart="354 go ahead", final="250 2.0.0 Ok: queued as 42",
        closeAt=None, silentAt=None, refuse=False, hangupReason=None,
        commands=[], messages=[], connections=0, closedByProxy=0)
    for key, value in overrides.items():
        setattr(script, key, value)
    return script


class Proxy(ConcreteMailHandler):
    """ConcreteMailHandler whose real server is a FakeBackend; policy from the test."""

    peer, peerport, local, localport = "192.0.2.10", 40000, "127.0.0.1", 25
    servername = "mx.test"
    serverid = "Test"
    accept = True
    script = None

    def makeBackendClient(self):
        return FakeBackend(self.script)

    def shouldWeAcceptMail(self):
        if isinstance(self.accept, Exception):
            raise self.accept
        return self.accept


def startProxy(script=None, cls=Proxy, **attributes):
    """A ComponentHarness around a proxy conversation (greeting already consumed)."""
    script = script or makeScript()
    handler = cls(script=script, **attributes)
    h = ComponentHarness(handler)
    h.runUntilIdle()
    h.greeting = replies(h)
    h.script = script
    return h


def talk(h, data, chunk=None):
    """Send ``data`` (bytes) in chunks of ``chunk`` bytes; return the replies as text."""
    chunk = chunk or len(data) or 1
    for i in range(0, len(data), chunk):
        h.put(data[i:i + chunk])
        h.runUntilIdle()
    return replies(h)


def replies(h):
    return "".join(x if isinstance(x, str) else x.decode() for x in h.getAll("outbox"))


@pytest.fixture
def proxy():
    return types.SimpleNamespace(start=startProxy, talk=talk, replies=replies,
                                 script=makeScript, Proxy=Proxy, FakeBackend=FakeBackend)
