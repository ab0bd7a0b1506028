"""Hostile-input fuzz of the running greylister: whole SMTP sessions drawn by hypothesis.

Each fuzz test starts the real ``kamaelia-grey`` program once (``grey``
fixture, relaying to the recording aiosmtpd ``backend``) and runs a
hypothesis loop inside the test body, one to three concurrent SMTP
sessions per example, so examples do not pay for a restart. A session is a
list of command lines (every verb, any case, arguments from hostile
alphabets: non-UTF-8, NUL, bare CR and LF, over-long, postmaster variants,
routing tricks, address literals) and DATA blocks (bodies with false ends
of data and embedded transactions), sent in random chunks without waiting
for replies, then "CRLF . CRLF QUIT". Outside clients connect from
127.0.0.2; allowed clients from 127.0.0.1, which is in ``allowed_senders``.

Example Usage
-------------
::

    python3 -m pytest -q -p no:warnings Tests/Kamaelia/Apps/Grey/e2e/test_Fuzz.py
    KAMAELIA_FUZZ_EXAMPLES=2000 python3 -m pytest -q Tests/Kamaelia/Apps/Grey/e2e/test_Fuzz.py

How does it work?
-----------------
After every example the test checks:

1. the program is still running, a fresh connection gets 220 and NOOP 250,
   and a session opened before the fuzzed ones still answers NOOP;
2. every reply line the client received is "ddd" then " " or "-" and
   printable ASCII, a multi-line reply keeps one code, no line is left
   unterminated, and the server closed the session after QUIT;
3. from outside clients the backend records no RCPT outside example.org
   (bare ``postmaster`` aside), none whose local part routes onward
   (``%``, ``!``, a quoted ``@``), and no message unless every recipient is
   our postmaster (which is never greylisted); for every client, what the
   proxy says on its behalf is clean: XCLIENT arguments are xtext words,
   EHLO names have no whitespace or control characters, and the Received
   header it adds has no control characters or bare CR/LF;
4. for allowed clients, the backend got exactly as many messages as the
   client got end-of-data acceptances, and no marker the client put into a
   message arrives twice; the smuggling tests check that a body carrying a
   false end of data and a second transaction arrives as one message (in
   both ``bare_newline`` modes), byte for byte when it has no bare newline;
5. nothing new on the program's stderr is a traceback (and the ``grey``
   fixture fails the test at teardown if there is one anywhere);
6. every result log line has its seven fields, none empty or "None", no
   control characters, and one of the documented outcomes (issue 8 #10).

If an example leaves the program dead, the next example starts it again, so
hypothesis can shrink the failure to a minimal session.

Configuration
-------------
``KAMAELIA_FUZZ_EXAMPLES`` (default 80) is the number of examples per fuzz
test. The example database is off (hypothesis still keeps its caches in
.hypothesis/, which git ignores).
With ``CI`` set the run is derandomized and failures are not shrunk, so a
failing CI run stays within its time; elsewhere shrinking may take up to
hypothesis's own five minutes, which the tests' timeout allows for.
"""

import concurrent.futures
import itertools
import os
import re
import selectors
import socket
import time

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from Kamaelia.Apps.Grey import SMTPReplies as R

OUTSIDE = "127.0.0.2"
ALLOWED = "127.0.0.1"
OUR_DOMAIN = "example.org"
EXAMPLES = int(os.environ.get("KAMAELIA_FUZZ_EXAMPLES", "80"))
IN_CI = bool(os.environ.get("CI"))
SESSION_DEADLINE = 15.0
FUZZ_TIMEOUT = 600      # pytest-timeout for a fuzz test: generation plus shrinking
TRAILER = b"\r\n.\r\nQUIT\r\n"
MARK = b"@@MARK@@"      # replaced by a unique marker when a session is sent
REPLY_LINE = re.compile(rb"[2-5][0-9][0-9]([ -].*)?", re.DOTALL)
ACCEPTED_AT_END_OF_DATA = b"Message accepted"      # the backend's text, relayed by the proxy
TLS_GO_AHEAD = re.compile(rb"(^|\r\n)" + re.escape(str(R.TLS_READY).encode()) + rb"\r\n")

FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=IN_CI,
    phases=(Phase.explicit, Phase.reuse, Phase.generate) if IN_CI else tuple(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
    print_blob=False)


# -- hostile alphabets -----------------------------------------------------------------------

def anyCase(word):
    """``word`` (str) as bytes with each letter's case drawn independently."""
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(word, flips)).encode())


