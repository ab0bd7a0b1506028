"""Axon.Postman (spec more-3.0): the pre-2007 postman interface over immediate delivery."""

import pytest

from Axon.AxonExceptions import noSpaceInBox
from Axon.Component import component
from Axon.Linkage import linkage
from Axon.Postman import postman


class Node(component):
    pass


@pytest.fixture
def pair():
    return Node(), Node()


def test_registerlinkage_returns_the_linkage_given_and_makes_it_live(pair):
    a, b = pair
    courier = postman()
    given = linkage(source=a, sink=b, sourcebox="outbox", sinkbox="inbox")
    assert courier.registerlinkage(given) is given
    a.send("hello", "outbox")
    assert b.recv("inbox") == "hello"


def test_a_linkage_that_is_not_registered_delivers_nothing(pair):
    a, b = pair
    postman()
    linkage(source=a, sink=b)
    a.send("lost", "outbox")
    assert b.dataReady("inbox") == 0


def test_domessagedelivery_is_harmless_and_messages_are_already_there(pair):
    a, b = pair
    courier = postman()
    courier.registerlinkage(linkage(a, b, "signal", "control"))
    a.send("one", "signal")
    assert b.dataReady("control") == 1
    assert courier.domessagedelivery() is None
    assert b.dataReady("control") == 1
    assert b.recv("control") == "one"


def test_activate_does_nothing_but_return_the_postman():
    courier = postman()
    assert courier.activate() is courier


def test_pipewidth_limits_the_sink_box_and_a_linked_outbox_reports_its_length(pair):
    """len() of a linked outbox counts what waits in the destination (1.x tests rely on it)."""
    a, b = pair
    postman().registerlinkage(linkage(source=a, sink=b, sourcebox="outbox", sinkbox="inbox",
                                      pipewidth=2))
    a.send(1, "outbox")
    a.send(2, "outbox")
    assert len(a.outboxes["outbox"]) == 2
    assert len(b.inboxes["inbox"]) == 2
    with pytest.raises(noSpaceInBox):
        a.send(3, "outbox")
    b.recv("inbox")
    a.send(3, "outbox")
    assert [b.recv("inbox"), b.recv("inbox")] == [2, 3]


def test_synchronous_without_pipewidth_limits_the_sink_to_one(pair):
    a, b = pair
    postman().registerlinkage(linkage(a, b, synchronous=True))
    a.send(1, "outbox")
    with pytest.raises(noSpaceInBox):
        a.send(2, "outbox")


def test_passthrough_linkage_inbox_to_inbox(pair):
    a, b = pair
    postman().registerlinkage(linkage(a, b, "inbox", "inbox", passthrough=1))
    a.inboxes["inbox"].append("through")
    assert b.recv("inbox") == "through"


def test_deregisterlinkage_of_one_linkage_disconnects_it(pair):
    a, b = pair
    courier = postman()
    given = courier.registerlinkage(linkage(a, b))
    assert courier.islinkageregistered(given) == 1
    courier.deregisterlinkage(thelinkage=given)
    assert courier.islinkageregistered(given) == 0
    a.send("after", "outbox")
    assert b.dataReady("inbox") == 0


def test_deregisterlinkage_of_a_component_removes_every_linkage_touching_it():
    a, b, c = Node(), Node(), Node()
    courier = postman()
    ab = courier.registerlinkage(linkage(a, b))
    ca = courier.registerlinkage(linkage(c, a, "signal", "control"))
    bc = courier.registerlinkage(linkage(b, c))
    courier.deregisterlinkage(thecomponent=a)
    assert list(courier.linkages) == [bc]
    assert courier.islinkageregistered(ab) == 0 and courier.islinkageregistered(ca) == 0
    b.send("still linked", "outbox")
    assert c.recv("inbox") == "still linked"


def test_deregistering_a_linkage_never_registered_is_ignored(pair):
    a, b = pair
    courier = postman()
    kept = courier.registerlinkage(linkage(a, b))
    courier.deregisterlinkage(thelinkage=linkage(a, b, "signal", "control"))
    assert courier.islinkageregistered(kept) == 1


class OldBox(object):
    """A box double with only the 1.x interface: ``addsource(source)``, no ``quiet=``."""

    def __init__(self):
        self.sources = []

    def addsource(self, source):
        self.sources.append(source)

    def setSize(self, size):
        self.size = size


class OldComponent(object):
    def __init__(self):
        self.inboxes = {"inbox": OldBox()}
        self.outboxes = {"outbox": OldBox()}


def test_a_1x_style_box_double_is_linked_without_the_quiet_keyword():
    a, b = OldComponent(), OldComponent()
    postman().registerlinkage(linkage(a, b))
    assert b.inboxes["inbox"].sources == [a.outboxes["outbox"]]


def test_a_quiet_linkage_stays_quiet(pair):
    """wakeProducer=False (a port addition) is honoured: a recv does not wake the producer."""
    a, b = pair
    postman().registerlinkage(linkage(a, b, wakeProducer=False))
    assert a.outboxes["outbox"]._quiet
