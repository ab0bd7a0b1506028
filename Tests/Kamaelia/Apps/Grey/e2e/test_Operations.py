"""The greylister as an administrator runs it: restarts, signals, configuration, logs.

Each test runs the real program (``grey`` fixture). What an operator sees -- exit statuses,
log lines, the result log -- is what is asserted.
"""

import os
import re
import signal
import subprocess
import sys

import pytest

OUTSIDE = "127.0.0.2"


def runProgram(args, e2e, cwd=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "Kamaelia.Apps.Grey.Application", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=e2e.childEnvironment(), stdin=subprocess.DEVNULL)


# -- restart -----------------------------------------------------------------------------------

def test_restart_on_the_same_port_at_once_after_traffic(grey, backend, e2e):
    """Sessions the server closed leave its side in TIME_WAIT; a restart must still listen at
    once (SO_REUSEADDR), as systemctl restart on a live MX needs."""
    port = e2e.freePort()
    g = grey(backend, port=port, allowed_senders=["127.0.0.1"])
    for n in range(5):
        with g.connect() as c:
            c.banner()
            assert c.transaction("a@example.net", ["b@example.org"], e2e.message("r%d" % n))[-1].code == 250
            c.expect("QUIT", 221)
            assert c.closedByPeer()
    assert g.stop() == 0
    assert g.start() == port
    with g.connect() as c:
        c.banner()
        c.expect("NOOP", 250)


def test_two_greylisters_still_cannot_share_one_port(grey, backend, e2e):
    """SO_REUSEADDR does not let a second program listen on a port in use."""
    first = grey(backend)
    second = grey(backend, name="second", start=False, port=first.port)
    second.proc = subprocess.Popen(
        [sys.executable, "-m", "Kamaelia.Apps.Grey.Application", "--config", second.configPath],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        cwd=second.directory, env=e2e.childEnvironment())
    _, err = second.proc.communicate(timeout=30)
    assert second.proc.returncode == 2
    assert b"Address already in use" in err


# -- signals ---------------------------------------------------------------------------------

def test_sighup_then_sigterm_still_drains(grey, backend, e2e):
    """A SIGHUP before the SIGTERM does not count as a first stop signal: the message in flight
    is delivered, then 421, then the program exits 0."""
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as busy:
        busy.banner()
        busy.expect("EHLO busy.test", 250)
        busy.expect("MAIL FROM:<a@example.net>", 250)
        busy.expect("RCPT TO:<b@example.org>", 250)
        g.sendSignal(signal.SIGHUP)
        g.waitForStderr("SIGHUP")
        g.sendSignal(signal.SIGTERM)
        g.waitForStderr("draining")
        assert g.running()
        busy.expect("DATA", 354)
        busy.send(e2e.dotStuff(e2e.message("in flight")))
        assert busy.reply().code == 250
        assert busy.reply().code == 421
    assert g.proc.wait(e2e.STOP_DEADLINE) == 0
    assert len(backend.messages) == 1


def test_sigusr1_reopens_the_log_files_for_logrotate(grey, backend, e2e, tmp_path):
    g = grey(backend, allowed_senders=["127.0.0.1"])
    with g.connect() as c:
        c.banner()
        c.transaction("a@example.net", ["b@example.org"], e2e.message("before"))
    g.waitForResults(1)
    log = tmp_path / "greylist.log"
    debug = tmp_path / "greylist-debug.log"
    os.rename(log, tmp_path / "greylist.log.1")
    os.rename(debug, tmp_path / "greylist-debug.log.1")
    g.sendSignal(signal.SIGUSR1)
    g.waitForStderr("log files reopened")
    with g.connect() as c:
        c.banner()
        c.transaction("a@example.net", ["b@example.org"], e2e.message("after"))
    e2e.waitFor(lambda: log.exists() and "ACCEPTED" in log.read_text(), message="the new log")
    assert "ACCEPTED" in (tmp_path / "greylist.log.1").read_text()
    assert e2e.waitFor(lambda: debug.exists() and debug.read_text(), message="the new debug log")


# -- configuration ----------------------------------------------------------------------------

