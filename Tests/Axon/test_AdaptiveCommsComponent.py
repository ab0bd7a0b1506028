"""Axon.AdaptiveCommsComponent (spec 1.13): boxes added and removed at run
time, and tracking which boxes belong to which resource."""

import pytest

from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent, _AdaptiveCommsable
from Axon.Component import component
from Axon.idGen import numId


class Hub(AdaptiveCommsComponent):
    pass


def test_is_a_component_with_the_mixin_and_empty_stores():
    h = Hub()
    assert isinstance(h, component)
    assert isinstance(h, _AdaptiveCommsable)
    assert h._resourceStore == {}
    assert h._resourceLookup == {}


def test_kwargs_still_become_attributes():
    assert Hub(port=25).port == 25


def test_addInbox_with_a_free_name_keeps_it():
    h = Hub()
    assert h.addInbox("fresh") == "fresh"
    assert "fresh" in h.inboxes
    h._deliver("x", "fresh")
    assert h.dataReady("fresh") == 1
    assert h.recv("fresh") == "x"


def test_addInbox_default_name_and_suffix_from_the_global_counter():
    h = Hub()
    before = numId()
    name = h.addInbox()
    after = numId()
    assert name.startswith("inbox") and name != "inbox"
    assert before < int(name[len("inbox"):]) < after
    again = h.addInbox("inbox")
    assert again not in ("inbox", name) and again.startswith("inbox")
    assert {"inbox", name, again} <= set(h.inboxes)


def test_addOutbox_naming_and_use():
    h, target = Hub(), component()
    assert h.addOutbox("toClient") == "toClient"
    second = h.addOutbox("toClient")
    assert second.startswith("toClient") and int(second[len("toClient"):]) > 0
    default = h.addOutbox()
    assert default.startswith("outbox") and default != "outbox"
    h.link((h, second), (target, "inbox"))
    h.send("hello", second)
    assert target.recv() == "hello"


def test_delete_boxes_and_KeyError_when_absent():
    h = Hub()
    i = h.addInbox("tmpIn")
    o = h.addOutbox("tmpOut")
    h.deleteInbox(i)
    h.deleteOutbox(o)
    assert i not in h.inboxes and o not in h.outboxes
    with pytest.raises(KeyError):
        h.deleteInbox(i)
    with pytest.raises(KeyError):
        h.deleteOutbox("neverThere")


def test_a_deleted_name_can_be_added_again_unchanged():
    h = Hub()
    h.addInbox("again")
    h.deleteInbox("again")
    assert h.addInbox("again") == "again"


def test_deleting_a_box_does_not_remove_its_linkages():
    h, target = Hub(), component()
    o = h.addOutbox("temp")
    l = h.link((h, o), (target, "inbox"))
    h.deleteOutbox(o)
    assert h.postoffice.islinkageregistered(l) == 1


def test_added_inbox_delivery_wakes_the_owner(runScheduler):
    class Waiter(AdaptiveCommsComponent):
        def main(self):
            self.box = self.addInbox("dynamic")
            while not self.dataReady(self.box):
                self.pause()
                yield 1
            self.got = self.recv(self.box)

    w = Waiter().activate()

    class Sender(component):
        def main(self):
            yield 1
            w._deliver("dyn", "dynamic")

    Sender().activate()
    runScheduler()
    assert w.got == "dyn"


# -- resource tracking ------------------------------------------------------------------


def test_trackResource_and_retrieveTrackedResource():
    h = Hub()
    box = h.addInbox("fromClient")
    resource = object()
    h.trackResource(resource, box)
    assert h.retrieveTrackedResource(box) is resource


def test_trackResource_on_a_missing_inbox_is_a_KeyError():
    h = Hub()
    with pytest.raises(KeyError):
        h.trackResource(object(), "noSuchInbox")
    assert h._resourceLookup == {}


def test_retrieveTrackedResource_for_an_untracked_inbox_is_a_KeyError():
    with pytest.raises(KeyError):
        Hub().retrieveTrackedResource("inbox")


def test_trackResourceInformation_retrieve_and_cease():
    h = Hub()
    i = h.addInbox("in")
    o = h.addOutbox("out")
    resource = object()
    h.trackResourceInformation(resource, [i], [o], {"peer": "x"})
    assert h.retrieveTrackedResourceInformation(resource) == ([i], [o], {"peer": "x"})
    h.ceaseTrackingResource(resource)
    with pytest.raises(KeyError):
        h.retrieveTrackedResourceInformation(resource)


def test_trackResourceInformation_requires_every_box_to_exist():
    h = Hub()
    resource = object()
    with pytest.raises(KeyError):
        h.trackResourceInformation(resource, ["inbox", "missingIn"], [], None)
    with pytest.raises(KeyError):
        h.trackResourceInformation(resource, [], ["outbox", "missingOut"], None)
    with pytest.raises(KeyError):
        h.retrieveTrackedResourceInformation(resource)


def test_ceaseTrackingResource_of_an_unknown_resource_is_a_KeyError():
    with pytest.raises(KeyError):
        Hub().ceaseTrackingResource(object())


def test_the_docstring_attach_detach_example_runs_to_completion(runScheduler):
    class DocHub(AdaptiveCommsComponent):
        def attach(self, handler):
            out = self.addOutbox("toHandler")
            self.link((self, out), (handler, "inbox"))
            self.trackResourceInformation(handler, [], [out], None)
            return out

        def detach(self, handler):
            inboxes, outboxes, info = self.retrieveTrackedResourceInformation(handler)
            for box in outboxes:
                self.deleteOutbox(box)
            self.ceaseTrackingResource(handler)

        def main(self):
            handler = component()
            out = self.attach(handler)
            self.send("hello", out)
            yield 1
            self.detach(handler)
            self.delivered = handler.recv("inbox")
            yield 1

    hub = DocHub().activate()
    runScheduler()
    assert hub.delivered == "hello"
