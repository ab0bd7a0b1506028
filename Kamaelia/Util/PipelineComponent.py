"""
Kamaelia.Util.PipelineComponent: deprecated home of pipeline
============================================================

The old lowercase ``pipeline`` is now ``Kamaelia.Chassis.Pipeline.Pipeline``;
this module re-exports both names and reports a deprecation warning when
imported (constructing a ``pipeline`` reports another).

Example Usage
-------------
::

    from Kamaelia.Util.PipelineComponent import pipeline   # deprecated
    from Kamaelia.Chassis.Pipeline import Pipeline         # use this

How does it work?
-----------------
The names are the same objects as in ``Kamaelia.Chassis.Pipeline``.
"""

from Kamaelia.Chassis.Pipeline import Pipeline, pipeline
from Kamaelia.Support.Deprecate import deprecationWarning

__all__ = ["Pipeline", "pipeline"]
deprecationWarning("Kamaelia.Util.PipelineComponent is deprecated: "
                   "import Pipeline from Kamaelia.Chassis.Pipeline instead")


__kamaelia_components__ = (Pipeline,)
