"""The Example Usage code in each chassis module's docstring runs and prints what it should.

The examples use Kamaelia.Util components (DataSource, PureTransformer,
OneShot, ConsoleEchoer); each test is skipped while those are missing.
"""

import importlib
import re
import subprocess
import sys

import pytest

EXPECTED = {
    "Kamaelia.Chassis.Pipeline": ["HELLO", "WORLD"],
    "Kamaelia.Chassis.Graphline": ["A", "B", "HI!", "THERE!"],
    "Kamaelia.Chassis.Carousel": ["child made from first", "child made from second",
                                  "child made from third"],
    "Kamaelia.Chassis.Seq": ["Greeting...", "hello", "Farewell...", "goodbye"],
    "Kamaelia.Chassis.PAR": ["tick"] * 3 + ["tock"] * 3 + ["left: hello", "right: hello"],
    "Kamaelia.Chassis.Prefab": ["one", "two", "three"],
}

NEEDS = ["Kamaelia.Util.DataSource", "Kamaelia.Util.PureTransformer",
         "Kamaelia.Util.OneShot", "Kamaelia.Util.Console"]


def exampleCode(docstring):
    """The literal blocks (after a line ending in "::") of the Example Usage section."""
    section = docstring.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    blocks = re.findall(r"::\n\n((?:(?:    .*)?\n)+)", section)
    return "\n".join(re.sub(r"(?m)^    ", "", block) for block in blocks)


@pytest.mark.parametrize("moduleName", sorted(EXPECTED))
def test_example_usage_runs_and_prints_the_expected_lines(moduleName):
    for needed in NEEDS:
        pytest.importorskip(needed)
    module = importlib.import_module(moduleName)
    code = exampleCode(module.__doc__)
    assert ".run()" in code
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(EXPECTED[moduleName])
