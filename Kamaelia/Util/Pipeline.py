"""
Kamaelia.Util.Pipeline: deprecated home of Pipeline
===================================================

``Pipeline`` now lives in ``Kamaelia.Chassis.Pipeline``; this module
re-exports it (and the deprecated lowercase ``pipeline``) and reports a
deprecation warning when imported (see ``Kamaelia.Support.Deprecate``).

Example Usage
-------------
::

    from Kamaelia.Util.Pipeline import Pipeline         # deprecated
    from Kamaelia.Chassis.Pipeline import Pipeline      # use this

How does it work?
-----------------
The names are the same objects as in ``Kamaelia.Chassis.Pipeline``.
"""

from Kamaelia.Chassis.Pipeline import Pipeline, pipeline
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["Pipeline", "pipeline"]
deprecationWarning("Kamaelia.Util.Pipeline is deprecated: "
                   "import Pipeline from Kamaelia.Chassis.Pipeline instead")


__kamaelia_components__ = (Pipeline,)
