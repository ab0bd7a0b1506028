"""
Kamaelia.Support.Data.MimeObject: a parsed request (headers, body, request line)
================================================================================

``mimeObject(header, body, preambleLine)`` is what
``Kamaelia.Protocol.MimeRequestComponent`` produces: the headers of one
request, its body and (optionally) its first line.

Example Usage
-------------
::

    >>> from Kamaelia.Support.Data.MimeObject import mimeObject
    >>> m = mimeObject({"content-type": ["Content-Type", "text/plain"]}, "hello")
    >>> print(str(m))
    Content-Type: text/plain
    <BLANKLINE>
    hello
    >>> str(mimeObject())
    '\\n'

How does it work?
-----------------
``header`` maps a lower-cased header name to ``[original name, value]``
(the form MimeRequestComponent builds). It is copied with ``dict()``, so the
object never shares the caller's dictionary; ``body`` is kept as given.
``preambleLine`` (for instance a ``requestLine``) is kept when it is true,
otherwise it is ``None``.

``str()`` gives the text form, lines ended by LF: the preamble line (when
there is one), then ``original name: value`` for each header in the
dictionary's order, a blank line, and the body.
"""


class mimeObject(object):
    """mimeObject([header][, body][, preambleLine]) -> headers, body and request line.

    Attributes ``header`` (a copy of the dict given), ``body`` and
    ``preambleLine`` (None when none was given).
    """

    def __init__(self, header=None, body="", preambleLine=None):
        self.header = dict(header) if header is not None else {}
        self.body = body
        self.preambleLine = preambleLine if preambleLine else None

    def __str__(self):
        lines = []
        if self.preambleLine:
            lines.append(str(self.preambleLine) + "\n")
        for originalName, value in self.header.values():
            lines.append(originalName + ": " + value + "\n")
        lines.append("\n")
        lines.append(self.body)
        return "".join(lines)
