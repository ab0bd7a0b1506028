"""Kamaelia.File.Append: appending, blat_file, hold_open, forwarder, shutdown via stop()."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.File.Append import Append


def test_filename_is_required():
    with pytest.raises(ValueError):
        Append()


def test_appends_each_chunk_to_the_existing_file_and_forwards_it(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("already here\n")
    h = ComponentHarness(Append(filename=str(path)))
    h.put("one\n")
    h.put("two\n")
    h.runUntilIdle()
    assert path.read_text() == "already here\none\ntwo\n"      # flushed as it goes
    assert h.getAll("outbox") == ["one\n", "two\n"]


def test_blat_file_empties_the_file_first(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("old contents\n")
    h = ComponentHarness(Append(filename=str(path), blat_file=True))
    assert path.read_text() == ""
    h.put("new\n")
    h.runUntilIdle()
    assert path.read_text() == "new\n"


def test_forwarder_false_sends_nothing_on(tmp_path):
    path = tmp_path / "log.txt"
    h = ComponentHarness(Append(filename=str(path), forwarder=False))
    h.put("x")
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    assert path.read_text() == "x"


@pytest.mark.parametrize("hold_open", [True, False])
def test_hold_open_chooses_whether_the_file_stays_open(tmp_path, hold_open):
    path = tmp_path / "log.txt"
    appender = Append(filename=str(path), hold_open=hold_open)
    h = ComponentHarness(appender)
    h.put("a")
    h.runUntilIdle()
    path.write_text("")                      # someone truncates the file meanwhile
    h.put("b")
    h.runUntilIdle()
    assert (appender.file is not None) == hold_open
    assert path.read_text().endswith("b")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert appender.file is None


def test_bytes_chunks_are_written_unchanged(tmp_path):
    path = tmp_path / "log.bin"
    h = ComponentHarness(Append(filename=str(path)))
    h.put("text \u00e9 ")
    h.put(b"\x00\xff\r\n")
    h.put("more")
    h.runUntilIdle()
    assert path.read_bytes() == "text \u00e9 ".encode("utf-8") + b"\x00\xff\r\n" + b"more"


@pytest.mark.parametrize("message", ["anything", producerFinished(), shutdownMicroprocess()])
def test_any_control_message_stops_it_and_is_sent_on_signal_once(tmp_path, message):
    path = tmp_path / "log.txt"
    appender = Append(filename=str(path))
    h = ComponentHarness(appender)
    h.put("last")
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [message]
    assert path.read_text() == "last"
    assert appender.file is None


def test_stopped_from_outside_it_sends_producerFinished_and_closes(tmp_path):
    appender = Append(filename=str(tmp_path / "log.txt"))
    h = ComponentHarness(appender)
    h.runUntilIdle()
    handle = appender.file
    appender.stop()
    h.runUntilIdle()
    signals = h.getAll("signal")
    assert len(signals) == 1 and isinstance(signals[0], producerFinished)
    assert handle.closed
