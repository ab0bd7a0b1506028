"""Kamaelia.File.Writing.SimpleFileWriter: binary and text modes, shutdown, file closed."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.File.Writing import SimpleFileWriter


def test_default_mode_writes_bytes_replacing_the_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    h = ComponentHarness(SimpleFileWriter(str(path)))
    h.put(b"\x00\x01")
    h.put(bytearray(b"\xfe\xff"))
    h.runUntilIdle()
    assert path.read_bytes() == b"\x00\x01\xfe\xff"       # unbuffered: already on disk


def test_binary_mode_encodes_str_as_utf8(tmp_path):
    path = tmp_path / "out.bin"
    h = ComponentHarness(SimpleFileWriter(str(path)))
    h.put("caf\u00e9")
    h.runUntilIdle()
    assert path.read_bytes() == "caf\u00e9".encode("utf-8")


@pytest.mark.parametrize("mode", ["w", "wt", "a"])
def test_text_modes_work(tmp_path, mode):
    path = tmp_path / "out.txt"
    path.write_text("before\n")
    h = ComponentHarness(SimpleFileWriter(str(path), mode=mode))
    h.put("line one\n")
    h.put("line two\n")
    h.runUntilIdle()
    expected = "line one\nline two\n"
    if mode == "a":
        expected = "before\n" + expected
    assert path.read_text() == expected


def test_text_mode_writes_bytes_unchanged_and_honours_encoding(tmp_path):
    path = tmp_path / "out.txt"
    h = ComponentHarness(SimpleFileWriter(str(path), mode="w", encoding="latin-1"))
    h.put("\u00e9")
    h.put(b"\xc3\xa9")
    h.runUntilIdle()
    assert path.read_bytes() == b"\xe9\xc3\xa9"


@pytest.mark.parametrize("message", [producerFinished(), shutdownMicroprocess()])
def test_stops_on_shutdown_after_writing_waiting_data_and_closes_the_file(tmp_path, message):
    path = tmp_path / "out.bin"
    writer = SimpleFileWriter(str(path))
    h = ComponentHarness(writer)
    h.put(b"final")
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert path.read_bytes() == b"final"
    assert writer.file.closed


def test_other_control_messages_are_ignored(tmp_path):
    h = ComponentHarness(SimpleFileWriter(str(tmp_path / "out.bin")))
    h.put("not a shutdown", "control")
    h.runUntilIdle()
    assert not h.finished and h.ready("signal") == 0
