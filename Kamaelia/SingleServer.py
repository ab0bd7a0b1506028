"""
Kamaelia.SingleServer: deprecated home of SingleServer
======================================================

``SingleServer`` lives in ``Kamaelia.Internet.SingleServer``; this module
re-exports it (and ``FastRestartSingleServer`` and ``echo``) and reports a
deprecation warning when imported (see ``Kamaelia.Support.Deprecate``).

Example Usage
-------------
::

    from Kamaelia.SingleServer import SingleServer            # deprecated
    from Kamaelia.Internet.SingleServer import SingleServer   # use this
"""

from Kamaelia.Internet.SingleServer import FastRestartSingleServer, SingleServer, echo
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["SingleServer", "FastRestartSingleServer", "echo"]
deprecationWarning("Kamaelia.SingleServer is deprecated: "
                   "import SingleServer from Kamaelia.Internet.SingleServer instead")

__kamaelia_components__ = (SingleServer, FastRestartSingleServer)
