"""
Kamaelia.Support.Deprecate: marking old names as deprecated
===========================================================

Helpers that keep an old class or function name working while telling the
people who use it that it is deprecated.

Example Usage
-------------
::

    from Kamaelia.Support.Deprecate import makeClassStub, makeFuncStub, WARN
    from Kamaelia.Chassis.Pipeline import Pipeline

    # the old lowercase name still works, and says so when it is used
    pipeline = makeClassStub(Pipeline, "use Kamaelia.Chassis.Pipeline.Pipeline", WARN)

    def newThing(x):
        return x * 2

    oldThing = makeFuncStub(newThing, "use newThing instead")
    assert oldThing(21) == 42          # emits a deprecation warning first

How does it work?
-----------------
``makeClassStub(klass, message, level)`` returns a subclass of ``klass``
(so ``isinstance`` checks against ``klass`` still succeed) whose
construction first reports ``message``. ``makeFuncStub(func, message,
level)`` returns a wrapper that reports ``message`` and then calls
``func``. ``deprecationWarning(message, level)`` reports a message at once,
and ``Warning(message, level)`` is a callable object that reports it each
time it is called.

How a report is made depends on the effective level:

* ``QUIET`` -- nothing is reported;
* ``WARN`` -- ``warnings.warn(message, KamaeliaDeprecationWarning)``,
  attributed to the caller's line; Python's warning filters decide how often
  it is shown (by default once per calling location);
* ``VERBOSE`` -- as WARN, and the message is also logged (logger
  ``Kamaelia.Support.Deprecate``, level WARNING) with the calling stack;
* ``CRASH`` -- ``KamaeliaDeprecationWarning`` is raised, so deprecated uses
  cannot go unnoticed (useful in test suites).

``KamaeliaDeprecationWarning`` is a ``DeprecationWarning``; unless Python
was started with ``-W`` options, this module asks for it to be shown (the
"default" action), since Kamaelia's deprecations concern the programs people
run, not only their developers.

Configuration
-------------
The effective level is, in order of precedence:

1. the environment variable ``KAMAELIA_DEPRECATION_WARNINGS`` (``QUIET``,
   ``WARN``, ``VERBOSE``, ``CRASH``, or the numbers 0-3), read each time a
   report is made, so the person running a program has the last word;
2. the ``level`` given when the stub or message was made;
3. the module attribute ``defaultLevel`` (``WARN``).

An unrecognised value of the environment variable is ignored (and logged
once).
"""

import functools
import logging
import os
import sys
import warnings

__all__ = ["QUIET", "WARN", "VERBOSE", "CRASH", "KamaeliaDeprecationWarning",
           "deprecationWarning", "Warning", "makeClassStub", "makeFuncStub",
           "currentLevel"]

_log = logging.getLogger(__name__)

QUIET = 0
WARN = 1
VERBOSE = 2
CRASH = 3

_LEVELNAMES = {"QUIET": QUIET, "WARN": WARN, "VERBOSE": VERBOSE, "CRASH": CRASH}

ENVIRONMENT_VARIABLE = "KAMAELIA_DEPRECATION_WARNINGS"

defaultLevel = WARN

_badSettingsReported = set()


class KamaeliaDeprecationWarning(DeprecationWarning):
    """The category of every warning this module emits."""


if not sys.warnoptions:
    warnings.filterwarnings("default", category=KamaeliaDeprecationWarning)


def _parseLevel(text):
    text = text.strip().upper()
    if text in _LEVELNAMES:
        return _LEVELNAMES[text]
    if text.isdigit() and int(text) in _LEVELNAMES.values():
        return int(text)
    return None


def _environmentLevel():
    setting = os.environ.get(ENVIRONMENT_VARIABLE)
    if setting is None or not setting.strip():
        return None
    level = _parseLevel(setting)
    if level is None and setting not in _badSettingsReported:
        _badSettingsReported.add(setting)
        _log.warning("ignoring %s=%r: expected one of QUIET, WARN, VERBOSE, CRASH or 0-3",
                     ENVIRONMENT_VARIABLE, setting)
    return level


def currentLevel(level=None):
    """The level a report made now with ``level`` would use (see Configuration)."""
    fromEnvironment = _environmentLevel()
    if fromEnvironment is not None:
        return fromEnvironment
    if level is not None:
        if isinstance(level, str):
            # 1.x callers name levels: makeClassStub(cls, msg, "WARN").
            parsed = _parseLevel(level)
            if parsed is None:
                raise ValueError("unknown deprecation level %r: expected one of QUIET, WARN, "
                                 "VERBOSE, CRASH" % (level,))
            return parsed
        return level
    return defaultLevel


def _report(message, level, stacklevel):
    """Report ``message``; ``stacklevel`` counts frames above this function's caller."""
    effective = currentLevel(level)
    if effective <= QUIET:
        return
    if effective >= CRASH:
        raise KamaeliaDeprecationWarning(message)
    if effective >= VERBOSE:
        _log.warning("deprecated: %s", message, stack_info=True, stacklevel=stacklevel + 2)
    warnings.warn(message, KamaeliaDeprecationWarning, stacklevel=stacklevel + 2)


def deprecationWarning(message, level=None):
    """Report that something deprecated was used; ``message`` says what to use instead."""
    _report(message, level, 1)


class Warning(object):
    """A deprecation report kept for later: calling the object makes the report."""

    def __init__(self, message, level=None):
        self.message = message
        self.level = level

    def __call__(self):
        _report(self.message, self.level, 1)

    def __repr__(self):
        return "Warning(%r, %r)" % (self.message, self.level)


def makeClassStub(klass, message, level=None):
    """A subclass of ``klass`` that reports ``message`` whenever it is instantiated."""

    def __init__(self, *args, **argd):
        _report(message, level, 1)
        klass.__init__(self, *args, **argd)

    doc = "Deprecated: %s\n\n%s" % (message, klass.__doc__ or "")
    return type(klass)(klass.__name__, (klass,),
                       {"__init__": __init__, "__doc__": doc,
                        "__module__": klass.__module__,
                        "__qualname__": klass.__qualname__,
                        "_deprecationMessage": message})


def makeFuncStub(func, message, level=None):
    """A wrapper around ``func`` that reports ``message`` and then calls ``func``."""

    @functools.wraps(func)
    def stub(*args, **argd):
        _report(message, level, 1)
        return func(*args, **argd)

    stub.__doc__ = "Deprecated: %s\n\n%s" % (message, func.__doc__ or "")
    return stub
