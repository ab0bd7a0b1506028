"""
Kamaelia.Protocol.MimeRequestComponent: parse one HTTP/RTSP-style request
=========================================================================

``MimeRequestComponent()`` reads the text of one request from its "inbox" --
in pieces of any size -- and, once it has the request line, the headers and
as much body as ``Content-Length`` announces, sends one
``Kamaelia.Support.Data.MimeObject.mimeObject`` on "outbox" and stops.

Example Usage
-------------
::

    from Axon.Component import component
    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Protocol.MimeRequestComponent import MimeRequestComponent
    from Kamaelia.Util.DataSource import DataSource

    class Show(component):
        def main(self):
            while not self.dataReady("inbox"):
                self.pause()
                yield 1
            request = self.recv("inbox")
            print(request.preambleLine.method, request.preambleLine.url)
            print(request.header["content-length"], repr(request.body))

    Pipeline(
        DataSource(["GET http://127.0.0.1:8080/index.html HTTP/1.0\\r\\n",
                    "Content-Length: 5\\r\\n\\r\\n", "he", "llo"]),
        MimeRequestComponent(),
        Show(),
    ).run()
    # prints:
    # GET /index.html
    # ['Content-Length', '5'] 'hello'

How does it work?
-----------------
It is a mainBody-style component: each ``mainBody()`` call advances a small
state machine by one step, ``handleDataAquisition()`` (the 1.x spelling),
which returns a code saying what it did:

1. no request line yet: ``getRequestLine()`` tries to read it;
2. no current line: ``getALine()`` tries to read the next header line;
3. the current line is a header: ``readHeader()`` stores it (a blank line
   instead ends the header, see ``checkEndOfHeader()``);
4. body short of ``Content-Length``, more data wanted: ``getData()`` takes
   the next inbox item;
5. body short: what has been received is added to it and more is wanted;

``None`` means the request is complete. Lines end at LF, and a CR before
the LF is dropped. ``nextLine()`` takes at most one inbox item per call;
``bytes`` items are decoded as latin-1, any other non-text item is logged
and dropped. Headers are kept in ``header`` as
``lower-cased name -> [name as first seen, value]``; a repeated header's
values are joined with ``", "``. Without ``Content-Length`` the body is
empty; the body is not cut to ``Content-Length`` if more arrived.

When the request is complete, the request line is parsed with
``Kamaelia.Support.Data.requestLine.requestLine`` (kept as ``request``), and
``mimeObject(header, body, request)`` is kept as ``mimeRequest`` and sent.
The component pauses while it waits for data it does not have.

The attributes 1.x tests inspect are all there from construction:
``header``, ``requestLineRead``, ``currentLineRead``, ``seenEndHeader``,
``currentLine``, ``currentBytes``, ``requestLine``, ``stillReading``,
``needData``, ``gotRequest``, ``body``, ``step``; ``headerlength`` appears
when the end of the header is seen.

Inboxes
-------
* inbox   -- text of the request (``str``, or ``bytes`` taken as latin-1)
* control -- ``producerFinished`` or ``shutdownMicroprocess``: give up on a
  request that is still incomplete once the inbox is empty

Outboxes
--------
* outbox -- one ``mimeObject`` for the request
* signal -- ``Axon.Ipc.errorInformation(self, BadRequest(...))`` if the request
  line or a header cannot be parsed; the shutdown message, if it gave up

Termination
-----------
It stops after sending its ``mimeObject``, or after sending an
``errorInformation`` on "signal" when the request line (or a header line,
or the ``Content-Length`` value) is malformed. "control" is read only when
the request is incomplete and nothing is left in "inbox": a
``producerFinished`` or ``shutdownMicroprocess`` there (say, the connection
closed early) makes it pass that message on "signal" and stop without
sending a request; other messages there are discarded. (1.x never read
"control" and waited for ever.) Data already waiting is always parsed
first, so a ``producerFinished`` sent right after a complete request does
not stop it from being sent.

Debugging output: section ``"MimeRequestComponent.mainBody"`` of
``Axon.debug`` (level 5: the request line; 8: the headers; 10: the body).
"""

import logging

from Axon.Component import component
from Axon.Ipc import errorInformation, producerFinished, shutdownMicroprocess
from Kamaelia.KamaeliaExceptions import BadRequest
from Kamaelia.Support.Data.MimeObject import mimeObject
from Kamaelia.Support.Data.requestLine import requestLine

_log = logging.getLogger(__name__)

_DEBUG_SECTION = "MimeRequestComponent.mainBody"


