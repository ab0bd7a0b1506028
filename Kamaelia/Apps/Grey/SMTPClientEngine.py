"""
Kamaelia.Apps.Grey.SMTPClientEngine: the proxy's side of SMTP toward the real server, without I/O
=================================================================================================

The SMTP client the proxy is to the real mail server, as a pure state
machine: the server's bytes go in (``receive_data``), complete replies come
out (``next_reply``, multi-line replies assembled); during the opening of a
connection ``handle(reply)`` says what to do next -- the banner, EHLO with
the fall back to HELO, XCLIENT (Postfix's way of telling the server who the
real client is) and greeting the server again as the client. It also
formats the commands the proxy sends (``mail_command``, ``rcpt_command``,
``xclient_command``, ``envelope_commands`` for replaying a transaction on a
new connection). No sockets, no clock, no Axon: ``BackendRelay`` moves the
bytes and waits.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.SMTPClientEngine import (NEED_CLIENT_NAME, READY, ClientInfo,
    ...                                                  Send, SMTPClientEngine)
    >>> engine = SMTPClientEngine("mx.example.org",
    ...                           ClientInfo("192.0.2.7", 40000, "client.example", esmtp=True))
    >>> engine.receive_data(b"220 backend ESMTP\\r\\n")
    >>> engine.handle(engine.next_reply())
    Send(line='EHLO mx.example.org')
    >>> engine.receive_data(b"250-backend\\r\\n250-XCLIENT NAME ADDR HELO\\r\\n250 SIZE 1000\\r\\n")
    >>> engine.handle(engine.next_reply()) is NEED_CLIENT_NAME
    True
    >>> engine.client_name("client.example", "client.example")
    Send(line='XCLIENT NAME=client.example ADDR=192.0.2.7 HELO=client.example')
    >>> engine.receive_data(b"220 backend ESMTP\\r\\n")
    >>> engine.handle(engine.next_reply())
    Send(line='EHLO client.example')
    >>> engine.receive_data(b"250-backend\\r\\n250 SIZE 2000\\r\\n")
    >>> engine.handle(engine.next_reply()) is READY, engine.xclient_used, engine.capabilities
    (True, True, {'SIZE': ('2000',)})

How does it work?
-----------------
Bytes are framed on CRLF (lines of at most ``max_line`` octets) and parsed
with ``SMTPReplies.ReplyParser``; a malformed or over-long line raises
``BackendProtocolError`` (the server broke the protocol: drop it).

The opening of a connection follows ``HANDSHAKE``, a table of (state, kind
of reply) -> (what to do, next state), where the kind is the exact code
(220, 250), "2xx" or "other":

- ``BANNER``: a 220 greeting is answered with ``EHLO <our name>``; anything
  else means the server refused us (``Failed``).
- ``EHLO``: a 250 records the server's extensions; if it offers XCLIENT and
  the engine was given the client (``ClientInfo``; None means do not use
  XCLIENT) with a HELO name, the client's verified name is needed
  (``NEED_CLIENT_NAME``: the caller looks it up and calls
  ``client_name``); else the connection is ``READY``. A refusal is
  answered with ``HELO <our name>``.
- ``HELO``: a 250 makes the connection ``READY`` (with no extensions), a
  refusal fails it.
- ``XCLIENT``: any 2xx means the server took the client's attributes; it is
  then greeted again with the client's own HELO or EHLO name
  (``CLIENT_HELLO``), so its HELO checks and Received header see the
  client. A refusal leaves the connection ``READY`` as the proxy's own
  (``xclient_refusal`` holds the reply, for a warning).
- ``CLIENT_HELLO``: a 250 makes it ``READY`` (an EHLO's extensions replace
  the first ones), a refusal fails it.

``XCLIENT`` carries only the attributes the server listed (NAME,
REVERSE_NAME, ADDR -- "IPV6:" before an IPv6 address -- PORT, HELO, PROTO),
xtext-encoded (RFC 1891), and leaves out empty ones.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

from Kamaelia.Apps.Grey.SMTPProtocol import Path, SMTPStateError, encode
from Kamaelia.Apps.Grey.SMTPReplies import Reply, ReplyError, ReplyParser, capabilities
from Kamaelia.Support.LineBuffer import LineBuffer, LineTooLong

__all__ = ["SMTPClientEngine", "ClientInfo", "Send", "Failed", "NEED_CLIENT_NAME", "READY",
           "BackendProtocolError", "HANDSHAKE", "BANNER", "EHLO", "HELO", "NAME", "XCLIENT",
           "CLIENT_HELLO", "READY_STATE", "FAILED", "mail_command", "rcpt_command",
           "xclient_command", "envelope_commands", "xtext", "parameters"]

BANNER, EHLO, HELO, NAME, XCLIENT, CLIENT_HELLO, READY_STATE, FAILED = (
    "BANNER", "EHLO", "HELO", "NAME", "XCLIENT", "CLIENT_HELLO", "READY", "FAILED")

REPLY_LINE_LIMIT = 2048


class BackendProtocolError(ValueError):
    """The real server sent something that is not an SMTP reply."""


class ClientInfo(NamedTuple):
    """What XCLIENT tells the real server about the proxy's client."""

    address: str
    port: object
    helo_name: Optional[str]
    esmtp: bool


