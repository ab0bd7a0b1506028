"""Axon.Postoffice (spec 1.11): making, recording and removing links."""

from Axon.Component import component
from Axon.Linkage import linkage
from Axon.Postoffice import postoffice


class Node(component):
    pass


class Sleeper(component):
    """Pauses until something arrives on control, then ends."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1


def test_construction_and_debugname():
    po = postoffice("myname")
    assert po.linkages == []
    assert po.debugname == "myname:debug "
    assert postoffice().debugname == ""


def test___str___format():
    a, b = Node(), Node()
    po = postoffice("P")
    assert str(po) == "{{ POSTOFFICE: P:debug links [] }}"
    l = po.link((a, "outbox"), (b, "inbox"))
    assert str(po) == "{{ POSTOFFICE: P:debug links [%s] }}" % (l,)


def test_link_returns_a_recorded_linkage_and_connects_the_boxes():
    a, b = Node(), Node()
    po = postoffice()
    l = po.link((a, "outbox"), (b, "inbox"))
    assert isinstance(l, linkage)
    assert l.sourcePair() == (a, "outbox") and l.sinkPair() == (b, "inbox")
    assert po.linkages == [l]
    assert po.islinkageregistered(l) == 1
    a.send("hi", "outbox")
    assert b.recv("inbox") == "hi"


def test_link_passes_passthrough_and_pipewidth_on():
    parent, child = Node(), Node()
    po = postoffice()
    po.link((parent, "inbox"), (child, "inbox"), passthrough=1)
    po.link((child, "outbox"), (parent, "outbox"), passthrough=2)
    po.link((parent, "control"), (child, "control"), 1, None)  # positional passthrough
    parent._deliver("down", "inbox")
    parent._deliver("ctl", "control")
    assert child.recv("inbox") == "down"
    assert child.recv("control") == "ctl"
    sink = Node()
    po.link((parent, "outbox"), (sink, "inbox"), pipewidth=2)
    child.send("up", "outbox")
    assert sink.recv("inbox") == "up"
    assert sink.inboxes["inbox"].getSize() == 2


def test_unlink_by_linkage_disconnects_and_forgets_it():
    a, b = Node(), Node()
    po = postoffice()
    l = po.link((a, "outbox"), (b, "inbox"))
    po.unlink(thelinkage=l)
    assert po.islinkageregistered(l) == 0
    a.send("dropped", "outbox")
    assert b.dataReady("inbox") == 0


def test_unlink_of_an_unknown_linkage_is_silently_ignored():
    a, b = Node(), Node()
    mine, other = postoffice(), postoffice()
    l = other.link((a, "outbox"), (b, "inbox"))
    mine.unlink(thelinkage=l)
    mine.unlink(thelinkage=linkage(a, b))
    a.send("still linked", "outbox")
    assert b.recv("inbox") == "still linked"
    assert other.islinkageregistered(l) == 1


def test_unlink_by_component_removes_only_this_postoffices_links_touching_it():
    a, b, c = Node(), Node(), Node()
    po, other = postoffice(), postoffice()
    ab = po.link((a, "outbox"), (b, "inbox"))
    cb = po.link((c, "outbox"), (b, "control"))
    ac = po.link((a, "signal"), (c, "inbox"))
    byOther = other.link((b, "outbox"), (c, "control"))
    po.unlink(thecomponent=a)
    assert po.linkages == [cb]
    assert other.linkages == [byOther]
    a.send("x", "outbox")
    a.send("y", "signal")
    c.send("z", "outbox")
    b.send("w", "outbox")
    assert b.dataReady("inbox") == 0 and c.dataReady("inbox") == 0
    assert b.recv("control") == "z"
    assert c.recv("control") == "w"
    assert ab not in po.linkages and ac not in po.linkages


def test_unlink_by_component_handles_self_links_and_links_made_after_an_unlink():
    """The per-component index: a link from a component to itself is removed once; a
    component unlinked and linked again is found again; unknown components are ignored."""
    a, b = Node(), Node()
    po = postoffice()
    loop = po.link((a, "outbox"), (a, "inbox"))
    po.unlink(thecomponent=a)
    assert po.linkages == [] and loop not in po.linkages
    again = po.link((a, "signal"), (b, "control"))
    po.unlink(thecomponent=Node())
    assert po.linkages == [again]
    po.unlink(thelinkage=again)
    po.unlink(thecomponent=b)
    assert po.linkages == []
    a.send("x", "signal")
    assert b.dataReady("control") == 0


def test_unlink_by_component_still_works_if_linkages_was_replaced_by_a_plain_list():
    """Code written for 1.x may assign ``linkages`` a list: unlink falls back to scanning it."""
    a, b, c = Node(), Node(), Node()
    po = postoffice()
    ab = po.link((a, "outbox"), (b, "inbox"))
    bc = po.link((b, "outbox"), (c, "inbox"))
    po.linkages = [ab, bc]
    po.unlink(thecomponent=a)
    assert po.linkages == [bc]
    a.send("gone")
    b.send("kept")
    assert b.dataReady() == 0 and c.recv() == "kept"


def test_link_with_wakeProducer_false_delivers_without_waking_the_producer_on_recv():
    """linkage.wakeProducer=False: a recv at the sink does not wake the source component."""
    a, b = Node(), Node()
    po = postoffice()
    quiet = po.link((a, "outbox"), (b, "inbox"), wakeProducer=False)
    loud = po.link((a, "signal"), (b, "control"))
    assert quiet.wakeProducer is False and loud.wakeProducer is True
    a.send("data")
    a.send("sig", "signal")
    assert b.inboxes["inbox"].storage.wakeOnPop == []
    assert b.inboxes["control"].storage.wakeOnPop == [a._deliveryWake]
    assert b.recv() == "data" and b.recv("control") == "sig"
    po.unlink(thelinkage=quiet)
    a.send("dropped")
    assert b.dataReady() == 0


def test_unlink_with_both_arguments_removes_both():
    a, b, c = Node(), Node(), Node()
    po = postoffice()
    ab = po.link((a, "outbox"), (b, "inbox"))
    bc = po.link((b, "outbox"), (c, "inbox"))
    po.unlink(thecomponent=c, thelinkage=ab)
    assert po.linkages == []
    assert bc not in po.linkages


def test_unlinkAll_removes_every_link_registered_here():
    a, b, c = Node(), Node(), Node()
    po, other = postoffice(), postoffice()
    po.link((a, "outbox"), (b, "inbox"))
    po.link((b, "outbox"), (c, "inbox"))
    other.link((c, "outbox"), (a, "inbox"))
    po.unlinkAll()
    assert po.linkages == []
    a.send(1, "outbox")
    b.send(2, "outbox")
    c.send(3, "outbox")
    assert b.dataReady() == 0 and c.dataReady() == 0
    assert a.recv() == 3


def test_deregisterlinkage_is_a_deprecated_alias_of_unlink():
    a, b = Node(), Node()
    po = postoffice()
    l = po.link((a, "outbox"), (b, "inbox"))
    po.deregisterlinkage(thelinkage=l)
    assert po.islinkageregistered(l) == 0
    a.send("x")
    assert b.dataReady() == 0


def test_links_made_by_a_component_vanish_when_it_terminates_others_survive(runScheduler):
    maker, survivor = Sleeper(), Node()
    a, b, c = Node(), Node(), Node()
    madeByMaker = maker.link((a, "outbox"), (b, "inbox"))
    madeBySurvivor = survivor.link((maker, "outbox"), (c, "inbox"))
    maker.activate()
    maker._deliver("stop", "control")
    runScheduler()
    assert maker.postoffice.linkages == []
    a.send("gone", "outbox")
    assert b.dataReady() == 0
    assert survivor.postoffice.islinkageregistered(madeBySurvivor) == 1
    maker.send("survives", "outbox")
    assert c.recv() == "survives"
    assert madeByMaker not in maker.postoffice.linkages
