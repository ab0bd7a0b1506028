"""The Example Usage code of Chooser, Comparator, LossyConnector, TestResult(Component) and
Axon.Postman runs in a fresh interpreter, ends by itself and prints what the docstring says.
"""

import importlib
import re
import subprocess
import sys

import pytest

# module -> expected stdout lines, in order (block 0 of Example Usage is run)
EXPECTED = {
    "Kamaelia.Util.Chooser": ["showing one.png", "showing two.png", "showing three.png",
                              "showing one.png", "showing three.png", "showing one.png"],
    "Kamaelia.Util.Comparator": ["match", "MISMATCH", "match"],
    "Kamaelia.Util.LossyConnector": ["got 0", "got 1", "got 2"],
    "Kamaelia.Util.TestResult": ["all true", "a false result"],
    "Kamaelia.Util.TestResultComponent": ["True"],
    "Axon.Postman": ["hello"],
}


def firstExample(docstring):
    section = docstring.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    block = re.findall(r"::\n\n((?:(?:    .*)?\n)+)", section)[0]
    return re.sub(r"(?m)^    ", "", block)


@pytest.mark.parametrize("moduleName", sorted(EXPECTED))
def test_example_usage_runs_and_prints_what_the_docstring_says(moduleName, tmp_path):
    code = firstExample(importlib.import_module(moduleName).__doc__)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED[moduleName]


@pytest.mark.parametrize("moduleName", sorted(EXPECTED))
def test_module_docs_have_the_template_sections(moduleName):
    module = importlib.import_module(moduleName)
    for section in ["Example Usage", "How does it work?"]:
        assert section in module.__doc__, section
    if moduleName.startswith("Kamaelia.") and moduleName != "Kamaelia.Util.TestResultComponent":
        for section in ["Inboxes", "Outboxes", "Termination"]:
            assert section in module.__doc__, section
        assert module.__kamaelia_components__
