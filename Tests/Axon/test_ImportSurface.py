"""The import surface of Axon and Kamaelia (spec section 0) and the layering rule.

Checks that need a pristine interpreter (what ``import Axon`` loads, what a
package ``__init__`` imports) run in a subprocess, because this test process
has long since imported everything.
"""

import ast
import importlib
import inspect
import json
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

AXON_SUBMODULES_IMPORTED_BY_PACKAGE = [
    "Component", "Ipc", "Linkage", "Microprocess", "Postoffice", "Scheduler", "debug", "util",
    "AdaptiveCommsComponent", "AxonExceptions", "CoordinatingAssistantTracker",
    "debugConfigFile", "Box", "ThreadedComponent", "Introspector",
]

IPC_NAMES = ["ipc", "WaitComplete", "reactivate", "newComponent", "shutdownMicroprocess",
             "notify", "shutdown", "status", "wouldblock", "producerFinished",
             "errorInformation"]

COMPONENT_STAR_NAMES = sorted(
    ["component", "scheduler", "microprocess", "linkage", "postoffice", "noSpaceInBox",
     "makeInbox", "makeOutbox", "removeAll", "strId", "numId", "debug", "TraceAllSends",
     "TraceAllRecvs"] + IPC_NAMES)

AXON_EXCEPTIONS = ["normalShutdown", "invalidComponentInterface", "noSpaceInBox",
                   "BadParentTracker", "ServiceAlreadyExists", "BadComponent", "BadInbox",
                   "MultipleServiceDeletion", "NamespaceClash",
                   "AccessToUndeclaredTrackedVariable", "ArgumentsClash",
                   "BoxAlreadyLinkedToDestination"]

MUST_EXIST = {
    "Axon.Component": ["component", "scheduler", "newComponent", "linkage"],
    "Axon.Scheduler": ["scheduler", "_ACTIVE"],
    "Axon.Ipc": IPC_NAMES,
    "Axon.util": ["next", "vrange", "removeAll", "testInterface", "Finality"],
    "Axon.idGen": ["numId", "strId", "tupleId", "Debug"],
    "Axon.Box": ["makeInbox", "makeOutbox"],
    "Axon.Base": ["AxonObject", "AxonType"],
    "Axon.STM": ["Store", "BusyRetry", "ConcurrentUpdate"],
    "Axon.AxonExceptions": ["AxonException"] + AXON_EXCEPTIONS,
    "Axon.Handle": ["Handle"],
    "Axon.background": ["background"],
    "Axon.experimental._pprocess_support": ["likefile", "background", "addBox",
                                            "dummyComponent", "componentWrapperInput",
                                            "componentWrapperOutput"],
    "Axon.Axon": ["AxonObject"],
    "Axon.LikeFile": ["likefile"],
}

KAMAELIA_PACKAGES = ["Kamaelia", "Kamaelia.Util", "Kamaelia.Internet", "Kamaelia.File",
                     "Kamaelia.Chassis", "Kamaelia.Protocol", "Kamaelia.Support",
                     "Kamaelia.Apps", "Kamaelia.Apps.Grey"]


