"""More of the running program: triplet keys, whitelists by HELO and network, 1.x dbm import,
XCLIENT, IPv6, limits, timeouts, and its command line."""

import dbm
import os
import signal
import socket
import time

import pytest

from Kamaelia.Apps.Grey import SMTPReplies as R


def attempt(g, sender="a@example.net", recipients=("b@example.org",), source=None, helo="client.test",
            subject="attempt"):
    """One whole session: returns the code of the last reply of the transaction."""
    content = (b"Subject: " + subject.encode() + b"\r\n\r\nbody\r\n")
    with g.connect(source=source) as c:
        c.banner()
        replies = c.transaction(sender, list(recipients), content, helo=helo)
        c.expect("QUIT", 221)
    return replies[-1].code


def test_several_new_recipients_need_a_single_retry(grey, backend):
    """Every new recipient is recorded on the first attempt, so one retry passes them all (1.x
    needed one retry round per recipient)."""
    g = grey(backend)
    recipients = ("one@example.org", "two@example.org", "three@example.org")
    assert attempt(g, recipients=recipients) == 451
    assert attempt(g, recipients=recipients) == 250
    assert backend.waitForMessages(1)[0][1] == list(recipients)


def test_kamaelia_key_needs_the_retry_from_the_same_address(grey, backend):
    """greylist_key = kamaelia (1.x): a retry from another address is a new triplet."""
    g = grey(backend)
    assert attempt(g, source="127.0.0.1") == 451
    assert attempt(g, source="127.0.0.2") == 451
    assert attempt(g, source="127.0.0.1") == 250


def test_normalized_key_folds_the_24_and_the_address_case(grey, backend):
    """greylist_key = normalized: a retry from another address of the same /24, with the sender
    in another case, passes; one from another /24 does not."""
    g = grey(backend, greylist_key="normalized")
    assert attempt(g, sender="Alice@Example.NET", source="127.0.0.1") == 451
    assert attempt(g, sender="alice@example.net", source="127.0.1.7") == 451
    assert attempt(g, sender="alice@example.net", source="127.0.0.200") == 250


def test_whitelisted_nonstandard_triples_match_helo_and_network(grey, backend):
    """A (HELO name, network, recipient) entry lets a sender farm through on the first attempt
    from any address of the network, with that HELO name only."""
    g = grey(backend, greylist_min_defer=3600,
             whitelisted_nonstandard_triples=[("farm.example.net", "127.5.0.0/16", "<user@example.org>")])
    assert attempt(g, recipients=["user@example.org"], source="127.5.1.1", helo="farm.example.net") == 250
    assert attempt(g, recipients=["user@example.org"], source="127.5.200.9", helo="farm.example.net") == 250
    assert attempt(g, recipients=["user@example.org"], source="127.6.0.1", helo="farm.example.net") == 451
    assert attempt(g, recipients=["user@example.org"], source="127.5.1.1", helo="other.example.net") == 451
    assert attempt(g, recipients=["other@example.org"], source="127.5.1.1", helo="farm.example.net") == 451
    assert len(backend.waitForMessages(2)) == 2


def test_import_of_1x_dbm_files_lets_known_triplets_pass(grey, backend, tmp_path):
    """greylisted.dbm from Kamaelia Grey 1.x (keys repr((ip, sender, rcpt)), values str(time))
    found in import_dbm_dir is imported at start-up: that triplet passes at once."""
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    now = time.time()
    with dbm.open(str(legacy / "greylisted.dbm"), "c") as db:
        db[repr(("127.0.0.1", "<old@example.net>", "<friend@example.org>"))] = str(now - 86400)
    with dbm.open(str(legacy / "attempters.dbm"), "c") as db:
        db[repr(("127.0.0.1", "<old@example.net>", "<friend@example.org>"))] = str(now - 90000)
    g = grey(backend, import_dbm_dir=str(legacy))
    assert "imported 1 triplets" in g.waitForStderr(r"imported \d+ triplets").group(0)
    assert attempt(g, sender="old@example.net", recipients=["friend@example.org"]) == 250
    assert attempt(g, sender="new@example.net", recipients=["friend@example.org"]) == 451


def test_xclient_tells_the_backend_the_real_client_instead_of_a_received_header(grey, backend, e2e):
    """A backend offering XCLIENT is told the client's address and HELO name, and the message is
    relayed byte for byte with no Received: header added; with xclient = no it is not used."""
    backend.handler.offerXclient = True
    g = grey(backend, allowed_senders=["127.0.0.1"])
    content = e2e.message("xclient")
    with g.connect() as c:
        c.banner()
        assert [r.code for r in c.transaction("a@example.net", ["b@example.org"], content,
                                              helo="real.client.test")] == [250, 250, 250, 354, 250]
    [xclient] = backend.handler.xclients
    fields = dict(word.split("=", 1) for word in xclient.split())
    assert fields["ADDR"] == "127.0.0.1" and fields["HELO"] == "real.client.test"
    assert fields["PROTO"] == "ESMTP" and fields["PORT"].isdigit()
    assert backend.waitForMessages(1)[0][2] == content
    g.stop()
    off = grey(backend, name="noxclient", allowed_senders=["127.0.0.1"], xclient=False)
    with off.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["b@example.org"], content)[-1].code == 250
    assert len(backend.handler.xclients) == 1
    assert e2e.withoutReceived(backend.waitForMessages(2)[1][2]) == content