class Send(NamedTuple):
    """Send this command line, then hand its reply to ``handle``."""

    line: str


class Failed(NamedTuple):
    """The server will not do: ``why`` says what it refused, ``reply`` how."""

    why: str
    reply: Reply


class _Step(object):
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEED_CLIENT_NAME = _Step("NEED_CLIENT_NAME")
READY = _Step("READY")

Action = Union[Send, Failed, _Step]

# Actions in the table (their lines are filled in by the engine).
SEND_EHLO, SEND_HELO, AFTER_EHLO, SEND_CLIENT_HELLO, REFUSED_XCLIENT, DONE, FAIL = (
    "send EHLO", "send HELO", "EHLO accepted", "send the client's HELO/EHLO",
    "XCLIENT refused", "ready", "fail")

# (state, kind of reply) -> (action, next state); kind is 220, 250, "2xx" or "other".
HANDSHAKE: Dict[Tuple[str, object], Tuple[str, str]] = {
    (BANNER, 220): (SEND_EHLO, EHLO),
    (BANNER, "other"): (FAIL, FAILED),
    (EHLO, 250): (AFTER_EHLO, READY_STATE),
    (EHLO, "other"): (SEND_HELO, HELO),
    (HELO, 250): (DONE, READY_STATE),
    (HELO, "other"): (FAIL, FAILED),
    (XCLIENT, "2xx"): (SEND_CLIENT_HELLO, CLIENT_HELLO),
    (XCLIENT, "other"): (REFUSED_XCLIENT, READY_STATE),
    (CLIENT_HELLO, 250): (DONE, READY_STATE),
    (CLIENT_HELLO, "other"): (FAIL, FAILED),
}

_FAILURES = {BANNER: "refused us at its banner", HELO: "refused HELO",
             CLIENT_HELLO: "refused the client's HELO/EHLO after XCLIENT"}


def _kind(state: str, code: int) -> object:
    if (state, code) in HANDSHAKE:
        return code
    if 200 <= code < 300 and (state, "2xx") in HANDSHAKE:
        return "2xx"
    return "other"


