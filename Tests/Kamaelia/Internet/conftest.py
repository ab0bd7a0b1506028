"""Helpers for loopback networking tests.

The ``system`` fixture, a scheduler in a background thread, is in Tests/conftest.py.
"""

import queue
import time

import pytest

from Axon.Component import component


def waitFor(predicate, timeout=5.0, interval=0.005, message="condition"):
    """Poll ``predicate`` until true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s" % message)


class Collector(component):
    """Records everything arriving on inbox and control into thread-safe queues."""

    def __init__(self, **argd):
        super().__init__(**argd)
        self.received = queue.Queue()
        self.controls = queue.Queue()

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.received.put(self.recv("inbox"))
            while self.dataReady("control"):
                self.controls.put(self.recv("control"))
            self.pause()
            yield 1


def recvExactly(sock, n, timeout=10):
    sock.settimeout(timeout)
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def recvUntilClosed(sock, timeout=10):
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(data)
        data += chunk


@pytest.fixture
def helpers():
    return type("Helpers", (), {"waitFor": staticmethod(waitFor),
                                "recvExactly": staticmethod(recvExactly),
                                "recvUntilClosed": staticmethod(recvUntilClosed),
                                "Collector": Collector})


@pytest.fixture(scope="session")
def tlsCertificate(tmp_path_factory):
    """A throwaway self-signed certificate for localhost: (certfile, keyfile)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(certfile), str(keyfile)
