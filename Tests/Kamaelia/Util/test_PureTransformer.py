"""Kamaelia.Util.PureTransformer: transformation, None dropping, and its shutdown set."""

from Axon.Ipc import producerFinished, shutdown, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.PureTransformer import PureTransformer


def test_sends_function_of_each_item_in_order():
    h = ComponentHarness(PureTransformer(lambda x: x * 10))
    for i in [1, 2, 3]:
        h.put(i)
    h.runUntilIdle()
    assert h.getAll("outbox") == [10, 20, 30]


def test_none_results_are_not_sent_but_other_falsy_results_are():
    h = ComponentHarness(PureTransformer(lambda x: None if x == "skip" else x))
    for item in ["a", "skip", 0, "", False]:
        h.put(item)
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a", 0, "", False]


def test_without_a_function_nothing_is_sent():
    h = ComponentHarness(PureTransformer())
    h.put("x")
    h.runUntilIdle()
    assert h.ready("outbox") == 0


def test_processMessage_can_be_overridden_in_a_subclass():
    class Upper(PureTransformer):
        def processMessage(self, msg):
            return msg.upper()

    h = ComponentHarness(Upper())
    h.put("shout")
    h.runUntilIdle()
    assert h.get("outbox") == "SHOUT"


def test_producerFinished_stops_it_and_a_new_producerFinished_from_itself_is_sent():
    t = PureTransformer(lambda x: x)
    h = ComponentHarness(t)
    received = producerFinished("someone else")
    h.put("last")
    h.put(received, "control")
    h.runUntilIdle()
    assert h.getAll("outbox") == ["last"]
    sent = h.get("signal")
    assert isinstance(sent, producerFinished) and sent is not received
    assert sent.caller is t
    assert h.finished


def test_legacy_shutdown_stops_it_too():
    h = ComponentHarness(PureTransformer(lambda x: x))
    h.put(shutdown(), "control")
    h.runUntilIdle()
    assert h.finished
    assert isinstance(h.get("signal"), producerFinished)


def test_shutdownMicroprocess_is_ignored_as_in_kamaelia_1():
    h = ComponentHarness(PureTransformer(lambda x: x))
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert not h.finished
    assert h.ready("signal") == 0
    h.put("still working")
    h.runUntilIdle()
    assert h.get("outbox") == "still working"


def test_sleeps_when_idle():
    h = ComponentHarness(PureTransformer(lambda x: x))
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished
