"""The usage shown in the Kamaelia Grey 1.x documentation runs unchanged, over real sockets."""

import smtplib
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from Axon.Scheduler import scheduler
from Kamaelia.Apps.Grey.ConcreteMailHandler import ConcreteMailHandler
from Kamaelia.Apps.Grey.GreyListingPolicy import GreyListingPolicy
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.IPC import serverShutdown


class RecordingHandler(object):
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Message accepted"


def freePort():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def backend():
    handler = RecordingHandler()
    handler.port = freePort()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def running():
    """Run the default scheduler in a thread; stop it at the end."""
    sched = scheduler.run
    sched.waitForOne()
    errors = []

    def run():
        try:
            sched.runThreads()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield sched
    sched.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert not errors, errors


def test_concrete_mail_handler_that_accepts_everything(backend, running):
    """ServerCore(protocol=<ConcreteMailHandler subclass>, port=...) relays to smtp_ip:smtp_port."""
    class AcceptAll(ConcreteMailHandler):
        servername = "mx.test.local"
        smtp_ip = "127.0.0.1"
        smtp_port = backend.port

        def shouldWeAcceptMail(self):
            return True

    server = ServerCore(protocol=AcceptAll, port=0, host="127.0.0.1")
    server.activate(running)
    body = b"Subject: original usage\r\n\r\nIt works.\r\n"
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
        refused = client.sendmail("alice@example.org", ["bob@example.net"], body)
    assert refused == {}
    deadline = time.monotonic() + 10
    while not backend.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    sender, recipients, content = backend.envelopes[0]
    assert (sender, recipients) == ("alice@example.org", ["bob@example.net"])
    assert content.endswith(body)
    server._deliver(serverShutdown(), "control")


def test_server_subclass_with_an_inner_protocol_class(backend, running, tmp_path):
    """class GreylistServer(ServerCore): class protocol(GreyListingPolicy): lists..."""
    class GreylistServer(ServerCore):
        port = 0
        host = "127.0.0.1"

        class protocol(GreyListingPolicy):
            servername = "mx.test.local"
            smtp_ip = "127.0.0.1"
            smtp_port = backend.port
            allowed_senders = []
            allowed_domains = ["example.org"]
            greylist_db = str(tmp_path / "greylist.sqlite")

    server = GreylistServer()
    server.activate(running)
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            client.sendmail("alice@sender.net", ["bob@example.org"], b"Subject: x\r\n\r\nx\r\n")
        assert deferred.value.smtp_code == 451
        with pytest.raises(smtplib.SMTPRecipientsRefused) as relay:
            client.sendmail("alice@sender.net", ["eve@elsewhere.net"], b"x\r\n")
        assert relay.value.recipients["eve@elsewhere.net"][0] == 550
    assert backend.envelopes == []
    server._deliver(serverShutdown(), "control")
