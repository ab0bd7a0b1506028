"""Axon.Linkage (spec 1.10): what a linkage describes and which boxes it names."""

import pytest

from Axon.Component import component
from Axon.Linkage import linkage
from Axon.Postoffice import postoffice


class Node(component):
    pass


@pytest.fixture
def pair():
    return Node(), Node()


def test_defaults_and_attributes(pair):
    a, b = pair
    l = linkage(a, b)
    assert l.source is a and l.sink is b
    assert l.sourcebox == "outbox" and l.sinkbox == "inbox"
    assert l.passthrough == 0
    assert l.pipewidth is None
    assert l.synchronous is None


def test_constructing_a_linkage_does_not_connect_boxes(pair):
    a, b = pair
    linkage(a, b)
    assert a.outboxes["outbox"].target is None
    a.send("x", "outbox")
    assert b.dataReady("inbox") == 0


def test_sourcePair_and_sinkPair(pair):
    a, b = pair
    l = linkage(a, b, "signal", "control")
    assert l.sourcePair() == (a, "signal")
    assert l.sinkPair() == (b, "control")


def test_passthrough_0_is_outbox_to_inbox(pair):
    a, b = pair
    l = linkage(a, b, "outbox", "inbox", passthrough=0)
    assert l.getSourcebox() is a.outboxes["outbox"]
    assert l.getSinkbox() is b.inboxes["inbox"]


def test_passthrough_1_is_inbox_to_inbox(pair):
    a, b = pair
    l = linkage(a, b, "inbox", "control", passthrough=1)
    assert l.getSourcebox() is a.inboxes["inbox"]
    assert l.getSinkbox() is b.inboxes["control"]


def test_passthrough_2_is_outbox_to_outbox(pair):
    a, b = pair
    l = linkage(a, b, "outbox", "signal", passthrough=2)
    assert l.getSourcebox() is a.outboxes["outbox"]
    assert l.getSinkbox() is b.outboxes["signal"]


@pytest.mark.parametrize("passthrough", [0, 1, 2])
def test_a_bad_box_name_gives_KeyError(pair, passthrough):
    a, b = pair
    with pytest.raises(KeyError):
        linkage(a, b, "nosuchbox", "inbox" if passthrough < 2 else "outbox",
                passthrough=passthrough).getSourcebox()
    with pytest.raises(KeyError):
        linkage(a, b, "inbox" if passthrough == 1 else "outbox", "nosuchbox",
                passthrough=passthrough).getSinkbox()


def test_linking_with_a_bad_box_name_raises_KeyError_and_links_nothing(pair):
    a, b = pair
    with pytest.raises(KeyError):
        a.link((a, "outbox"), (b, "inbox,"))
    assert a.outboxes["outbox"].target is None
    assert a.postoffice.linkages == []


def test___str___format(pair):
    a, b = pair
    l = linkage(a, b, "signal", "control")
    assert str(l) == "Link( source:[%s,signal], sink:[%s,control] )" % (a.name, b.name)


def test_short_str_mentions_both_ends(pair):
    a, b = pair
    s = linkage(a, b, "outbox", "control").short_str()
    assert isinstance(s, str)
    assert a.name in s and b.name in s and "control" in s


def test_pipewidth_limits_the_sink_box(pair):
    a, b = pair
    postoffice().link((a, "outbox"), (b, "inbox"), pipewidth=3)
    assert b.inboxes["inbox"].getSize() == 3


def test_synchronous_without_pipewidth_limits_the_sink_to_one(pair):
    a, b = pair
    postoffice().link((a, "outbox"), (b, "inbox"), synchronous=True)
    assert b.inboxes["inbox"].getSize() == 1


def test_constructing_a_linkage_with_pipewidth_sets_the_sink_size_without_linking(pair):
    """1.x applied pipewidth/synchronous in the linkage's constructor; the
    boxes are joined only when the linkage is registered."""
    a, b = pair
    l = linkage(a, b, pipewidth=2)
    assert l.pipewidth == 2
    assert b.inboxes["inbox"].getSize() == 2
    assert a.outboxes["outbox"].target is None
    linkage(a, b, "signal", "control", synchronous=True)
    assert b.inboxes["control"].getSize() == 1


def test_an_ordinary_link_leaves_the_sink_unlimited(pair):
    a, b = pair
    postoffice().link((a, "outbox"), (b, "inbox"))
    assert b.inboxes["inbox"].getSize() is None


def test_setSynchronous_sets_the_sink_size(pair):
    a, b = pair
    l = linkage(a, b)
    l.setSynchronous()
    assert b.inboxes["inbox"].getSize() == 1
    l.setSynchronous(4)
    assert b.inboxes["inbox"].getSize() == 4


def test_setShowTransit_traces_the_linkages_source_box(pair, caplog):
    import logging
    a, b = pair
    l = a.link((a, "outbox"), (b, "inbox"))
    l.setShowTransit(True, "LINKTAG")
    try:
        with caplog.at_level(logging.DEBUG, logger="Axon.Box"):
            a.send("through-link", "outbox")
    finally:
        l.setShowTransit(False)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "LINKTAG" in text and "through-link" in text
    assert b.recv("inbox") == "through-link"