FRAGMENTS = [b"\xff", b"\xc3(", b"\x00", b"\r", b"\n", b"\r\n", b" ", b"\t", b"<", b">", b"@",
             b"%", b"!", b'"', b".", b":", b"\\", b",", b"\x7f", b"\x1b[31m", "\u00e9".encode(),
             "\u202e".encode(), b"\xed\xa0\x80", b"="]
LONG = st.sampled_from([511, 513, 999, 1001, 1500]).map(lambda n: b"x" * n)
hostileBytes = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=12),
                                  st.text(max_size=6).map(str.encode)),
                        max_size=6).map(b"".join)
hostile = st.one_of(hostileBytes, LONG)

localParts = st.one_of(
    st.sampled_from([b"user", b"victim", b"u.ser", b"a+b"]),
    anyCase("postmaster"),
    st.sampled_from([b"victim%evil.example", b"evil.example!victim", b'"victim@evil.example"',
                     b"victim%evil.example%other.example", b'"victim%evil.example"',
                     b"postmaster%evil.example", b'"postmaster"', b'"a b"', b"@evil.example:victim",
                     b"victim@evil.example", b"victim\\@evil.example"]),
    hostile)
domains = st.one_of(
    anyCase(OUR_DOMAIN),
    st.sampled_from([b"example.org.", b"EXAMPLE.ORG.", b"other.example", b"[192.0.2.99]",
                     b"[127.0.0.1]", b"[IPv6:2001:db8::1]", b"example.org.evil.example",
                     b"sub.example.org", b"example.org..", b"example.org@evil.example",
                     b"example.org%evil.example", b"", b"example.org>"]),
    hostile)


ATTACKS = ["postmaster@other.example", "postmaster@[192.0.2.99]", "postmaster@[127.0.0.1]",
           "postmaster@example.org.evil.example", "postmaster@sub.example.org",
           "postmaster@[IPv6:2001:db8::1]", "postmaster@example.org", "postmaster",
           "victim%evil.example@example.org", '"victim@evil.example"@example.org',
           "evil.example!victim@example.org", "victim@evil.example", "user@example.org.",
           '"postmaster@evil.example"@example.org', "postmaster%evil.example@example.org",
           "@evil.example:victim@example.org", "victim@example.org@evil.example"]
attacks = st.sampled_from(ATTACKS).flatmap(anyCase).map(lambda a: b"<" + a + b">")
ours = anyCase("user@example.org").map(lambda a: b"<" + a + b">")


@st.composite
def addresses(draw):
    """A path as a client might write it: mostly <local@domain>, also odd forms."""
    local, domain = draw(localParts), draw(domains)
    form = draw(st.sampled_from(["angle"] * 6 + ["bare-local", "null", "unbracketed", "route",
                                                 "suffix", "raw"]))
    if form == "angle":
        return b"<" + local + b"@" + domain + b">"
    if form == "bare-local":
        return b"<" + local + b">"
    if form == "null":
        return b"<>"
    if form == "unbracketed":
        return local + b"@" + domain
    if form == "route":
        return b"<@evil.example,@" + domain + b":" + local + b"@" + domain + b">"
    if form == "suffix":
        return b"<" + local + b"@" + domain + b">" + draw(hostile)
    return draw(hostile)


parameters = st.lists(st.one_of(
    st.sampled_from([b"SIZE=100", b"SIZE=99999999999", b"SIZE=", b"BODY=8BITMIME", b"BODY=\xff",
                     b"SMTPUTF8", b"NOTIFY=NEVER", b"RET=HDRS", b"AUTH=<>", b"=", b"X-\x00=1"]),
    hostile), max_size=3)
VERBS = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "QUIT",
         "STARTTLS", "BDAT", "AUTH", "XCLIENT", "TURN"]
lineEnds = st.sampled_from([b"\r\n"] * 8 + [b"\n", b"\r", b"\r\r\n", b"\n\r", b""])


@st.composite
def commandLines(draw):
    """One command line: a verb (any case, or junk) with a hostile argument and line end."""
    verb = draw(st.one_of(st.sampled_from(VERBS).flatmap(anyCase), hostile))
    upper = verb.upper()
    if upper in (b"MAIL", b"RCPT"):
        keyword = draw(st.one_of(anyCase("FROM:" if upper == b"MAIL" else "TO:"), hostile))
        space = draw(st.sampled_from([b"", b"", b" ", b"\t"]))
        argument = b" " + keyword + space + draw(addresses())
        params = draw(parameters)
        if params:
            argument += b" " + b" ".join(params)
    elif upper in (b"HELO", b"EHLO"):
        argument = b" " + draw(st.one_of(st.sampled_from([b"client.test", b"[127.0.0.1]"]),
                                         hostile))
    else:
        argument = draw(st.one_of(st.just(b""), hostile.map(lambda a: b" " + a)))
    return verb + argument + draw(lineEnds)


