"""
Kamaelia.Apps.Grey.LogWriter: the greylister's log files, written by one thread
==============================================================================

The greylister writes two files a line at a time for every conversation: the
result log (``greylist_log``, one line per session) and the debug log
(``greylist_debuglog``, a line per reply sent, each stamped with the time).
Through standard ``logging`` each line costs a ``LogRecord``, a handler
call and a formatter; at twenty lines per message that was a tenth of the
proxy's CPU. This module keeps those two loggers' names and behaviour and
makes their lines cheap:

* ``Writer`` is the thread that writes every log file (and standard error),
  fed by a single queue, so nothing is written in the scheduler's thread;
* ``LineLog`` writes a line to one of the two loggers: a plain tuple on that
  queue when only the application's own handler is attached to the logger,
  an ordinary ``logging`` call otherwise.

Example Usage
-------------
::

    import logging, queue
    from Kamaelia.Apps.Grey.LogWriter import Enqueue, LineLog, LogFile, Writer

    records = queue.SimpleQueue()
    debugFile = LogFile("greylist-debug.log", stamped=True)
    debugFile.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    writer = Writer(records, debugFile)
    writer.start()
    handler = Enqueue(records)
    logging.getLogger("Kamaelia.Apps.Grey.debug").addHandler(handler)
    lines = LineLog("Kamaelia.Apps.Grey.debug", logging.DEBUG)
    lines.attach(handler, records, debugFile)
    lines.log("%s %s %s", "3FA2000017", "192.0.2.1", "250 OK")
    writer.stop()             # everything queued is written and flushed

``Kamaelia.Apps.Grey.Application.configureLogging`` sets this up for the
greylister; ``MailHandler.noteToLog`` and ``noteToDebugLog`` use
``resultLines`` and ``debugLines``.

How does it work?
-----------------
``LineLog.log(msg, *args)`` takes the fast path only while the logger looks
exactly as the application left it: its one handler is the ``Enqueue``
given to ``attach``, it has no filters, does not propagate, is not disabled
and is enabled for the line's level. Then the line is formatted
(``msg % args``) and ``(file, time.time_ns(), text)`` is put on the queue: no
record, no handler, no lock. If a program has attached a handler or filter
of its own to the logger (as a Kamaelia 1.x program may), changed its
level, or nothing was attached (tests, a handler used outside the
application), the line is logged through ``logging`` as before, and still
reaches the file through the ``Enqueue`` handler.

The writer thread takes whatever has been queued, lines and records in the
order they were queued. Lines are grouped by file and written with one
``write`` per file per batch; a debug-log line gets the timestamp
``logging.Formatter`` would have given it (``2026-12-02 09:53:08,209``,
local time, computed once per second); a record is passed to every handler
whose level it reaches, as ``logging.handlers.QueueListener`` does. Files
are flushed when the queue is empty. After a batch the thread waits
``batchWindow`` (5 ms) before looking again, so under load it wakes up a
couple of hundred times a second, not once per line.

Termination
-----------
``Writer.stop()`` queues a sentinel and waits for the thread: every line and
record queued before it is written and every file flushed. ``Writer.sync()``
waits for the same without stopping. ``LogFile.reopen``
(SIGUSR1, for logrotate) swaps the file under the handler's lock, so a batch
goes wholly to the old file or wholly to the new one.
"""

import logging
import logging.handlers
import queue
import threading
import time

_log = logging.getLogger(__name__)

RESULT_LOGGER = "Kamaelia.Apps.Grey.result"
DEBUG_LOGGER = "Kamaelia.Apps.Grey.debug"


class Enqueue(logging.handlers.QueueHandler):
    """Hands records to the writer thread without copying them.

    The message is formatted (and a traceback rendered) here, in the thread
    that logged, so the record no longer refers to objects that may change;
    the standard QueueHandler also copies every record.
    """

    def prepare(self, record):
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


