"""Tests for Kamaelia.Apps.Grey.StartupChecks: TLS files and start-up paths.

Real files in a temporary directory and real certificates and keys made
with ``cryptography``. The tests run as root on CI, and root writes through
permission bits, so unwritable places are made with a directory that does
not exist or a path under a regular file, never with chmod.
"""

import datetime
import os
import sqlite3
import ssl
import types

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from Kamaelia.Apps.Grey.Config import ConfigError, defaultConfig
from Kamaelia.Apps.Grey.StartupChecks import checkStartup, tlsContext


def _selfSigned(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def _keyBytes(key, keyFormat=serialization.PrivateFormat.PKCS8,
              encryption=None):
    return key.private_bytes(serialization.Encoding.PEM, keyFormat,
                             encryption or serialization.NoEncryption())


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """Paths of a certificate, its key, a foreign key, encrypted keys and junk."""
    directory = tmp_path_factory.mktemp("tls")
    key, otherKey = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = {
        "cert": _selfSigned(key).public_bytes(serialization.Encoding.PEM),
        "key": _keyBytes(key),
        "otherKey": _keyBytes(otherKey),
        "encryptedKey": _keyBytes(key, encryption=serialization.BestAvailableEncryption(b"pw")),
        "encryptedTraditionalKey": _keyBytes(
            key, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"pw")),
        "junk": b"this is not PEM\n\xff\xfe\n",
    }
    paths = {}
    for name, data in files.items():
        path = directory / (name + ".pem")
        path.write_bytes(data)
        paths[name] = str(path)
    paths["missing"] = str(directory / "missing.pem")
    paths["directory"] = str(directory)
    return types.SimpleNamespace(**paths)


def withTls(certificate, key):
    config = defaultConfig()
    config.update(tls_certificate=certificate, tls_key=key)
    return config


def tlsError(certificate, key):
    with pytest.raises(ConfigError) as info:
        tlsContext(withTls(certificate, key))
    err = info.value
    assert err.line is None, "a file named by a setting has no line to blame"
    assert ":0:" not in str(err) and not str(err).startswith(err.filename + ":0")
    return err


def handshake(serverContext, certificatePath):
    """A real TLS handshake over memory BIOs; returns the server's certificate (DER)."""
    clientContext = ssl.create_default_context(cafile=certificatePath)
    clientContext.check_hostname = False
    pipes = [ssl.MemoryBIO() for _ in range(4)]
    client = clientContext.wrap_bio(pipes[0], pipes[1])
    server = serverContext.wrap_bio(pipes[2], pipes[3], server_side=True)
    done = {client: False, server: False}
    for _ in range(20):
        for end in (client, server):
            if not done[end]:
                try:
                    end.do_handshake()
                    done[end] = True
                except ssl.SSLWantReadError:
                    pass
        if pipes[1].pending:
            pipes[2].write(pipes[1].read())
        if pipes[3].pending:
            pipes[0].write(pipes[3].read())
        if all(done.values()):
            return client.getpeercert(binary_form=True)
    pytest.fail("TLS handshake did not finish in 20 rounds")


# ----------------------------------------------------------------- TLS files

def test_no_certificate_means_no_tls():
    assert tlsContext(defaultConfig()) is None


def test_a_matching_pair_gives_a_server_context_that_serves_the_certificate(tls):
    context = tlsContext(withTls(tls.cert, tls.key))
    assert isinstance(context, ssl.SSLContext)
    with open(tls.cert) as handle:
        expected = ssl.PEM_cert_to_DER_cert(handle.read())
    assert handshake(context, tls.cert) == expected


def test_a_missing_certificate_names_the_certificate_file(tls):
    err = tlsError(tls.missing, tls.key)
    assert str(err) == f"{tls.missing}: tls_certificate: cannot read: No such file or directory"


def test_a_certificate_path_that_is_a_directory_names_it(tls):
    err = tlsError(tls.directory, tls.key)
    assert (err.filename, err.key) == (tls.directory, "tls_certificate")
    assert err.problem == "cannot read: Is a directory"


@pytest.mark.parametrize("wrong", ["junk", "key"])
def test_a_certificate_file_without_a_certificate_names_it(tls, wrong):
    """Junk, or the key given as the certificate (the two settings swapped)."""
    err = tlsError(getattr(tls, wrong), tls.key)
    assert (err.filename, err.key) == (getattr(tls, wrong), "tls_certificate")
    assert err.problem.startswith("not a PEM certificate")


def test_a_missing_key_names_the_key_file(tls):
    err = tlsError(tls.cert, tls.missing)
    assert str(err) == f"{tls.missing}: tls_key: cannot read: No such file or directory"


@pytest.mark.parametrize("wrong", ["junk", "cert"])
def test_a_key_file_without_a_private_key_names_it(tls, wrong):
    """Junk, or the certificate given again as the key."""
    err = tlsError(tls.cert, getattr(tls, wrong))
    assert (err.filename, err.key) == (getattr(tls, wrong), "tls_key")
    assert err.problem == "not a PEM private key"


