"""
Kamaelia.Apps.Grey.Application: run Kamaelia Grey, the greylisting SMTP proxy
=============================================================================

``main()`` is the program behind the ``kamaelia-grey`` command and
``Examples/Greylister/greylisting.py``.

Example Usage
-------------
::

    kamaelia-grey --listen 127.0.0.1 --port 2525          # embedded Maildir backend
    kamaelia-grey --config /etc/greylist.conf             # as configured
    kamaelia-grey --config /etc/greylist.conf --check-config

How does it work?
-----------------
1. The configuration is read from ``--config``, else from the first file
   found on Kamaelia Grey's search path (``/usr/local/etc/Kamaelia/greylist.conf``
   ... ``./greylist.conf.dist``), else the defaults are used. A mistake is
   reported as ``file:line: key: problem`` and the program exits with
   status 2 (``--check-config`` stops after this check, with status 0 if
   the file is good). Command-line options override the file.
2. Logging: messages go to standard error at ``log_level``; the result log
   (``greylist_log``) and the debug log (``greylist_debuglog``, if set) are
   files. All file writing happens in a logging thread, never in the
   scheduler's.
3. With no ``smtp_ip`` configured, an embedded ``MaildirServer`` is started
   on a loopback port and accepted mail is delivered into ``maildir``.
4. The greylist (SQLite, ``greylist_db``) is opened in a ``GreylistService``;
   if it is empty and Kamaelia Grey 1.x's ``greylisted.dbm``/``attempters.dbm``
   are found in ``import_dbm_dir``, they are imported.
5. The policy class is made from the configuration, as 1.x did
   (``type("Protocol", (GreyListingPolicy,), {...})``), and served by a
   ``GreylistServer`` on ``listen_address``:``port``.
6. Every 5 minutes the running components are listed in the debug log;
   every hour (``EXPIRY_INTERVAL``) stale greylist entries are expired.
7. SIGTERM or SIGINT drains: new connections and sessions with no
   transaction open get 421; a transaction begun (MAIL accepted) may finish
   and then gets the 421 (up to 60 s), then the program exits. A
   second signal stops at once. SIGHUP re-reads the configuration file and
   applies the lists (allowed senders, networks, domains and whitelists) to
   new sessions.
"""

import argparse
import logging
import logging.handlers
import os
import queue
import signal
import sqlite3
import ssl
import sys

from Axon.Ipc import producerFinished
from Axon.Scheduler import scheduler
from Kamaelia.Apps.Grey import Config
from Kamaelia.Apps.Grey.GreyListingPolicy import GreyListingPolicy
from Kamaelia.Apps.Grey.GreylistServer import GreylistServer
from Kamaelia.Apps.Grey.GreylistService import GreylistService
from Kamaelia.Apps.Grey.GreylistStore import GreylistStore
from Kamaelia.Apps.Grey.MaildirServer import MaildirServer
from Kamaelia.Apps.Grey.PeriodicWakeup import PeriodicWakeup
from Kamaelia.Apps.Grey.WakeableIntrospector import LoggingWakeableIntrospector
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.IPC import serverShutdown

_log = logging.getLogger("Kamaelia.Apps.Grey")

POLICY_KEYS = ("servername", "serverid", "smtp_ip", "smtp_port", "inactivity_timeout",
               "allowed_senders", "allowed_sender_nets", "allowed_domains",
               "whitelisted_triples", "whitelisted_nonstandard_triples", "max_message_size",
               "max_recipients", "xclient", "backend_timeout", "connect_timeout",
               "greylist_db", "greylist_key")
RELOADABLE_KEYS = ("allowed_senders", "allowed_sender_nets", "allowed_domains",
                   "whitelisted_triples", "whitelisted_nonstandard_triples")
DRAIN_GRACE = 60
EXPIRY_INTERVAL = 3600


def parseArguments(argv):
    parser = argparse.ArgumentParser(
        prog="kamaelia-grey", description="Kamaelia Grey: a greylisting SMTP proxy.")
    parser.add_argument("--config", metavar="PATH",
                        help="configuration file (default: search the usual places)")
    parser.add_argument("--check-config", action="store_true",
                        help="check the configuration and exit (status 0 if good, 2 if not)")
    parser.add_argument("--listen", metavar="ADDRESS", help="address to listen on (listen_address)")
    parser.add_argument("--port", type=int, help="port to listen on (port)")
    parser.add_argument("--smtp", metavar="HOST:PORT",
                        help="the real SMTP server to relay to (smtp_ip, smtp_port)")
    parser.add_argument("--maildir", metavar="DIR", help="Maildir for the embedded backend (maildir)")
    parser.add_argument("--log-level", metavar="LEVEL", help="DEBUG, INFO, WARNING or ERROR")
    return parser.parse_args(argv)


