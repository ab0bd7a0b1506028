"""MailHandler, the pump around the SMTP server engine: its default hooks and the 1.x attributes.

A subclass overriding nothing still answers every verb; 1.x subclasses that
read or set ``line``, ``inbox_log``, ``breakConnection`` and ``gettingdata``
still work, because those are views of the engine's state.
"""

from Axon.Ipc import producerFinished
from Axon.Testing import ComponentHarness
from Kamaelia.Apps.Grey import SMTPReplies as R
from Kamaelia.Apps.Grey.MailHandler import MailHandler
from Kamaelia.Apps.Grey.SMTPServerEngine import Mail
from Kamaelia.IPC import socketShutdown


def codes(text):
    return [int(line[:3]) for line in text.split("\r\n") if line[3:4] == " "]


def text(items):
    return "".join(x if isinstance(x, str) else x.decode() for x in items)


def start(cls=MailHandler, **attributes):
    h = ComponentHarness(cls(**attributes))
    h.runUntilIdle()
    return h


def talk(h, data, chunk=None):
    chunk = chunk or len(data) or 1
    for i in range(0, len(data), chunk):
        h.put(data[i:i + chunk])
        h.runUntilIdle()
    return text(h.getAll("outbox"))


def test_default_greeting_names_the_server():
    h = start(servername="mx.example.org", serverid="Test SMTP")
    greeting = text(h.getAll("outbox"))
    assert greeting.startswith("220 mx.example.org ESMTP Test SMTP ")


def test_policy_verbs_answer_502_until_a_subclass_handles_them():
    h = start()
    h.getAll("outbox")
    replies = talk(h, b"EHLO c\r\nHELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n")
    assert codes(replies) == [502, 502, 502, 502, 502]
    assert "5.5.1" in replies


def test_simple_verbs_have_standard_replies_and_quit_ends_the_session():
    h = start(servername="mx.example.org")
    h.getAll("outbox")
    replies = talk(h, b"NOOP\r\nVRFY root\r\nHELP\r\nRSET\r\n")
    assert codes(replies) == [250, 252, 214, 250]
    assert not h.finished
    replies = talk(h, b"QUIT\r\n")
    assert replies.startswith("221 2.0.0 mx.example.org")
    assert h.finished


def test_a_subclass_overriding_only_some_hooks_keeps_the_other_defaults():
    class Polite(MailHandler):
        def handleHelo(self, tokens):
            self.netPrint("250 polite.example.org")

    h = start(Polite)
    h.getAll("outbox")
    assert codes(talk(h, b"HELO c\r\nNOOP\r\nMAIL FROM:<a@b.c>\r\nQUIT\r\n")) == [250, 250, 502, 221]
    assert h.finished


class OneDotX(MailHandler):
    """Written as for Kamaelia 1.x: reads self.line and inbox_log, sets the 1.x flags."""

    seen = None

    def handleHelo(self, tokens):
        self.seen.append(("HELO", tokens, self.line, list(self.inbox_log)))
        self.netPrint("250 hello " + tokens[1])

    def handleMail(self, tokens):
        self.seen.append(("MAIL", self.line.split(":", 1)[1].strip()))
        self.netPrint("250 ok")

    def handleData(self, tokens):
        self.netPrint("354 go ahead")
        self.gettingdata = True

    def receiveMessage(self):
        # The 354 went out from handleData: read the message without saying it again.
        self.seen.append(("gettingdata while reading", self.gettingdata))
        end = yield from self.readMessage()
        self.messageData = end.data
        return None

    def messageReceived(self):
        self.seen.append(("message", self.messageData, self.line, self.lastline()))
        self.netPrint("250 queued")

    def handleQuit(self, tokens):
        self.netPrint("221 bye")
        self.breakConnection = True


def test_a_1x_style_subclass_reads_line_and_inbox_log_and_sets_the_flags():
    seen = []
    h = start(OneDotX, seen=seen)
    h.getAll("outbox")
    replies = talk(h, b"HELO client.example\r\nMAIL FROM:<a@b.c>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n")
    assert codes(replies) == [250, 250, 354, 250, 221]
    assert seen[0] == ("HELO", ["HELO", "client.example"], "HELO client.example\r\n",
                       ["HELO client.example\r\n"])
    assert seen[1] == ("MAIL", "<a@b.c>")
    assert seen[2] == ("gettingdata while reading", True)
    assert seen[3] == ("message", b"hello\r\n", ".\r\n", True)
    assert h.finished and h.component.breakConnection
    assert h.component.gettingdata is False
    assert h.component.inbox_log == ["HELO client.example\r\n", "MAIL FROM:<a@b.c>\r\n",
                                     "DATA\r\n", "QUIT\r\n"], "command lines only, never content"


