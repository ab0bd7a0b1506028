"""Every example under Examples/ runs to completion by itself and prints what its docstring says."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# script -> lines that must appear in its output
EXPECTED = {
    "Examples/Axon/ProducerConsumer.py": ["received: 4", "consumer finished"],
    "Examples/Axon/WaitComplete.py": [],
    "Examples/Axon/Threaded.py": [],
    "Examples/Axon/LikeFileFromPlainCode.py": [],
    "Examples/Axon/Immortalise.py": [],
    "Examples/Kamaelia/EchoServerClient.py": ["client got back: b'goodbye\\n'",
                                              "client finished; shutting the server down"],
    "Examples/Kamaelia/TCPChatRoom.py": ["[carol's screen] bob: hi alice",
                                         "[bob's screen] alice: bye all", "the room is closed"],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_and_ends_by_itself(script, tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, script)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    for line in EXPECTED[script]:
        assert line in result.stdout


def test_every_example_script_is_covered_somewhere():
    """New examples must be added here or have their own test."""
    tested = set(EXPECTED) | {"Examples/Kamaelia/BackplaneChat.py", "Examples/Kamaelia/FileCopy.py",
                              "Examples/Kamaelia/GraphlineDemo.py",
                              "Examples/Greylister/greylisting.py"}
    found = set()
    for directory, _, files in os.walk(os.path.join(ROOT, "Examples")):
        for name in files:
            if name.endswith(".py"):
                found.add(os.path.relpath(os.path.join(directory, name), ROOT))
    assert found <= tested, sorted(found - tested)


def test_greylister_script_checks_its_configuration(tmp_path):
    """Examples/Greylister/greylisting.py is the application: --check-config on the shipped file."""
    script = os.path.join(ROOT, "Examples/Greylister/greylisting.py")
    dist = os.path.join(ROOT, "Examples/Greylister/greylist.conf.dist")
    result = subprocess.run([sys.executable, script, "--config", dist, "--check-config"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
