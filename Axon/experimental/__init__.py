"""
Axon.experimental: interfaces still settling down
=================================================

Modules here work and are tested, but their interfaces may still change.

* ``Axon.experimental._pprocess_support`` -- ``likefile``, a file-like
  (queue-like) way for ordinary code to put messages into a component's
  inboxes and get them from its outboxes, and the ``background`` scheduler
  thread it runs on. ``Axon.LikeFile`` is an alias.

Kamaelia 1.x also had ``Axon.experimental.Process``, which ran components in
separate operating-system processes with the ``pprocess`` library; that
library does not run on Python 3, and the module is not provided.

Example Usage
-------------
::

    from Axon.experimental._pprocess_support import likefile, background

How does it work?
-----------------
This package imports nothing itself; import the module you need.
"""