def smuggledTransaction(lineEnd):
    return lineEnd.join([b"MAIL FROM:<evil@example.net>", b"RCPT TO:<victim@evil.example>",
                         b"DATA", b"Subject: smuggled " + MARK, b"", b"evil"])


FALSE_ENDS = [b"\n.\n", b"\r\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r.\r\n", b"\n.\r",
              b"\r\n .\r\n", b"\r\n.\x00\r\n", b"\r\n..\r\n"]
bodyPieces = st.one_of(
    st.sampled_from([b"hello\r\n", b".\r\n", b"..\r\n", b".x\r\n", b"\r\n", b"\x00\r\n",
                     b"\xff\xfe 8-bit\r\n", b"From: x\r\n"] + FALSE_ENDS),
    st.sampled_from(FALSE_ENDS).flatmap(lambda sep: st.sampled_from([b"\r\n", b"\n", b"\r"]).map(
        lambda end: sep + smuggledTransaction(end) + sep)),
    LONG.map(lambda line: line + b"\r\n"),
    hostile)
dataEnds = st.sampled_from([b"\r\n.\r\n"] * 4 + FALSE_ENDS[:5] + [b".\r\n", b""])


@st.composite
def dataBlocks(draw):
    """DATA, then a body with false ends and embedded transactions, then an end (maybe false)."""
    body = b"Subject: " + MARK + b"\r\n\r\n" + b"".join(draw(st.lists(bodyPieces, max_size=6)))
    return draw(anyCase("DATA")) + b"\r\n" + body + draw(dataEnds)


@st.composite
def transactions(draw):
    """A mostly well-formed transaction, so sessions get past MAIL and RCPT often."""
    lines = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from([b"EHLO", b"HELO", b"ehlo"])) + b" client.test\r\n")
    sender = st.one_of(st.just(b"<sender@example.net>"), st.just(b"<>"), addresses())
    lines.append(b"MAIL FROM:" + draw(st.one_of(sender, st.just(b"<sender@example.net>")))
                 + b"\r\n")
    recipients = st.lists(st.one_of(attacks, ours, addresses()), min_size=1, max_size=3)
    for recipient in draw(recipients):
        lines.append(b"RCPT TO:" + recipient + b"\r\n")
    return b"".join(lines) + draw(dataBlocks())


# STARTTLS with plaintext pipelined after it: the server must drop that plaintext (or, when
# TLS is on offer, take it as the start of a handshake and fail cleanly).
tlsStarts = st.tuples(anyCase("STARTTLS"), hostile).map(lambda t: t[0] + b"\r\n" + t[1])


@st.composite
def sessions(draw):
    """(payload, chunk lengths): a whole session and how it is cut into writes."""
    items = draw(st.lists(st.one_of(commandLines(), transactions(), transactions(), dataBlocks(),
                                    tlsStarts),
                          min_size=1, max_size=8))
    greeting = draw(st.sampled_from([b"EHLO client.test\r\n"] * 2 + [b"HELO client.test\r\n", b""]))
    payload = greeting + b"".join(items) + TRAILER
    return payload, draw(chunkings(len(payload)))


# One to three sessions at once (threads): one session's trouble must stay its own.
concurrentSessions = st.lists(sessions(), min_size=1, max_size=3)