def loadConfiguration(args):
    """(config dict, path or None); raises Config.ConfigError or OSError."""
    path = args.config or Config.findConfig()
    config = Config.loadConfig(path) if path else Config.defaultConfig()
    if args.listen is not None:
        config["listen_address"] = args.listen
    if args.port is not None:
        config["port"] = args.port
    if args.smtp:
        host, _, port = args.smtp.rpartition(":")
        if not host or not port.isdigit():
            raise Config.ConfigError("--smtp", 0, "smtp", "expected HOST:PORT, got %r" % args.smtp)
        config["smtp_ip"], config["smtp_port"] = host.strip("[]"), int(port)
    if args.maildir:
        config["maildir"] = args.maildir
    if args.log_level:
        config["log_level"] = args.log_level.upper()
    return config, path


class _Enqueue(logging.handlers.QueueHandler):
    """Hands records to the writer thread without copying them.

    The message is formatted (and a traceback rendered) here, in the thread
    that logged, so the record no longer refers to objects that may change;
    the standard QueueHandler also copies every record, which at a debug
    line per SMTP reply was a measurable share of the proxy's time.
    """

    def prepare(self, record):
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


class _LogFile(logging.FileHandler):
    """A log file that is flushed by the writer thread once it has caught up."""

    dirty = False

    def emit(self, record):
        try:
            self.stream.write(self.format(record) + self.terminator)
            self.dirty = True
        except Exception:
            self.handleError(record)

    def flush(self):
        self.dirty = False
        super().flush()


class _Writer(logging.handlers.QueueListener):
    """The writer thread: flushes the log files whenever the queue is empty.

    Flushing after every line (as FileHandler does) costs a write(2) per line
    under load; this keeps the files current to within the records still
    queued.
    """

    def handle(self, record):
        super().handle(record)
        if self.queue.empty():
            for handler in self.handlers:
                if getattr(handler, "dirty", False):
                    handler.flush()


