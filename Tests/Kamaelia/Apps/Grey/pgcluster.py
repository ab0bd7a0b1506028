"""A private PostgreSQL server for the tests: a cluster in a temporary directory.

Example::

    cluster = PgCluster()              # finds /usr/lib/postgresql/*/bin, runs initdb
    cluster.start()                    # on a free loopback port, private socket dir
    url = cluster.createDatabase()     # "postgresql://postgres@127.0.0.1:PORT/test_1"
    url = cluster.freshDatabase()      # one database, emptied for each test
    cluster.stop(); cluster.start()    # an outage, for the reconnect tests
    cluster.destroy()                  # stopped and removed

How does it work? ``initdb`` and ``pg_ctl`` refuse to run as root, so as
root they run as the ``postgres`` user of Debian's package (``runuser -u
postgres --``) in a directory that user owns. The server listens on
127.0.0.1 only, with trust authentication, and its Unix socket in the
cluster's own directory (``-k``), so it never meets the system's server.
Durability is switched off (``fsync=off``): these are throw-away databases.

``findBinaries()`` returns the bin directory or ``None``; ``PgUnavailable``
is raised when the cluster cannot be made.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import psycopg
import psycopg.sql


class PgUnavailable(RuntimeError):
    """PostgreSQL's server binaries are missing or the cluster would not start."""


def findBinaries():
    """The newest ``/usr/lib/postgresql/N/bin`` with initdb and pg_ctl, or None."""
    found = []
    for directory in glob.glob("/usr/lib/postgresql/*/bin"):
        version = os.path.basename(os.path.dirname(directory))
        if (version.isdigit() and os.access(os.path.join(directory, "initdb"), os.X_OK)
                and os.access(os.path.join(directory, "pg_ctl"), os.X_OK)):
            found.append((int(version), directory))
    return max(found)[1] if found else None


def freePort():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgCluster:
    """One private PostgreSQL cluster (see the module docstring)."""

    def __init__(self, bindir=None, commandTimeout=60):
        self.bindir = bindir or findBinaries()
        if self.bindir is None:
            raise PgUnavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
                                "(Debian package 'postgresql')")
        self.commandTimeout = commandTimeout
        self.asUser = []
        self.root = tempfile.mkdtemp(prefix="kamaelia-pg-")
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root)
                raise PgUnavailable("running as root and there is no 'postgres' user") from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.asUser = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = None
        self.databases = 0
        self.running = False
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self._writeHba()

    def _writeHba(self):
        """Trust for ``postgres``; every other role needs its password (SCRAM)."""
        path = os.path.join(self.data, "pg_hba.conf")
        stat = os.stat(path)
        with open(path, "w", encoding="ascii") as handle:
            handle.write("local all postgres trust\n"
                         "host all postgres 127.0.0.1/32 trust\n"
                         "local all all scram-sha-256\n"
                         "host all all 127.0.0.1/32 scram-sha-256\n")
        os.chown(path, stat.st_uid, stat.st_gid)

    def _run(self, program, *args):
        command = self.asUser + [os.path.join(self.bindir, program), *args]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True,
                              timeout=self.commandTimeout)
        if done.returncode != 0:
            raise PgUnavailable("%s failed (%d): %s%s" % (program, done.returncode,
                                                          done.stdout, done.stderr))

    def start(self):
        """Start the server (on the same port as before, once it has one)."""
        attempts = 1 if self.port is not None else 3
        for attempt in range(attempts):
            port = self.port or freePort()
            options = ("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=100" % (port, self.root))
            try:
                self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log,
                          "-w", "-t", str(self.commandTimeout), "start")
            except PgUnavailable:
                if attempt == attempts - 1:
                    raise PgUnavailable("the server did not start; its log:\n"
                                        + self.serverLog()) from None
                continue
            self.port = port
            self.running = True
            return

    def stop(self):
        if self.running:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
            self.running = False

    def restart(self):
        self.stop()
        self.start()

    def serverLog(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""

    def url(self, database="postgres"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, database)

    def connect(self, database="postgres"):
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=10)

    def createDatabase(self, owner="postgres"):
        """A new empty database owned by ``owner``; returns its URL (as ``postgres``)."""
        self.databases += 1
        name = "test_%d" % self.databases
        with self.connect() as admin:
            admin.execute("CREATE DATABASE %s OWNER %s" % (name, owner))
        return self.url(name)

    def createRole(self, name, password):
        """A login role that must give ``password`` (pg_hba: SCRAM)."""
        with self.connect() as admin:
            admin.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Literal(password)))

    def freshDatabase(self, name="greylist_tests"):
        """The URL of database ``name``, emptied (created the first time).

        Much cheaper than a new database per test: only the tables go.
        """
        with self.connect() as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname=%s",
                                   (name,)).fetchone()
            if not exists:
                admin.execute("CREATE DATABASE %s" % name)
        if exists:
            with self.connect(name) as db:
                db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname=%s AND pid <> pg_backend_pid()", (name,))
                db.execute("DROP SCHEMA public CASCADE")
                db.execute("CREATE SCHEMA public")
        return self.url(name)

    def destroy(self):
        """Stop the server and remove the cluster (safe to call more than once)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
