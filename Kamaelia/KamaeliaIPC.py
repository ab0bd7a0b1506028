"""
Kamaelia.KamaeliaIPC: deprecated home of Kamaelia's message classes
===================================================================

This module only re-exports the classes of ``Kamaelia.IPC``; importing it
reports a deprecation warning (see ``Kamaelia.Support.Deprecate``).

Example Usage
-------------
Old code keeps working::

    from Kamaelia.KamaeliaIPC import socketShutdown    # deprecated
    from Kamaelia.IPC import socketShutdown            # use this

How does it work?
-----------------
The names are the very same class objects as in ``Kamaelia.IPC``, so
messages made through either module pass ``isinstance`` checks written
against the other.
"""

from Kamaelia.IPC import (
                          newCSA,
                          newExceptional,
                          newReader,
                          newServer,
                          newWriter,
                          removeExceptional,
                          removeReader,
                          removeWriter,
                          serverShutdown,
                          shutdownCSA,
                          socketShutdown,
)
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["socketShutdown", "serverShutdown", "newCSA", "shutdownCSA", "newServer",
           "newReader", "newWriter", "newExceptional", "removeReader", "removeWriter",
           "removeExceptional"]

deprecationWarning("Kamaelia.KamaeliaIPC is deprecated: import from Kamaelia.IPC instead")
