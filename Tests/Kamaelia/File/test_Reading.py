"""Kamaelia.File.Reading: PromptedFileReader in both modes, EOF signalling, the rate-controlled
and reusable readers, SimpleReader."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Carousel import Carousel
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.File.Reading import (
    EOF,
    FixedRateControlledReusableFileReader,
    PromptedFileReader,
    RateControlledFileReader,
    RateControlledReusableFileReader,
    ReusableFileReader,
    SimpleReader,
)

TEXT = b"line one\nline two\r\nline three\nno newline at the end"


@pytest.fixture
def textfile(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(TEXT)
    return str(path)


# -- PromptedFileReader ------------------------------------------------------------------


def test_bytes_mode_answers_each_request_with_that_many_bytes(textfile):
    h = ComponentHarness(PromptedFileReader(textfile, "bytes"))
    for n in [4, 5, 1]:
        h.put(n)
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"line", b" one\n", b"l"]
    assert not h.finished


def test_lines_mode_answers_each_request_with_that_many_lines_as_one_bytes_chunk(textfile):
    h = ComponentHarness(PromptedFileReader(textfile, "lines"))
    h.put(2)
    h.put(1)
    h.put(5)
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"line one\nline two\r\n", b"line three\n",
                                  b"no newline at the end"]


@pytest.mark.parametrize("mode", ["bytes", "lines"])
def test_end_of_file_is_signalled_on_the_first_request_after_the_last_data(textfile, mode):
    reader = PromptedFileReader(textfile, mode)
    h = ComponentHarness(reader)
    h.put(10000)
    h.runUntilIdle()
    assert b"".join(h.getAll("outbox")) == TEXT
    assert h.ready("signal") == 0 and not h.finished
    h.put(1)
    h.runUntilIdle()
    finished = h.get("signal")
    assert isinstance(finished, producerFinished) and finished.caller is reader
    assert h.finished
    assert reader.file.closed


def test_reading_an_empty_file_signals_at_once(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    h = ComponentHarness(PromptedFileReader(str(path), "lines"))
    h.put(1)
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    assert isinstance(h.get("signal"), producerFinished)


def test_only_shutdownMicroprocess_on_control_stops_it(textfile):
    reader = PromptedFileReader(textfile)
    h = ComponentHarness(reader)
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert not h.finished
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.finished and h.getAll("signal") == [stop]
    assert reader.file.closed


def test_bad_readmode_and_missing_file_are_reported_at_construction(textfile, tmp_path):
    with pytest.raises(ValueError):
        PromptedFileReader(textfile, "words")
    with pytest.raises(FileNotFoundError):
        PromptedFileReader(str(tmp_path / "missing"))


def test_EOF_is_an_exception_the_read_methods_raise(textfile):
    reader = PromptedFileReader(textfile)
    reader.readNBytes(len(TEXT))
    with pytest.raises(EOF):
        reader.readNBytes(1)
    with pytest.raises(EOF):
        reader.readNLines(1)
    reader.closeDownComponent()


# -- rate controlled ---------------------------------------------------------------------


def test_rate_controlled_reader_reads_the_whole_file_at_the_rate_then_signals(textfile):
    reader = RateControlledFileReader(textfile, "bytes", rate=80, chunksize=8)
    assert isinstance(reader, Graphline)
    h = ComponentHarness(reader)
    h.runUntilIdle()
    assert h.getAll("outbox") == [TEXT[:8]]
    h.advance(0.1)
    assert h.getAll("outbox") == [TEXT[8:16]]
    h.advance(10)
    assert b"".join([TEXT[:16]] + h.getAll("outbox")) == TEXT
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished
    assert h.scheduler.nextTimerDue() is None


def test_rate_controlled_reader_in_lines_mode_counts_lines(textfile):
    h = ComponentHarness(RateControlledFileReader(textfile, "lines", rate=2, chunksize=1))
    h.advance(0.75)                          # requests at t = 0 and 0.5
    assert h.getAll("outbox") == [b"line one\n", b"line two\r\n"]
    h.advance(5)
    assert h.getAll("outbox") == [b"line three\n", b"no newline at the end"]
    assert h.finished


def test_rate_controlled_reader_stops_early_on_shutdownMicroprocess(textfile):
    h = ComponentHarness(RateControlledFileReader(textfile, rate=1, chunksize=1))
    h.runUntilIdle()
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), shutdownMicroprocess)


# -- reusable -------------------------------------------------------------------------------


def test_reusable_reader_reads_each_file_named_on_next(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"AAAA")
    b.write_bytes(b"BB")
    reader = ReusableFileReader("bytes")
    assert isinstance(reader, Carousel)
    h = ComponentHarness(reader)
    h.put(str(a), "next")
    h.put(3)
    h.put(3)
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"AAA", b"A"]
    h.put(1)                                   # end of a: the carousel asks for the next file
    h.runUntilIdle()
    assert h.getAll("requestNext") == ["NEXT"]
    h.put(str(b), "next")
    h.put(5)
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"BB"]


def test_rate_controlled_reusable_reader_takes_filename_and_rate_arguments(tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b"0123456789")
    h = ComponentHarness(RateControlledReusableFileReader("bytes"))
    h.put((str(a), {"rate": 10, "chunksize": 5}), "next")
    h.advance(2)
    assert h.getAll("outbox") == [b"01234", b"56789"]
    assert h.getAll("requestNext") == ["NEXT"]


def test_fixed_rate_reusable_reader_reads_each_named_file_at_the_rate_then_finishes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"a1\na2\n")
    b.write_bytes(b"b1\n")
    h = ComponentHarness(FixedRateControlledReusableFileReader("lines", rate=10, chunksize=1))
    h.put(str(a))
    h.advance(0.05)
    assert h.getAll("outbox") == [b"a1\n"]
    h.advance(1)
    assert h.getAll("outbox") == [b"a2\n"]          # then a's end of file
    h.put(str(b))
    h.put(producerFinished(), "control")
    h.advance(1)
    assert h.getAll("outbox") == [b"b1\n"]
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_fixed_rate_reusable_reader_a_new_name_replaces_the_file_being_read(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"a1\na2\na3\n")
    b.write_bytes(b"b1\n")
    h = ComponentHarness(FixedRateControlledReusableFileReader("lines", rate=10, chunksize=1))
    h.put(str(a))
    h.advance(0.05)
    assert h.getAll("outbox") == [b"a1\n"]
    h.put(str(b))
    h.advance(1)
    assert h.getAll("outbox") == [b"b1\n"]


# -- SimpleReader ------------------------------------------------------------------------------


def test_simple_reader_sends_text_lines_then_producerFinished(textfile):
    h = ComponentHarness(SimpleReader(textfile))
    h.runUntilIdle()
    assert h.getAll("outbox") == ["line one\n", "line two\n", "line three\n",
                                  "no newline at the end"]
    assert isinstance(h.get("signal"), producerFinished)
    assert h.finished


def test_simple_reader_binary_mode_sends_bytes(textfile):
    h = ComponentHarness(SimpleReader(textfile, mode="rb"))
    h.runUntilIdle()
    assert b"".join(h.getAll("outbox")) == TEXT


def test_simple_reader_stops_on_shutdownMicroprocess(textfile):
    h = ComponentHarness(SimpleReader(textfile))
    h.step(2)
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert len(h.getAll("outbox")) < 4
    assert h.getAll("signal") == [stop]
    assert h.finished


def test_simple_reader_waits_for_room_and_loses_nothing(textfile, parts):
    reader = SimpleReader(textfile)
    sink = parts.Recorder(size=1)
    h = ComponentHarness(reader)
    reader.link((reader, "outbox"), (sink, "inbox"))
    sink.activate(h.scheduler)
    got = []
    while not h.finished:
        h.runUntilIdle()
        while sink.dataReady("inbox"):
            got.append(sink.recv("inbox"))
    assert got == ["line one\n", "line two\n", "line three\n", "no newline at the end"]
