"""
Axon.Base: the root classes of every Axon object
=================================================

``AxonObject`` is the common base class of microprocesses, components,
linkages and postoffices. ``AxonType`` is kept as a named metaclass so that
code which refers to it keeps working; it adds no behaviour of its own.

Example Usage
-------------
::

    from Axon.Base import AxonObject

    class Thing(AxonObject):
        def __init__(self):
            super().__init__()

How does it work?
-----------------
Both classes are deliberately empty: Kamaelia 1.x once used the metaclass to
provide a private ``__super`` attribute; Python 3's zero-argument ``super()``
replaces that, so ordinary cooperative inheritance is all that remains.
"""


class AxonType(type):
    """Metaclass retained for compatibility; behaves exactly like ``type``."""


class AxonObject(object):
    """Base class for Axon objects; plain ``object`` semantics."""

    __slots__ = ()
