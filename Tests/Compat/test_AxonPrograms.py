"""Plain Axon programs in the 1.x style run unchanged, with 1.x's output.

scheduler.stop() from a component (1.x's SystemShutdown example),
immortalise() (its Immortalise example), nested WaitComplete with
newComponent, and threaded components talking to each other. Each runs as
its own process; "finished" shows that the scheduler returned.
"""

import textwrap


def expected(text):
    return textwrap.dedent(text).lstrip("\n")


def test_scheduler_stop_from_a_component_stops_every_remaining_microprocess(
        runProgram, assertRanCleanly):
    result = runProgram("axon_programs", "shutdown")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        timer: time is up, stopping the system
        SLEEPER stop called
        SPINNER stop called
        finished
        """)


def test_immortalised_scheduler_stops_only_the_crashing_component(runProgram):
    result = runProgram("axon_programs", "immortal")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected("""
        counter 1
        counter 2
        counter 3
        counter 4
        counter 5
        finished
        """)
    assert "deliberate crash" in result.stderr


def test_nested_wait_complete_and_new_component_resume_where_they_were(runProgram, assertRanCleanly):
    result = runProgram("axon_programs", "waitcomplete")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        nested: start
          level 1: start
            level 2: start
              level 3: start
        counter 1
        counter 2
        counter 3
        counter 4
        counter 5
              level 3: end
            level 2: end
          level 1: end
        nested: back in main
        finished
        """)


def test_threaded_components_send_link_from_their_thread_and_pass_on_producerFinished(
        runProgram, assertRanCleanly):
    result = runProgram("axon_programs", "threaded")
    assertRanCleanly(result)
    assert result.stdout == expected("""
        square 0
        square 1
        square 4
        square 9
        printer told: producerFinished
        finished
        """)
