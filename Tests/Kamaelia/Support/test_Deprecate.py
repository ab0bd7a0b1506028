"""Kamaelia.Support.Deprecate: stubs, levels and the environment variable."""

import logging
import os
import subprocess
import sys
import warnings

import pytest

from Kamaelia.Support import Deprecate
from Kamaelia.Support.Deprecate import (
    CRASH,
    QUIET,
    VERBOSE,
    WARN,
    KamaeliaDeprecationWarning,
    Warning,
    currentLevel,
    deprecationWarning,
    makeClassStub,
    makeFuncStub,
)

ENV = "KAMAELIA_DEPRECATION_WARNINGS"


@pytest.fixture(autouse=True)
def noEnvironmentSetting(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


class Thing(object):
    """A thing."""

    def __init__(self, a, b=2):
        self.a, self.b = a, b


def double(x, times=2):
    """Doubles."""
    return x * times


def test_levels_are_ordered():
    assert QUIET < WARN < VERBOSE < CRASH


def test_warning_category_is_a_DeprecationWarning():
    assert issubclass(KamaeliaDeprecationWarning, DeprecationWarning)


def test_class_stub_warns_on_construction_and_is_a_subclass():
    Old = makeClassStub(Thing, "use Thing")
    assert issubclass(Old, Thing) and Old.__name__ == "Thing"
    with pytest.warns(KamaeliaDeprecationWarning, match="use Thing") as record:
        t = Old(1, b=3)
    assert isinstance(t, Thing) and (t.a, t.b) == (1, 3)
    assert record[0].filename == __file__           # attributed to the caller
    assert "use Thing" in Old.__doc__


def test_class_stub_does_not_warn_when_the_class_is_defined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        makeClassStub(Thing, "use Thing")


def test_func_stub_warns_and_calls_the_function():
    old = makeFuncStub(double, "use double")
    with pytest.warns(KamaeliaDeprecationWarning, match="use double") as record:
        assert old(4, times=3) == 12
    assert old.__name__ == "double"
    assert record[0].filename == __file__


def test_deprecationWarning_warns_at_the_callers_line():
    with pytest.warns(KamaeliaDeprecationWarning, match="old stuff") as record:
        deprecationWarning("old stuff")
    assert record[0].filename == __file__


def test_Warning_object_warns_each_time_it_is_called():
    w = Warning("later", WARN)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w()
        w()
    assert [str(c.message) for c in caught] == ["later", "later"]


def test_quiet_level_reports_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deprecationWarning("hush", QUIET)
        makeClassStub(Thing, "hush", QUIET)(1)
        assert makeFuncStub(double, "hush", QUIET)(1) == 2


def test_crash_level_raises():
    with pytest.raises(KamaeliaDeprecationWarning, match="boom"):
        deprecationWarning("boom", CRASH)
    with pytest.raises(KamaeliaDeprecationWarning):
        makeFuncStub(double, "boom", CRASH)(1)


def test_verbose_level_also_logs_with_the_stack(caplog):
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Support.Deprecate"):
        with pytest.warns(KamaeliaDeprecationWarning):
            deprecationWarning("chatty", VERBOSE)
    [record] = [r for r in caplog.records if "chatty" in r.getMessage()]
    assert record.stack_info and "test_verbose_level" in record.stack_info


def test_default_level_is_WARN():
    assert currentLevel() == WARN
    assert currentLevel(CRASH) == CRASH


@pytest.mark.parametrize("setting, level", [("QUIET", QUIET), ("warn", WARN),
                                            (" VERBOSE ", VERBOSE), ("CRASH", CRASH),
                                            ("0", QUIET), ("3", CRASH)])
def test_environment_variable_overrides_every_level(monkeypatch, setting, level):
    monkeypatch.setenv(ENV, setting)
    assert currentLevel() == level
    assert currentLevel(QUIET) == level
    assert currentLevel(CRASH) == level


def test_environment_quiet_silences_stubs(monkeypatch):
    monkeypatch.setenv(ENV, "QUIET")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        makeClassStub(Thing, "hush", WARN)(1)


def test_environment_crash_makes_stubs_raise(monkeypatch):
    monkeypatch.setenv(ENV, "CRASH")
    with pytest.raises(KamaeliaDeprecationWarning):
        makeClassStub(Thing, "found you", WARN)(1)


def test_bad_environment_value_is_ignored_and_logged_once(monkeypatch, caplog):
    monkeypatch.setenv(ENV, "LOUD")
    monkeypatch.setattr(Deprecate, "_badSettingsReported", set())
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Support.Deprecate"):
        assert currentLevel(VERBOSE) == VERBOSE
        assert currentLevel() == WARN
    assert sum("LOUD" in r.getMessage() for r in caplog.records) == 1


def test_warnings_are_shown_to_people_running_a_program():
    """DeprecationWarnings are hidden by default; ours are not."""
    env = dict(os.environ)
    env.pop(ENV, None)
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run(
        [sys.executable, "-c",
         "from Kamaelia.Support.Deprecate import deprecationWarning\n"
         "def f():\n    deprecationWarning('old api')\nf()\n"],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert "KamaeliaDeprecationWarning: old api" in result.stderr


def test_levels_may_be_named_as_1x_callers_do():
    """makeClassStub(cls, message, "WARN") as 1.x modules wrote it."""
    assert currentLevel("WARN") == WARN and currentLevel("quiet") == QUIET
    Stub = makeClassStub(Thing, "Thing is old", "WARN")
    with pytest.warns(KamaeliaDeprecationWarning, match="Thing is old"):
        assert Stub(1).a == 1
    with pytest.raises(ValueError):
        currentLevel("LOUD")
