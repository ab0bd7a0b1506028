"""Examples/Kamaelia/BackplaneChat.py ends by itself and prints the conversation it documents."""

import pathlib
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "Examples" / "Kamaelia" / "BackplaneChat.py"


def test_chat_prints_every_message_on_the_other_screens_then_closes():
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    documented = EXAMPLE.read_text().split("You should see::", 1)[1].split("(within", 1)[0]
    expected = [line.strip() for line in documented.strip().splitlines()]
    assert lines[-1] == "the room is closed" == expected[-1]
    # messages in order; within one message the two screens may come in either order
    assert [sorted(lines[i:i + 2]) for i in range(0, 12, 2)] == \
        [sorted(expected[i:i + 2]) for i in range(0, 12, 2)]
    assert len(lines) == 13
