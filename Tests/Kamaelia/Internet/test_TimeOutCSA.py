"""TimeOutCSA's parts on the fake clock, and the chassis around a real CSA.

Pins what 1.x programs see: the names, class attributes and boxes of
ResettableSender, ActivityMonitor, PeriodicWakeup and WakeableIntrospector,
the boxes InactivityChassis exposes, and the two CSA-factory signatures.
"""

import socket

import pytest

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Internet.ConnectedSocketAdapter import ConnectedSocketAdapter
from Kamaelia.Internet.TimeOutCSA import (
                                          ActivityMonitor,
                                          EchoServer,
                                          ExtendedInactivity,
                                          InactivityChassis,
                                          NoActivityTimeout,
                                          PeriodicWakeup,
                                          ResettableSender,
                                          WakeableIntrospector,
)
from Kamaelia.IPC import shutdownCSA
from Kamaelia.Protocol.EchoProtocol import EchoProtocol


def test_resettable_sender_defaults_are_those_of_1x():
    assert (ResettableSender.timeout, ResettableSender.message, ResettableSender.debug) == \
        (5, "NEXT", False)


def test_resettable_sender_sends_its_message_after_timeout_quiet_seconds_and_ends():
    h = ComponentHarness(ResettableSender(timeout=3, message="BANG"))
    h.advance(2.9)
    assert not h.ready("outbox")
    h.advance(0.2)
    assert h.getAll("outbox") == ["BANG"]
    assert h.finished


def test_anything_on_its_inbox_restarts_the_countdown_and_control_is_ignored():
    h = ComponentHarness(ResettableSender(timeout=3))
    h.advance(2)
    h.put("RESET")
    h.put(shutdownMicroprocess(), "control")
    h.advance(2)
    assert not h.ready("outbox") and not h.finished
    h.advance(1.1)
    assert h.getAll("outbox") == ["NEXT"]


def test_activity_monitor_passes_three_paths_through_and_reports_each_message():
    h = ComponentHarness(ActivityMonitor())
    h.put("a", "inbox")
    h.put("b", "inbox2")
    h.put("c", "inbox3")
    h.runUntilIdle()
    assert (h.getAll("outbox"), h.getAll("outbox2"), h.getAll("outbox3")) == \
        (["a"], ["b"], ["c"])
    assert h.getAll("observed") == ["RESET"] * 3


@pytest.mark.parametrize("message", [producerFinished(), shutdownCSA(None, None)])
def test_activity_monitor_ends_on_producerFinished_or_shutdownCSA_and_forwards_it(message):
    h = ComponentHarness(ActivityMonitor())
    h.put(shutdownMicroprocess(), "control")
    h.runUntilIdle()
    assert not h.finished, "shutdownMicroprocess is not one of its shutdown messages"
    h.put(message, "control")
    h.runUntilIdle()
    assert h.finished and h.get("signal") is message


def test_periodic_wakeup_ticks_every_interval_until_told_to_stop():
    assert (PeriodicWakeup.interval, PeriodicWakeup.message) == (300, "tick")
    h = ComponentHarness(PeriodicWakeup(interval=10, message="wake"))
    h.advance(35)
    assert h.getAll("outbox") == ["wake"] * 3
    stop = producerFinished()
    h.put(stop, "control")
    h.runUntilIdle()
    assert h.finished and h.get("signal") is stop
    h.advance(100)
    assert not h.ready("outbox")


def test_a_periodic_wakeup_stopped_from_outside_stops_ticking():
    """stop() (not a control message): its timer must not fire into a stopped component."""
    wakeup = PeriodicWakeup(interval=10)
    h = ComponentHarness(wakeup)
    h.advance(15)
    wakeup.stop()
    h.advance(50)
    assert h.finished
    assert h.scheduler.nextTimerDue() is None


class Lingerer(component):
    """Runs until told to stop on "control"."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


def test_wakeable_introspector_lists_components_and_ends_when_only_monitoring_is_left():
    other = Lingerer()
    introspector = WakeableIntrospector()
    h = ComponentHarness(introspector)
    other.activate(h.scheduler)
    h.put("wake up")
    h.runUntilIdle()
    names = h.get("outbox")
    assert names == sorted([other.name, introspector.name])
    assert not h.finished
    other._deliver("stop", "control")
    h.runUntilIdle()
    h.put("wake up")
    h.runUntilIdle()
    assert h.getAll("outbox")[-1] == [introspector.name]
    assert h.finished and isinstance(h.get("signal"), producerFinished)


def test_inactivity_chassis_looks_like_a_csa_from_outside():
    """The Graphline exposes the CSA's boxes, so a TCPServer can wire it as a CSA."""
    mine, theirs = socket.socketpair()
    chassis = InactivityChassis(ConnectedSocketAdapter(mine), timeout=2)
    assert isinstance(chassis, Graphline)
    for box in ("inbox", "control", "ReadReady", "SendReady"):
        assert box in chassis.inboxes
    for box in ("outbox", "CreatorFeedback", "signal"):
        assert box in chassis.outboxes
    mine.close()
    theirs.close()


def test_a_quiet_connection_is_closed_after_the_timeout_and_activity_postpones_it():
    mine, theirs = socket.socketpair()
    chassis = InactivityChassis(ConnectedSocketAdapter(mine), timeout=2)
    h = ComponentHarness(chassis)
    h.advance(1.5)
    h.put(b"hello")            # to the socket: activity
    h.advance(1.5)
    assert theirs.recv(10) == b"hello"
    assert not h.finished, "activity restarted the countdown"
    h.advance(1)
    assert h.finished
    theirs.settimeout(5)
    assert theirs.recv(10) == b"", "the CSA closed the connection"
    assert h.ready("CreatorFeedback") == 1
    theirs.close()


def test_NoActivityTimeout_makes_a_TCPServer_CSA_factory_taking_the_server_first():
    made = NoActivityTimeout(ConnectedSocketAdapter, timeout=7)
    mine, theirs = socket.socketpair()
    chassis = made("the server", mine, None)
    assert isinstance(chassis, Graphline)
    assert chassis.components["SHUTTERDOWNER"].timeout == 7
    assert isinstance(chassis.components["OBJ"], ConnectedSocketAdapter)
    mine.close()
    theirs.close()


def test_ExtendedInactivity_takes_timeout_per_call():
    made = ExtendedInactivity(ConnectedSocketAdapter)
    mine, theirs = socket.socketpair()
    chassis = made(9, False, mine, None)
    assert chassis.components["SHUTTERDOWNER"].timeout == 9
    mine.close()
    theirs.close()


def test_echo_server_class_attributes():
    assert EchoServer.port == 1500 and EchoServer.protocol is EchoProtocol
    assert EchoServer.socketOptions == (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    assert callable(EchoServer.TCPS.CSA)
