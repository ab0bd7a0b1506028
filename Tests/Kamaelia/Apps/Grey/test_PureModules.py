"""The greylister's building blocks stay pure (DESIGN.md: no Axon, socket or time).

Support, Config, Networks, GreylistVerdict and GreylistStore take time as an
argument and do no network I/O, so they can be tested alone and reused by
other front ends. This scans their source with ``ast`` for forbidden imports.
"""

import ast
import importlib.util

import pytest

PURE = ["Support", "Config", "Networks", "GreylistVerdict", "GreylistStore", "SMTPProtocol",
        "SMTPReplies", "PolicyProtocol", "Policy", "Whitelists", "Stores", "HTTPProtocol",
        "StatusPage"]
FORBIDDEN = {"Axon", "socket", "time", "datetime", "selectors", "asyncio"}
ALLOWED_KAMAELIA = ({"Kamaelia.Apps.Grey." + name for name in PURE}
                    | {"Kamaelia.Apps.Grey", "Kamaelia.Support.LineBuffer",
                       # Stores opens it lazily, for a postgresql:// location only
                       "Kamaelia.Apps.Grey.PostgresStore"})


def importedModules(name):
    spec = importlib.util.find_spec("Kamaelia.Apps.Grey." + name)
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), spec.origin)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in %s" % name
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            pytest.fail("%s uses __import__" % name)


@pytest.mark.parametrize("name", PURE)
def test_module_imports_no_axon_socket_or_clock(name):
    for module in importedModules(name):
        top = module.split(".")[0]
        assert top not in FORBIDDEN, "%s imports %s" % (name, module)
        if top == "Kamaelia":
            assert module in ALLOWED_KAMAELIA, "%s imports %s" % (name, module)


def test_scanner_sees_imports():
    """Guards the test above against scanning nothing."""
    assert "sqlite3" in set(importedModules("GreylistStore"))
    assert "Kamaelia.Apps.Grey.Networks" in set(importedModules("Config"))
