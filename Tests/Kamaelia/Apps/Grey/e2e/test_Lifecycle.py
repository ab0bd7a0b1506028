"""The program's life: start-up checks, restarts, the embedded backend, signals."""

import os
import signal
import smtplib
import socket
import subprocess
import sys

import pytest

from Kamaelia.Apps.Grey import SMTPReplies as R


def runCheckConfig(path, e2e_env):
    return subprocess.run([sys.executable, "-m", "Kamaelia.Apps.Grey.Application", "--config", path,
                           "--check-config"], capture_output=True, text=True, timeout=30,
                          env=e2e_env, stdin=subprocess.DEVNULL)


def test_restart_keeps_the_greylist_state(grey, backend, e2e):
    """A triplet that passed before a restart (same greylist_db) passes at once afterwards; a new
    triplet is still deferred first."""
    g = grey(backend)
    for expected in (451, 250):
        with g.connect() as c:
            c.banner()
            replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("known"))
            assert replies[-1].code == expected
    assert g.stop() == 0
    g.start()
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["b@example.org"], e2e.message("known"))[-1].code == 250
        assert c.transaction("new@example.net", ["b@example.org"], e2e.message("new"),
                             helo=None)[-1].code == 451
    assert len(backend.waitForMessages(2)) == 2


def test_embedded_maildir_backend_delivers_into_new(grey, tmp_path, e2e):
    """Without smtp_ip the proxy relays to its own Maildir server: the accepted message lands in
    maildir/new with Return-Path and X-Original-To first, content byte for byte after the
    Received: header; and the program still stops promptly on SIGTERM."""
    g = grey(None, allowed_senders=["127.0.0.1"])
    assert "relaying to 127.0.0.1:" in g.stderr()
    content = e2e.message("to the maildir", b"8-bit \xe9\r\n.dot line\r\n")
    with smtplib.SMTP("127.0.0.1", g.port, timeout=10) as client:
        assert client.sendmail("a@example.net", ["b@example.org"], content) == {}
    new = tmp_path / "Maildir" / "new"
    [name] = e2e.waitFor(lambda: os.listdir(new), message="a file in Maildir/new")
    assert os.listdir(tmp_path / "Maildir" / "tmp") == []
    data = (new / name).read_bytes()
    head = b"Return-Path: <a@example.net>\r\nX-Original-To: b@example.org\r\n"
    assert data.startswith(head)
    assert e2e.withoutReceived(data[len(head):]) == content
    assert g.stop() == 0
    assert g.stopTook < 3, "took %.1f s to stop" % g.stopTook


def test_sigterm_finishes_the_transaction_in_progress_and_says_421_to_idle_sessions(grey, backend, e2e):
    """SIGTERM drains: an idle session gets 421 4.3.2 and is closed, a new connection gets 421
    4.3.2 too, the message being sent completes (250, delivered) and is followed by 421; then the program
    exits with status 0."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    busy, idle = g.connect(), g.connect()
    try:
        busy.banner()
        idle.banner()
        idle.expect("EHLO idle.test", 250)
        busy.expect("EHLO busy.test", 250)
        busy.expect("MAIL FROM:<a@example.net>", 250)
        busy.expect("RCPT TO:<b@example.org>", 250)
        busy.expect("DATA", 354)
        content = e2e.message("in flight", b"first half\r\n")
        busy.send(content)
        g.sendSignal(signal.SIGTERM)
        g.waitForStderr("draining")
        bye = idle.reply()
        assert (bye.code, bye.lines[0].split()[0]) == (421, "4.3.2")
        assert idle.closedByPeer()
        with e2e.SMTPConnection(g.port) as late:
            refusal = late.reply()
            assert (refusal.code, refusal.lines[0].split()[0]) == (421, "4.3.2")
            assert late.closedByPeer()
        busy.send(b"second half\r\n.\r\n")
        assert busy.reply().code == 250
        assert busy.reply().code == 421
        assert busy.closedByPeer()
    finally:
        busy.close()
        idle.close()
    assert g.proc.wait(e2e.STOP_DEADLINE) == 0
    [(_, _, received)] = backend.messages
    assert e2e.withoutReceived(received) == content + b"second half\r\n"


def test_second_sigterm_stops_at_once(grey, backend, e2e):
    """A second signal during the drain stops the program without waiting for the session."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as busy:
        busy.banner()
        busy.expect("EHLO busy.test", 250)
        busy.expect("MAIL FROM:<a@example.net>", 250)
        busy.expect("RCPT TO:<b@example.org>", 250)
        busy.expect("DATA", 354)
        g.sendSignal(signal.SIGTERM)
        g.waitForStderr("draining")
        g.sendSignal(signal.SIGTERM)
        g.proc.wait(e2e.STOP_DEADLINE)
        assert busy.closedByPeer()
    assert backend.messages == []


