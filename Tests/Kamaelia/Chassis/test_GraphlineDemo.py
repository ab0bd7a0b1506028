"""Examples/Kamaelia/GraphlineDemo.py runs, ends by itself and prints what its docstring says."""

import pathlib
import subprocess
import sys

DEMO = pathlib.Path(__file__).resolve().parents[3] / "Examples" / "Kamaelia" / "GraphlineDemo.py"


def test_graphline_demo_ends_by_itself_with_the_documented_output():
    result = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1:7] == ["shown: THE", "shown: CAT", "shown: SAT",
                          "shown: ON", "shown: THE", "shown: MAT"]
    assert lines[7:] == ["COUNT saw 6 words",
                         "printer got producerFinished on control: the graphline has finished",
                         "all components have finished"]
    assert "'tally'" in lines[0]
    for line in lines:
        assert line in DEMO.read_text()