def test_inbox_log_keeps_only_the_most_recent_command_lines():
    h = start(inboxLogLength=3)
    talk(h, b"".join(b"NOOP %d\r\n" % i for i in range(10)))
    assert h.component.inbox_log == ["NOOP 7\r\n", "NOOP 8\r\n", "NOOP 9\r\n"]


def test_the_engine_parses_each_command_once_for_the_hooks():
    seen = []

    class Reading(MailHandler):
        def handleMail(self, tokens):
            seen.append((self.currentCommand, self._argument()))
            self.reply(R.SENDER_OK)

    h = start(Reading)
    talk(h, b"mail FROM:<a@b.c> SIZE=10\r\n")
    command, argument = seen[0]
    assert type(command) is Mail and command.verb == "MAIL"
    assert argument == "FROM:<a@b.c> SIZE=10"


def test_the_base_class_reads_a_message_into_messageData_unstuffed():
    class Accepting(MailHandler):
        def handleData(self, tokens):
            self.acceptMail()

    h = start(Accepting)
    h.getAll("outbox")
    replies = talk(h, b"DATA\r\n..dot\r\nline\r\n.\r\nNOOP\r\n", chunk=3)
    assert codes(replies) == [354, 250, 250]
    assert h.component.messageData == b".dot\r\nline\r\n"


def test_a_multiline_reply_is_one_write():
    class Big(MailHandler):
        def handleEhlo(self, tokens):
            self.reply(R.Reply(250, None, "mx", "PIPELINING", "SIZE 10", "8BITMIME"))

    h = start(Big)
    h.getAll("outbox")
    h.put(b"EHLO c\r\n")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"250-mx\r\n250-PIPELINING\r\n250-SIZE 10\r\n250 8BITMIME\r\n"]


def test_breakConnection_set_by_a_hook_ends_the_conversation_at_once():
    class Rude(MailHandler):
        def handleNoop(self, tokens):
            self.netPrint("554 go away")
            self.breakConnection = True

    h = start(Rude)
    h.getAll("outbox")
    assert codes(talk(h, b"NOOP\r\nHELP\r\n")) == [554]
    assert h.finished


def test_client_connected_and_draining_follow_the_connection():
    h = start()
    assert h.component.client_connected and not h.component.draining
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.component.draining
    assert h.finished, "no transaction open: the drain ends the conversation"
    h = start()
    h.put(b"NOOP\r\n")
    h.put(b"")
    h.runUntilIdle()
    assert not h.component.client_connected
    assert codes(text(h.getAll("outbox")))[-1] == 250, "buffered lines are answered first"
    assert h.finished


def test_silence_during_a_message_is_a_timeout_with_421():
    class Accepting(MailHandler):
        def handleData(self, tokens):
            self.acceptMail()

    h = start(Accepting, inactivity_timeout=60)
    talk(h, b"DATA\r\npart of a message\r\n")
    h.advance(61)
    assert "421 4.4.2" in text(h.getAll("outbox"))
    assert h.finished and h.component._timedOut


def test_a_busy_conversation_keeps_one_timer_and_still_times_out_after_silence():
    h = start(inactivity_timeout=60)
    h.getAll("outbox")
    for _ in range(300):
        talk(h, b"NOOP\r\n")
        h.advance(1)
    assert not h.finished, "each command put the deadline off"
    assert len([t for t in h.scheduler._timers if not t.cancelled]) == 1
    assert len(h.scheduler._timers) <= 2
    h.advance(58)
    assert not h.finished, "59 s after the last command"
    h.advance(2)
    assert "421 4.4.2" in text(h.getAll("outbox"))
    assert h.finished and h.component._timedOut
    assert h.scheduler.nextTimerDue() is None, "the conversation's timer went with it"


def test_the_connection_going_away_mid_message_calls_no_hook():
    received = []

    class Accepting(MailHandler):
        def handleData(self, tokens):
            self.acceptMail()

        def messageReceived(self):
            received.append(self.messageData)

    h = start(Accepting)
    talk(h, b"DATA\r\npartial\r\n")
    h.put(socketShutdown(), "control")
    h.runUntilIdle()
    assert h.finished and received == []


def test_every_way_of_reading_a_message_goes_through_the_one_loop():
    """readMessage is the DATA loop: the base class's receiveMessage uses it too."""
    calls = []

    class Counting(MailHandler):
        def handleData(self, tokens):
            self.acceptMail()

        def readMessage(self, onChunk=None):
            calls.append(onChunk)
            return (yield from super().readMessage(onChunk))

    h = start(Counting)
    talk(h, b"DATA\r\nx\r\n.\r\nDATA\r\ny\r\n.\r\n")
    assert calls == [None, None]
