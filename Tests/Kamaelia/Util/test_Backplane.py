"""Kamaelia.Util.Backplane: publish/subscribe by name, services, shutdown, deprecated names."""

import pytest

from Axon.AxonExceptions import ServiceAlreadyExists
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning
from Kamaelia.Util.Backplane import Backplane, PublishTo, SubscribeTo, publishTo, subscribeTo
from Kamaelia.Util.DataSource import DataSource
from Kamaelia.Util.Splitter import PlugSplitter


def services():
    return set(coordinatingassistanttracker.getcat().servicesRegistered())


def start(h, *components):
    for c in components:
        c.activate(h.scheduler)
    h.runUntilIdle()


def subscriber(parts, name):
    """A SubscribeTo feeding a Recorder; returns (subscription, recorder)."""
    sub = SubscribeTo(name)
    rec = parts.Recorder()
    sub.link((sub, "outbox"), (rec, "inbox"))
    sub.link((sub, "signal"), (rec, "control"))
    return sub, rec


def test_backplane_registers_its_two_services_and_takes_the_name():
    bp = Backplane("NEWS")
    assert bp.name == "NEWS"
    cat = coordinatingassistanttracker.getcat()
    inbound = cat.retrieveService("Backplane_I_NEWS")
    outbound = cat.retrieveService("Backplane_O_NEWS")
    assert isinstance(inbound[0], PlugSplitter) and inbound[0] is outbound[0]
    assert (inbound[1], outbound[1]) == ("inbox", "configuration")


def test_a_duplicate_name_raises_and_leaves_the_first_backplane_alone():
    first = Backplane("DUP")
    with pytest.raises(ServiceAlreadyExists):
        Backplane("DUP")
    cat = coordinatingassistanttracker.getcat()
    assert cat.retrieveService("Backplane_I_DUP")[0] is first.splitter
    assert cat.retrieveService("Backplane_O_DUP")[0] is first.splitter


def test_every_subscriber_gets_everything_published(parts):
    h = ComponentHarness(Backplane("NEWS"))
    subs = [subscriber(parts, "NEWS") for _ in range(3)]
    for sub, rec in subs:
        start(h, sub, rec)
    pub1, pub2 = PublishTo("NEWS"), PublishTo("NEWS")
    start(h, pub1, pub2)
    pub1._deliver("from one")
    pub2._deliver("from two")
    h.runUntilIdle()
    for _, rec in subs:
        assert rec.seen == ["from one", "from two"]


def test_publishto_links_its_inbox_straight_to_the_backplane(parts):
    h = ComponentHarness(Backplane("DIRECT"))
    sub, rec = subscriber(parts, "DIRECT")
    pub = PublishTo("DIRECT")
    start(h, sub, rec, pub)
    pub._deliver("x")
    assert pub.dataReady("inbox") == 0
    h.runUntilIdle()
    assert rec.seen == ["x"]


def test_publishto_forwarder_also_sends_on_its_outbox(parts):
    h = ComponentHarness(Backplane("FWD"))
    sub, rec = subscriber(parts, "FWD")
    pub = PublishTo("FWD", forwarder=True)
    after = parts.Recorder()
    pub.link((pub, "outbox"), (after, "inbox"))
    start(h, sub, rec, pub, after)
    pub._deliver("both ways")
    h.runUntilIdle()
    assert rec.seen == ["both ways"]
    assert after.seen == ["both ways"]


def test_publishto_forwards_control_and_stops_without_stopping_the_backplane(parts):
    h = ComponentHarness(Backplane("KEEP"))
    sub, rec = subscriber(parts, "KEEP")
    pub = PublishTo("KEEP")
    signals = parts.Recorder()
    pub.link((pub, "signal"), (signals, "control"))
    start(h, sub, rec, pub, signals)
    pub._deliver("hello", "control")
    h.runUntilIdle()
    assert signals.controls == ["hello"] and not pub._isStopped()
    pub._deliver(producerFinished(), "control")
    h.runUntilIdle()
    assert pub._isStopped()
    assert not h.finished and not sub._isStopped()
    second = PublishTo("KEEP")
    start(h, second)
    second._deliver("still up")
    h.runUntilIdle()
    assert rec.seen == ["still up"]


