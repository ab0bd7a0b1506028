"""TLS upgrades of live connections through the CSA's makessl/sslready boxes."""

import socket
import ssl
import threading

from Axon.Component import component
from Kamaelia.Chassis.ConnectedServer import ServerCore
from Kamaelia.Internet.ConnectedSocketAdapter import TLSRequest
from Kamaelia.Internet.TCPClient import TCPClient


def serverContext(certfile, keyfile):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


def clientContext():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class StartTLSEcho(component):
    """Plain text until b"STARTTLS\\r\\n", then upgrades (server side) and echoes over TLS."""

    Inboxes = dict(component.Inboxes, sslready="TLS handshake completed")
    Outboxes = dict(component.Outboxes, makessl="TLS upgrade requests")
    context = None

    def main(self):
        buffered = b""
        while True:
            while self.dataReady("inbox"):
                buffered += self.recv("inbox")
            if b"STARTTLS\r\n" in buffered:
                break
            if self.dataReady("control"):
                return
            self.pause()
            yield 1
        self.send(b"220 ready\r\n", "outbox")
        self.send(TLSRequest(self.context, server_side=True), "makessl")
        while not self.dataReady("sslready"):
            while self.dataReady("inbox"):
                self.recv("inbox")           # plaintext after STARTTLS is discarded
            if self.dataReady("control"):
                return
            self.pause()
            yield 1
        self.recv("sslready")
        self.send(b"secure hello\r\n", "outbox")
        while not self.dataReady("control"):
            while self.dataReady("inbox"):
                self.send(b"echo:" + self.recv("inbox"), "outbox")
            self.pause()
            yield 1


def test_server_side_upgrade_like_starttls(system, helpers, tlsCertificate):
    """A plain connection is upgraded on request; data then flows encrypted both ways."""
    StartTLSEcho.context = serverContext(*tlsCertificate)
    server = ServerCore(protocol=lambda **kw: StartTLSEcho(), port=0, host="127.0.0.1")
    system.activate(server)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    raw.sendall(b"STARTTLS\r\n")
    assert helpers.recvExactly(raw, 11) == b"220 ready\r\n"
    tls = clientContext().wrap_socket(raw, server_hostname="localhost")
    assert tls.version() is not None
    assert helpers.recvExactly(tls, 14) == b"secure hello\r\n"
    tls.sendall(b"over tls")
    assert helpers.recvExactly(tls, 13) == b"echo:over tls"
    tls.close()


class TLSClientDriver(component):
    """Drives a TCPClient: plain hello, then makessl, then a message over TLS."""

    Inboxes = dict(component.Inboxes, sslready="from the client")
    Outboxes = dict(component.Outboxes, makessl="to the client")

    def __init__(self, client, **argd):
        super().__init__(**argd)
        self.client = client
        import queue
        self.received = queue.Queue()

    def main(self):
        self.link((self, "outbox"), (self.client, "inbox"))
        self.link((self, "makessl"), (self.client, "makessl"))
        self.link((self.client, "outbox"), (self, "inbox"))
        self.link((self.client, "sslready"), (self, "sslready"))
        self.link((self.client, "signal"), (self, "control"))
        self.addChildren(self.client)
        self.client.activate()
        self.send(b"hello\n", "outbox")
        self.send(TLSRequest(clientContext(), server_hostname="localhost"), "makessl")
        while not self.dataReady("sslready"):
            self.pause()
            yield 1
        self.recv("sslready")
        self.send(b"over tls\n", "outbox")
        while not self.dataReady("control"):
            while self.dataReady("inbox"):
                self.received.put(self.recv("inbox"))
            self.pause()
            yield 1
        while self.dataReady("inbox"):
            self.received.put(self.recv("inbox"))


def test_client_side_upgrade_through_TCPClient(system, helpers, tlsCertificate):
    """TCPClient's makessl upgrades its connection; the server sees a real TLS client."""
    context = serverContext(*tlsCertificate)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    seen = []

    def tlsServer():
        conn, _ = listener.accept()
        conn.settimeout(10)
        seen.append(helpers.recvExactly(conn, 6))
        tls = context.wrap_socket(conn, server_side=True)
        seen.append(helpers.recvExactly(tls, 9))
        tls.sendall(b"got it")
        tls.close()

    thread = threading.Thread(target=tlsServer, daemon=True)
    thread.start()
    driver = TLSClientDriver(TCPClient("127.0.0.1", port))
    system.activate(driver)
    thread.join(10)
    assert seen == [b"hello\n", b"over tls\n"]
    assert driver.received.get(timeout=5) == b"got it"
    listener.close()
