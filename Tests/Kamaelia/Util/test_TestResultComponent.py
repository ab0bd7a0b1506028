"""Kamaelia.Util.TestResultComponent (spec more-3.9): the deprecated name of TestResult."""

import importlib
import warnings

import pytest

import Kamaelia.Util.TestResultComponent as oldModule
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
from Kamaelia.Util.TestResult import TestResult


def deprecations(caught):
    return [str(w.message) for w in caught if issubclass(w.category, KamaeliaDeprecationWarning)]


def test_importing_the_module_reports_that_it_is_deprecated():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(oldModule)
    assert deprecations(caught) == [
        "Use Kamaelia.Util.TestResult instead of Kamaelia.Util.TestResultComponent"]


def test_testResultComponent_is_a_TestResult_that_warns_when_made():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checker = oldModule.testResultComponent()
    assert isinstance(checker, TestResult)
    assert len(deprecations(caught)) == 1


def test_testResultComponent_behaves_as_TestResult():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checker = oldModule.testResultComponent()
    checker.activate()
    checker.next()
    checker._deliver("true", "inbox")
    checker.next()
    checker._deliver(0, "inbox")
    with pytest.raises(AssertionError):
        checker.next()

