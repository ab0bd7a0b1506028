"""
Kamaelia.Util.TestResultComponent: the old name of TestResult (deprecated)
==========================================================================

Kamaelia 1.x first offered ``TestResult`` as
``Kamaelia.Util.TestResultComponent.testResultComponent``. That name still
works, but importing this module reports a deprecation warning, and so
does each ``testResultComponent()`` made. New code should use
``Kamaelia.Util.TestResult.TestResult``, which behaves the same.

Example Usage
-------------
::

    from Kamaelia.Util.TestResult import TestResult
    from Kamaelia.Util.TestResultComponent import testResultComponent

    checker = testResultComponent()          # warns: use TestResult instead
    print(isinstance(checker, TestResult))   # prints: True

How does it work?
-----------------
``testResultComponent`` is a subclass of ``TestResult`` made by
``Kamaelia.Support.Deprecate.makeClassStub``; it adds nothing but the
warning. ``StopSystem`` and ``StopSystemException`` are not defined here:
import them from ``Kamaelia.Util.TestResult``.

Inboxes, Outboxes and Termination are those of ``TestResult``.
"""

from Kamaelia.Support.Deprecate import WARN, deprecationWarning, makeClassStub
from Kamaelia.Util.TestResult import TestResult

deprecationWarning("Use Kamaelia.Util.TestResult instead of Kamaelia.Util.TestResultComponent")

testResultComponent = makeClassStub(
    TestResult,
    "testResultComponent is deprecated: use Kamaelia.Util.TestResult.TestResult",
    WARN)