def test_a_latin1_comment_in_the_config_file_is_fine(grey, backend, tmp_path):
    g = grey(backend, start=False)
    with open(g.configPath, "ab") as f:
        f.write(b"# R\xe9glages de l'\xe9t\xe9 (a Latin-1 comment, as 1.x files often have)\n")
    g.start()
    with g.connect() as c:
        c.banner()


def test_a_broken_file_on_sighup_keeps_the_running_configuration(grey, backend, e2e):
    """Non-UTF-8 bytes in a value line, then a bad number: each SIGHUP logs file:line and the
    proxy carries on with the configuration it had."""
    g = grey(backend)
    with open(g.configPath, "ab") as f:
        f.write(b"servername = caf\xe9.example\n")
    lines = open(g.configPath, "rb").read().count(b"\n")
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr(re.escape(g.configPath) + ":%d:" % lines)
    assert g.running()
    g.writeConfig(port="25x")
    marker = len(g.stderr())
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr(r"port: not an integer", after=marker)
    with g.connect() as c:
        assert "mx.test.local" in c.banner().text
    assert g.running()


def test_sighup_names_the_changed_settings_that_need_a_restart(grey, backend):
    g = grey(backend)
    g.writeConfig(max_sessions=7, allowed_domains=["example.org", "example.com"])
    g.sendSignal(signal.SIGHUP)
    g.waitForStderr(r"applied: allowed_domains")
    g.waitForStderr(r"only after a restart: max_sessions")


def test_start_up_names_the_configuration_file(grey, backend):
    g = grey(backend)
    assert "configuration from %s" % g.configPath in g.stderr()


@pytest.mark.parametrize("args,message", [
    (["--port", "99999"], "--port: port: must be at most 65535"),
    (["--port", "twenty-five"], "--port: port: not an integer"),
    (["--log-level", "LOUD"], "--log-level: log_level: must be one of"),
    (["--smtp", "mail.example.org:25"], "--smtp: smtp_ip"),
    (["--listen", "not-an-address"], "--listen: listen_address"),
])
def test_bad_command_line_values_are_refused_like_file_values(tmp_path, e2e, args, message):
    result = runProgram(["--check-config", *args], e2e, cwd=str(tmp_path))
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_version(e2e):
    result = runProgram(["--version"], e2e)
    assert result.returncode == 0
    assert re.match(r"kamaelia-grey \d+\.\d+", result.stdout)


@pytest.mark.parametrize("key", ["greylist_log", "greylist_debuglog", "pid_file", "greylist_db"])
def test_check_config_catches_what_start_up_would_fail_on(tmp_path, e2e, key):
    config = tmp_path / "grey.conf"
    config.write_text("%s = %s\n" % (key, tmp_path / "no" / "such" / "dir" / "file"))
    result = runProgram(["--config", str(config), "--check-config"], e2e, cwd=str(tmp_path))
    assert result.returncode == 2, result
    assert str(tmp_path / "no" / "such" / "dir") in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_refuses_an_smtp_ip_that_is_not_an_address(tmp_path, e2e):
    config = tmp_path / "grey.conf"
    config.write_text("smtp_ip = mail.example.org\n")
    result = runProgram(["--config", str(config), "--check-config"], e2e, cwd=str(tmp_path))
    assert result.returncode == 2
    assert "grey.conf:1: smtp_ip" in result.stderr


# -- the result log ---------------------------------------------------------------------------

def fields(line):
    parts = line.split(" | ")
    assert len(parts) == 7, line
    assert all(part and part != "None" for part in parts), line
    return parts


