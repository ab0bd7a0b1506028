"""
Kamaelia.Util.Graphline: deprecated home of Graphline
=====================================================

``Graphline`` now lives in ``Kamaelia.Chassis.Graphline``; this module
re-exports it and reports a deprecation warning when imported (see
``Kamaelia.Support.Deprecate``).

Example Usage
-------------
::

    from Kamaelia.Util.Graphline import Graphline       # deprecated
    from Kamaelia.Chassis.Graphline import Graphline    # use this

How does it work?
-----------------
``Graphline`` is the same class as ``Kamaelia.Chassis.Graphline.Graphline``.
"""

from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["Graphline"]
deprecationWarning("Kamaelia.Util.Graphline is deprecated: "
                   "import Graphline from Kamaelia.Chassis.Graphline instead")


__kamaelia_components__ = (Graphline,)
