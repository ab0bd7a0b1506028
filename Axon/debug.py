"""
Axon.debug: sectioned, levelled debug output
============================================

A ``debug`` object filters messages by *section* (a dotted tag such as
``"scheduler.main"``) and *level*: a message is emitted when its level is at
most the level configured for its section. Messages go to the standard
``logging`` logger ``"Axon.debug"`` at INFO level.

Example Usage
-------------
::

    from Axon.debug import debug

    d = debug()
    d.useConfig()                      # debug.conf in the cwd, else defaults
    d.addDebugSection("myapp.net", 5)
    assert d.note("myapp.net", 1, "connected to", host)

How does it work?
-----------------
The configuration is class-level and loaded once per process by
``useConfig``: from ``debug.conf`` in the working directory when that file
exists and parses, otherwise from ``Axon.debugConfigDefaults``. A broken
``debug.conf`` is reported through logging and the defaults are used, so it
never stops Axon from importing. ``debug``/``note`` always return True so
they can be used inside ``assert`` statements (and vanish under ``-O``).
"""

import logging
import os
import time

from Axon import debugConfigDefaults, debugConfigFile

_log = logging.getLogger("Axon.debug")


class debug(object):
    """Sectioned debug filter; configuration is shared by every instance."""

    configs = None
    noConfig = True

    def __init__(self, assertBadDebug=1):
        self.assertBadDebug = assertBadDebug
        self.debugOn = True

    def useConfig(self, filename="debug.conf"):
        """Load the shared configuration once: ``filename`` in the cwd, else defaults."""
        if debug.configs is not None and not debug.noConfig:
            return
        configs = None
        if os.path.isfile(filename):
            try:
                configs = debugConfigFile.readConfig(filename)
            except (OSError, ValueError) as e:
                _log.warning("ignoring debug configuration: %s", e)
        if configs is None:
            configs = debugConfigDefaults.defaultConfig()
        debug.configs = configs
        debug.noConfig = False

    def readConfig(self, configFile="debug.conf"):
        """Read ``configFile`` and register each section at its level."""
        for section, (level, _location) in debugConfigFile.readConfig(configFile).items():
            self.addDebugSection(section, level)

    def _sections(self):
        if debug.configs is None:
            debug.configs = {}
        return debug.configs

    def addDebugSection(self, section, level):
        """Set the level of ``section`` (creating it if needed)."""
        self._sections()[section] = (level, "default")

    def addDebug(self, **debugSections):
        """Set the level of several sections: ``addDebug(section=level, ...)``."""
        for section, level in debugSections.items():
            self.addDebugSection(section, level)

    def increaseDebug(self, section):
        """Raise ``section``'s level by 5 (creating it at 5)."""
        level, location = self._sections().get(section, (0, "default"))
        self._sections()[section] = (level + 5, location)

    def decreaseDebug(self, section):
        """Lower ``section``'s level by 5, never below 0."""
        level, location = self._sections().get(section, (0, "default"))
        self._sections()[section] = (max(0, level - 5), location)

    def setDebugSections(self, **debugSections):
        """Replace the whole configuration with the given sections."""
        debug.configs = {}
        debug.noConfig = False
        self.addDebug(**debugSections)

    def areDebugging(self, section, level):
        """True when ``section`` is configured at ``level`` or above."""
        try:
            return self._sections()[section][0] >= level
        except KeyError:
            return False

    def debugmessage(self, section, *message):
        """Emit ``message`` for ``section`` unconditionally."""
        _log.info("%s | %s | %s", time.asctime(), section,
                  " ".join(str(part) for part in message))

    def debug(self, section, level, *message):
        """Emit ``message`` if ``section`` is configured at ``level`` or above.

        An unknown section is reported (and, when ``assertBadDebug`` is set,
        raises ``AxonException``). Always returns True otherwise.
        """
        if not self.debugOn:
            return True
        try:
            configured = self._sections()[section][0]
        except KeyError:
            if self.assertBadDebug:
                from Axon.AxonExceptions import AxonException
                raise AxonException("Unknown debug section", section) from None
            _log.warning("debug message for unknown section %r", section)
            return True
        if level <= configured:
            self.debugmessage(section, *message)
        return True

    note = debug
