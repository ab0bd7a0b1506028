"""
Kamaelia.Support.Data.MimeDict: an RFC-822-style message as a dictionary
========================================================================

A ``MimeDict`` is a ``dict`` whose keys are header names and whose values are
header values -- a string, or a list of strings for a header that appears
more than once -- plus the special key ``"__BODY__"`` holding the body. It
converts to and from the text form ``Name: value`` lines, a blank line, then
the body, with CRLF line ends. The order of the header lines is remembered,
so text parsed and turned back into text comes out as it went in.

Example Usage
-------------
::

    >>> from Kamaelia.Support.Data.MimeDict import MimeDict
    >>> m = MimeDict(Subject="greetings", To=["ann@example.org", "bob@example.org"],
    ...              __BODY__="Hello!")
    >>> str(m)
    'Subject: greetings\\r\\nTo: ann@example.org\\r\\nTo: bob@example.org\\r\\n\\r\\nHello!'
    >>> back = MimeDict.fromString(str(m))
    >>> back == m, back["To"]
    (True, ['ann@example.org', 'bob@example.org'])
    >>> str(MimeDict.fromString("Received: from a\\r\\n  by b\\r\\n\\r\\nbody"))
    'Received: from a\\r\\n  by b\\r\\n\\r\\nbody'

Text that is not a header block followed by a blank line is still accepted:
it becomes a ``MimeDict`` whose body is the whole text, and ``str()`` gives
that text back unchanged::

    >>> bad = MimeDict.fromString("no header here")
    >>> bad["__BODY__"], bad.invalidSource, str(bad)
    ('no header here', True, 'no header here')

How does it work?
-----------------
``insertionorder`` lists one key per header line to write. Keyword arguments
to the constructor add one entry per list element (one for an empty list,
written as an empty header) or one for any other value; ``m[key] = value``
replaces the key's entries by one per list element (none for an empty list)
or one for a string; ``del m[key]`` removes them. ``"__BODY__"`` is always
present (``""`` by default) and never written as a header. Other ``dict``
methods (``update``, ``pop``, ``setdefault``, ...) do not maintain
``insertionorder``, as in Kamaelia 1.x: keys added that way are not
written, and removing a key that way makes ``str()`` raise ``KeyError``.

``str(m)`` writes ``key: value`` plus CRLF for each entry of
``insertionorder`` -- the n-th entry of a key whose value is a list takes the
list's n-th element, or ``""`` past its end -- then CRLF, then the body.

``MimeDict.fromString(text)`` reads header lines from the start of ``text``.
A header line is a name (not starting with a space, no colon, no CR or LF),
``:``, one optional space, a value of at least one character up to the next
CR, then CRLF; ``"name: "`` (nothing after the space) gives the value
``""``. A header that appears again becomes a list of its values, in order.
A line of one or more spaces followed by text (no CR or LF) and CRLF
continues the previous header: it is appended to that value (to the last
element of a list), after a CRLF. Reading stops at the first line that is
neither; if what is left starts with CRLF, the rest is the body. Otherwise
the text is *invalid*: the result holds only ``"__BODY__"`` (the whole text),
``insertionorder`` is empty and ``invalidSource`` is True, which makes
``str()`` drop the two characters of the empty header block so the text
comes back exactly. (Headers added later to such an object lose their first
two characters, a 1.x quirk kept.)

Equality is ``dict`` equality; ``insertionorder`` and ``invalidSource`` are
not compared. A header holding a one-element list is written as one line
and so reads back as a plain string. ``keys()`` returns a list, as in the
Python 2 that 1.x programs were written for. Values are ``str``; encode the
text form yourself to send it as bytes.
"""

import re

_BODY = "__BODY__"

# The name may not contain CR or LF, so a header line never reaches into the
# next line (for instance a body line holding a colon).
_HEADER = re.compile(r"([^ :\r\n][^:\r\n]*):( ?)([^\r]+)\r\n")
_CONTINUATION = re.compile(r"( +[^\r\n]*)\r\n")


def _entriesFor(value, emptyListCount):
    """How many header lines ``value`` takes: one per list element, else one."""
    if isinstance(value, list):
        return len(value) if value else emptyListCount
    return 1


class MimeDict(dict):
    """MimeDict(**headers) -> a dict of headers (and "__BODY__") that knows its text form.

    ``str()`` gives the text form, ``MimeDict.fromString(text)`` parses one.
    See the module documentation for the details.
    """

    def __init__(self, **headers):
        super().__init__(**headers)
        self.invalidSource = False
        self.insertionorder = []
        for key, value in headers.items():
            self.insertionorder.extend([key] * _entriesFor(value, emptyListCount=1))
        if _BODY not in self:
            super().__setitem__(_BODY, "")

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if key != _BODY:
            self._forget(key)
            self.insertionorder.extend([key] * _entriesFor(value, emptyListCount=0))

    def __delitem__(self, key):
        self._forget(key)
        super().__delitem__(key)

    def _forget(self, key):
        self.insertionorder = [k for k in self.insertionorder if k != key]

    def keys(self):
        """The keys as a list (Python 2's ``dict.keys()``, which 1.x callers sort and compare)."""
        return list(super().keys())

    def __str__(self):
        lines = []
        seen = {}
        for key in self.insertionorder:
            if key == _BODY:
                continue
            value = self[key]
            if isinstance(value, list):
                index = seen.get(key, 0)
                seen[key] = index + 1
                value = value[index] if index < len(value) else ""
            lines.append(key + ": " + value + "\r\n")
        text = "".join(lines) + "\r\n" + self[_BODY]
        return text[2:] if self.invalidSource else text

    @staticmethod
    def fromString(source):
        """Parse the text form ``source`` into a new MimeDict (see the module docs)."""
        result = MimeDict()
        order = []
        lastKey = None
        position = 0
        while True:
            header = _HEADER.match(source, position)
            if header:
                key, space, value = header.groups()
                if value == " " and not space:
                    value = ""
                if key not in result:
                    dict.__setitem__(result, key, value)
                elif isinstance(result[key], list):
                    result[key].append(value)
                else:
                    dict.__setitem__(result, key, [result[key], value])
                order.append(key)
                lastKey = key
                position = header.end()
                continue
            continuation = _CONTINUATION.match(source, position) if lastKey is not None else None
            if continuation:
                more = "\r\n" + continuation.group(1)
                if isinstance(result[lastKey], list):
                    result[lastKey][-1] += more
                else:
                    dict.__setitem__(result, lastKey, result[lastKey] + more)
                position = continuation.end()
                continue
            break
        if source.startswith("\r\n", position):
            dict.__setitem__(result, _BODY, source[position + 2:])
            result.insertionorder = order
            result.invalidSource = False
            return result
        invalid = MimeDict()
        dict.__setitem__(invalid, _BODY, source)
        invalid.invalidSource = True
        return invalid