def test_sighup_reloads_allowed_domains(grey, backend, e2e):
    """After the config file gains a domain and SIGHUP, new sessions accept mail for it; a broken
    file on SIGHUP is reported and the running lists are kept."""
    g = grey(backend, allowed_domains=["example.org"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<user@example.com>", R.RELAY_DENIED.code)
    g.writeConfig(allowed_domains=["example.org", "example.com"])
    mark = len(g.stderr())
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr("SIGHUP: re-read .*applied: allowed_domains", after=mark)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<user@example.com>", 250)
    with open(g.configPath, "a") as f:
        f.write("port = not-a-number\n")
    mark = len(g.stderr())
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr(r"SIGHUP: .*port.*keeping the running configuration", after=mark)
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<user@example.com>", 250)
    assert g.running()


def test_proxy_whitelist_files_and_x_greylist_header_with_sighup(grey, backend, e2e, tmp_path):
    """The proxy reads postgrey's whitelist_clients file and re-reads it on SIGHUP; a pass after
    a delay carries the X-Greylist header when x_greylist_header is on."""
    listing = tmp_path / "whitelist_clients"
    listing.write_text("# nobody yet\n")
    g = grey(backend, whitelist_clients=[str(listing)], x_greylist_header=True,
             greylist_min_defer=0, greylist_too_soon=0)
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["b@example.org"], e2e.message("one"))[-1].code == 451
        replies = c.transaction("a@example.net", ["b@example.org"], e2e.message("two"))
        assert replies[-1].code == 250
    header = [line for line in backend.messages[-1][2].split(b"\r\n")
              if line.startswith(b"X-Greylist:")]
    assert header and header[0].startswith(b"X-Greylist: delayed ")
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["new@example.org"], e2e.message("3"))[-1].code == 451
    listing.write_text("127.0.0.0/8\n")
    mark = len(g.stderr())
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr("SIGHUP: re-read", after=mark)
    with g.connect() as c:
        c.banner()
        assert c.transaction("a@example.net", ["other@example.org"], e2e.message("4"))[-1].code == 250
    assert b"X-Greylist:" not in backend.messages[-1][2]


def test_check_config_accepts_a_good_file(grey, backend, e2e):
    """--check-config on a good file: status 0, says OK, starts nothing."""
    g = grey(backend, start=False)
    result = runCheckConfig(g.configPath, e2e.childEnvironment())
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout and g.configPath in result.stdout


def test_check_config_accepts_the_shipped_example(e2e):
    """Examples/Greylister/greylist.conf.dist is a valid configuration."""
    path = os.path.join(e2e.SOURCE_ROOT, "Examples", "Greylister", "greylist.conf.dist")
    result = runCheckConfig(path, e2e.childEnvironment())
    assert result.returncode == 0, result.stderr


BROKEN = [
    ("port = abc\n", 1, "port"),
    ("servername = ok\ncolour = blue\n", 2, "colour"),
    ("allowed_senders = 127.0.0.1\n", 1, "allowed_senders"),
    ("allowed_sender_nets:\n    10.0.0.0/8\n    10.0.0.0/33\n", 3, "allowed_sender_nets"),
    ("allowed_senders:\n    not-an-address\n", 2, "allowed_senders"),
    ("whitelisted_triples:\n    192.0.2.1 <a@example.net>\n", 2, "whitelisted_triples"),
    ("xclient = perhaps\n", 1, "xclient"),
    ("greylist_too_soon = 20\ngreylist_min_defer = 10\n", 2, "greylist_min_defer"),
    ("port = 70000\n", 1, "port"),
    ("\n# comment\ntls_certificate = /nonexistent/cert.pem\n", 3, "tls_certificate"),
    ("max_sessions = 0\n", 1, "max_sessions"),
]


@pytest.mark.parametrize("text,line,key", BROKEN)
def test_check_config_rejects_a_broken_file_naming_file_line_and_key(tmp_path, e2e, text, line, key):
    """--check-config on a broken file: status 2; stderr says 'file:line: key: problem'."""
    path = tmp_path / "broken.conf"
    path.write_text(text)
    result = runCheckConfig(str(path), e2e.childEnvironment())
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "%s:%d: %s: " % (path, line, key) in result.stderr, result.stderr