def test_publishing_to_an_unknown_backplane_is_a_KeyError():
    h = ComponentHarness(PublishTo("NOWHERE"))
    with pytest.raises(KeyError):
        h.runUntilIdle()


def test_subscribing_to_an_unknown_backplane_is_a_KeyError():
    h = ComponentHarness(SubscribeTo("NOWHERE"))
    with pytest.raises(KeyError):
        h.runUntilIdle()


def test_a_subscriber_gets_only_what_is_published_after_it_plugged_in(parts):
    h = ComponentHarness(Backplane("LATE"))
    pub = PublishTo("LATE")
    early, earlyRec = subscriber(parts, "LATE")
    start(h, pub, early, earlyRec)
    pub._deliver("before")
    h.runUntilIdle()
    late, lateRec = subscriber(parts, "LATE")
    start(h, late, lateRec)
    pub._deliver("after")
    h.runUntilIdle()
    assert earlyRec.seen == ["before", "after"]
    assert lateRec.seen == ["after"]


def test_a_subscriber_that_is_told_to_stop_unsubscribes(parts):
    bp = Backplane("UNSUB")
    h = ComponentHarness(bp)
    sub, rec = subscriber(parts, "UNSUB")
    other, otherRec = subscriber(parts, "UNSUB")
    pub = PublishTo("UNSUB")
    start(h, sub, rec, other, otherRec, pub)
    sinksWithBoth = len(bp.splitter.outboxes)
    stop = shutdownMicroprocess()
    sub._deliver(stop, "control")
    h.runUntilIdle()
    assert sub._isStopped()
    assert rec.controls == [stop]
    assert len(bp.splitter.outboxes) == sinksWithBoth - 2
    pub._deliver("only other")
    h.runUntilIdle()
    assert rec.seen == [] and otherRec.seen == ["only other"]


def test_shutting_the_backplane_down_ends_its_subscribers_and_deregisters_it(parts):
    bp = Backplane("BYE")
    h = ComponentHarness(bp)
    subs = [subscriber(parts, "BYE") for _ in range(2)]
    for sub, rec in subs:
        start(h, sub, rec)
    finished = producerFinished()
    h.put(finished, "control")
    h.runUntilIdle()
    assert h.finished
    assert h.getAll("signal") == [finished]
    for sub, rec in subs:
        assert sub._isStopped()
        assert rec.controls == [finished]
    assert not {"Backplane_I_BYE", "Backplane_O_BYE"} & services()
    Backplane("BYE")                     # the name can be used again


def test_a_stopped_backplane_deregisters_too():
    bp = Backplane("STOPPED")
    h = ComponentHarness(bp)
    h.runUntilIdle()
    bp.stop()
    h.runUntilIdle()
    assert not {"Backplane_I_STOPPED", "Backplane_O_STOPPED"} & services()


def test_pipelines_publish_and_subscribe_end_to_end(parts):
    h = ComponentHarness(Backplane("PIPE"))
    rec = parts.Recorder()
    start(h, Pipeline(SubscribeTo("PIPE"), rec))
    start(h, Pipeline(DataSource(["a", "b"]), PublishTo("PIPE")))
    assert rec.seen == ["a", "b"]


def test_lowercase_names_are_deprecated_but_work():
    Backplane("OLD")
    with pytest.warns(KamaeliaDeprecationWarning):
        assert isinstance(publishTo("OLD"), PublishTo)
    with pytest.warns(KamaeliaDeprecationWarning):
        assert isinstance(subscribeTo("OLD"), SubscribeTo)
