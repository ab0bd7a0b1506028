"""Chassis and components driven by hand, the way Kamaelia 1.x's own tests drive them.

1.x tests do not use a harness: they ``activate()`` a component and call
its ``next()`` (or step ``scheduler.run.main()``) a number of times, put
messages in with ``_deliver(msg, box)``, and read ``len()`` of boxes and
``dataReady()`` counts. These tests do the same, so a port that only works
under ``runThreads()`` or ``Axon.Testing`` fails them.
"""

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Kamaelia.Chassis.Carousel import Carousel
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.PassThrough import PassThrough
from Kamaelia.Util.PureTransformer import PureTransformer

CYCLES = 50


class Dummy(component):
    """Does nothing: a place for messages to arrive (and for tests to read them)."""

    Inboxes = ["inbox", "control"]
    Outboxes = ["outbox", "signal"]

    def main(self):
        while 1:
            self.pause()
            yield 1


def stepScheduler(run, cycles=CYCLES):
    for _ in range(cycles):
        try:
            next(run)
        except StopIteration:
            return


def test_pipeline_stepped_through_scheduler_main_passes_data_and_shutdown_down_the_line():
    first, second = PassThrough(), PassThrough()
    sink = Dummy()
    p = Pipeline(first, second).activate()
    sink.activate()
    p.link((p, "outbox"), (sink, "inbox"))
    p.link((p, "signal"), (sink, "control"))
    run = scheduler.run.main()
    stepScheduler(run)
    p._deliver("hello", "inbox")
    assert first.dataReady("inbox") == 1  # passed straight through to the first child
    stepScheduler(run)
    assert len(sink.inboxes["inbox"]) == 1 and sink.recv("inbox") == "hello"
    finished = producerFinished()
    p._deliver(finished, "control")
    stepScheduler(run)
    assert sink.recv("control") is finished
    assert first._isStopped() and second._isStopped() and p._isStopped()


def test_len_of_a_linked_outbox_counts_what_waits_at_the_final_destination():
    transformer = PureTransformer(lambda x: x * 2)
    sink = Dummy()
    transformer.link((transformer, "outbox"), (sink, "inbox"))
    transformer.activate()
    for item in (1, 2, 3):
        transformer._deliver(item, "inbox")
    assert transformer.dataReady("inbox") == 3
    for _ in range(5):
        transformer.next()
    assert len(transformer.outboxes["outbox"]) == 3
    assert [sink.recv("inbox") for _ in range(3)] == [2, 4, 6]
    assert len(transformer.outboxes["outbox"]) == 0


def test_pass_through_driven_by_next_forwards_then_ends_with_stop_iteration():
    p = PassThrough()
    out, sig = Dummy(), Dummy()
    p.link((p, "outbox"), (out, "inbox"))
    p.link((p, "signal"), (sig, "control"))
    p.activate()
    p._deliver("data", "inbox")
    stop = shutdownMicroprocess()
    p._deliver(stop, "control")
    with pytest.raises(StopIteration):
        for _ in range(20):
            p.next()
    assert out.recv("inbox") == "data"
    assert sig.recv("control") is stop


def test_graphline_stepped_by_hand_links_children_and_exposes_their_boxes():
    a, b = PassThrough(), PassThrough()
    g = Graphline(A=a, B=b, linkages={
        ("self", "inbox"): ("A", "inbox"),
        ("A", "outbox"): ("B", "inbox"),
        ("B", "outbox"): ("self", "outbox"),
        ("self", "control"): ("A", "control"),
        ("A", "signal"): ("B", "control"),
        ("B", "signal"): ("self", "signal"),
    })
    sink = Dummy()
    g.link((g, "outbox"), (sink, "inbox"))
    g.link((g, "signal"), (sink, "control"))
    g.activate()
    sink.activate()
    run = scheduler.run.main()
    stepScheduler(run)
    g._deliver("through", "inbox")
    stepScheduler(run)
    assert sink.dataReady("inbox") == 1
    assert len(g.outboxes["outbox"]) == 1
    finished = producerFinished()
    g._deliver(finished, "control")
    stepScheduler(run)
    assert sink.recv("control") is finished
    assert sink.dataReady("control") == 0  # the signal is linked: the Graphline adds nothing
    assert g._isStopped()


def test_carousel_stepped_by_hand_makes_a_child_per_next_and_asks_for_more():
    made = []

    def factory(arg):
        child = PassThrough()
        made.append((arg, child))
        return child

    c = Carousel(factory)
    requests, output = Dummy(), Dummy()
    c.link((c, "requestNext"), (requests, "inbox"))
    c.link((c, "outbox"), (output, "inbox"))
    c.activate()
    requests.activate()
    output.activate()
    run = scheduler.run.main()
    c._deliver("first", "next")
    stepScheduler(run)
    assert [arg for arg, _ in made] == ["first"]
    c._deliver("data", "inbox")
    stepScheduler(run)
    assert output.recv("inbox") == "data"
    made[0][1]._deliver(producerFinished(), "control")
    stepScheduler(run)
    assert requests.recv("inbox") == "NEXT"