def chunkings(length):
    """Write sizes: the whole payload at once, random cuts, or small drips (short payloads)."""
    cuts = st.lists(st.integers(1, max(1, length - 1)), max_size=12).map(
        lambda points: sizesFromCuts(sorted(set(points)), length))
    choices = [st.just([length]), cuts]
    if length <= 4096:
        choices.append(st.integers(1, 7).map(lambda step: [step] * (length // step)
                                             + ([length % step] if length % step else [])))
    return st.one_of(*choices)


def sizesFromCuts(points, length):
    edges = [0] + points + [length]
    return [b - a for a, b in itertools.pairwise(edges) if b > a]


HUGE_RCPT = (b"EHLO client.test\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<" + b"r" * (3 << 20)
             + b"@example.org>\r\n" + TRAILER)
HUGE_DATA = (b"EHLO client.test\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n"
             + b"Subject: " + MARK + b"\r\n\r\n" + b"y" * (3 << 20) + b"\r\n" + TRAILER)


# -- one session over a real socket -----------------------------------------------------------

class Markers(object):
    """Hands out markers unique within the test run."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.counter = itertools.count(1)

    def fill(self, payload):
        """``payload`` with each MARK replaced by a fresh marker; returns (bytes, markers)."""
        parts = payload.split(MARK)
        markers = [b"%s-%d" % (self.prefix, next(self.counter)) for _ in parts[1:]]
        out = [parts[0]]
        for marker, part in zip(markers, parts[1:]):
            out += [marker, part]
        return b"".join(out), markers


class Conversation(object):
    def __init__(self, received, closed, unsent, tls=False, reset=False):
        self.received = received
        self.closed = closed
        self.unsent = unsent
        self.tls = tls      # the client hung up at the TLS go-ahead
        self.reset = reset  # the connection was reset: replies may be missing at the end


def converse(port, source, payload, sizes, deadline=SESSION_DEADLINE):
    """Write ``payload`` in writes of ``sizes`` (TCP_NODELAY) while reading everything the
    server sends, until it closes the connection or ``deadline`` passes.

    This client cannot speak TLS: once the server says it is ready to start TLS, the client
    stops writing and hangs up, leaving the server whatever plaintext it already sent."""
    chunks, offset = [], 0
    for size in sizes:
        chunks.append(payload[offset:offset + size])
        offset += size
    if offset < len(payload):
        chunks.append(payload[offset:])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    received, current, closed, reset, dropped = bytearray(), b"", False, False, 0
    end = time.monotonic() + deadline
    try:
        while not closed:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if current or chunks else 0)
            selector.modify(sock, wanted)
            for _, mask in selector.select(remaining):
                if mask & selectors.EVENT_READ:
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        data, reset = b"", True
                    if data:
                        received += data
                        if TLS_GO_AHEAD.search(received):
                            return Conversation(bytes(received), True, 0, tls=True)
                    else:
                        closed = True
                if mask & selectors.EVENT_WRITE and not closed:
                    if not current:
                        current = chunks.pop(0)
                    try:
                        current = current[sock.send(current):]
                    except (BrokenPipeError, ConnectionResetError):
                        # The server has gone; what it sent before may still be readable.
                        dropped = len(current) + sum(map(len, chunks))
                        current, chunks, reset = b"", [], True
    finally:
        selector.close()
        sock.close()
    return Conversation(bytes(received), closed, dropped + len(current) + sum(map(len, chunks)),
                        reset=reset)


def replyProblems(received, complete=True):
    """Invariant 2 on the bytes a client received: a list of problems (empty if none).

    ``complete`` is false when the connection was reset, so the end may be cut off."""
    problems = []
    lines = received.split(b"\r\n")
    if lines[-1] and complete:
        problems.append("unterminated reply line %r" % lines[-1][:120])
    code = None
    for line in lines[:-1]:
        if not REPLY_LINE.fullmatch(line):
            problems.append("not an SMTP reply line: %r" % line[:120])
        if any(b < 0x20 or b > 0x7e for b in line):
            problems.append("reply line is not printable ASCII: %r" % line[:120])
        if code is not None and line[:3] != code:
            problems.append("code changed inside a multi-line reply at %r" % line[:120])
        code = line[:3] if line[3:4] == b"-" else None
    if code is not None and complete:
        problems.append("multi-line reply never finished")
    return problems


RESULT_OUTCOME = re.compile(r"ACCEPTED|DEFERRED|RELAY DENIED|BACKEND UNAVAILABLE|BACKEND FAILED"
                            r"|(REFUSED|MAIL REFUSED|RCPT REFUSED) [45]\d\d"
                            r"|TIMEOUT|ABORTED|ERROR|NO MESSAGE")
XTEXT_WORD = r"[A-Z_]+=(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*"
XCLIENT_ARGUMENT = re.compile("%s( %s)*" % (XTEXT_WORD, XTEXT_WORD))


def receivedProblem(content):
    """Why the header the proxy put first in a relayed message is malformed, or None.

    Without XCLIENT the proxy adds "Received: from <HELO name> ..."; the client's HELO name
    must not be able to end that header early, add another, or carry control characters."""
    if not content.startswith(b"Received: "):
        return None
    end = content.find(b"\r\n")
    while end != -1 and content[end + 2:end + 3] in (b" ", b"\t"):
        end = content.find(b"\r\n", end + 2)
    header = content[:end if end != -1 else len(content)]
    unfolded = header.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", unfolded):
        return "the Received header carries control characters or a bare CR/LF: %r" % header
    return None


def split(address):
    """(local part, domain) of an address as the backend recorded it; domain None if bare."""
    if "@" not in address:
        return address, None
    local, _, domain = address.rpartition("@")
    return local, domain


def ourDomain(domain):
    return domain is not None and domain.lower() in (OUR_DOMAIN, OUR_DOMAIN + ".")


def relayProblem(address):
    """Why the backend must not see RCPT ``address`` from an outside client, or None."""
    local, domain = split(address)
    if domain is None:
        return None if local.lower() == "postmaster" else "a bare local part other than postmaster"
    if not ourDomain(domain):
        return "a domain we do not forward for"
    if any(c in local for c in "%!@"):
        return "a routed local part"
    return None


def ourPostmaster(address):
    local, domain = split(address)
    return local.lower() == "postmaster" and (domain is None or ourDomain(domain))


class Fuzzer(object):
    """One greylister for a whole fuzz test; runs sessions and checks the invariants."""

    def __init__(self, greylister, backend, source):
        self.g = greylister
        self.backend = backend
        self.source = source
        self.markers = Markers(b"FUZZ")
        self.seenMarkers = {}
        self.resultLinesChecked = 0

    def ensureRunning(self):
        """Start the program again if an earlier example killed it (so shrinking works)."""
        if not self.g.running():
            self.g.start()

    def run(self, *sessions):
        """Send the sessions ((payload, sizes) each) at once, one thread each, beside an open
        bystander session; check invariants 1, 2, 5 and what reached the backend on the
        client's behalf; return (conversations, backend commands, new backend messages)."""
        self.ensureRunning()
        handler = self.backend.handler
        commandsBefore, messagesBefore = len(handler.commands), len(handler.messages)
        greetingsBefore, xclientsBefore = len(handler.ehloNames), len(handler.xclients)
        stderrBefore = len(self.g.stderr())
        filled = [(self.markers.fill(payload)[0], sizes) for payload, sizes in sessions]
        with self.g.connect(source=self.source) as bystander:
            bystander.banner()
            bystander.expect("EHLO bystander.test", 250)
            with concurrent.futures.ThreadPoolExecutor(len(filled)) as pool:
                conversations = list(pool.map(
                    lambda session: converse(self.g.port, self.source, *session), filled))
            self.checkAlive(conversations)
            reply = bystander.command("NOOP")
            assert reply.code == 250, ("invariant 1: a session open alongside the fuzzed one got "
                                       "%r for NOOP" % reply)
        for conversation in conversations:
            self.checkConversation(conversation)
        if len(handler.commands) > commandsBefore:
            event("the backend got MAIL or RCPT")
        newStderr = self.g.stderr()[stderrBefore:]
        assert "Traceback" not in newStderr, "invariant 5 (no traceback):\n" + newStderr[-3000:]
        for name in handler.ehloNames[greetingsBefore:]:
            assert re.fullmatch(r"[\x21-\x7e\u00a0-\U0010ffff]+", name), (
                "invariant 3: the backend was greeted with EHLO %r" % name)
        for argument in handler.xclients[xclientsBefore:]:
            assert XCLIENT_ARGUMENT.fullmatch(argument), (
                "invariant 3: the backend got XCLIENT %r (not printable-ASCII xtext words)"
                % argument)
        for _, _, content in handler.messages[messagesBefore:]:
            problem = receivedProblem(content)
            assert problem is None, "invariant 3: %s:\n%r" % (problem, content[:600])
        self.checkResultLog()
        return conversations, handler.commands[commandsBefore:], handler.messages[messagesBefore:]

    def checkResultLog(self):
        """Invariant 6: every result line written so far has its seven fields, none empty or
        "None", no control characters, and a documented outcome (lines are written by a
        thread, so one may be checked an example late)."""
        lines = self.g.resultLines()
        for line in lines[self.resultLinesChecked:]:
            fields = line.split(" | ")
            assert len(fields) == 7, "invariant 6: %d fields in %r" % (len(fields), line)
            assert all(f and f != "None" for f in fields), "invariant 6: empty field in %r" % line
            assert not re.search(r"[\x00-\x1f\x7f]", line), "invariant 6: control in %r" % line
            assert RESULT_OUTCOME.fullmatch(fields[5]), "invariant 6: outcome of %r" % line
        self.resultLinesChecked = len(lines)

    @staticmethod
    def checkConversation(conversation):
        """Invariants 1 and 2 for one session: valid replies, closed after QUIT."""
        if conversation.tls:
            event("hung up at the TLS go-ahead")
        if conversation.reset:
            event("connection reset")
        problems = replyProblems(conversation.received, complete=not conversation.reset)
        assert not problems, "invariant 2 (valid replies):\n  " + "\n  ".join(problems[:10])
        assert conversation.closed, ("invariant 1: the session was not closed within %.0f s of "
                                     "QUIT; %d bytes unsent; replies %r"
                                     % (SESSION_DEADLINE, conversation.unsent,
                                        conversation.received[-300:]))
        codes = set(re.findall(rb"^([2-5][0-9][0-9])[ -]", conversation.received, re.MULTILINE))
        for code in sorted(codes):
            event("reply %s" % code.decode())

    def checkAlive(self, conversations):
        """Invariant 1: the process runs; a fresh connection gets 220, NOOP 250 (and, in run(),
        a session opened before the fuzzed ones still answers)."""
        assert self.g.running(), ("invariant 1: kamaelia-grey exited (status %s) after sessions "
                                  "that received %r\n%s"
                                  % (self.g.proc.returncode,
                                     [c.received[-300:] for c in conversations],
                                     self.g.stderr()[-3000:]))
        with self.g.connect(source=self.source) as c:
            c.banner()
            c.expect("NOOP", 250)
            c.expect("QUIT", 221)

    def noMarkerTwice(self, messages):
        """Invariant 4: a marker the client sent once is in at most one backend message."""
        for _, _, content in messages:
            for marker in set(re.findall(rb"FUZZ-\d+", content)):
                assert marker not in self.seenMarkers, (
                    "invariant 4: marker %r delivered twice:\n%r\n%r"
                    % (marker, self.seenMarkers[marker][:500], content[:500]))
                self.seenMarkers[marker] = content


def recordGreetings(handler):
    """Make the backend's handler also keep the name of every EHLO it gets, in ``ehloNames``."""
    handler.ehloNames = []
    plain = handler.handle_EHLO

    async def handle_EHLO(server, session, envelope, hostname, responses):
        handler.ehloNames.append(hostname)
        return await plain(server, session, envelope, hostname, responses)

    handler.handle_EHLO = handle_EHLO


@pytest.fixture(params=["plain", "tls", "xclient"])
def outsideFuzzer(request, grey, backend, certificate):
    """Outside fuzzing: plain; with STARTTLS offered (so its error paths are live); and with a
    backend offering XCLIENT, so the client's HELO name is passed on (XCLIENT HELO=, EHLO)."""
    tls = {}
    if request.param == "tls":
        tls = {"tls_certificate": certificate[0], "tls_key": certificate[1]}
    backend.handler.offerXclient = request.param == "xclient"
    recordGreetings(backend.handler)
    g = grey(backend, greylist_min_defer=3600, greylist_too_soon=0, **tls)
    return Fuzzer(g, backend, OUTSIDE)


@pytest.fixture
def allowedFuzzer(grey, backend):
    recordGreetings(backend.handler)
    g = grey(backend, allowed_senders=[ALLOWED], greylist_min_defer=3600, greylist_too_soon=0)
    return Fuzzer(g, backend, ALLOWED)


# -- the fuzz tests ---------------------------------------------------------------------------

@pytest.mark.timeout(FUZZ_TIMEOUT)
def test_fuzzed_sessions_from_outside_relay_nothing_the_policy_forbids(outsideFuzzer):
    """Hostile sessions, up to three at once, from 127.0.0.2 (not allowed, greylisted with a 1 h
    minimum), plain, with STARTTLS on offer and with an XCLIENT backend: the server stays up
    and answers validly (1, 2, 5, 6), the backend sees no RCPT to another domain or with a
    routed local part, and no message except one to our postmaster alone (3)."""
    fuzzer = outsideFuzzer

    @FUZZ
    @given(concurrentSessions)
    @example([(HUGE_RCPT, [len(HUGE_RCPT)])])
    def check(group):
        _, commands, messages = fuzzer.run(*group)
        for command in commands:
            if command[0] == "RCPT":
                problem = relayProblem(command[1])
                assert problem is None, ("invariant 3: RCPT %r from outside reached the backend "
                                         "(%s)" % (command[1], problem))
        for sender, recipients, content in messages:
            assert all(ourPostmaster(r) for r in recipients), (
                "invariant 3: a message from outside reached the backend: %r -> %r\n%r"
                % (sender, recipients, content[:300]))

    check()


@pytest.mark.timeout(FUZZ_TIMEOUT)
def test_fuzzed_sessions_from_an_allowed_client_lose_and_duplicate_nothing(allowedFuzzer):
    """Hostile sessions, up to three at once, from 127.0.0.1 (allowed: relayed at once): the
    server stays up and answers validly (1, 2, 5, 6); the backend holds exactly one message per
    end-of-data acceptance the client received, and no message marker arrives twice (4)."""
    fuzzer = allowedFuzzer

    @FUZZ
    @given(concurrentSessions)
    @example([(HUGE_DATA, [len(HUGE_DATA)])])
    def check(group):
        conversations, _, messages = fuzzer.run(*group)
        acceptances = sum(c.received.count(ACCEPTED_AT_END_OF_DATA) for c in conversations)
        complete = not any(c.reset for c in conversations)
        # After a reset the last replies may be lost: then the client knows of fewer.
        assert acceptances == len(messages) or (not complete and acceptances < len(messages)), (
            "invariant 4: the client was told %d message(s) accepted; the backend got %d:\n%r"
            % (acceptances, len(messages), [m[2][:200] for m in messages]))
        fuzzer.noMarkerTwice(messages)

    check()


# -- smuggling: one body, one message ---------------------------------------------------------

@st.composite
def smugglingBodies(draw):
    """(wire body, sizes): a body as sent after DATA's 354, without its final CRLF.CRLF, that
    holds no CRLF.CRLF itself, and how to cut body + CRLF.CRLF + NOOP into writes."""
    pieces = draw(st.lists(st.one_of(
        st.sampled_from(FALSE_ENDS).flatmap(lambda sep: st.sampled_from([b"\r\n", b"\n", b"\r"])
                                            .map(lambda end: sep + smuggledTransaction(end) + sep)),
        bodyPieces), min_size=1, max_size=8))
    body = b"Subject: " + MARK + b"\r\n\r\n" + b"".join(pieces)
    body = noEndOfData(body)
    wire = body + b"\r\n.\r\nNOOP\r\n"
    return body, draw(chunkings(len(wire)))


def noEndOfData(body):
    """``body`` changed (a dot doubled, or an "x" added) so that body + CRLF.CRLF ends there."""
    while b"\r\n.\r\n" in body:
        body = body.replace(b"\r\n.\r\n", b"\r\n..\r\n")
    if (body + b"\r\n.\r\n").find(b"\r\n.\r\n") != len(body):
        body += b"x"
    return body


def unstuffed(body):
    """What a receiver makes of ``body`` (CRLF lines only): leading dots undoubled, + CRLF."""
    lines = body.split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines) + b"\r\n"


