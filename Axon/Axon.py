"""
Axon.Axon: old import path of AxonObject
========================================

Early Axon versions defined the root class ``AxonObject`` in a module
``Axon.Axon``; old tests and programs still import it from here. It now
lives in ``Axon.Base``, and this module re-exports it (and ``AxonType``).

Example Usage
-------------
::

    from Axon.Axon import AxonObject

    class Thing(AxonObject):
        pass

How does it work?
-----------------
It imports the names from ``Axon.Base``; there is no code of its own.
"""

from Axon.Base import AxonObject, AxonType

__all__ = ["AxonObject", "AxonType"]