def runFresh(code):
    """Run ``code`` in a fresh interpreter; return what it printed as JSON."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(REPO), timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_Axon_makes_the_core_submodules_reachable():
    found = runFresh(
        "import json, Axon\n"
        "names = %r\n"
        "print(json.dumps({n: hasattr(Axon, n) and type(getattr(Axon, n)).__name__ == 'module'"
        " for n in names}))\n" % AXON_SUBMODULES_IMPORTED_BY_PACKAGE)
    assert found == {name: True for name in AXON_SUBMODULES_IMPORTED_BY_PACKAGE}


def test_attribute_chains_used_by_Kamaelia_work_after_import_Axon():
    found = runFresh(
        "import json, Axon\n"
        "chains = [Axon.Component.component, Axon.Ipc.producerFinished,\n"
        "          Axon.ThreadedComponent.threadedcomponent, Axon.AxonExceptions.noSpaceInBox,\n"
        "          Axon.Scheduler.scheduler, Axon.AdaptiveCommsComponent.AdaptiveCommsComponent,\n"
        "          Axon.AxonObject, Axon.AxonType]\n"
        "print(json.dumps([c.__name__ for c in chains]))\n")
    assert found == ["component", "producerFinished", "threadedcomponent", "noSpaceInBox",
                     "scheduler", "AdaptiveCommsComponent", "AxonObject", "AxonType"]


def test_import_Axon_sets_up_the_default_scheduler_and_tracker():
    found = runFresh(
        "import json, Axon\n"
        "from Axon.Microprocess import microprocess\n"
        "from Axon.Scheduler import scheduler\n"
        "from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker as cat\n"
        "print(json.dumps([microprocess.schedulerClass is scheduler,\n"
        "                  microprocess.trackerClass is None,\n"
        "                  isinstance(scheduler.run, scheduler),\n"
        "                  isinstance(cat.basecat, cat)]))\n")
    assert found == [True, True, True, True]


def test_import_Axon_loads_neither_the_optional_modules_nor_Kamaelia():
    """Handle, STM and background (and likefile) are imported only on request."""
    loaded = runFresh(
        "import json, sys, Axon\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    for optional in ["Axon.Handle", "Axon.STM", "Axon.background",
                     "Axon.experimental._pprocess_support", "Axon.LikeFile", "Axon.Axon"]:
        assert optional not in loaded
    assert not [m for m in loaded if m == "Kamaelia" or m.startswith("Kamaelia.")]


def test_star_import_from_Axon_Component_includes_every_listed_name():
    namespace = {}
    exec("from Axon.Component import *", namespace)
    missing = [name for name in COMPONENT_STAR_NAMES if name not in namespace]
    assert missing == []


def test_star_import_from_Axon_Component_yields_exactly_the_listed_names():
    namespace = {}
    exec("from Axon.Component import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == COMPONENT_STAR_NAMES


@pytest.mark.parametrize("module", sorted(MUST_EXIST))
def test_names_imported_across_Kamaelia_and_tests_exist(module):
    mod = importlib.import_module(module)
    missing = [name for name in MUST_EXIST[module] if not hasattr(mod, name)]
    assert missing == []


def test_every_Ipc_name_is_an_ipc_class():
    from Axon import Ipc
    for name in IPC_NAMES:
        assert issubclass(getattr(Ipc, name), Ipc.ipc)


def test_Axon_exceptions_are_all_direct_subclasses_of_AxonException():
    from Axon import AxonExceptions
    for name in AXON_EXCEPTIONS:
        assert getattr(AxonExceptions, name).__bases__ == (AxonExceptions.AxonException,)


def test_stale_module_paths_give_the_same_objects():
    from Axon.Axon import AxonObject
    from Axon.Base import AxonObject as BaseAxonObject
    from Axon.experimental._pprocess_support import likefile as realLikefile
    from Axon.LikeFile import likefile
    assert AxonObject is BaseAxonObject
    assert likefile is realLikefile


def test_Axon_experimental_is_a_documented_package():
    import Axon.experimental
    assert Axon.experimental.__doc__ and "likefile" in Axon.experimental.__doc__


def test_Kamaelia_package_inits_import_nothing_eagerly():
    loaded = runFresh(
        "import json, sys\n"
        "import %s\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] in ('Kamaelia', 'Axon'))))\n"
        % ", ".join(KAMAELIA_PACKAGES))
    assert loaded == sorted(KAMAELIA_PACKAGES)


def _importedModules(tree):
    """Every module name a source file imports statically (or via importlib/__import__)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                yield first.value


def test_no_module_under_Axon_imports_Kamaelia():
    """Layering: Axon is the core and never depends on Kamaelia."""
    sources = sorted((REPO / "Axon").rglob("*.py"))
    assert len(sources) > 15
    offenders = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in _importedModules(tree):
            if name == "Kamaelia" or name.startswith("Kamaelia."):
                offenders.append("%s imports %s" % (path.relative_to(REPO), name))
    assert offenders == []


def test_the_layering_scan_would_notice_a_Kamaelia_import():
    """The scanner above is not vacuous: it finds each form of import."""
    source = inspect.cleandoc("""
        import Kamaelia.Util
        from Kamaelia.Chassis.Pipeline import Pipeline
        import importlib
        importlib.import_module("Kamaelia.Internet")
    """)
    found = list(_importedModules(ast.parse(source)))
    assert {"Kamaelia.Util", "Kamaelia.Chassis.Pipeline", "Kamaelia.Internet"} <= set(found)
