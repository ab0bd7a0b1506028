"""
Axon.Ipc: the messages components exchange about their lifecycle
=================================================================

Components send these through their boxes, and a microprocess may *yield*
some of them to ask the scheduler for a service.

Messages for other components (usually on "control"/"signal"):

* ``producerFinished(caller, message)`` -- "no more data is coming"; the
  graceful end of a stream.
* ``shutdownMicroprocess(*microprocesses)`` -- "stop now".
* ``shutdown()`` -- the legacy shutdown message; *not* a subclass of
  ``shutdownMicroprocess`` (a few components react only to it).
* ``notify(caller, payload)``, ``status(status)``, ``wouldblock(caller)``,
  ``errorInformation(caller, exception, message)``.

Values to ``yield`` to the scheduler:

* ``newComponent(*components)`` -- activate these components.
* ``WaitComplete(generator)`` -- run ``generator`` in place of the yielding
  microprocess until it ends, then resume the caller.
* ``reactivate(original)`` -- returned from ``_closeDownMicroprocess`` to
  resume ``original`` when the microprocess returning it ends.

Example Usage
-------------
::

    from Axon.Ipc import producerFinished, WaitComplete

    class Reader(component):
        def readLine(self):
            while not self.dataReady("inbox"):
                self.pause()
                yield 1
            self.line = self.recv("inbox")

        def main(self):
            yield WaitComplete(self.readLine())
            self.send(self.line.upper(), "outbox")
            self.send(producerFinished(self), "signal")
"""


class ipc(object):
    """Base class of every Axon message."""


class WaitComplete(ipc):
    """Yield this to run ``args[0]`` (a generator) in place of the caller until it ends.

    ``argd["tag"]``, if given, names what is being waited for.
    """

    def __init__(self, *args, **argd):
        self.args = args
        self.argd = argd


class reactivate(ipc):
    """Knock-on value asking the scheduler to resume ``original``."""

    def __init__(self, original):
        self.original = original


class newComponent(ipc):
    """Yield this to activate ``components``; ``components()`` returns them."""

    def __init__(self, *components):
        self._components = components

    def components(self):
        return self._components


class shutdownMicroprocess(ipc):
    """"Stop now". ``microprocesses()`` returns the microprocesses it names, if any."""

    def __init__(self, *microprocesses):
        self._microprocesses = microprocesses

    def microprocesses(self):
        return self._microprocesses


class notify(ipc):
    """A notification from ``caller`` carrying ``payload`` (stored as ``object``)."""

    def __init__(self, caller, payload):
        self.caller = caller
        self.object = payload


class shutdown(ipc):
    """The legacy shutdown message (unrelated to ``shutdownMicroprocess``)."""


class status(ipc):
    """A status report; ``status()`` returns it."""

    def __init__(self, status):
        self._status = status

    def status(self):
        return self._status


class wouldblock(ipc):
    """``caller`` would have blocked."""

    def __init__(self, caller):
        self.caller = caller


class producerFinished(ipc):
    """"No more data is coming" from ``caller``, with an optional ``message``."""

    def __init__(self, caller=None, message=None):
        self.caller = caller
        self.message = message


class errorInformation(ipc):
    """``caller`` hit ``exception``, with an optional ``message``."""

    def __init__(self, caller, exception=None, message=None):
        self.caller = caller
        self.exception = exception
        self.message = message