class LogFile(logging.FileHandler):
    """A log file written by the writer thread and flushed once it has caught up.

    ``stamped``: lines queued by a ``LineLog`` get the time in front (the
    debug log's ``"%(asctime)s %(message)s"``); records are formatted by the
    handler's formatter as usual.
    """

    dirty = False

    def __init__(self, filename, stamped=False, **argd):
        argd.setdefault("encoding", "utf-8")
        argd.setdefault("errors", "backslashreplace")
        super().__init__(filename, **argd)
        self.stamped = stamped
        self._second = None
        self._secondText = ""

    def reopen(self):
        """Close and open the file again (after logrotate has moved it away)."""
        with self.lock:
            if self.stream is not None:
                self.stream.flush()
                self.stream.close()
            self.stream = self._open()
            self.dirty = False

    def emit(self, record):
        try:
            self.stream.write(self.format(record) + self.terminator)
            self.dirty = True
        except Exception:
            self.handleError(record)

    def stamp(self, created):
        """``created`` (time.time_ns()) as logging.Formatter's default asctime, and a space.

        Milliseconds are truncated from the nanoseconds, as Python 3.13's
        LogRecord does (3.11's float arithmetic may round up by one).
        """
        second, nanoseconds = divmod(created, 1000000000)
        if second != self._second:
            self._second = second
            self._secondText = time.strftime(logging.Formatter.default_time_format,
                                             time.localtime(second))
        return "%s,%03d " % (self._secondText, nanoseconds // 1000000)

    def writeLines(self, lines):
        """Write queued ``(created, text)`` lines in one go."""
        if self.stamped:
            stamp = self.stamp
            text = "".join([stamp(created) + line + "\n" for created, line in lines])
        else:
            text = "".join([line + "\n" for created, line in lines])
        with self.lock:
            try:
                self.stream.write(text)
                self.dirty = True
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": text, "name": self.baseFilename}))

    def flush(self):
        self.dirty = False
        super().flush()


class LineLog(object):
    """Lines for one logger, queued straight to its file when nothing else listens.

    ``log(msg, *args)`` is ``logger.log(level, msg, *args)`` with the same
    result in the file; see the module docs for when it takes the short cut.
    """

    __slots__ = ("logger", "level", "_handlers", "_put", "_file")

    def __init__(self, name, level):
        self.logger = logging.getLogger(name)
        self.level = level
        self._handlers = None
        self._put = None
        self._file = None

    def attach(self, handler, records, logFile):
        """Queue lines on ``records`` for ``logFile`` while ``handler`` is the logger's only one."""
        self._handlers = [handler]
        self._put = records.put
        self._file = logFile

    def detach(self):
        """Log through ``logging`` only."""
        self._handlers = self._put = self._file = None

    def attachedTo(self, records):
        return self._put is not None and self._put == records.put

    def log(self, msg, *args):
        logger = self.logger
        if (logger.handlers == self._handlers and not logger.filters and not logger.propagate
                and not logger.disabled and logger.isEnabledFor(self.level)):
            self._put((self._file, time.time_ns(), msg % args if args else msg))
        elif logger.isEnabledFor(self.level):
            logger.log(self.level, msg, *args, stacklevel=2)


resultLines = LineLog(RESULT_LOGGER, logging.INFO)
debugLines = LineLog(DEBUG_LOGGER, logging.DEBUG)


class Writer(object):
    """The thread that writes the log files; see the module docs.

    ``queue``: where lines and records arrive; ``handlers``: where records go
    (each one only if the record reaches its level).
    """

    batchWindow = 0.005
    maxBatch = 10000
    _sentinel = None

    def __init__(self, records, *handlers):
        self.queue = records
        self.handlers = handlers
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="log writer", daemon=True)
        self._thread.start()

    def stop(self):
        """Write everything queued so far, flush, and end the thread."""
        for lines in (resultLines, debugLines):
            if lines.attachedTo(self.queue):
                lines.detach()
        if self._thread is not None:
            self.queue.put(self._sentinel)
            self._thread.join()
            self._thread = None

    def sync(self, timeout=None):
        """Wait until everything queued before this call is written and flushed.

        True if it was within ``timeout`` seconds (a thread must be running).
        """
        done = threading.Event()
        self.queue.put(done)
        return done.wait(timeout)

    def _run(self):
        get, getNow = self.queue.get, self.queue.get_nowait
        while True:
            batch = [get()]
            try:
                while len(batch) < self.maxBatch:
                    batch.append(getNow())
            except queue.Empty:
                pass
            stopping = not self.write(batch)
            if stopping or self.queue.empty():
                self.flush()
            if stopping:
                return
            time.sleep(self.batchWindow)

    def write(self, batch):
        """Write a batch in order: lines grouped per file, records to the handlers.

        Returns False if the batch holds the sentinel (``stop()`` was called).
        """
        running = True
        pending = {}
        for item in batch:
            if item.__class__ is tuple:
                logFile, created, line = item
                lines = pending.get(logFile)
                if lines is None:
                    pending[logFile] = [(created, line)]
                else:
                    lines.append((created, line))
            elif item is self._sentinel:
                running = False
            elif item.__class__ is threading.Event:
                if pending:
                    self._writeLines(pending)
                    pending = {}
                self.flush()
                item.set()
            else:
                if pending:
                    self._writeLines(pending)
                    pending = {}
                self.handle(item)
        if pending:
            self._writeLines(pending)
        return running

    def _writeLines(self, pending):
        for logFile, lines in pending.items():
            logFile.writeLines(lines)

    def handle(self, record):
        for handler in self.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)

    def flush(self):
        for handler in self.handlers:
            if getattr(handler, "dirty", False):
                try:
                    handler.flush()
                except Exception:
                    _log.debug("cannot flush %r", handler, exc_info=True)