def configureLogging(config):
    """Send all log output through a queue to a writer thread; returns the listener."""
    # No format used here shows threads or processes: don't look them up for
    # every record (the logging HOWTO's "Optimization" settings).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    level = getattr(logging, str(config["log_level"]).upper(), logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    console.setLevel(level)
    handlers = [console]
    records = queue.SimpleQueue()

    def fileFor(loggerName, filename, fileLevel):
        handler = _LogFile(filename, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(lambda record: record.name == loggerName)
        handler.setLevel(fileLevel)
        handlers.append(handler)
        target = logging.getLogger(loggerName)
        target.propagate = False
        target.setLevel(fileLevel)
        target.addHandler(_Enqueue(records))

    if config["greylist_log"]:
        fileFor("Kamaelia.Apps.Grey.result", config["greylist_log"], logging.INFO)
    if config["greylist_debuglog"]:
        fileFor("Kamaelia.Apps.Grey.debug", config["greylist_debuglog"], logging.DEBUG)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(_Enqueue(records))
    console.addFilter(lambda record: record.name not in ("Kamaelia.Apps.Grey.result",
                                                         "Kamaelia.Apps.Grey.debug"))
    listener = _Writer(records, *handlers, respect_handler_level=True)
    listener.start()
    return listener


def tlsContext(config):
    """A server SSLContext from tls_certificate/tls_key, or None."""
    if not config["tls_certificate"]:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(config["tls_certificate"], config["tls_key"] or None)
    except (OSError, ssl.SSLError) as e:
        raise Config.ConfigError(config["tls_certificate"], 0, "tls_certificate",
                                 "cannot load the certificate and key: %s" % e) from None
    return context


def makeProtocol(config, context=None):
    """The policy class for the server, made from the configuration (as 1.x did)."""
    attributes = {key: config[key] for key in POLICY_KEYS}
    attributes["smtp_port"] = int(config["smtp_port"])
    attributes["greylist_profile"] = Config.timingProfile(config)
    attributes["logfile"] = config["greylist_log"]
    attributes["debuglogfile"] = config["greylist_debuglog"]
    attributes["tlsContext"] = context
    return type("Protocol", (GreyListingPolicy,), attributes)


def openGreylist(config):
    """The GreylistStore, importing 1.x's dbm files into an empty store."""
    store = GreylistStore(config["greylist_db"], Config.timingProfile(config), config["greylist_key"])
    directory = config["import_dbm_dir"]
    if directory and store.stats().get("triplets", 0) == 0:
        found = [name for name in os.listdir(directory)
                 if name.startswith(("greylisted.dbm", "attempters.dbm"))] if os.path.isdir(directory) else []
        if found:
            imported = store.importDbm(directory)
            _log.info("imported %d triplets from Kamaelia Grey 1.x files in %s", imported, directory)
    return store


class GreylistApplication(object):
    """The running greylister: every component, started and stopped together."""

    def __init__(self, config, configPath=None):
        self.config = config
        self.configPath = configPath
        self.scheduler = scheduler.run
        self.protocol = None
        self.server = None
        self.backend = None
        self.service = None
        self.extras = []
        self._signals = 0

    def start(self):
        """Create and activate everything; returns the listening port."""
        config = self.config
        if not config["smtp_ip"]:
            self.backend = MaildirServer(maildir=config["maildir"], host="127.0.0.1", port=0,
                                         servername=config["servername"]).activate()
            config["smtp_ip"], config["smtp_port"] = "127.0.0.1", self.backend.port
            _log.info("no smtp_ip configured: delivering into Maildir %s (embedded backend on "
                      "127.0.0.1:%d)", os.path.abspath(config["maildir"]), self.backend.port)
        self.service = GreylistService(store=openGreylist(config))
        self.service.registerAsService(self.service.tracker)
        self.service.activate()
        self.protocol = makeProtocol(config, tlsContext(config))
        server = GreylistServer(protocol=self.protocol, port=config["port"],
                                host=config["listen_address"],
                                max_sessions=config["max_sessions"],
                                whenDrained=self.stopAll)
        if server.server is not None and server.server.listener is None:
            raise OSError("cannot listen on %s port %s: %s" % (
                config["listen_address"] or "*", config["port"], server.server.bindError))
        self.server = server.activate()
        introspection = Pipeline(PeriodicWakeup(interval=300),
                                 LoggingWakeableIntrospector(config["greylist_debuglog"] or os.devnull))
        expiry = PeriodicWakeup(interval=EXPIRY_INTERVAL)
        expiry.link((expiry, "outbox"), (self.service, "inbox"))
        self.extras = [introspection.activate(), expiry.activate()]
        _log.info("Kamaelia Grey listening on %s:%d, relaying to %s:%d",
                  config["listen_address"] or "*", self.server.port, config["smtp_ip"],
                  int(config["smtp_port"]))
        return self.server.port

    def stopAll(self):
        """Stop every component (in the scheduler's thread)."""
        for component in self.extras + [self.service]:
            if component is not None and not component._isStopped():
                component._deliver(producerFinished(), "control")
        if self.backend is not None and not self.backend._isStopped():
            self.backend._deliver(serverShutdown(), "control")     # a ServerCore
        self.scheduler.callLater(5, self.scheduler.stop)

    def drain(self):
        """Graceful shutdown (thread-safe)."""
        self.scheduler.callSoonThreadsafe(self.server.drain, DRAIN_GRACE)

    def reload(self):
        """Re-read the configuration file and apply the reloadable lists (thread-safe)."""
        self.scheduler.callSoonThreadsafe(self._reload)

    def _reload(self):
        if not self.configPath:
            _log.info("SIGHUP: no configuration file to re-read")
            return
        try:
            fresh = Config.loadConfig(self.configPath)
        except (Config.ConfigError, OSError) as e:
            _log.error("SIGHUP: keeping the current configuration: %s", e)
            return
        for key in RELOADABLE_KEYS:
            setattr(self.protocol, key, fresh[key])
        _log.info("SIGHUP: reloaded the lists from %s", self.configPath)

    def onSignal(self, signum, frame):
        self._signals += 1
        if signum == getattr(signal, "SIGHUP", None):
            self.reload()
        elif self._signals == 1:
            _log.info("signal %d: draining (a second signal stops at once)", signum)
            self.drain()
        else:
            _log.warning("signal %d: stopping now", signum)
            self.scheduler.stop()

    def installSignalHandlers(self):
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.onSignal)

    def run(self):
        self.scheduler.runThreads()


def main(argv=None):
    args = parseArguments(sys.argv[1:] if argv is None else argv)
    try:
        config, path = loadConfiguration(args)
        if args.check_config:
            tlsContext(config)
    except Config.ConfigError as e:
        sys.stderr.write("kamaelia-grey: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("kamaelia-grey: cannot read the configuration: %s\n" % e)
        return 2
    if args.check_config:
        sys.stdout.write("configuration OK: %s\n" % (path or "built-in defaults"))
        return 0
    try:
        listener = configureLogging(config)
    except OSError as e:
        sys.stderr.write("kamaelia-grey: cannot open a log file: %s\n" % e)
        return 2
    pidFile = config["pid_file"]
    try:
        app = GreylistApplication(config, path)
        try:
            app.start()
            if pidFile:
                with open(pidFile, "w") as f:
                    f.write("%d\n" % os.getpid())
        except (Config.ConfigError, OSError, sqlite3.Error) as e:
            _log.error("cannot start: %s", e)
            return 2
        app.installSignalHandlers()
        app.run()
        _log.info("Kamaelia Grey stopped")
        return 0
    finally:
        if pidFile and os.path.exists(pidFile):
            os.unlink(pidFile)
        listener.stop()
        for handler in listener.handlers:
            handler.flush()


if __name__ == "__main__":
    sys.exit(main())