@pytest.mark.parametrize("encrypted", ["encryptedKey", "encryptedTraditionalKey"])
def test_an_encrypted_key_is_refused_without_prompting(tls, encrypted):
    """OpenSSL would ask on the terminal; the check says what is wrong instead."""
    err = tlsError(tls.cert, getattr(tls, encrypted))
    assert (err.filename, err.key) == (getattr(tls, encrypted), "tls_key")
    assert "encrypted" in err.problem


def test_a_key_of_another_certificate_names_the_key_and_the_certificate(tls):
    err = tlsError(tls.cert, tls.otherKey)
    assert str(err) == f"{tls.otherKey}: tls_key: does not match the certificate {tls.cert}"


# ------------------------------------------------------------ start-up paths

@pytest.fixture
def config(tmp_path, monkeypatch):
    """The defaults, run from an empty working directory (relative paths land there)."""
    monkeypatch.chdir(tmp_path)
    return defaultConfig()


def startupError(config):
    with pytest.raises(ConfigError) as info:
        checkStartup(config)
    assert info.value.line is None
    return info.value


def test_the_defaults_pass_in_a_writable_directory_and_nothing_is_created(config, tmp_path):
    checkStartup(config)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("key", ["greylist_log", "greylist_debuglog", "pid_file"])
def test_a_file_in_a_directory_that_does_not_exist_names_path_and_directory(config, tmp_path, key):
    path = str(tmp_path / "nowhere" / "file")
    config[key] = path
    err = startupError(config)
    assert str(err) == f"{path}: {key}: directory {tmp_path / 'nowhere'} does not exist"


@pytest.mark.parametrize("key", ["greylist_log", "greylist_debuglog", "pid_file"])
def test_a_file_under_a_regular_file_is_refused(config, tmp_path, key):
    (tmp_path / "somefile").write_text("x")
    config[key] = "somefile/greylist.log"
    err = startupError(config)
    assert (err.filename, err.key) == ("somefile/greylist.log", key)
    assert err.problem == f"{tmp_path / 'somefile'} is not a directory"


def test_a_log_path_that_is_a_directory_is_refused(config, tmp_path):
    (tmp_path / "logs").mkdir()
    config["greylist_log"] = "logs"
    assert startupError(config).problem == "is a directory, not a file"


def test_existing_files_and_devices_are_accepted_and_left_as_they_were(config, tmp_path):
    (tmp_path / "greylist.log").write_bytes(b"earlier line\n")
    (tmp_path / "grey.pid").write_bytes(b"123\n")
    config.update(pid_file="grey.pid", greylist_debuglog=os.devnull)
    checkStartup(config)
    assert (tmp_path / "greylist.log").read_bytes() == b"earlier line\n"
    assert (tmp_path / "grey.pid").read_bytes() == b"123\n"


def test_empty_log_and_pid_settings_are_not_checked(config):
    config.update(greylist_log="", greylist_debuglog="", pid_file="")
    checkStartup(config)


def test_a_greylist_db_that_is_not_sqlite_names_the_path(config, tmp_path):
    (tmp_path / "greylist.sqlite").write_bytes(b"not a database, just text " * 40)
    err = startupError(config)
    assert (err.filename, err.key) == ("greylist.sqlite", "greylist_db")
    assert err.problem == "cannot open as an SQLite database: file is not a database"


def test_a_greylist_db_in_a_missing_directory_or_that_is_a_directory(config, tmp_path):
    config["greylist_db"] = str(tmp_path / "gone" / "greylist.sqlite")
    err = startupError(config)
    assert err.key == "greylist_db" and err.problem.endswith("does not exist")
    (tmp_path / "db").mkdir()
    config["greylist_db"] = "db"
    assert startupError(config).problem == "is a directory, not an SQLite database"


def test_an_existing_sqlite_db_passes_and_is_not_changed(config, tmp_path):
    path = tmp_path / "greylist.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    checkStartup(config)
    assert path.read_bytes() == before


def test_the_maildir_is_checked_only_for_the_built_in_backend(config, tmp_path):
    (tmp_path / "somefile").write_text("x")
    config["maildir"] = "somefile/Maildir"
    err = startupError(config)
    assert (err.filename, err.key) == ("somefile/Maildir", "maildir")
    assert err.problem == f"{tmp_path / 'somefile'} is not a directory"
    config["smtp_ip"] = "127.0.0.1"
    checkStartup(config)


def test_a_maildir_that_is_a_file_is_refused_and_missing_parents_are_fine(config, tmp_path):
    (tmp_path / "Maildir").write_text("x")
    assert startupError(config).problem == "is not a directory"
    config["maildir"] = "new/deeper/Maildir"
    checkStartup(config)
    assert not (tmp_path / "new").exists()


def test_tls_files_are_checked_at_start_up_too(config, tls):
    config.update(tls_certificate=tls.cert, tls_key=tls.missing)
    err = startupError(config)
    assert (err.filename, err.key) == (tls.missing, "tls_key")
