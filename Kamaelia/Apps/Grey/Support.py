"""
Kamaelia.Apps.Grey.Support: reading greylist.conf (the original, lenient API)
============================================================================

``SlurpFile``, ``openConfig`` and ``parseConfigFile`` as Kamaelia Grey 1.x
had them: read a config file into lines and lay its settings over a dict of
defaults. The application itself uses the strict loader in
``Kamaelia.Apps.Grey.Config``, which knows every key and reports mistakes
with their line number; this module stays for code written against the
original API.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Support import parseConfigFile

    lines = [
        "# where to listen\\n",
        "port = 2525\\n",
        "servername = mail.example.org\\n",
        "allowed_domains:\\n",
        "   example.org\\n",
        "whitelisted_triples:\\n",
        "   192.0.2.7 <alice@example.net> <bob@example.org>\\n",
    ]
    config = parseConfigFile(lines, {"port": 25, "allowed_domains": []})
    assert config["port"] == 2525
    assert config["allowed_domains"] == ["example.org"]
    assert config["whitelisted_triples"] == [
        ("192.0.2.7", "<alice@example.net>", "<bob@example.org>")]

How does it work?
-----------------
The result starts as a deep copy of ``default_config`` (the defaults are
never modified). Each line, with its line ending removed, is one of:

- blank, or a comment: its first non-blank character is ``#``; skipped;
- ``key = value``: the key and the value are stripped of surrounding
  blanks; everything after the first ``=`` is the value, so values may
  contain ``=``. Keys named in ``things_which_are_ints`` are converted with
  ``int()`` (a bad number raises ``ValueError``). This ends any list;
- ``key:``: starts a new, empty list under ``key`` (replacing the default);
- an indented line while a list is open: one list item. An item containing
  blanks becomes a tuple of its blank-separated words (``str.split()``, so
  runs of blanks do not make empty fields); otherwise it is a string.

Anything else (an indented line with no list open, a line that is none of
the above) is ignored, as the original did. The strict loader in
``Config`` rejects such lines instead.

Files written for 1.x (Python 2 read them as bytes) often hold Latin-1
text, mostly in comments. ``SlurpFile`` therefore reads bytes and decodes
each line on its own: as UTF-8 when it is valid UTF-8, otherwise as Latin-1,
which gives every byte a character, so no file makes it raise
``UnicodeDecodeError``. ``parseConfigFile`` takes such lines as they are
(``str``, or ``bytes`` decoded the same way). Line endings are ``\\n`` as in
a file opened in text mode, whether the file has LF, CRLF or CR endings.

Fixed from the original: a value containing ``=`` was cut at the second
``=``; the last character of the last line was dropped when the file did not
end with a newline; two blanks in a list item made an empty tuple field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

__all__ = ["SlurpFile", "openConfig", "parseConfigFile"]

DEFAULT_INTS = ("port", "smtp_port", "inactivity_timeout")


def _decodeLine(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def SlurpFile(filename: str) -> list[str]:
    """Return the lines of a text file, with ``\\n`` line endings.

    The last line has no ending if the file does not end with one. Each line
    is decoded as UTF-8, or as Latin-1 if it is not valid UTF-8.
    Raises ``OSError`` (``IOError``) if the file cannot be read.
    """
    with open(filename, "rb") as handle:
        data = handle.read()
    lines = [_decodeLine(raw) + "\n" for raw in data.splitlines()]
    if lines and not data.endswith((b"\n", b"\r")):
        lines[-1] = lines[-1][:-1]
    return lines


openConfig = SlurpFile


def _listItem(text: str) -> Any:
    words = text.split()
    return tuple(words) if len(words) > 1 else text


def parseConfigFile(lines: Iterable[str | bytes], default_config: dict[str, Any],
                    things_which_are_ints: Iterable[str] = DEFAULT_INTS) -> dict[str, Any]:
    """Return a deep copy of ``default_config`` updated from config lines."""
    ints = set(things_which_are_ints)
    config = copy.deepcopy(default_config)
    listKey = None
    for raw in lines:
        text = _decodeLine(raw) if isinstance(raw, bytes) else raw
        line = text.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            if listKey is not None:
                config[listKey].append(_listItem(stripped))
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            key, value = key.strip(), value.strip()
            config[key] = int(value) if key in ints else value
            listKey = None
        elif stripped.endswith(":"):
            listKey = stripped[:-1].strip()
            config[listKey] = []
    return config
