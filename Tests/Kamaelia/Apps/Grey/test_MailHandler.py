"""MailHandler's default hooks: a subclass overriding nothing still answers every verb."""

from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey.MailHandler import MailHandler


def codes(text):
    return [int(line[:3]) for line in text.split("\r\n") if line[3:4] == " "]


def start(cls=MailHandler, **attributes):
    h = ComponentHarness(cls(**attributes))
    h.runUntilIdle()
    return h


def talk(h, data):
    h.put(data)
    h.runUntilIdle()
    return "".join(x if isinstance(x, str) else x.decode() for x in h.getAll("outbox"))


def test_default_greeting_names_the_server():
    h = start(servername="mx.example.org", serverid="Test SMTP")
    greeting = "".join(h.getAll("outbox"))
    assert greeting.startswith("220 mx.example.org ESMTP Test SMTP ")


def test_policy_verbs_answer_502_until_a_subclass_handles_them():
    h = start()
    h.getAll("outbox")
    text = talk(h, b"EHLO c\r\nHELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n")
    assert codes(text) == [502, 502, 502, 502, 502]
    assert "5.5.1" in text


def test_simple_verbs_have_standard_replies_and_quit_ends_the_session():
    h = start(servername="mx.example.org")
    h.getAll("outbox")
    text = talk(h, b"NOOP\r\nVRFY root\r\nHELP\r\nRSET\r\n")
    assert codes(text) == [250, 252, 214, 250]
    assert not h.finished
    text = talk(h, b"QUIT\r\n")
    assert text.startswith("221 2.0.0 mx.example.org")
    assert h.finished


def test_a_subclass_overriding_only_some_hooks_keeps_the_other_defaults():
    class Polite(MailHandler):
        def handleHelo(self, tokens):
            self.netPrint("250 polite.example.org")

    h = start(Polite)
    h.getAll("outbox")
    assert codes(talk(h, b"HELO c\r\nNOOP\r\nMAIL FROM:<a@b.c>\r\nQUIT\r\n")) == [250, 250, 502, 221]
    assert h.finished
