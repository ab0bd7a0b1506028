"""
Kamaelia.Support.Data.Escape: a reversible percent escape
==========================================================

``escape(message, substring)`` rewrites ``message`` so that no character of
``substring`` (and no bare ``%``) is left in it; ``unescape`` undoes that.
Framing protocols use it to keep their marker out of the data they carry:
after escaping, the marker can only occur where the framer put it.

Example Usage
-------------
::

    from Kamaelia.Support.Data.Escape import escape, unescape

    marker = "XXXX"
    packed = escape("100% eXact", marker)
    print(packed)
    print(unescape(packed, marker))
    print(escape(b"a%b", b"b"))

prints::

    100%25 e%58act
    100% eXact
    b'a%25%62'

How does it work?
-----------------
``%`` always becomes ``%25``. Each *distinct character* of ``substring``
(not the substring as a whole) becomes ``%`` followed by its code as two
lowercase hex digits, ``X`` giving ``%58``. The message is scanned once:
every source character is either copied or replaced by its token, so a
token inserted for one character is never re-escaped because of another.

``unescape`` also makes one pass. It replaces each ``%hh`` token that is
the escape of a character of ``substring`` (or ``%25``) by that character
and copies everything else. ``unescape(escape(m, s), s) == m`` for every
message ``m`` and substring ``s``. With ``substring=None`` only the ``%``
rule applies.

``message`` and ``substring`` may both be ``str`` or both ``bytes``, and the
result has the type of the message. Mixing the two raises ``TypeError``. A
``str`` substring may only hold characters up to U+00FF, as two hex
digits cannot name a higher one (``ValueError``).
"""

import re
from typing import AnyStr, Optional

_HEX_TOKEN = re.compile(r"%[0-9a-f]{2}")
_HEX_TOKEN_BYTES = re.compile(rb"%[0-9a-f]{2}")


def _forbiddenCodes(message: AnyStr, substring: Optional[AnyStr]) -> set[int]:
    """The set of code points (or byte values) to escape besides ``%``."""
    if substring is None:
        return set()
    if isinstance(message, str) != isinstance(substring, str):
        raise TypeError("message and substring must both be str or both be bytes, not %s and %s"
                        % (type(message).__name__, type(substring).__name__))
    codes = set(substring) if isinstance(substring, (bytes, bytearray)) else {ord(c) for c in substring}
    tooHigh = [code for code in codes if code > 0xFF]
    if tooHigh:
        raise ValueError("cannot escape U+%04X: only characters up to U+00FF have a %%hh form"
                         % min(tooHigh))
    return codes


def _token(code: int) -> str:
    return "%%%02x" % code


def escape(message: AnyStr, substring: Optional[AnyStr] = None) -> AnyStr:
    """A copy of ``message`` with ``%`` and every character of ``substring`` as ``%hh``."""
    codes = _forbiddenCodes(message, substring)
    codes.add(ord("%"))
    if isinstance(message, str):
        return message.translate({code: _token(code) for code in codes})
    forbidden = re.compile(b"[%s]" % b"".join(re.escape(bytes((code,))) for code in sorted(codes)))
    return forbidden.sub(lambda match: b"%%%02x" % match.group()[0], bytes(message))


def unescape(message: AnyStr, substring: Optional[AnyStr] = None) -> AnyStr:
    """Undo ``escape(message, substring)``; text that is not one of its tokens is kept."""
    codes = _forbiddenCodes(message, substring)
    codes.add(ord("%"))
    if isinstance(message, str):
        tokens = {_token(code): chr(code) for code in codes}
        return _HEX_TOKEN.sub(lambda match: tokens.get(match.group(), match.group()), message)
    byteTokens = {_token(code).encode("ascii"): bytes((code,)) for code in codes}
    return _HEX_TOKEN_BYTES.sub(lambda match: byteTokens.get(match.group(), match.group()),
                                bytes(message))
