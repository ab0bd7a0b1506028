"""
Kamaelia.SimpleServerComponent: deprecated home of SimpleServer
===============================================================

``SimpleServer`` lives in ``Kamaelia.Chassis.ConnectedServer``; this module
re-exports it and reports a deprecation warning when imported (see
``Kamaelia.Support.Deprecate``).

Example Usage
-------------
::

    from Kamaelia.SimpleServerComponent import SimpleServer         # deprecated
    from Kamaelia.Chassis.ConnectedServer import SimpleServer       # use this
"""

from Kamaelia.Chassis.ConnectedServer import SimpleServer
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["SimpleServer"]
deprecationWarning("Kamaelia.SimpleServerComponent is deprecated: "
                   "import SimpleServer from Kamaelia.Chassis.ConnectedServer instead")

__kamaelia_components__ = (SimpleServer,)