class SMTPClientEngine(object):
    """The proxy's SMTP client toward the real server. See the module documentation."""

    def __init__(self, our_name: str, client: Optional[ClientInfo] = None,
                 max_line: int = REPLY_LINE_LIMIT):
        self.our_name = our_name
        self.client = client
        self._buffer = LineBuffer(b"\r\n", max_line)
        self._parser = ReplyParser()
        self._state = BANNER
        self.capabilities: Dict[str, Tuple[str, ...]] = {}
        self.xclient_used = False
        self.xclient_refusal: Optional[Reply] = None

    @property
    def state(self) -> str:
        return self._state

    # -- bytes ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        self._buffer.feed(data)

    @property
    def buffered(self) -> int:
        """Bytes from the server not yet taken as replies (while idle: it spoke unasked)."""
        return self._buffer.buffered

    def next_reply(self) -> Optional[Reply]:
        """The next complete reply, or None until more bytes arrive."""
        buffer = self._buffer
        parser = self._parser
        try:
            while True:
                line = buffer.nextLine()
                if line is None:
                    return None
                reply = parser.feed(line)
                if reply is not None:
                    return reply
        except (ReplyError, LineTooLong) as e:
            raise BackendProtocolError(str(e)) from e

    # -- the opening of the connection ------------------------------------------------------

    def handle(self, reply: Reply) -> Action:
        """What to do after ``reply`` while opening the connection (see the module docs)."""
        state = self._state
        entry = HANDSHAKE.get((state, _kind(state, reply.code)))
        if entry is None:
            raise SMTPStateError("no reply is expected in state %s" % state)
        action, self._state = entry
        if action == SEND_EHLO:
            return Send("EHLO " + self.our_name)
        if action == SEND_HELO:
            return Send("HELO " + self.our_name)
        if action == AFTER_EHLO:
            self.capabilities = capabilities(reply)
            client = self.client
            if "XCLIENT" in self.capabilities and client is not None and client.helo_name:
                self._state = NAME
                return NEED_CLIENT_NAME
            return READY
        if action == SEND_CLIENT_HELLO:
            self.xclient_used = True
            client = self.client
            assert client is not None
            return Send("%s %s" % ("EHLO" if client.esmtp else "HELO", client.helo_name))
        if action == REFUSED_XCLIENT:
            self.xclient_refusal = reply
            return READY
        if action == DONE:
            if state == HELO:
                self.capabilities = {}
            elif state == CLIENT_HELLO and self.client is not None and self.client.esmtp:
                self.capabilities = capabilities(reply)
            return READY
        return Failed(_FAILURES[state], reply)

    def client_name(self, name: str, reverse_name: str) -> Send:
        """The client's verified name (and its reverse name) for XCLIENT; what to send."""
        if self._state != NAME or self.client is None:
            raise SMTPStateError("the client's name is not wanted in state %s" % self._state)
        self._state = XCLIENT
        return Send(xclient_command(self.capabilities.get("XCLIENT", ()), self.client, name,
                                    reverse_name))

    @property
    def ready(self) -> bool:
        return self._state == READY_STATE


# -- commands ------------------------------------------------------------------------------

def command_bytes(line: str) -> bytes:
    """A command line as it goes on the wire."""
    return encode(line) + b"\r\n"


def xtext(value: str) -> str:
    """RFC 1891 xtext: printable ASCII but "+" and "=" as is, every other byte as "+XX"."""
    out = []
    for char in value.encode("utf-8", "surrogateescape"):
        if 33 <= char <= 126 and char not in (43, 61):
            out.append(chr(char))
        else:
            out.append("+%02X" % char)
    return "".join(out)


def xclient_command(supported: Iterable[str], client: ClientInfo, name: str,
                    reverse_name: str) -> str:
    """The XCLIENT line, with the attributes in ``supported`` (the server's XCLIENT keywords)."""
    wanted = set(supported)
    address = str(client.address)
    if ":" in address:
        address = "IPV6:" + address
    values = [("NAME", name), ("REVERSE_NAME", reverse_name), ("ADDR", address),
              ("PORT", str(client.port)), ("HELO", client.helo_name or ""),
              ("PROTO", "ESMTP" if client.esmtp else "SMTP")]
    return "XCLIENT " + " ".join("%s=%s" % (key, xtext(value)) for key, value in values
                                 if key in wanted and value)


def parameters(path: Path) -> str:
    """A path's ESMTP parameters as they follow it in a command (" KEY=VALUE ...")."""
    return "".join(" %s=%s" % (k, v) if v is not None else " " + k for k, v in path.params.items())


def mail_command(sender: Path) -> str:
    return "MAIL FROM:%s%s" % (sender.bracketed(), parameters(sender))


def rcpt_command(recipient: Path) -> str:
    return "RCPT TO:%s%s" % (recipient.bracketed(), parameters(recipient))


def envelope_commands(sender: Path, recipients: Iterable[Path]) -> List[str]:
    """MAIL and every RCPT of a transaction, to replay it on a new connection."""
    return [mail_command(sender)] + [rcpt_command(r) for r in recipients]
