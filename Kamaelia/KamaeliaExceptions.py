"""
Kamaelia.KamaeliaExceptions: exceptions shared by Kamaelia components
=====================================================================

The exception classes Kamaelia 1.x kept in one module, all derived from
``Axon.AxonExceptions.AxonException``: one for a request line that cannot be
parsed, and a small family describing how a connection went away.

Example Usage
-------------
::

    >>> from Kamaelia.KamaeliaExceptions import BadRequest, connectionDied
    >>> from Kamaelia.Support.Data.requestLine import requestLine
    >>> try:
    ...     requestLine("not a request")
    ... except BadRequest as e:
    ...     print("bad request line %r (%s)" % (e.request, type(e.exception).__name__))
    bad request line 'not a request' (ValueError)
    >>> from Kamaelia.KamaeliaExceptions import connectionDiedSending
    >>> issubclass(connectionDiedSending, connectionDied)
    True

How does it work?
-----------------
They are plain exception classes. ``BadRequest(request, innerexception)``
keeps the text that failed as ``.request`` and the error that parsing it
raised as ``.exception``; both are also its ``args``. The connection
exceptions form this hierarchy::

    AxonException
      +-- socketSendFailure
      +-- connectionClosedown
            +-- connectionDied
            |     +-- connectionDiedSending
            |     +-- connectionDiedReceiving
            +-- connectionServerShutdown
"""

from Axon.AxonExceptions import AxonException


class BadRequest(AxonException):
    """A request line could not be parsed.

    ``request`` is the text that failed; ``exception`` is the error raised
    while parsing it.
    """

    def __init__(self, request, innerexception):
        super().__init__(request, innerexception)
        self.request = request
        self.exception = innerexception


class socketSendFailure(AxonException):
    """Data could not be sent on a socket."""


class connectionClosedown(AxonException):
    """A connection has closed (base of the more precise reasons below)."""


class connectionDied(connectionClosedown):
    """A connection ended unexpectedly."""


class connectionDiedSending(connectionDied):
    """A connection ended unexpectedly while data was being sent."""


class connectionDiedReceiving(connectionDied):
    """A connection ended unexpectedly while data was being received."""


class connectionServerShutdown(connectionClosedown):
    """A connection was closed because its server is shutting down."""