def test_every_outcome_is_a_documented_value_with_the_envelope(grey, backend, e2e):
    backend.handler.refuseRecipients["unknown@example.org"] = "550 5.1.1 unknown user"
    backend.handler.refuseSenders["banned@example.net"] = "553 5.7.1 sender banned"
    g = grey(backend, inactivity_timeout=2)
    expected = []

    def session(script):
        with g.connect(source=OUTSIDE) as c:
            c.banner()
            script(c)

    def accepted(c):
        c.transaction("ok@example.net", ["b@example.org"], e2e.message("ok"))

    session(accepted)                       # first attempt: greylisted
    expected.append(("DEFERRED", "<ok@example.net>", "<b@example.org>"))
    session(accepted)                       # the retry passes
    expected.append(("ACCEPTED", "<ok@example.net>", "<b@example.org>"))

    def relay(c):
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<r@example.net>", 250)
        c.expect("RCPT TO:<x@elsewhere.example>", 550)
        c.expect("QUIT", 221)
    session(relay)
    expected.append(("RELAY DENIED", "<r@example.net>", "<x@elsewhere.example>"))

    # The real server judges recipients and senders once greylisting is passed: a greylisted
    # attempt is answered by the proxy alone.
    def greylisted(sender, recipient):
        def script(c):
            replies = c.transaction(sender, [recipient], e2e.message("first"))
            assert [r.code for r in replies] == [250, 250, 250, 451], replies
        return script

    session(greylisted("u@example.net", "unknown@example.org"))
    expected.append(("DEFERRED", "<u@example.net>", "<unknown@example.org>"))

    def rcptRefused(c):
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<u@example.net>", 250)
        c.expect("RCPT TO:<unknown@example.org>", 550)
        c.expect("QUIT", 221)
    session(rcptRefused)
    expected.append(("RCPT REFUSED 550", "<u@example.net>", "<unknown@example.org>"))

    session(greylisted("banned@example.net", "b@example.org"))
    expected.append(("DEFERRED", "<banned@example.net>", "<b@example.org>"))

    def mailRefused(c):
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<banned@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 553)      # the sender's refusal, at its first RCPT
        c.expect("QUIT", 221)
    session(mailRefused)
    expected.append(("MAIL REFUSED 553", "<banned@example.net>", "<b@example.org>"))

    def nothing(c):
        c.expect("QUIT", 221)
    session(nothing)
    expected.append(("NO MESSAGE", "-", "-"))

    def aborted(c):
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<gone@example.net>", 250)
        c.expect("RCPT TO:<b@example.org>", 250)
    session(aborted)
    expected.append(("ABORTED", "<gone@example.net>", "<b@example.org>"))

    def silent(c):
        c.expect("EHLO outside.test", 250)
        assert c.reply(timeout=10).code == 421
    session(silent)
    expected.append(("TIMEOUT", "-", "-"))

    backend.down()

    def unavailable(c):
        c.expect("EHLO outside.test", 250)
        c.expect("MAIL FROM:<ok@example.net>", 250)
        assert c.command("RCPT TO:<b@example.org>").code == 451     # passed greylisting before
        c.expect("QUIT", 221)
    session(unavailable)
    expected.append(("BACKEND UNAVAILABLE", "<ok@example.net>", "<b@example.org>"))

    lines = g.waitForResults(len(expected))
    assert len(lines) == len(expected), lines
    for line, (outcome, sender, recipients) in zip(lines, expected):
        stamp, helo, client, logSender, logRecipients, logOutcome, session = fields(line)
        assert re.match(r"^\d{14}\.\d{3}$", stamp)
        assert client == OUTSIDE
        assert (logOutcome, logSender, logRecipients) == (outcome, sender, recipients), line
        assert re.match(r"^[0-9A-F]{10}$", session), line
    assert len({fields(line)[6] for line in lines}) == len(lines), "session ids repeat"


# -- the debug log -------------------------------------------------------------------------------

def test_debug_lines_carry_time_session_and_client(grey, backend, e2e, tmp_path):
    """Two concurrent sessions from two addresses: every line says which one it belongs to."""
    g = grey(backend)
    first = g.connect(source="127.0.0.3")
    second = g.connect(source="127.0.0.4")
    try:
        for c, name in ((first, "first"), (second, "second")):
            c.banner()
            c.expect("EHLO %s.test" % name, 250)
        first.expect("MAIL FROM:<one@example.net>", 250)
        second.expect("MAIL FROM:<two@example.net>", 250)
        first.expect("RCPT TO:<one@example.org>", 250)
        second.expect("RCPT TO:<two@example.org>", 250)
    finally:
        first.close()
        second.close()
    path = tmp_path / "greylist-debug.log"
    pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ([0-9A-F]{10}) (127\.0\.0\.[34]) ")

    def both():
        text = path.read_text() if path.exists() else ""
        return "one@example.org" in text and "two@example.org" in text and text

    text = e2e.waitFor(both, message="both sessions in the debug log")
    sessions = {}
    for line in text.splitlines():
        match = pattern.match(line)
        assert match, "debug line without time, session and client: %r" % line
        sessions.setdefault(match.group(2), set()).add(match.group(1))
        if "one@example.org" in line:
            assert match.group(2) == "127.0.0.3"
        if "two@example.org" in line:
            assert match.group(2) == "127.0.0.4"
    assert set(sessions) == {"127.0.0.3", "127.0.0.4"}
    assert all(len(ids) == 1 for ids in sessions.values())
    assert sessions["127.0.0.3"] != sessions["127.0.0.4"]