def hasBareNewline(body):
    return re.search(rb"\r(?!\n)|(?<!\r)\n", body) is not None


def longestLine(body, mode):
    separator = rb"\r\n" if mode == "reject" else rb"\r\n|\n|\r"
    return max(len(line) for line in re.split(separator, body))


@pytest.mark.timeout(FUZZ_TIMEOUT)
@pytest.mark.parametrize("mode", ["normalize", "reject"])
def test_fuzzed_bodies_with_false_ends_arrive_as_one_message(grey, backend, e2e, mode):
    """An allowed client's message whose body holds false ends of data (bare LF/CR dot lines)
    and whole second transactions, sent in random chunks: exactly one reply to the end of data,
    then NOOP's 250; accepted means exactly one message with every marker of the body and no
    second envelope at the backend; refused means nothing delivered. A body without bare
    newlines and long lines is accepted byte for byte; with bare_newline = reject one with a
    bare newline is refused 554."""
    g = grey(backend, allowed_senders=[ALLOWED], bare_newline=mode)
    fuzzer = Fuzzer(g, backend, ALLOWED)

    @FUZZ
    @given(smugglingBodies())
    def check(drawn):
        fuzzer.ensureRunning()
        body, sizes = drawn
        body, markers = fuzzer.markers.fill(body)
        handler = backend.handler
        commandsBefore, messagesBefore = len(handler.commands), len(handler.messages)
        with g.connect(source=ALLOWED) as c:
            c.banner()
            c.expect("EHLO client.test", 250)
            c.expect("MAIL FROM:<friend@example.net>", 250)
            c.expect("RCPT TO:<user@example.org>", 250)
            c.expect("DATA", 354)
            wire, offset = body + b"\r\n.\r\nNOOP\r\n", 0
            for size in sizes:
                c.send(wire[offset:offset + size])
                offset += size
            c.send(wire[offset:])
            replies = [c.reply()]
            while replies[-1].raw != [str(R.OK).encode()] and len(replies) < 8:
                replies.append(c.reply())
            c.expect("QUIT", 221)
        assert all(re.fullmatch(rb"[2-5][0-9][0-9][ -][\x20-\x7e]*", line) for line in c.replyLines)
        messages = handler.messages[messagesBefore:]
        commands = handler.commands[commandsBefore:]
        assert len(replies) == 2, (
            "content after a false end of data was taken as commands: replies %r; the backend "
            "got %r and messages %r" % (replies, commands, [m[:2] for m in messages]))
        envelopes = [cmd for cmd in commands if cmd[0] == "MAIL"]
        assert len(envelopes) == 1, "a second envelope reached the backend: %r" % envelopes
        final = replies[0]
        if final.code == 250:
            assert len(messages) == 1, "250 at end of data, %d messages delivered" % len(messages)
            [(_, recipients, content)] = messages
            assert recipients == ["user@example.org"]
            for marker in markers:
                assert marker in content, "marker %r lost from the message" % marker
        else:
            assert messages == [], "refused with %r, yet delivered" % final
        bare, longest = hasBareNewline(body), longestLine(body, mode)
        if mode == "reject" and bare and longest <= 998:
            assert final.code == R.BARE_NEWLINE.code, final
        if longest <= 998 and not (bare and mode == "reject"):
            assert final.code == 250, "a deliverable body was refused: %r" % final
        if final.code == 250 and not bare:
            assert e2e.withoutReceived(messages[0][2]) == unstuffed(body)

    check()


