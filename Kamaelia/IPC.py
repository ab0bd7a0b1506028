"""
Kamaelia.IPC: the messages Kamaelia's network components exchange
=================================================================

Message classes used between servers, connected socket adapters (CSAs),
protocol handlers and the ``Selector`` service.

Example Usage
-------------
::

    from Kamaelia.IPC import newReader, removeReader, socketShutdown

    # ask the selector to tell us (on our "readReady" inbox) when sock is readable
    self.send(newReader(self, ((self, "readReady"), sock)), "_selectorSignal")
    ...
    self.send(removeReader(self, sock), "_selectorSignal")

    # a protocol handler learns that its connection has gone
    if isinstance(msg, socketShutdown):
        ...

How does it work?
-----------------
They are plain message objects built on ``Axon.Ipc``:

* ``socketShutdown(caller=None, message=None)`` -- a ``producerFinished``:
  the connection has closed. A CSA sends ``socketShutdown(csa, [sock,
  howDied])`` to its creator; ``ServerCore`` sends ``socketShutdown()`` to
  a protocol handler.
* ``serverShutdown(*microprocesses)`` -- a ``shutdownMicroprocess``: stop a
  server.
* ``newCSA(caller, CSA, sock=None)`` -- a ``notify``: a new connection's CSA
  (``.object``) and socket (``.sock``); ``handlesWriting()`` is True.
* ``shutdownCSA(caller, CSA)`` -- a ``notify``: a connection (``.object``)
  has closed; ``shutdown()`` is True.
* ``newServer(caller, CSA)`` -- a ``notify``; ``handlesWriting()`` is False.
* ``newReader``, ``newWriter``, ``newExceptional(caller, ((replyComponent,
  boxName), selectable))`` -- ask the Selector to watch ``selectable`` and
  send it to that box when it is ready; ``hasOOB`` is False.
* ``removeReader``, ``removeWriter``, ``removeExceptional(caller,
  selectable)`` -- stop watching.

The ``notify`` messages keep their payload in ``.object`` and the sender in
``.caller``.
"""

from Axon.Ipc import notify, producerFinished, shutdownMicroprocess


class socketShutdown(producerFinished):
    """The network connection has closed (``message`` may say how)."""


class serverShutdown(shutdownMicroprocess):
    """Asks a server to stop."""


class newCSA(notify):
    """A new connection: ``object`` is its connected socket adapter, ``sock`` its socket."""

    def __init__(self, caller, CSA, sock=None):
        super().__init__(caller, CSA)
        self.sock = sock

    def handlesWriting(self):
        return True


class shutdownCSA(notify):
    """A connection has closed: ``object`` is its connected socket adapter (or a (CSA, sock) pair)."""

    def __init__(self, caller, CSA):
        super().__init__(caller, CSA)

    def shutdown(self):
        return True


class newServer(notify):
    """A new server: ``object`` is the component."""

    def __init__(self, caller, CSA):
        super().__init__(caller, CSA)

    def handlesWriting(self):
        return False


class newReader(notify):
    """Tell ``(component, box)`` when ``selectable`` is readable: payload ((component, box), selectable)."""

    hasOOB = False


class newWriter(notify):
    """Tell ``(component, box)`` when ``selectable`` is writable: payload ((component, box), selectable)."""

    hasOOB = False


class newExceptional(notify):
    """Tell ``(component, box)`` when ``selectable`` has an exceptional condition."""

    hasOOB = False


class removeReader(notify):
    """Stop watching ``selectable`` (the payload) for readability."""

    def __init__(self, caller, selectable):
        super().__init__(caller, selectable)


class removeWriter(notify):
    """Stop watching ``selectable`` (the payload) for writability."""

    def __init__(self, caller, selectable):
        super().__init__(caller, selectable)


class removeExceptional(notify):
    """Stop watching ``selectable`` (the payload) for exceptional conditions."""

    def __init__(self, caller, selectable):
        super().__init__(caller, selectable)
