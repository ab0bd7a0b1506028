"""
Axon.debugConfigFile: read a debug configuration file
=====================================================

A debug configuration file has one section per line::

    # tag                 level  location
    scheduler.main        5      default
    component.send        10     default

``#`` starts a comment; blank lines are ignored; fields are separated by runs
of spaces or tabs. ``readConfig`` returns ``{tag: (level, location)}``.

Example Usage
-------------
::

    from Axon.debugConfigFile import readConfig
    config = readConfig("debug.conf")

How does it work?
-----------------
Each non-comment line is split on whitespace into exactly three fields; the
level must be an integer. A malformed line raises ``ValueError`` naming the
file and the line number. (Kamaelia 1.x split on the empty pattern, which on
Python 3.7+ splits every character, so any ``debug.conf`` made Axon fail to
import; see Docs/Porting.md.)
"""


def readConfig(filename="debug.conf"):
    """Parse ``filename`` and return ``{tag: (level, location)}``."""
    config = {}
    with open(filename) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 3:
                raise ValueError("%s:%d: expected 'tag level location', got %r"
                                 % (filename, lineno, raw.rstrip("\n")))
            tag, level, location = fields
            try:
                config[tag] = (int(level), location)
            except ValueError:
                raise ValueError("%s:%d: debug level for %r must be an integer, got %r"
                                 % (filename, lineno, tag, level)) from None
    return config