# -- the named cases, deterministic -----------------------------------------------------

def test_a_non_utf8_ehlo_does_not_stop_the_server(grey, backend):
    """Issue 8 #2: "EHLO \\xff" gets a valid reply, and a second session is still served."""
    g = grey(backend)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        reply = c.command(b"EHLO \xff")
        assert 200 <= reply.code < 600
        c.expect("QUIT", 221)
    assert g.running()
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("NOOP", 250)


@pytest.mark.parametrize("recipient", [
    "postmaster@other.example", "POSTMASTER@[192.0.2.99]", "victim%evil.example@example.org",
    '"victim@evil.example"@example.org', "evil.example!victim@example.org"])
def test_relay_attempts_from_outside_get_550_5_7_1_and_never_reach_the_backend(grey, backend,
                                                                               recipient):
    """Issue 8 #1 and #4: postmaster at another domain or an address literal, and routing in the
    local part, from an outside client: 550 5.7.1 at RCPT; the backend sees neither the RCPT
    nor, after DATA, any message."""
    g = grey(backend, greylist_min_defer=3600)
    with g.connect(source=OUTSIDE) as c:
        c.banner()
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<spammer@example.net>", 250)
        reply = c.expect("RCPT TO:<%s>" % recipient, 550)
        assert reply.lines[-1].startswith("5.7.1"), reply
        if c.command("DATA").code == 354:
            c.send(b"Subject: relay\r\n\r\nspam\r\n.\r\n")
            c.reply()
        c.expect("QUIT", 221)
    assert [cmd for cmd in backend.handler.commands if cmd[0] == "RCPT"] == []
    assert backend.messages == []


