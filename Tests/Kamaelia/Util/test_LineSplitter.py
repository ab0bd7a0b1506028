"""Kamaelia.Util.LineSplitter: bytes chunks to lines, over-long lines, end of input, shutdown."""

import pytest

from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Support.LineBuffer import LineTooLong
from Kamaelia.Util.LineSplitter import LineSplitter

SMTP = b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
LINES = [b"EHLO client.example", b"MAIL FROM:<a@b.example>", b"RCPT TO:<c@d.example>", b"DATA"]


@pytest.mark.parametrize("chunking", ["whole", "lines", "bytes"])
def test_same_lines_however_the_bytes_are_chunked(chunking):
    if chunking == "whole":
        chunks = [SMTP]
    elif chunking == "lines":
        chunks = [line + b"\r\n" for line in LINES]
    else:
        chunks = [SMTP[i:i + 1] for i in range(len(SMTP))]
    h = ComponentHarness(LineSplitter())
    for chunk in chunks:
        h.put(chunk)
        h.runUntilIdle()
    assert h.getAll("outbox") == LINES


def test_only_the_configured_terminator_ends_a_line():
    h = ComponentHarness(LineSplitter())
    h.put(b"bare\nLF and bare\rCR\r\n")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"bare\nLF and bare\rCR"]
    h2 = ComponentHarness(LineSplitter(terminator=b"\n"))
    h2.put(b"one\r\ntwo\n")
    h2.runUntilIdle()
    assert h2.getAll("outbox") == [b"one\r", b"two"]


def test_an_overlong_line_is_reported_on_error_and_splitting_recovers():
    splitter = LineSplitter(maxLength=10)
    h = ComponentHarness(splitter)
    h.put(b"short\r\n" + b"x" * 30)
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"short"]
    assert splitter.buffer.buffered < 10            # not buffered without bound
    h.put(b"x" * 30 + b"\r\nnext\r\n")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"next"]
    report = h.get("error")
    assert isinstance(report, LineTooLong)
    assert report.length == 62 and report.prefix == b"x" * 8


def test_no_limit_with_maxLength_None():
    h = ComponentHarness(LineSplitter(maxLength=None))
    h.put(b"y" * 200000 + b"\r\n")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"y" * 200000]


def test_str_chunks_are_refused():
    h = ComponentHarness(LineSplitter())
    h.put("text\r\n")
    with pytest.raises(TypeError):
        h.runUntilIdle()


def test_producerFinished_flushes_the_last_unterminated_line_then_is_forwarded():
    h = ComponentHarness(LineSplitter())
    h.put(b"complete\r\nincomplete")
    finished = producerFinished()
    h.put(finished, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"complete", b"incomplete"]
    assert h.getAll("signal") == [finished]
    assert h.finished


def test_producerFinished_reports_an_overlong_last_line():
    h = ComponentHarness(LineSplitter(maxLength=5))
    h.put(b"much too long")
    h.put(producerFinished(), "control")
    h.runUntilIdle()
    assert h.ready("outbox") == 0
    assert isinstance(h.get("error"), LineTooLong)


def test_shutdownMicroprocess_drops_the_incomplete_line():
    h = ComponentHarness(LineSplitter())
    h.put(b"done\r\npartial")
    stop = shutdownMicroprocess()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == [b"done"]
    assert h.getAll("signal") == [stop]
    assert h.finished


def test_other_control_messages_are_ignored_and_it_sleeps_when_idle():
    h = ComponentHarness(LineSplitter())
    h.put("hello", "control")
    h.runUntilIdle()
    assert not h.finished and h.scheduler.isIdle()
    assert h.ready("signal") == 0
