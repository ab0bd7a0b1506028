"""Kamaelia 1.x programs reading files run unchanged, with 1.x's output.

SimpleReader through MessageRateLimit (the shape of 1.x's
Examples/Files/SimpleReading), RateControlledFileReader, and a
ReusableFileReader (a Carousel) fed file names on request, by hand or
through JoinChooserToCarousel and a ForwardIteratingChooser. Each runs as
its own process; "finished" shows that ``run()`` returned.
"""

import pytest

LINES = "".join("line %02d of the file\n" % n for n in range(1, 31))


@pytest.fixture
def lines(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text(LINES)
    return path


def test_simple_reader_through_message_rate_limit_echoes_the_file_exactly_and_paced(
        runProgram, assertRanCleanly, lines):
    result = runProgram("simple_reading", lines, 100, 10)
    assertRanCleanly(result)
    assert result.stdout == LINES + "paced: True\nfinished\n"


def test_message_rate_limit_with_hardlimit_0_means_no_limit(runProgram, assertRanCleanly, lines):
    """1.x's class default is hardlimit = 0 and it tests it for truth: passing 0 changes nothing."""
    result = runProgram("simple_reading", lines, 100, 10, 0, timeout=5)
    assertRanCleanly(result)
    assert result.stdout == LINES + "paced: True\nfinished\n"


def test_message_rate_limit_hardlimit_below_the_buffer_applies_only_once_the_buffer_has_filled(
        runProgram, assertRanCleanly, lines):
    """hardlimit=5 with buffer=10: the limit starts after buffering, so SimpleReader (which
    retries on noSpaceInBox) is held back, not deadlocked."""
    result = runProgram("simple_reading", lines, 100, 10, 5, timeout=5)
    assertRanCleanly(result)
    assert result.stdout == LINES + "paced: True\nfinished\n"


def test_rate_controlled_file_reader_sends_the_file_in_chunks_of_chunksize(
        runProgram, assertRanCleanly, tmp_path):
    text = "".join("first file, line %02d\n" % n for n in range(12))
    (tmp_path / "first.txt").write_text(text)
    result = runProgram("rate_controlled_reading", "single", "first.txt")
    assertRanCleanly(result)
    assert result.stdout == ("chunk sizes: [100, 100, 40]\n" + text
                             + "signals: ['producerFinished']\nfinished\n")


@pytest.mark.parametrize("names", ["carousel", "chooser"])
def test_reusable_file_reader_reads_each_file_named_on_request_then_finishes(
        runProgram, assertRanCleanly, tmp_path, names):
    """carousel: a NameServer answers requestNext; chooser: a ForwardIteratingChooser joined to
    the ReusableFileReader with JoinChooserToCarousel."""
    first = "".join("first file, line %02d\n" % n for n in range(12))
    second = "".join("second file, line %02d\n" % n for n in range(5))
    (tmp_path / "first.txt").write_text(first)
    (tmp_path / "second.txt").write_text(second)
    result = runProgram("rate_controlled_reading", names, "first.txt", "second.txt")
    assertRanCleanly(result)
    assert result.stdout == ("chunk sizes: [50, 50, 50, 50, 40, 50, 50, 5]\n" + first + second
                             + "signals: ['producerFinished']\nfinished\n")
