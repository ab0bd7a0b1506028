"""Axon.CoordinatingAssistantTracker (spec 1.15): the process-wide registry of
services and tracked values. Tests/conftest.py gives each test a fresh one."""

import threading

import pytest

from Axon.AxonExceptions import (
    AccessToUndeclaredTrackedVariable,
    BadComponent,
    BadInbox,
    BadParentTracker,
    MultipleServiceDeletion,
    NamespaceClash,
    ServiceAlreadyExists,
)
from Axon.Component import component
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker as CAT
from Axon.Microprocess import microprocess


@pytest.fixture
def cat():
    return CAT()


def test_getcat_is_a_singleton():
    assert CAT.getcat() is CAT.getcat()
    assert CAT.getcat() is CAT.basecat
    assert isinstance(CAT.getcat(), CAT)


def test_getcat_creates_one_if_none_exists(monkeypatch):
    monkeypatch.setattr(CAT, "basecat", None)
    cat = CAT.getcat()
    assert isinstance(cat, CAT)
    assert CAT.getcat() is cat


def test_the_first_tracker_ever_created_becomes_basecat(monkeypatch):
    monkeypatch.setattr(CAT, "basecat", None)
    first = CAT()
    second = CAT()
    assert CAT.basecat is first
    assert CAT.getcat() is first
    assert second is not first


def test_getcat_from_many_threads_returns_one_tracker(monkeypatch):
    monkeypatch.setattr(CAT, "basecat", None)
    seen = []
    barrier = threading.Barrier(8)

    def grab():
        barrier.wait(5)
        seen.append(CAT.getcat())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(seen) == 8 and len(set(map(id, seen))) == 1


def test_microprocess_tracker_is_the_global_tracker():
    assert microprocess().tracker is CAT.getcat()


def test_parent_must_be_a_tracker():
    parent = CAT()
    child = CAT(parent)
    assert child.parent is parent and child._parent is parent
    assert CAT().parent is None and CAT()._parent is None
    with pytest.raises(BadParentTracker):
        CAT(parent="not a tracker")


def test_tracker_has_an_id_and_name():
    c = CAT()
    assert isinstance(c.id, int)
    assert c.name.endswith("_%d" % c.id)


def test_main_is_an_idle_generator_stub(cat):
    steps = list(cat.main())
    assert len(steps) <= 1


# -- services ------------------------------------------------------------------------


def test_register_and_retrieve_a_service(cat):
    c = component()
    cat.registerService("logger", c, "control")
    assert cat.retrieveService("logger") == (c, "control")
    assert cat.servicesRegistered() == ["logger"]


def test_registering_a_duplicate_service_raises_ServiceAlreadyExists(cat):
    c = component()
    cat.registerService("svc", c, "inbox")
    with pytest.raises(ServiceAlreadyExists):
        cat.registerService("svc", component(), "inbox")
    assert cat.retrieveService("svc") == (c, "inbox")


def test_registering_something_without_inboxes_raises_BadComponent(cat):
    with pytest.raises(BadComponent):
        cat.registerService("svc", object(), "inbox")
    assert cat.servicesRegistered() == []


def test_registering_a_missing_inbox_raises_BadInbox(cat):
    with pytest.raises(BadInbox):
        cat.registerService("svc", component(), "noSuchInbox")
    assert cat.servicesRegistered() == []


def test_retrieveService_of_an_unknown_name_raises_KeyError(cat):
    with pytest.raises(KeyError):
        cat.retrieveService("nobody")


def test_deRegisterService(cat):
    cat.registerService("svc", component(), "inbox")
    cat.deRegisterService("svc")
    assert cat.servicesRegistered() == []
    with pytest.raises(KeyError):
        cat.retrieveService("svc")
    with pytest.raises(MultipleServiceDeletion):
        cat.deRegisterService("svc")


def test_servicesRegistered_lists_every_name(cat):
    for name in ("a", "b", "c"):
        cat.registerService(name, component(), "inbox")
    assert sorted(cat.servicesRegistered()) == ["a", "b", "c"]


# -- tracked values ------------------------------------------------------------------------


def test_track_update_and_retrieve_a_value(cat):
    cat.trackValue("connections", 0)
    assert cat.retrieveValue("connections") == 0
    cat.updateValue("connections", 5)
    assert cat.retrieveValue("connections") == 5
    assert cat.informationItemsLogged() == ["connections"]


def test_trackValue_twice_raises_NamespaceClash(cat):
    cat.trackValue("x", 1)
    with pytest.raises(NamespaceClash):
        cat.trackValue("x", 2)
    assert cat.retrieveValue("x") == 1


def test_updateValue_of_an_undeclared_name_raises(cat):
    with pytest.raises(AccessToUndeclaredTrackedVariable):
        cat.updateValue("never", 1)
    assert cat.informationItemsLogged() == []


def test_retrieveValue_of_an_undeclared_name_raises(cat):
    with pytest.raises(AccessToUndeclaredTrackedVariable):
        cat.retrieveValue("never")


def test_services_and_values_are_separate_namespaces(cat):
    cat.trackValue("same", 1)
    cat.registerService("same", component(), "inbox")
    assert cat.retrieveValue("same") == 1
    assert cat.retrieveService("same")[1] == "inbox"


def test_zap_forgets_services_and_values(cat):
    cat.registerService("svc", component(), "inbox")
    cat.trackValue("v", 1)
    cat.zap()
    assert cat.servicesRegistered() == []
    assert cat.informationItemsLogged() == []
    cat.registerService("svc", component(), "inbox")
    cat.trackValue("v", 2)
    assert cat.retrieveValue("v") == 2


def test_trackers_are_independent(cat):
    other = CAT()
    cat.trackValue("only-here", 1)
    with pytest.raises(AccessToUndeclaredTrackedVariable):
        other.retrieveValue("only-here")
