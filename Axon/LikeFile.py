"""
Axon.LikeFile: old import path of likefile
==========================================

Kamaelia 1.x documentation and older programs import ``likefile`` from
``Axon.LikeFile``; it lives in ``Axon.experimental._pprocess_support``. This
module re-exports it (with the ``background`` it needs and its helpers), so
both paths give the same objects.

Example Usage
-------------
::

    from Axon.LikeFile import likefile, background

    bg = background()
    bg.start()
    ...                                   # see Axon.experimental._pprocess_support
    bg.stop()

How does it work?
-----------------
It imports the names from ``Axon.experimental._pprocess_support``; there is
no code of its own.
"""

from Axon.experimental._pprocess_support import (
                                                  addBox,
                                                  background,
                                                  componentWrapperInput,
                                                  componentWrapperOutput,
                                                  dummyComponent,
                                                  likefile,
)

__all__ = ["likefile", "background", "addBox", "dummyComponent", "componentWrapperInput",
           "componentWrapperOutput"]
