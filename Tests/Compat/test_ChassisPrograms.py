"""Kamaelia 1.x programs built from the chassis run unchanged, with 1.x's output.

Each test runs one program from ``programs/`` as its own process (as a
user would) and compares everything it prints with what Kamaelia 1.x
prints for it. "finished" at the end shows that ``run()`` returned: the
shutdown reached every component and the chassis ended.
"""

import textwrap


def expected(text):
    return textwrap.dedent(text).lstrip("\n")


def test_producerFinished_travels_a_graphline_chain_and_the_graphline_then_says_producerFinished(
        runProgram, assertRanCleanly):
    result = runProgram("graphline_chain", "finished")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        one
        two
        three
        A data 'one\\n'
        A data 'two\\n'
        A data 'three\\n'
        A control producerFinished
        B data 'one\\n'
        B data 'two\\n'
        B data 'three\\n'
        B control producerFinished
        GRAPHLINE-SIGNAL data 'one\\n'
        GRAPHLINE-SIGNAL data 'two\\n'
        GRAPHLINE-SIGNAL data 'three\\n'
        GRAPHLINE-SIGNAL control producerFinished
        caller of the Graphline's producerFinished: None
        finished
        """)


def test_shutdownMicroprocess_to_a_graphline_reaches_every_child_and_comes_out_of_its_signal(
        runProgram, assertRanCleanly):
    result = runProgram("graphline_chain", "forwarded")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        A data 'x'
        A data 'y'
        A control shutdownMicroprocess
        B data 'x'
        B data 'y'
        B control shutdownMicroprocess
        GRAPHLINE-SIGNAL data 'x'
        GRAPHLINE-SIGNAL data 'y'
        GRAPHLINE-SIGNAL control shutdownMicroprocess
        the Graphline passed on the very message sent: True
        finished
        """)


def test_a_graphline_inside_a_graphline_forwards_the_shutdown_on_and_both_pass_it_out(
        runProgram, assertRanCleanly):
    result = runProgram("graphline_chain", "nested")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        GRAPHLINE-SIGNAL data 'x'
        GRAPHLINE-SIGNAL data 'y'
        GRAPHLINE-SIGNAL control shutdownMicroprocess
        INNER-A data 'x'
        INNER-A data 'y'
        INNER-A control shutdownMicroprocess
        the outer Graphline passed on the very message sent: True
        finished
        """)


def test_a_graphline_routing_its_control_through_children_passes_the_message_along_that_route(
        runProgram, assertRanCleanly):
    result = runProgram("graphline_chain", "routed")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        A data 'x'
        A data 'y'
        A control shutdownMicroprocess
        B data 'x'
        B data 'y'
        B control shutdownMicroprocess
        GRAPHLINE-SIGNAL data 'x'
        GRAPHLINE-SIGNAL data 'y'
        GRAPHLINE-SIGNAL control shutdownMicroprocess
        the Graphline passed on the very message sent: True shutdownMicroprocess
        finished
        """)


def test_a_par_of_pipelines_merges_their_output_and_signals_then_says_producerFinished(
        runProgram, assertRanCleanly):
    result = runProgram("par_pipeline_shutdown", "finished")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        END control producerFinished
        END control producerFinished
        END control producerFinished
        LEFT data ('left', 1)
        LEFT data ('left', 2)
        LEFT data ('left', 3)
        LEFT control producerFinished
        RIGHT data ('right', 1)
        RIGHT data ('right', 2)
        RIGHT control producerFinished
        left arrived in order: [('left', 1), ('left', 2), ('left', 3)]
        right arrived in order: [('right', 1), ('right', 2)]
        last signal from the PAR itself: producerFinished None
        finished
        """)


def test_shutdownMicroprocess_into_a_pipeline_reaches_every_component_inside_a_nested_par(
        runProgram, assertRanCleanly):
    result = runProgram("par_pipeline_shutdown", "stopped")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        END control shutdownMicroprocess
        P1-A control shutdownMicroprocess
        P1-B control shutdownMicroprocess
        P2 control shutdownMicroprocess
        END got the message that was sent: True
        finished
        """)


def test_seq_prints_its_strings_in_turn_and_runs_each_component_after_the_last(
        runProgram, assertRanCleanly):
    result = runProgram("seq_carousel", "seq")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        Greeting...
        hello
        Middle...
        a
        b
        Done.
        finished
        """)


def test_carousel_asks_for_each_next_child_and_finishes_after_producerFinished(
        runProgram, assertRanCleanly):
    result = runProgram("seq_carousel", "carousel")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        child made from first
        child made from second
        child made from third
        NAMESERVER request 'NEXT'
        NAMESERVER request 'NEXT'
        NAMESERVER request 'NEXT'
        NAMESERVER request 'NEXT'
        finished
        """)


def test_backplane_delivers_to_every_subscriber_and_its_shutdown_reaches_them_all(
        runProgram, assertRanCleanly):
    result = runProgram("backplane_news")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        SUB1 data 'extra'
        SUB1 data 'extra'
        SUB1 data 'read all about it'
        SUB1 control producerFinished
        SUB2 data 'extra'
        SUB2 data 'extra'
        SUB2 data 'read all about it'
        SUB2 control producerFinished
        SUB2-TRACE data 'extra'
        SUB2-TRACE data 'extra'
        SUB2-TRACE data 'read all about it'
        SUB2-TRACE control producerFinished
        finished
        """)