def test_ipv6_listener_and_allowed_sender(grey, backend, e2e):
    """listen_address = ::1: an IPv6 client is served; allowed_senders matches ::1; the result
    log shows the IPv6 address."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    g = grey(backend, listen_address="::1", allowed_senders=["::1"])
    with g.connect(host="::1") as c:
        c.banner()
        hello = c.expect("EHLO v6.client.test", 250)
        assert "::1" in hello.lines[0]
        assert c.transaction("a@example.net", ["b@elsewhere.example"], e2e.message("v6"),
                             helo=None)[-1].code == 250
    assert backend.waitForMessages(1)
    assert " | ::1 | " in g.waitForResults(1)[0]


def test_recipients_over_max_recipients_get_452(grey, backend, e2e):
    """max_recipients = 3: the fourth RCPT gets 452 4.5.3; the message goes to the first three."""
    g = grey(backend, allowed_senders=["127.0.0.1"], max_recipients=3)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        for n in range(3):
            c.expect("RCPT TO:<r%d@example.org>" % n, 250)
        over = c.command("RCPT TO:<r3@example.org>")
        assert (over.code, over.lines) == (452, [str(R.TOO_MANY_RECIPIENTS)[4:]])
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("three")))
        assert c.reply().code == 250
    assert backend.waitForMessages(1)[0][1] == ["r0@example.org", "r1@example.org", "r2@example.org"]


def test_inactivity_timeout_says_421_to_a_silent_client(grey, backend):
    """A client silent for inactivity_timeout seconds gets 421 4.4.2 and is disconnected."""
    g = grey(backend, inactivity_timeout=1)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        started = time.monotonic()
        timeout = c.reply(timeout=5)
        assert (timeout.code, timeout.lines[0].split()[0]) == (421, "4.4.2")
        assert 0.8 < time.monotonic() - started < 4
        assert c.closedByPeer()


def test_client_stalling_mid_message_times_out_and_nothing_is_delivered(grey, backend, e2e):
    """A client that stops in the middle of DATA: 421 after inactivity_timeout, the partial
    message is not delivered, and the result log does not say ACCEPTED."""
    g = grey(backend, allowed_senders=["127.0.0.1"], inactivity_timeout=1)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: never finished\r\n\r\npartial\r\n")
        assert c.reply(timeout=5).code == 421
        assert c.closedByPeer()
    [line] = g.waitForResults(1)
    assert "ACCEPTED" not in line
    assert backend.messages == []


def test_client_vanishing_mid_message_delivers_nothing(grey, backend, e2e):
    """A client that closes its connection in the middle of DATA: nothing is delivered, the
    result log says ABORTED, and the proxy carries on."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: cut off\r\n\r\npartial\r\n")
    [line] = g.waitForResults(1)
    assert line.split(" | ")[5] == "ABORTED"
    with g.connect() as c:
        c.banner()
        c.expect("NOOP", 250)
    assert backend.messages == []


def test_too_many_errors_end_the_session_with_421(grey, backend, e2e):
    """After 20 error replies the client gets 421 4.7.0 and is disconnected."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        c.send(b"BOGUS\r\n" * 25)
        codes = []
        while True:
            try:
                codes.append(c.reply().code)
            except (e2e.ConnectionClosed, ConnectionResetError):
                break
        assert codes == [500] * 20 + [421]
        assert c.closedByPeer()


def test_command_line_overrides_and_pid_file(grey, backend, tmp_path):
    """--listen, --port and --smtp override the file (whose smtp_ip points nowhere); pid_file
    holds the pid while running and is removed at exit."""
    pidFile = tmp_path / "grey.pid"
    g = grey(backend, start=False, smtp_ip="127.0.0.1", smtp_port=9, listen_address="0.0.0.0",
             port=25, allowed_senders=["127.0.0.1"], pid_file=str(pidFile))
    g.start(args=["--listen", "127.0.0.1", "--port", "0", "--smtp", "127.0.0.1:%d" % backend.port])
    assert "relaying to 127.0.0.1:%d" % backend.port in g.stderr()
    assert "listening on 127.0.0.1:" in g.stderr()
    assert pidFile.read_text().strip() == str(g.proc.pid)
    assert attempt(g) == 250
    assert g.stop() == 0
    assert not pidFile.exists()


def test_configuration_found_on_the_search_path(grey, backend, tmp_path):
    """Without --config the first file of the 1.x search path is used (here ./greylist.conf)."""
    systemWide = [p for p in ("/usr/local/etc/Kamaelia/greylist.conf", "/usr/local/etc/greylist.conf",
                              "/etc/Kamaelia/greylist.conf", "/etc/greylist.conf") if os.path.exists(p)]
    if systemWide:
        pytest.skip("a system-wide configuration would be found first: %s" % systemWide[0])
    g = grey(backend, start=False, name="greylist", servername="found.by.search.test")
    os.rename(g.configPath, tmp_path / "greylist.conf")
    g.start(useConfigOption=False)
    with g.connect() as c:
        assert "found.by.search.test" in c.banner().lines[0]


def test_sigint_drains_like_sigterm(grey, backend):
    """SIGINT (Ctrl-C) drains and exits with status 0."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        g.sendSignal(signal.SIGINT)
        assert c.reply().code == 421
    assert g.proc.wait(5) == 0