class MimeRequestComponent(component):
    """MimeRequestComponent() -> reads one request, sends it as a mimeObject, stops.

    See the module documentation for the state machine and its codes.
    """

    Inboxes = {"inbox": "Text of the request (str, or bytes read as latin-1)",
               "control": "producerFinished/shutdownMicroprocess: give up on an incomplete request"}
    Outboxes = {"outbox": "One mimeObject for the request",
                "signal": "errorInformation(self, BadRequest) for a malformed request, "
                          "or the shutdown message it gave up on"}

    def __init__(self):
        super().__init__()
        self.header = {}
        self.requestLineRead = 0
        self.currentLineRead = 0
        self.seenEndHeader = 0
        self.currentLine = ""
        self.currentBytes = ""
        self.requestLine = ""
        self.stillReading = 1
        self.needData = 0
        self.gotRequest = 0
        self.body = ""
        self.step = 0

    def initialiseComponent(self):
        return None

    def _takeText(self):
        """The next inbox item as text, or None (logged) when it is not text."""
        item = self.recv("inbox")
        if isinstance(item, (bytes, bytearray)):
            return bytes(item).decode("latin-1")
        if isinstance(item, str):
            return item
        _log.warning("%s: dropping a %s on its inbox (text expected)", self.name, type(item).__name__)
        return None

    def nextLine(self):
        """Take at most one inbox item, then return ``(1, line)`` or ``(0, "")``."""
        if self.dataReady("inbox"):
            text = self._takeText()
            if text is None:
                return 0, ""
            self.currentBytes += text
        line, newline, rest = self.currentBytes.partition("\n")
        if not newline:
            return 0, ""
        self.currentBytes = rest
        if line.endswith("\r"):
            line = line[:-1]
        return 1, line

    def getRequestLine(self):
        self.requestLineRead, self.requestLine = self.nextLine()

    def getALine(self):
        self.currentLineRead, self.currentLine = self.nextLine()

    def readHeader(self):
        """Store ``currentLine`` (``Name: value``) in ``header``; ValueError without ``": "``."""
        name, value = self.currentLine.split(": ", 1)
        key = name.lower()
        if key in self.header:
            self.header[key][1] += ", " + value
        else:
            self.header[key] = [name, value]
        self.currentLineRead = 0
        self.currentLine = ""

    def getData(self):
        """Append the next inbox item (if any) to ``currentBytes``."""
        if self.dataReady("inbox"):
            text = self._takeText()
            if text is not None:
                self.currentBytes += text
                self.needData = 0

    def checkEndOfHeader(self):
        """A blank current line ends the header: set ``seenEndHeader`` and ``headerlength``."""
        if self.currentLine == "" and not self.seenEndHeader:
            self.seenEndHeader = 1
            if "content-length" in self.header:
                self.headerlength = int(self.header["content-length"][1])
            else:
                self.headerlength = 0
                self.needData = 0

    def handleDataAquisition(self):
        """Advance the parse one step; return its code (1-5), or None when complete."""
        if not self.requestLineRead:
            self.getRequestLine()
            return 1
        if not self.currentLineRead:
            self.getALine()
            return 2
        self.checkEndOfHeader()
        if not self.seenEndHeader:
            self.readHeader()
            return 3
        self.body += self.currentBytes
        if len(self.body) < self.headerlength:
            if self.needData:
                self.getData()
                return 4
            self.currentBytes = ""
            self.needData = 1
            return 5
        return None

    def _waitingForInput(self, code):
        """True when the last step could not proceed for want of inbox data."""
        if self.dataReady("inbox"):
            return False
        return ((code == 1 and not self.requestLineRead)
                or (code == 2 and not self.currentLineRead)
                or (code == 4 and self.needData))

    def _stopRequested(self):
        """Pass on a producerFinished/shutdownMicroprocess waiting on "control"; True if one was."""
        while self.dataReady("control"):
            msg = self.recv("control")
            if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                self.send(msg, "signal")
                return True
        return False

    def _fail(self, text, exc):
        self.send(errorInformation(self, BadRequest(text, exc)), "signal")
        return 0

    def mainBody(self):
        if not self.gotRequest:
            # The line a malformed header (or Content-Length) came from.
            where = self.currentLine or self.requestLine
            try:
                code = self.handleDataAquisition()
            except ValueError as e:
                return self._fail(where, e)
            if code:
                if self._waitingForInput(code):
                    if self._stopRequested():
                        return 0
                    self.pause()
                return 1
        self.gotRequest = 1
        try:
            self.request = requestLine(self.requestLine)
        except BadRequest as e:
            self.send(errorInformation(self, e), "signal")
            return 0
        if self.debugger.areDebugging(_DEBUG_SECTION, 5):
            self.debugger.debugmessage(_DEBUG_SECTION, "request line", self.request)
        if self.debugger.areDebugging(_DEBUG_SECTION, 8):
            self.debugger.debugmessage(_DEBUG_SECTION, "headers", self.header)
        if self.debugger.areDebugging(_DEBUG_SECTION, 10):
            self.debugger.debugmessage(_DEBUG_SECTION, "body", repr(self.body))
        self.mimeRequest = mimeObject(self.header, self.body, self.request)
        self.send(self.mimeRequest, "outbox")
        return None


__kamaelia_components__ = (MimeRequestComponent,)