@pytest.mark.parametrize("mode", ["normalize", "reject"])
def test_a_dot_line_after_an_overlong_line_ended_by_a_bare_lf_does_not_end_the_data(grey, backend,
                                                                                   mode):
    """Found by the fuzz: 1000 "x", LF, ".", CRLF, then a whole transaction, then CRLF "." CRLF.
    The "." follows a bare LF, so it is content: the message gets one reply (554, the line is
    too long), the NOOP after it 250, and the backend never sees the smuggled envelope."""
    g = grey(backend, allowed_senders=[ALLOWED], bare_newline=mode)
    with g.connect(source=ALLOWED) as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<friend@example.net>", 250)
        c.expect("RCPT TO:<user@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: t\r\n\r\n" + b"x" * 1000 + b"\n.\r\n"
               + b"MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@evil.example>\r\nDATA\r\n"
               + b"Subject: smuggled\r\n\r\nevil\r\n.\r\nNOOP\r\n")
        refused = c.reply()
        assert refused.code == 554, refused
        after = c.reply()
        assert after.raw == [str(R.OK).encode()], (
            "the smuggled MAIL was taken as a command: it got %r" % after)
        c.expect("QUIT", 221)
    assert [cmd for cmd in backend.handler.commands if cmd[0] == "MAIL"] == [
        ("MAIL", "friend@example.net", ())]
    assert backend.messages == []


def test_bare_cr_line_ends_count_as_line_ends_for_the_length_limit(grey, backend, e2e):
    """Found by the fuzz: with bare_newline = normalize a bare CR ends a content line, so two
    600-octet lines separated by a bare CR are two lines within the limit, not one of 1201
    characters: the message is accepted, and relayed with a CRLF where the CR was."""
    g = grey(backend, allowed_senders=[ALLOWED])
    with g.connect(source=ALLOWED) as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<friend@example.net>", 250)
        c.expect("RCPT TO:<user@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: t\r\n\r\n" + b"y" * 600 + b"\r" + b"z" * 600 + b"\r\n.\r\n")
        reply = c.reply()
        assert reply.code == 250, reply
    [(_, _, content)] = backend.waitForMessages(1)
    assert e2e.withoutReceived(content) == (b"Subject: t\r\n\r\n" + b"y" * 600 + b"\r\n"
                                            + b"z" * 600 + b"\r\n")
