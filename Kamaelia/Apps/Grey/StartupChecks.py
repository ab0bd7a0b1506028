"""
Kamaelia.Apps.Grey.StartupChecks: what start-up would fail on, found first
=========================================================================

A config file can be perfectly formed and still name a log directory that
does not exist, a greylist database that is not one or a TLS key that does
not belong to the certificate. ``Kamaelia.Apps.Grey.Config`` only reads the
file; this module looks at the files the settings name, so that
``--check-config`` (and start-up, before it opens anything) can say which
setting and which file is wrong.

Example Usage
-------------
::

    from Kamaelia.Apps.Grey.Config import ConfigError, loadConfig
    from Kamaelia.Apps.Grey.StartupChecks import checkStartup, tlsContext

    config = loadConfig("greylist.conf")
    try:
        checkStartup(config)
        context = tlsContext(config)   # None: no STARTTLS
    except ConfigError as error:
        raise SystemExit(str(error))
        # e.g. "/var/log/grey/greylist.log: greylist_log: directory
        #       /var/log/grey does not exist"

How does it work?
-----------------
``tlsContext(config)`` builds the server ``ssl.SSLContext`` in steps, so
that a failure names the file that caused it: the certificate file is read
and loaded on its own first (``tls_certificate``: missing, unreadable or
holding no PEM certificate); then the key file is read (``tls_key``:
missing or unreadable) and loaded with the certificate. A key that does not
belong to the certificate, an encrypted key (the greylister cannot ask for
a passphrase, so OpenSSL is never left to prompt on the terminal) and a
file that holds no PEM private key are all errors naming the key file.

``checkStartup(config)`` checks, in this order:

- ``greylist_log``, ``greylist_debuglog`` and ``pid_file`` (those not
  empty): the directory exists, is a directory and is writable; an
  existing regular file can be opened for appending (nothing is written or
  truncated);
- ``greylist_db``: an existing file opens read-write and reads as an SQLite
  database, and its directory is writable (SQLite keeps its journal and WAL
  files beside it); a new file's directory is writable; a ``postgresql://``
  URL parses (the server is not contacted: it may start later, and the
  store defers until it does);
- ``maildir``, when ``smtp_ip`` is empty (the built-in backend delivers
  there): an existing maildir is a writable directory; otherwise the
  nearest existing ancestor, where the maildir will be made, is;
- the TLS files, through ``tlsContext``.

Nothing is created. Every error is a ``ConfigError`` whose ``filename`` is
the path as configured and whose ``line`` is ``None``, so it reads
``"<path>: <key>: <problem>"``.

Root may write to files whatever their permission bits, so ``os.access``
and opening for appending answer for the user the greylister runs as.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from Kamaelia.Apps.Grey.Config import ConfigError
from Kamaelia.Apps.Grey.Policy import PolicySettings
from Kamaelia.Apps.Grey.Stores import describeLocation, isPostgresLocation

__all__ = ["checkStartup", "tlsContext"]

_WRITABLE_DIRECTORY = os.W_OK | os.X_OK
_SQLITE_TIMEOUT = 5.0


class _PassphraseNeeded(Exception):
    """Raised from the password callback: the key file is encrypted."""


def _refusePassphrase() -> NoReturn:
    raise _PassphraseNeeded()


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _detail(error: ssl.SSLError) -> str:
    # OpenSSL's generic "PEM lib" says nothing the sentence does not.
    if error.reason and error.reason != "PEM_LIB":
        return f" ({error.reason})"
    return ""


def _readable(path: str, key: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise ConfigError(path, None, key, f"cannot read: {_reason(error)}") from None


def tlsContext(config: Mapping[str, Any]) -> ssl.SSLContext | None:
    """The STARTTLS server context of ``config``, or None when TLS is off.

    Raises ``ConfigError`` naming the certificate or the key file,
    whichever is wrong (see the module documentation).
    """
    certificate = config.get("tls_certificate") or ""
    if not certificate:
        return None
    key = config.get("tls_key") or certificate

    _readable(certificate, "tls_certificate")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=certificate)
    except ssl.SSLError as error:
        raise ConfigError(certificate, None, "tls_certificate",
                          "not a PEM certificate" + _detail(error)) from None
    except OSError as error:
        raise ConfigError(certificate, None, "tls_certificate",
                          f"cannot read: {_reason(error)}") from None

    _readable(key, "tls_key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certificate, key, password=_refusePassphrase)
    except _PassphraseNeeded:
        raise ConfigError(key, None, "tls_key",
                          "the private key is encrypted; the greylister cannot "
                          "ask for its passphrase: store it unencrypted, "
                          "readable only by the greylister's user") from None
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(key, None, "tls_key",
                              f"does not match the certificate {certificate}") from None
        raise ConfigError(key, None, "tls_key",
                          "not a PEM private key" + _detail(error)) from None
    except OSError as error:
        raise ConfigError(key, None, "tls_key", f"cannot read: {_reason(error)}") from None
    return context


def _directoryProblem(directory: str) -> str | None:
    if not os.path.exists(directory):
        return f"directory {directory} does not exist"
    if not os.path.isdir(directory):
        return f"{directory} is not a directory"
    if not os.access(directory, _WRITABLE_DIRECTORY):
        return f"directory {directory} is not writable"
    return None


def _checkWritableFile(path: str, key: str) -> None:
    """The file at ``path`` can be created or appended to."""
    absolute = os.path.abspath(path)
    problem = _directoryProblem(os.path.dirname(absolute))
    if problem is not None:
        raise ConfigError(path, None, key, problem)
    try:
        mode = os.stat(absolute).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise ConfigError(path, None, key, f"cannot use: {_reason(error)}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(path, None, key, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        # A device or a pipe (/dev/null, /dev/stdout): opening one may block.
        if not os.access(absolute, os.W_OK):
            raise ConfigError(path, None, key, "is not writable")
        return
    try:
        with open(absolute, "ab"):
            pass
    except OSError as error:
        raise ConfigError(path, None, key, f"cannot write: {_reason(error)}") from None


def _checkDatabase(path: str) -> None:
    key = "greylist_db"
    if path in ("", ":memory:"):
        return
    if isPostgresLocation(path):
        _checkPostgresLocation(path)
        return
    absolute = os.path.abspath(path)
    directory = os.path.dirname(absolute)
    problem = _directoryProblem(directory)
    if problem is not None:
        raise ConfigError(path, None, key, problem)
    if not os.path.exists(absolute):
        return
    if os.path.isdir(absolute):
        raise ConfigError(path, None, key, "is a directory, not an SQLite database")
    try:
        with open(absolute, "r+b"):
            pass
    except OSError as error:
        raise ConfigError(path, None, key, "cannot open for reading and writing: "
                          f"{_reason(error)}") from None
    uri = Path(absolute).as_uri() + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=_SQLITE_TIMEOUT)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise ConfigError(path, None, key,
                          f"cannot open as an SQLite database: {error}") from None


def _checkPostgresLocation(location: str) -> None:
    """A PostgreSQL URL must parse; the server is not asked (it may come up later)."""
    try:
        shown = describeLocation(location)
    except ValueError:
        shown = location.partition("://")[0] + "://..."
    try:
        from psycopg.conninfo import conninfo_to_dict
        conninfo_to_dict(location)
        if shown.endswith("://..."):
            raise ValueError("unreadable host or port")
    except ImportError:
        raise ConfigError(shown, None, "greylist_db",
                          "PostgreSQL needs psycopg 3 (pip install 'psycopg[binary]')") from None
    except Exception as error:
        # The message may quote the URL, password and all: name the kind of error only.
        raise ConfigError(shown, None, "greylist_db",
                          f"not a valid PostgreSQL URL ({type(error).__name__})") from None


def _checkMaildir(path: str) -> None:
    key = "maildir"
    absolute = os.path.abspath(path)
    if os.path.lexists(absolute) and not os.path.exists(absolute):
        raise ConfigError(path, None, key, "is a broken symbolic link")
    if os.path.exists(absolute):
        if not os.path.isdir(absolute):
            raise ConfigError(path, None, key, "is not a directory")
        if not os.access(absolute, _WRITABLE_DIRECTORY):
            raise ConfigError(path, None, key, "is not writable")
        return
    # The backend makes the maildir and any missing parents.
    ancestor = os.path.dirname(absolute)
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise ConfigError(path, None, key, f"{ancestor} is not a directory")
    if not os.access(ancestor, _WRITABLE_DIRECTORY):
        raise ConfigError(path, None, key, f"directory {ancestor} is not writable")


def checkStartup(config: Mapping[str, Any]) -> None:
    """Raise ``ConfigError`` for the first thing start-up would fail on.

    Looks at the log, pid and database files, the maildir of the built-in
    backend and the TLS files (see the module documentation). Creates and
    changes nothing.
    """
    for key in ("greylist_log", "greylist_debuglog", "pid_file"):
        if config.get(key):
            _checkWritableFile(config[key], key)
    _checkDatabase(config.get("greylist_db") or "")
    if not config.get("smtp_ip") and config.get("maildir"):
        _checkMaildir(config["maildir"])
    tlsContext(config)
    # The whitelist files (whitelist_clients, whitelist_recipients) are read as
    # start-up reads them: a bad line is reported with its file and line.
    PolicySettings.fromConfig(config)