def test_warnings_name_the_session_and_client_not_a_component(grey, e2e):
    g = grey(e2e.freePort(), allowed_senders=["127.0.0.1"])     # nothing listens there
    with g.connect() as c:
        c.banner()
        c.expect("EHLO client.test", 250)
        c.expect("MAIL FROM:<a@example.net>", 250)
        assert c.command("RCPT TO:<b@example.org>").code == 451
    line = g.waitForStderr(r"WARNING .*real SMTP server").group(0)
    assert re.search(r"session [0-9A-F]{10} client 127\.0\.0\.1", line), line
    assert "Protocol_" not in line


def test_listening_socket_is_refused_when_the_address_is_not_local(tmp_path, e2e):
    """A start-up failure is a clear message and status 2, not a traceback."""
    config = tmp_path / "grey.conf"
    config.write_text("listen_address = 192.0.2.1\nport = 0\ngreylist_db = %s\n"
                      % (tmp_path / "g.sqlite"))
    result = runProgram(["--config", str(config)], e2e, cwd=str(tmp_path))
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "Traceback" not in result.stderr


CRASHING_RUN = '''
import sys
from Axon.Component import component
from Kamaelia.Apps.Grey import Application

class BrokenService(component):
    """Stands for a component outside the sessions (listener, store) that fails."""
    def main(self):
        yield 1
        raise RuntimeError("the store service broke")

start = Application.GreylistApplication.start

def startThenBreak(self):
    port = start(self)
    BrokenService().activate()
    return port

Application.GreylistApplication.start = startThenBreak
sys.exit(Application.main(["--config", sys.argv[1]]))
'''


def test_a_failure_outside_the_sessions_ends_the_program_with_a_clear_line_and_status_1(
        grey, backend, e2e, tmp_path):
    g = grey(backend, start=False)
    result = subprocess.run([sys.executable, "-c", CRASHING_RUN, g.configPath],
                            capture_output=True, text=True, timeout=30, cwd=str(tmp_path),
                            env=e2e.childEnvironment(), stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result
    critical = [line for line in result.stderr.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1, result.stderr
    assert "the store service broke" in critical[0] and "BrokenService" in critical[0]


def test_check_config_reports_a_bad_whitelist_file_line(tmp_path, e2e):
    whitelist = tmp_path / "whitelist_clients"
    whitelist.write_text("# postgrey format\nmail.example.org\n/unclosed(regex/\n")
    config = tmp_path / "grey.conf"
    config.write_text("whitelist_clients:\n    %s\n" % whitelist)
    result = runProgram(["--config", str(config), "--check-config"], e2e, cwd=str(tmp_path))
    assert result.returncode == 2
    assert "%s:3: whitelist_clients" % whitelist in result.stderr


def test_policy_mode_defaults_to_postgreys_address_and_answers_requests(grey, e2e):
    """--policy-server with no port or address configured listens on 127.0.0.1:10023 (postgrey's);
    a policy request gets an action."""
    import socket
    g = grey(None, start=False)
    del g.settings["port"], g.settings["listen_address"]
    g.writeConfig()
    try:
        with socket.create_connection(("127.0.0.1", 10023), timeout=1):
            pytest.skip("something already listens on 127.0.0.1:10023")
    except OSError:
        pass
    g.start(args=["--policy-server"])
    assert g.port == 10023 and "policy server listening on 127.0.0.1:10023" in g.stderr()
    with socket.create_connection(("127.0.0.1", 10023), timeout=10) as s:
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n"
                  b"sender=a@example.net\nrecipient=b@example.org\ninstance=1\n\n")
        answer = s.recv(1000)
    assert answer.startswith(b"action=DEFER_IF_PERMIT ") and answer.endswith(b"\n\n")
