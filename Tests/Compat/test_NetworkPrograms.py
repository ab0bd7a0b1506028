"""Kamaelia 1.x programs using TCP and UDP on 127.0.0.1 run unchanged, with 1.x's output.

1.x programs name their port, so each test picks a free one and passes it
on the command line. Each program runs as its own process; "finished"
shows that ``run()`` returned.
"""

import textwrap


def expected(text):
    return textwrap.dedent(text).lstrip("\n")


def test_single_server_serves_one_tcp_client_turns_a_second_away_and_signals_when_it_leaves(
        runProgram, assertRanCleanly, freePort):
    result = runProgram("singleserver_client", freePort())
    assertRanCleanly(result)
    assert result.stdout == expected("""
        client got back: b'HELLO\\n'
        client got back: b'KAMAELIA\\n'
        client got back: b'WORLD\\n'
        SECOND-CLIENT signal producerFinished
        SERVER-IN data b'hello\\n'
        SERVER-IN data b'kamaelia\\n'
        SERVER-IN data b'world\\n'
        SERVER-IN control producerFinished
        SHUTDOWN control producerFinished
        TALKER control producerFinished
        finished
        """)


def test_fast_restart_server_echo_with_tracers_ends_on_serverShutdown_and_rebinds_its_port(
        runProgram, assertRanCleanly, freePort):
    result = runProgram("fastrestart_echo", freePort())
    assertRanCleanly(result)
    round = expected("""
        client got back: b'one\\n'
        client got back: b'two\\n'
        SERVER-IN data b'one\\n'
        SERVER-IN data b'two\\n'
        SERVER-IN data b'quit\\n'
        SERVER-IN control socketShutdown
        SERVER-OUT data b'one\\n'
        SERVER-OUT data b'two\\n'
        SERVER-OUT data b'quit\\n'
        SERVER-OUT control producerFinished
        TALKER control producerFinished
        """)
    assert result.stdout == ("round 1\n" + round + "round 2\n" + round + expected("""
        protocol arguments: ['localip', 'localport', 'peer', 'peerport']
        peer address: 127.0.0.1 local port is PORT: True
        finished
        """))


def test_simple_server_protocol_traced_with_a_forwarding_console_echoer_echoes_and_shuts_down(
        runProgram, assertRanCleanly, freePort):
    """ConsoleEchoer(forwarder=True, tag=...) writes str(item) with no newline added and forwards it;
    socketShutdown from the server reaches every stage of the handler."""
    result = runProgram("simpleserver_trace", freePort())
    assertRanCleanly(result)
    assert result.stdout == expected("""
        [server] b'one\\n'client got back: b'one\\n'
        [server] b'two\\n'client got back: b'two\\n'
        [server] b'three\\n'client got back: b'three\\n'
        BEFORE-ECHO data b'one\\n'
        BEFORE-ECHO data b'two\\n'
        BEFORE-ECHO data b'three\\n'
        BEFORE-ECHO control socketShutdown
        TALKER control producerFinished
        finished
        """)


def test_a_protocol_handler_with_a_serversignal_outbox_can_stop_its_server(
        runProgram, assertRanCleanly, freePort):
    result = runProgram("protocol_stops_server", freePort())
    assertRanCleanly(result)
    assert result.stdout == expected("""
        client got back: b'bye!\\n'
        HANDLER peer 127.0.0.1
        SERVER ended True
        TALKER control producerFinished
        finished
        """)


def test_server_with_no_activity_timeout_csa_closes_an_idle_connection(
        runProgram, assertRanCleanly, freePort):
    """TCPS.CSA = NoActivityTimeout(ConnectedSocketAdapter, timeout=0.3): a plain function as the
    CSA class attribute, called with the server as first argument, as 1.x's greylister used it."""
    result = runProgram("timeout_server", freePort())
    assertRanCleanly(result)
    assert result.stdout == expected("""
        client got back: b'anyone there?\\n'
        closed by the server after the timeout: True
        and well before 2 s: True
        CLIENT control producerFinished
        CLIENT-SIGNAL control producerFinished
        finished
        """)


def test_udp_simple_peers_carry_datagrams_one_way(runProgram, freeUdpPort):
    result = runProgram("udp_peers", "oneway", freeUdpPort())
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected("""
        received b'one' from 127.0.0.1
        received b'two' from 127.0.0.1
        received b'three' from 127.0.0.1
        finished
        """)


def test_udp_peers_stopped_by_scheduler_stop_close_without_errors(
        runProgram, assertRanCleanly, freeUdpPort):
    """scheduler.stop() stops (and closes) the peers still running; nothing may go wrong there."""
    result = runProgram("udp_peers", "oneway", freeUdpPort())
    assertRanCleanly(result)


def test_chargen_str_data_through_a_udp_simple_peer_arrives_as_bytes(runProgram, freeUdpPort):
    """1.x's SimplePeer example: Chargen sends the str "Hello World" for ever."""
    result = runProgram("udp_peers", "chargen", freeUdpPort())
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected("""
        received b'Hello World' from 127.0.0.1
        received b'Hello World' from 127.0.0.1
        received b'Hello World' from 127.0.0.1
        finished
        """)


def test_udp_request_client_gets_the_answer_after_its_data_source_has_finished(
        runProgram, freeUdpPort):
    """1.x peers ignore "control": the client peer of Pipeline(DataSource([b"ping"]),
    SimplePeer(...), Receiver) still receives the answer after the source's producerFinished."""
    result = runProgram("udp_peers", "echo", freeUdpPort())
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected("""
        received b'PING' from 127.0.0.1
        finished
        """)


def test_a_component_can_watch_its_own_socket_through_the_selector_service(
        runProgram, assertRanCleanly):
    """getSelectorServices, newReader (one-shot, asked again after each read), removeReader;
    the Selector then ends by itself after its idle time, and so does the program."""
    result = runProgram("selector_watcher")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        the selector handed back the socket itself: True
        read b'helloworld'
        finished
        """)
