"""Axon.debug, Axon.debugConfigFile, Axon.debugConfigDefaults (spec 1.5).

The configuration is class-level and loaded once per process, so every test
that touches it saves and restores ``debug.configs``/``debug.noConfig``.
Whether a ``debug.conf`` in the working directory breaks ``import Axon``
([B] in the original) needs a fresh interpreter: those tests use a subprocess.
"""

import json
import logging
import subprocess
import sys
import textwrap

import pytest

from Axon import debugConfigDefaults, debugConfigFile
from Axon.AxonExceptions import AxonException
from Axon.Component import component
from Axon.debug import debug
from Axon.Microprocess import microprocess


@pytest.fixture
def cleanDebug(monkeypatch):
    """Isolate the class-level debug configuration: start with nothing loaded."""
    monkeypatch.setattr(debug, "configs", None)
    monkeypatch.setattr(debug, "noConfig", True)
    return debug


def runInFreshPython(code, cwd):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=str(cwd),
                            capture_output=True, text=True, timeout=60)
    return result


# -- debug.conf in the working directory -----------------------------------


def test_import_Axon_works_and_reads_a_debug_conf_in_the_cwd(tmp_path):
    (tmp_path / "debug.conf").write_text(
        "# tag   level location\n"
        "\n"
        "scheduler.main     5   default\n"
        "myapp.section\t\t12\tsomewhere   # trailing comment\n")
    result = runInFreshPython("""
        import json
        import Axon
        from Axon.debug import debug
        print(json.dumps({k: list(v) for k, v in debug.configs.items()}))
        """, tmp_path)
    assert result.returncode == 0, result.stderr
    configs = json.loads(result.stdout.strip().splitlines()[-1])
    assert configs["scheduler.main"] == [5, "default"]
    assert configs["myapp.section"] == [12, "somewhere"]