def test_check_config_rejects_unloadable_tls_files(tmp_path, e2e):
    """Certificate and key set but not loadable: status 2, naming tls_certificate."""
    path = tmp_path / "tls.conf"
    path.write_text("tls_certificate = %s\ntls_key = %s\n" % (tmp_path / "none.pem", tmp_path / "none.key"))
    result = runCheckConfig(str(path), e2e.childEnvironment())
    assert result.returncode == 2 and "tls_certificate" in result.stderr, result.stderr


def test_missing_config_file_is_status_2(tmp_path, e2e):
    result = runCheckConfig(str(tmp_path / "absent.conf"), e2e.childEnvironment())
    assert result.returncode == 2 and "absent.conf" in result.stderr


def test_port_in_use_fails_to_start_with_status_2(grey, backend, e2e):
    """A listening port that is taken: the program says so and exits with status 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        g = grey(backend, start=False, port=taken.getsockname()[1])
        with pytest.raises(pytest.fail.Exception, match="exited with status 2"):
            g.start()
    assert "cannot start" in g.stderr()


def test_sigterm_between_rcpt_and_data_lets_the_transaction_finish(grey, backend, e2e):
    """A transaction started (MAIL, RCPT accepted) when SIGTERM arrives may still send DATA;
    the 421 comes after it, before anything else."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
        g.sendSignal(signal.SIGTERM)
        g.waitForStderr("draining")
        c.expect("DATA", 354)
        c.send(e2e.dotStuff(e2e.message("late")))
        assert c.reply().code == 250
        assert c.reply().code == 421
        assert c.closedByPeer()
    assert len(backend.waitForMessages(1)) == 1


@pytest.mark.parametrize("key", ["greylist_db", "greylist_log", "greylist_debuglog", "pid_file"])
def test_unusable_file_paths_fail_to_start_with_status_2(grey, backend, e2e, key):
    """A database, log or pid file that cannot be created: a one-line error naming it and
    status 2 (not a traceback)."""
    g = grey(backend, start=False, **{key: "/nonexistent-dir/file"})
    result = subprocess.run([sys.executable, "-m", "Kamaelia.Apps.Grey.Application", "--config",
                             g.configPath], capture_output=True, text=True, timeout=30,
                            env=e2e.childEnvironment(), stdin=subprocess.DEVNULL, cwd=str(g.directory))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "/nonexistent-dir/file" in result.stderr or "unable to open database" in result.stderr, \
        result.stderr


def test_greylist_survives_kill_9(grey, backend, e2e):
    """DESIGN.md decision 9: a triplet that passed is still known after SIGKILL and a restart."""
    g = grey(backend)
    for expected in (451, 250):
        with g.connect() as c:
            c.banner()
            assert c.transaction("k@example.net", ["b@example.org"], e2e.message("k"))[-1].code == expected
    g.kill()
    g.start()
    with g.connect() as c:
        c.banner()
        assert c.transaction("k@example.net", ["b@example.org"], e2e.message("k"))[-1].code == 250


def test_two_proxies_on_one_greylist_file_share_it(grey, backend, e2e, tmp_path):
    """Two greylisters on the same host and greylist_db: a deferral recorded by one lets the
    retry through the other."""
    db = str(tmp_path / "shared.sqlite")
    first = grey(backend, name="mx1", greylist_db=db)
    second = grey(backend, name="mx2", greylist_db=db)
    with first.connect() as c:
        c.banner()
        assert c.transaction("s@example.net", ["b@example.org"], e2e.message("mx"))[-1].code == 451
    with second.connect() as c:
        c.banner()
        assert c.transaction("s@example.net", ["b@example.org"], e2e.message("mx"))[-1].code == 250


def test_debug_log_records_replies_and_greylist_verdicts(grey, backend, e2e, tmp_path):
    """greylist_debuglog gets the replies sent and each triplet's verdict."""
    g = grey(backend)
    with g.connect() as c:
        c.banner()
        c.transaction("d@example.net", ["b@example.org"], e2e.message("debug"))
        c.expect("QUIT", 221)
    path = tmp_path / "greylist-debug.log"

    def logged():
        text = path.read_text() if path.exists() else ""
        return (str(R.GREYLISTED) in text
                and "greylist 127.0.0.1 <d@example.net> <b@example.org>: defer" in text)

    e2e.waitFor(logged, message="the deferral in the debug log")
