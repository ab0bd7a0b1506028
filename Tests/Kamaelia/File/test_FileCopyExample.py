"""Examples/Kamaelia/FileCopy.py copies files, ends by itself and prints what its docstring says."""

import pathlib
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "Examples" / "Kamaelia" / "FileCopy.py"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def test_demo_without_arguments_prints_the_documented_output():
    result = run()
    assert result.returncode == 0, result.stderr
    expected = ["binary copy: 300000 bytes, identical: True", "text copy with numbered lines:",
                "1: The cat", "2: sat on", "3: the mat."]
    assert result.stdout.splitlines() == expected
    for line in expected:
        assert line in EXAMPLE.read_text()


def test_copies_a_given_file_exactly(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 1000 + b"tail")
    destination = tmp_path / "copy.bin"
    result = run(str(source), str(destination), "5000000")
    assert result.returncode == 0, result.stderr
    assert destination.read_bytes() == source.read_bytes()
    assert "identical: True" in result.stdout


def test_wrong_arguments_print_the_usage():
    result = run("only-one-argument")
    assert result.returncode == 2
    assert "FileCopy" in result.stderr
