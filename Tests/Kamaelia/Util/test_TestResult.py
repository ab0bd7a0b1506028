"""Kamaelia.Util.TestResult (spec more-3.9): false messages and StopSystem raise, nothing else ends it."""

import threading

import pytest

from Axon import util
from Axon.AxonExceptions import AxonException
from Axon.Ipc import ipc, producerFinished, shutdownMicroprocess
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Util.TestResult import StopSystem, StopSystemException, TestResult


def test_the_boxes_are_those_of_1x():
    assert util.testInterface(TestResult(), (["inbox", "control"], ["outbox", "signal"]))


def test_StopSystem_is_an_ipc_message_and_its_exception_an_AxonException():
    assert isinstance(StopSystem(), ipc)
    assert issubclass(StopSystemException, AxonException)


def activated():
    checker = TestResult()
    checker.activate()
    checker.next()
    return checker


def test_by_hand_true_messages_keep_it_running():
    checker = activated()
    for i in range(1, 100):
        checker._deliver(i, "inbox")
        assert checker.next() == 1


@pytest.mark.parametrize("falseValue", [0, False, "", None, []])
def test_by_hand_a_false_message_raises_AssertionError_naming_the_component(falseValue):
    checker = activated()
    checker._deliver(falseValue, "inbox")
    with pytest.raises(AssertionError) as raised:
        checker.next()
    assert str(raised.value) == "false value message received by: %s" % checker


def test_by_hand_StopSystem_on_control_raises_StopSystemException():
    checker = activated()
    checker._deliver(StopSystem(), "control")
    with pytest.raises(StopSystemException) as raised:
        checker.next()
    assert raised.value.args == ("StopSystem request raised from TestResult",)


def test_StopSystemException_comes_out_of_the_running_scheduler():
    checker = TestResult()
    checker.activate()
    checker._deliver(StopSystem(), "control")
    # A deadline only: if the exception never came, runThreads would block for ever.
    watchdog = threading.Timer(5.0, scheduler.run.stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        with pytest.raises(StopSystemException):
            scheduler.run.runThreads()
    finally:
        watchdog.cancel()


def test_one_message_is_checked_per_step():
    checker = activated()
    checker._deliver(1, "inbox")
    checker._deliver(0, "inbox")
    checker.next()
    assert checker.dataReady("inbox") == 1
    with pytest.raises(AssertionError):
        checker.next()


def test_shutdown_messages_and_others_on_control_are_ignored():
    h = ComponentHarness(TestResult())
    for message in [producerFinished(), shutdownMicroprocess(), "stop?"]:
        h.put(message, "control")
    h.runUntilIdle()
    assert not h.finished
    assert h.component.dataReady("control") == 0


def test_it_never_sends_anything_and_sleeps_when_idle():
    h = ComponentHarness(TestResult())
    for i in range(1, 20):
        h.put(i)
    h.runUntilIdle()
    assert h.scheduler.isIdle() and not h.finished
    assert h.ready("outbox") == 0 and h.ready("signal") == 0


def test_in_a_harness_the_AssertionError_comes_out_of_the_run():
    h = ComponentHarness(TestResult())
    h.put("fine")
    h.put(0)
    with pytest.raises(AssertionError):
        h.runUntilIdle()
