"""The greylister's log files: every line reaches its file, in order, in the 1.x format.

``Application.configureLogging`` sets up the writer thread and the short cut
``LogWriter.LineLog`` takes for the result and debug lines; these tests pin
down what the files contain -- the order of lines and records, the debug
log's timestamps, nothing lost at stop or reopen -- and that a handler a
program attaches to those loggers still gets every record.
"""

import logging
import re
import types

import pytest

from Kamaelia.Apps.Grey import Application, Config, LogWriter
from Kamaelia.Apps.Grey.MailHandler import MailHandler

DEADLINE = 30
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
LOGGERS = ("", LogWriter.RESULT_LOGGER, LogWriter.DEBUG_LOGGER)


@pytest.fixture
def logs(tmp_path):
    """Start the application's logging on files in tmp_path; undo it all afterwards."""
    saved = [(logger, list(logger.handlers), logger.level, logger.propagate)
             for logger in (logging.getLogger(name) for name in LOGGERS)]
    writers = []

    def start(**settings):
        config = Config.defaultConfig()
        config.update(greylist_log=str(tmp_path / "greylist.log"),
                      greylist_debuglog=str(tmp_path / "greylist-debug.log"), log_level="WARNING")
        config.update(settings)
        writer = Application.configureLogging(config)
        writers.append(writer)
        return writer

    yield start
    for writer in writers:
        writer.stop()
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
    LogWriter.resultLines.detach()
    LogWriter.debugLines.detach()


def session(sessionId="3FA2000017", peer="192.0.2.1"):
    return types.SimpleNamespace(sessionId=sessionId, peer=peer)


def note(handler, line):
    MailHandler.noteToDebugLog(handler, line)


def result(handler, line):
    MailHandler.noteToLog(handler, line)


def lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_debug_and_result_lines_reach_their_files_in_order(logs, tmp_path):
    writer = logs()
    s = session()
    for n in range(500):
        note(s, "250 2.0.0 Ok %d" % n)
    result(s, "2026-12-02 09:00:00 | mx.example.net | 192.0.2.1 | <a@example.net> | ACCEPTED")
    writer.stop()
    debug = lines(tmp_path / "greylist-debug.log")
    assert len(debug) == 500
    for n, line in enumerate(debug):
        assert re.fullmatch(STAMP + r"3FA2000017 192\.0\.2\.1 250 2\.0\.0 Ok %d" % n, line), line
    assert lines(tmp_path / "greylist.log") == [
        "2026-12-02 09:00:00 | mx.example.net | 192.0.2.1 | <a@example.net> | ACCEPTED"]


def test_lines_and_records_of_one_file_keep_their_order(logs, tmp_path):
    """A debug line logged through logging itself (the THREADS line) lands between the others."""
    writer = logs()
    s = session()
    note(s, "first")
    Application._logThreads(["a", "b"])
    logging.getLogger(LogWriter.DEBUG_LOGGER).debug("%s %s %s", "ID", "-", "third %s")
    note(s, "fourth")
    writer.stop()
    debug = [line[len("2026-12-02 09:53:08,209 "):] for line in lines(tmp_path / "greylist-debug.log")]
    assert debug == ["3FA2000017 192.0.2.1 first", "- - *debug* THREADS['a', 'b']",
                     "ID - third %s", "3FA2000017 192.0.2.1 fourth"]


def test_a_line_is_written_as_given_percent_signs_and_all(logs, tmp_path):
    writer = logs()
    result(session(), "100% | <%s@example.net> | \u00e9t\u00e9")
    writer.stop()
    assert lines(tmp_path / "greylist.log") == ["100% | <%s@example.net> | \u00e9t\u00e9"]


def test_a_session_without_a_peer_is_logged_with_a_dash(logs, tmp_path):
    writer = logs()
    note(types.SimpleNamespace(sessionId="X1"), "220 ready")
    writer.stop()
    [line] = lines(tmp_path / "greylist-debug.log")
    assert re.fullmatch(STAMP + "X1 - 220 ready", line)