def test_import_Axon_survives_a_malformed_debug_conf(tmp_path):
    (tmp_path / "debug.conf").write_text("this line has far too many fields in it\nx notanumber y\n")
    result = runInFreshPython("""
        import Axon
        from Axon.debug import debug
        from Axon.debugConfigDefaults import defaultConfig
        assert debug.configs == defaultConfig(), debug.configs
        print("imported")
        """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("imported")


def test_import_Axon_without_debug_conf_uses_the_defaults(tmp_path):
    result = runInFreshPython("""
        import Axon
        from Axon.debug import debug
        from Axon.debugConfigDefaults import defaultConfig
        assert debug.configs == defaultConfig()
        print("ok")
        """, tmp_path)
    assert result.returncode == 0, result.stderr


# -- debugConfigFile.readConfig --------------------------------------------


def test_readConfig_parses_tag_level_location_lines(tmp_path):
    path = tmp_path / "d.conf"
    path.write_text(
        "# a comment line\n"
        "   \n"
        "alpha 1 here\n"
        "beta     20      there\n"
        "gamma\t3\tfile   # comment after fields\n")
    assert debugConfigFile.readConfig(str(path)) == {
        "alpha": (1, "here"), "beta": (20, "there"), "gamma": (3, "file")}


def test_readConfig_of_a_comment_only_file_is_empty(tmp_path):
    path = tmp_path / "d.conf"
    path.write_text("# nothing\n\n# here\n")
    assert debugConfigFile.readConfig(str(path)) == {}


def test_readConfig_rejects_a_malformed_line_with_ValueError(tmp_path):
    path = tmp_path / "d.conf"
    path.write_text("ok 1 here\nbroken line\n")
    with pytest.raises(ValueError):
        debugConfigFile.readConfig(str(path))
    path.write_text("tag notanumber loc\n")
    with pytest.raises(ValueError):
        debugConfigFile.readConfig(str(path))


def test_defaultConfig_maps_known_sections_to_level_zero():
    config = debugConfigDefaults.defaultConfig()
    assert "scheduler.main" in config
    assert config and all(v == (0, "default") for v in config.values())
    config["scheduler.main"] = (99, "x")
    assert debugConfigDefaults.defaultConfig()["scheduler.main"] == (0, "default")


# -- the debug class -----------------------------------------------------------


def test_class_attributes_before_any_configuration():
    assert hasattr(debug, "configs")
    assert hasattr(debug, "noConfig")
    d = debug()
    assert d.assertBadDebug == 1
    assert debug(assertBadDebug=0).assertBadDebug == 0


def test_useConfig_loads_debug_conf_from_the_cwd(cleanDebug, tmp_path, monkeypatch):
    (tmp_path / "debug.conf").write_text("mine 7 default\n")
    monkeypatch.chdir(tmp_path)
    debug().useConfig()
    assert debug.configs == {"mine": (7, "default")}
    assert debug.noConfig is False


def test_useConfig_without_a_file_uses_the_defaults(cleanDebug, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    debug().useConfig()
    assert debug.configs == debugConfigDefaults.defaultConfig()


def test_useConfig_loads_only_once_per_process(cleanDebug, tmp_path, monkeypatch):
    (tmp_path / "debug.conf").write_text("first 1 default\n")
    (tmp_path / "other.conf").write_text("second 2 default\n")
    monkeypatch.chdir(tmp_path)
    debug().useConfig()
    debug().useConfig("other.conf")
    assert debug.configs == {"first": (1, "default")}


def test_configuration_is_shared_by_every_instance(cleanDebug):
    a, b = debug(), debug()
    a.addDebugSection("shared.section", 4)
    assert b.areDebugging("shared.section", 4)


def test_readConfig_registers_the_sections_of_a_file(cleanDebug, tmp_path):
    path = tmp_path / "x.conf"
    path.write_text("one 3 default\ntwo 8 default\n")
    d = debug()
    d.setDebugSections()
    d.readConfig(str(path))
    assert d.areDebugging("one", 3) and not d.areDebugging("one", 4)
    assert d.areDebugging("two", 8)


def test_addDebugSection_and_addDebug_set_levels(cleanDebug):
    d = debug()
    d.addDebugSection("a", 3)
    d.addDebug(b=10, c=0)
    assert d.areDebugging("a", 3)
    assert not d.areDebugging("a", 4)
    assert d.areDebugging("b", 10)
    assert d.areDebugging("c", 0)
    assert not d.areDebugging("c", 1)


def test_increase_and_decrease_move_levels_by_five_never_below_zero(cleanDebug):
    d = debug()
    d.addDebugSection("s", 2)
    d.increaseDebug("s")
    assert d.areDebugging("s", 7) and not d.areDebugging("s", 8)
    d.decreaseDebug("s")
    assert d.areDebugging("s", 2) and not d.areDebugging("s", 3)
    d.decreaseDebug("s")
    assert d.areDebugging("s", 0) and not d.areDebugging("s", 1)
    d.decreaseDebug("s")
    assert d.areDebugging("s", 0)


def test_setDebugSections_replaces_the_whole_configuration(cleanDebug):
    d = debug()
    d.addDebugSection("old", 5)
    d.setDebugSections(new=3)
    assert d.areDebugging("new", 3)
    assert not d.areDebugging("old", 0)


def test_areDebugging_is_false_for_unknown_sections(cleanDebug):
    d = debug()
    d.setDebugSections()
    assert d.areDebugging("nowhere", 0) is False


def test_debugmessage_always_emits_time_section_and_message(cleanDebug, caplog):
    d = debug()
    d.setDebugSections()
    with caplog.at_level(logging.DEBUG, logger="Axon.debug"):
        d.debugmessage("any.section", "hello", 42)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert " | any.section | " in text
    assert "hello 42" in text


def test_debug_emits_only_at_or_below_the_configured_level_and_returns_True(cleanDebug, caplog):
    d = debug()
    d.setDebugSections(net=5)
    with caplog.at_level(logging.DEBUG, logger="Axon.debug"):
        assert d.debug("net", 5, "shown-at-5") is True
        assert d.debug("net", 6, "hidden-at-6") is True
        assert d.note("net", 1, "shown-via-note") is True
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "shown-at-5" in text
    assert "shown-via-note" in text
    assert "hidden-at-6" not in text


def test_debug_on_an_unknown_section_raises_AxonException(cleanDebug):
    d = debug()
    d.setDebugSections(known=1)
    with pytest.raises(AxonException):
        d.debug("unknown.section", 1, "msg")


def test_debug_on_an_unknown_section_without_assertBadDebug_returns_True(cleanDebug, caplog):
    d = debug(assertBadDebug=0)
    d.setDebugSections(known=1)
    with caplog.at_level(logging.WARNING, logger="Axon.debug"):
        assert d.debug("unknown.section", 1, "msg") is True
    assert any("unknown.section" in r.getMessage() for r in caplog.records)


def test_note_is_an_alias_of_debug():
    assert debug.note is debug.debug


class OwnDebugger(microprocess):
    debugger = "mine"


def test_every_microprocess_has_a_debugger_unless_it_brings_its_own():
    assert isinstance(microprocess().debugger, debug)
    assert isinstance(component().debugger, debug)
    assert OwnDebugger().debugger == "mine"
