"""
Kamaelia.Util.TestResult: fail loudly on a false message, stop on request
=========================================================================

``TestResult()`` is a sink for development and testing: it takes messages
from "inbox" and raises ``AssertionError`` as soon as one of them is false
(0, False, "", None, an empty list...). Sending it ``StopSystem()`` on
"control" makes it raise ``StopSystemException``, which, like any exception
a component raises, ends the scheduler's run: a blunt way for a test system
to stop everything once it is done.

Example Usage
-------------
::

    from Kamaelia.Chassis.Graphline import Graphline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.TestResult import StopSystem, StopSystemException, TestResult

    def check(results):
        try:
            Graphline(
                RESULTS=DataSource(results),
                CHECK=TestResult(),
                STOP=PureTransformer(lambda finished: StopSystem()),
                linkages={("RESULTS", "outbox"): ("CHECK", "inbox"),
                          ("RESULTS", "signal"): ("STOP", "inbox"),
                          ("STOP", "outbox"): ("CHECK", "control")},
            ).run()
        except StopSystemException:
            print("all true")
        except AssertionError:
            print("a false result")

    check([1, "yes", [0]])       # prints: all true
    check([1, 0, "yes"])         # prints: a false result

How does it work?
-----------------
It is written in the ``mainBody`` style. Each step it takes at most one
message from "inbox" and raises ``AssertionError("false value message
received by: <the component>")`` if it is false. Then it takes at most one
message from "control": a ``StopSystem`` makes it raise
``StopSystemException("StopSystem request raised from TestResult")``; any
other message is ignored. It never sends anything and sleeps while no
message is waiting.

The exceptions come out of whatever is running it: ``next()`` when a test
steps it by hand, or ``scheduler.run.runThreads()`` (``component.run()``)
in a running system.

Inboxes
-------
- inbox -- messages that must all be true
- control -- ``StopSystem`` to raise ``StopSystemException``; anything else
  is ignored

Outboxes
--------
- outbox -- NOT USED
- signal -- NOT USED

Termination
-----------
It never ends by itself, not even on ``producerFinished`` or
``shutdownMicroprocess``: it ends only by raising one of the two exceptions
(or when stopped from outside).
"""

from Axon.AxonExceptions import AxonException
from Axon.Component import component
from Axon.Ipc import ipc


class StopSystem(ipc):
    """Sent to a TestResult's "control": it raises StopSystemException."""


class StopSystemException(AxonException):
    """Raised by a TestResult told to StopSystem, to end the whole run."""


class TestResult(component):
    """TestResult() -> raises AssertionError on a false message; StopSystemException on StopSystem."""

    # Not a pytest test class, despite its name.
    __test__ = False

    Inboxes = {"inbox": "Messages that must all be true",
               "control": "StopSystem to raise StopSystemException; anything else is ignored"}
    Outboxes = {"outbox": "NOT USED",
                "signal": "NOT USED"}

    def mainBody(self):
        if self.dataReady("inbox"):
            if not self.recv("inbox"):
                raise AssertionError("false value message received by: %s" % self)
        if self.dataReady("control"):
            if isinstance(self.recv("control"), StopSystem):
                raise StopSystemException("StopSystem request raised from TestResult")
        if not self.anyReady():
            self.pause()
        return 1


__kamaelia_components__ = (TestResult,)
