"""Kamaelia.Util.Introspector is Axon's Introspector under its Kamaelia name."""

from Axon.Introspector import Introspector as AxonIntrospector
from Axon.Ipc import shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Util.Introspector import Introspector


def test_is_a_subclass_that_reports_the_topology_and_stops_on_shutdown():
    assert issubclass(Introspector, AxonIntrospector)
    i = Introspector()
    h = ComponentHarness(i)
    h.runUntilIdle()
    output = "".join(h.getAll("outbox"))
    assert output.startswith("DEL ALL\n")
    assert 'ADD NODE "%s"' % i.id in output
    h.put(shutdownMicroprocess(), "control")
    h.advance(0.2)
    assert h.finished