def test_the_timestamp_is_the_one_logging_would_write(tmp_path):
    """Local time as logging.Formatter writes it, milliseconds truncated from the nanoseconds."""
    stamped = LogWriter.LogFile(str(tmp_path / "stamped.log"), stamped=True)
    formatter = logging.Formatter("%(asctime)s")
    try:
        for n in range(2000):
            created = 1764668588 * 10**9 + n * 3_600_017_123_457 % (10**12 * 40) + 209_876_543
            record = logging.makeLogRecord({"created": created // 10**9,
                                            "msecs": created % 10**9 // 10**6})
            assert stamped.stamp(created) == formatter.format(record) + " "
    finally:
        stamped.close()


def test_sync_waits_until_the_lines_are_in_the_file(logs, tmp_path):
    writer = logs()
    note(session(), "250 Ok")
    assert writer.sync(DEADLINE)
    assert len(lines(tmp_path / "greylist-debug.log")) == 1


def test_reopen_sends_later_lines_to_the_new_file_and_loses_none(logs, tmp_path):
    writer = logs()
    s = session()
    for n in range(100):
        note(s, "before %d" % n)
    assert writer.sync(DEADLINE)
    path = tmp_path / "greylist-debug.log"
    path.rename(tmp_path / "greylist-debug.log.1")
    app = types.SimpleNamespace(logListener=writer)
    Application.GreylistApplication.reopenLogs(app)
    for n in range(100):
        note(s, "after %d" % n)
    writer.stop()
    old = lines(tmp_path / "greylist-debug.log.1")
    assert [line.split()[-1] for line in old] == [str(n) for n in range(100)]
    assert all(" before " in line for line in old)
    new = lines(path)
    assert [line.split()[-1] for line in new] == [str(n) for n in range(100)]
    assert all(" after " in line for line in new)


def test_a_handler_a_program_attaches_gets_every_record_and_the_file_every_line(logs, tmp_path):
    writer = logs()
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    debugLogger = logging.getLogger(LogWriter.DEBUG_LOGGER)
    debugLogger.addHandler(handler)
    try:
        s = session()
        note(s, "250 Ok")
        result(s, "a result line")
    finally:
        debugLogger.removeHandler(handler)
    note(s, "after the handler went")
    writer.stop()
    [record] = seen
    assert record.getMessage() == "3FA2000017 192.0.2.1 250 Ok"
    assert record.levelno == logging.DEBUG
    assert record.funcName == "noteToDebugLog"
    debug = lines(tmp_path / "greylist-debug.log")
    assert [line.split(" ", 2)[2] for line in debug] == ["3FA2000017 192.0.2.1 250 Ok",
                                                         "3FA2000017 192.0.2.1 after the handler went"]
    assert lines(tmp_path / "greylist.log") == ["a result line"]


def test_a_filter_on_the_logger_is_applied(logs, tmp_path):
    writer = logs()
    debugLogger = logging.getLogger(LogWriter.DEBUG_LOGGER)
    dropped = lambda record: "secret" not in record.getMessage()       # noqa: E731
    debugLogger.addFilter(dropped)
    try:
        note(session(), "250 Ok")
        note(session(), "AUTH secret")
    finally:
        debugLogger.removeFilter(dropped)
    writer.stop()
    assert [line.split(" ", 2)[2] for line in lines(tmp_path / "greylist-debug.log")] == [
        "3FA2000017 192.0.2.1 250 Ok"]


def test_a_raised_level_silences_the_debug_log(logs, tmp_path):
    writer = logs()
    logging.getLogger(LogWriter.DEBUG_LOGGER).setLevel(logging.INFO)
    note(session(), "250 Ok")
    writer.stop()
    assert lines(tmp_path / "greylist-debug.log") == []


def test_without_a_debug_log_no_line_is_written_anywhere(logs, tmp_path, capsys):
    writer = logs(greylist_debuglog="", log_level="DEBUG")
    note(session(), "250 Ok")
    writer.stop()
    assert not (tmp_path / "greylist-debug.log").exists()
    assert "250 Ok" not in capsys.readouterr().err


def test_configuring_again_replaces_the_earlier_set_up(logs, tmp_path):
    first = logs()
    first.stop()
    second = logs(greylist_debuglog=str(tmp_path / "second.log"))
    note(session(), "250 Ok")
    second.stop()
    assert lines(tmp_path / "greylist-debug.log") == []
    [line] = lines(tmp_path / "second.log")
    assert line.endswith(" 250 Ok")
    assert len(logging.getLogger(LogWriter.DEBUG_LOGGER).handlers) == 1


def test_lines_after_stop_go_through_logging(logs, caplog):
    """Once the writer has stopped, the lines are records again (whoever listens gets them)."""
    writer = logs()
    writer.stop()
    assert not LogWriter.debugLines.attachedTo(writer.queue)
    debugLogger = logging.getLogger(LogWriter.DEBUG_LOGGER)
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    debugLogger.addHandler(handler)
    try:
        note(session(), "250 Ok")
    finally:
        debugLogger.removeHandler(handler)
    assert [record.getMessage() for record in seen] == ["3FA2000017 192.0.2.1 250 Ok"]


def test_records_still_reach_standard_error(logs, capsys):
    writer = logs(log_level="INFO")
    logging.getLogger("Kamaelia.Apps.Grey").warning("a warning for %s", "the operator")
    note(session(), "250 Ok")
    writer.stop()
    err = capsys.readouterr().err
    assert "WARNING Kamaelia.Apps.Grey: a warning for the operator" in err
    assert "250 Ok" not in err
