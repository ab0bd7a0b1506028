"""The Example Usage code in the docstrings of the Util, File and LineBuffer modules runs,
ends by itself and prints what the docstring says.

Only the self-contained, self-terminating blocks are run (``blocks`` picks
them); fragments and servers (EchoProtocol, Introspector) are not.
"""

import importlib
import re
import subprocess
import sys

import pytest

# module -> (indices of the literal blocks to run, expected stdout lines in any order)
EXPECTED = {
    "Kamaelia.Util.PureTransformer": ([0], ["1 squared is 1", "3 squared is 9"]),
    "Kamaelia.Util.DataSource": ([0], ["hello", "world"]),
    "Kamaelia.Util.OneShot": ([0], ["just this"]),
    "Kamaelia.Util.PassThrough": ([0], ["through"]),
    "Kamaelia.Util.Console": ([0], ["> one", "> two"]),
    "Kamaelia.Util.Fanout": ([0], ["left: news", "right: news"]),
    "Kamaelia.Util.NullSink": ([0], []),
    "Kamaelia.Util.NullSinkComponent": ([0], []),
    "Kamaelia.Util.Clock": ([0], ["tick"] * 3),
    "Kamaelia.Util.Splitter": ([0], ["first: news", "second: news"]),
    "Kamaelia.Util.Backplane": ([0], ["reader 1: extra, extra", "reader 2: extra, extra"]),
    "Kamaelia.Util.RateFilter": ([0], ["Fifty bytes of text, read at 1000 bytes a second"] * 4),
    "Kamaelia.Util.Chargen": ([0], []),
    "Kamaelia.Util.LineSplitter": ([0], ["line: b'HELO example.com'", "line: b'MAIL FROM:<a@b>'",
                                         "line: b'QUIT'"]),
    "Kamaelia.Support.LineBuffer": ([0], ["too long: 604 bytes"]),
    "Kamaelia.File.Append": ([0], ["first line", "second line"]),
    "Kamaelia.File.Writing": ([0], []),
    "Kamaelia.File.Reading": ([0, 1, 2], ["one", "two", "three", "one", "two"]),
}


def exampleBlocks(docstring):
    """The literal blocks (after a line ending in "::") of the Example Usage section."""
    section = docstring.split("Example Usage", 1)[1].split("How does it work?", 1)[0]
    blocks = re.findall(r"::\n\n((?:(?:    .*)?\n)+)", section)
    return [re.sub(r"(?m)^    ", "", block) for block in blocks]


@pytest.mark.parametrize("moduleName", sorted(EXPECTED))
def test_example_usage_runs_and_prints_the_expected_lines(moduleName, tmp_path):
    blocks, expected = EXPECTED[moduleName]
    module = importlib.import_module(moduleName)
    available = exampleBlocks(module.__doc__)
    code = "\n".join(available[i] for i in blocks)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(expected)


def test_every_module_has_the_documentation_sections_and_component_tuple():
    modules = list(EXPECTED) + ["Kamaelia.Util.Introspector", "Kamaelia.Protocol.EchoProtocol"]
    for name in modules:
        doc = importlib.import_module(name).__doc__
        for section in ["Example Usage", "How does it work?"]:
            assert section in doc, (name, section)
        if name != "Kamaelia.Support.LineBuffer":
            assert "Termination" in doc, name
            assert importlib.import_module(name).__kamaelia_components__, name
