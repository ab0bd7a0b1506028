"""GreylistServer: one session's failure is that session's alone (DESIGN decision 12).

A real GreylistServer on a loopback port, run by a scheduler in a background thread (the
``system`` fixture), serving a MailHandler subclass whose MAIL hook has a bug.
"""

import logging
import re
import socket

import pytest

from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.GreylistServer import GreylistServer
from Kamaelia.Apps.Grey.MailHandler import MailHandler


class Buggy(MailHandler):
    """Greets and answers HELO and NOOP; MAIL FROM:<crash@...> hits a bug."""

    servername = "mx.test"
    results = []

    def handleHelo(self, tokens):
        self.reply(R.OK)

    def handleMail(self, tokens):
        if "crash" in self.line:
            raise ZeroDivisionError("a bug in a hook")
        self.reply(R.SENDER_OK)

    def logResult(self):
        Buggy.results.append(self.sessionId)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    return s, f


def command(s, f, line):
    s.sendall(line + b"\r\n")
    return f.readline()


@pytest.fixture
def server(system):
    Buggy.results = []
    return system.activate(GreylistServer(protocol=Buggy, port=0, host="127.0.0.1"))


def test_a_failing_session_gets_421_4_3_0_and_the_others_carry_on(server, system, caplog):
    bystander, bystanderFile = connect(server.port)
    victim, victimFile = connect(server.port)
    for f in (bystanderFile, victimFile):
        assert f.readline().startswith(b"220 ")
    assert command(bystander, bystanderFile, b"HELO a.test").startswith(b"250")
    with caplog.at_level(logging.ERROR):
        assert command(victim, victimFile, b"HELO b.test").startswith(b"250")
        notice = command(victim, victimFile, b"MAIL FROM:<crash@example.net>")
        assert notice.startswith(b"421 4.3.0 mx.test "), notice
        assert victimFile.readline() == b"", "the failed session's connection is closed"
    assert command(bystander, bystanderFile, b"MAIL FROM:<fine@example.net>").startswith(b"250")
    late, lateFile = connect(server.port)
    assert lateFile.readline().startswith(b"220 ")
    assert command(late, lateFile, b"NOOP").startswith(b"250")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failure was logged"
    message = errors[0].getMessage()
    assert re.search(r"session [0-9A-F]{10} client 127\.0\.0\.1", message), message
    assert errors[0].exc_info and errors[0].exc_info[0] is ZeroDivisionError
    assert len(Buggy.results) == 1, "the failed session wrote its result line"
    for s in (bystander, victim, late):
        s.close()
    assert system.error is None


def test_the_listening_socket_can_be_taken_again_at_once(server, system):
    """SO_REUSEADDR on the listener (as 1.x had): the port is free to bind again after close."""
    listener = server.server.listener
    assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
