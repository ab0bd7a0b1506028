"""Axon.Component (spec 1.12): construction, boxes, sending and receiving,
children, the initialise/mainBody/closeDown protocol and close-down."""

import logging
import threading

import pytest

from Axon import Component as ComponentModule
from Axon.AxonExceptions import noSpaceInBox
from Axon.Box import postbox
from Axon.Component import component
from Axon.Ipc import newComponent
from Axon.Linkage import linkage
from Axon.Microprocess import microprocess
from Axon.Postoffice import postoffice
from Axon.Scheduler import scheduler


class Plain(component):
    pass


class Sleeper(component):
    """Pauses until something arrives on control; logs every step it runs."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.runs = 0

    def main(self):
        while not self.dataReady("control"):
            self.runs += 1
            self.pause()
            yield 1


class Probe(microprocess):
    def __init__(self, actions):
        super().__init__()
        self.actions = list(actions)

    def main(self):
        for action in self.actions:
            action()
            yield 1


# -- construction ---------------------------------------------------------------


def test_default_boxes_are_described_dicts():
    assert set(component.Inboxes) == {"inbox", "control"}
    assert set(component.Outboxes) == {"outbox", "signal"}
    assert all(isinstance(v, str) for v in component.Inboxes.values())
    assert all(isinstance(v, str) for v in component.Outboxes.values())
    assert component.Usescomponents == []


def test_instance_has_box_dicts_children_and_postoffice():
    c = Plain()
    assert list(c.inboxes) == list(component.Inboxes)
    assert list(c.outboxes) == list(component.Outboxes)
    assert all(isinstance(b, postbox) for b in c.inboxes.values())
    assert all(isinstance(b, postbox) for b in c.outboxes.values())
    assert c.children == []
    assert c._callOnCloseDown == []
    assert isinstance(c.postoffice, postoffice)
    assert c.postoffice.debugname.startswith(c.name)


def test_keyword_arguments_become_attributes_and_positional_ones_are_ignored():
    c = Plain("ignored", 2, port=25, circular=True)
    assert c.port == 25
    assert c.circular is True


def test_keyword_arguments_are_set_before_the_boxes_are_built():
    c = Plain(Inboxes=["a", "b"], Outboxes={"out": "described"})
    assert list(c.inboxes) == ["a", "b"]
    assert list(c.outboxes) == ["out"]


class Declared(component):
    Inboxes = {"first": "1", "second": "2", "third": "3"}
    Outboxes = ["x", "y"]


def test_boxes_declared_as_dict_or_list_in_declaration_order():
    c = Declared()
    assert list(c.inboxes) == ["first", "second", "third"]
    assert list(c.outboxes) == ["x", "y"]


def test___str___names_the_component_and_its_boxes():
    c = Plain()
    text = str(c)
    assert text.startswith("Component %s [ inboxes : " % c.name)
    assert " outboxes : " in text
    assert "inbox" in text and "signal" in text


def test_setInboxSize_limits_an_inbox():
    c = Plain()
    c.setInboxSize("inbox", 1)
    c._deliver("a")
    with pytest.raises(noSpaceInBox):
        c._deliver("b")
    c.setInboxSize("inbox", None)
    c._deliver("b")
    assert c.dataReady() == 2


# -- dataReady / recv / Inbox / anyReady ------------------------------------------


def test_dataReady_is_an_int_count():
    c = Plain()
    assert c.dataReady() == 0 and type(c.dataReady()) is int
    c._deliver(1)
    c._deliver(2)
    assert c.dataReady("inbox") == 2 and type(c.dataReady("inbox")) is int
    assert c.dataReady("control") == 0


def test_dataReady_of_an_unknown_box_is_a_KeyError():
    with pytest.raises(KeyError):
        Plain().dataReady("nosuchbox")


def test_recv_takes_the_oldest_and_raises_IndexError_when_empty():
    c = Plain()
    c._deliver("first")
    c._deliver("second")
    assert c.recv() == "first"
    assert c.recv("inbox") == "second"
    with pytest.raises(IndexError):
        c.recv()
    with pytest.raises(IndexError):
        c.recv("control")


def test_Inbox_drains_what_is_waiting():
    c = Plain()
    for i in range(3):
        c._deliver(i, "control")
    assert list(c.Inbox("control")) == [0, 1, 2]
    assert c.dataReady("control") == 0
    c._deliver("x")
    assert list(c.Inbox()) == ["x"]


def test_anyReady_names_the_first_inbox_with_data_else_False():
    c = Declared()
    assert c.anyReady() is False
    c._deliver("t", "third")
    assert c.anyReady() == "third"
    c._deliver("s", "second")
    assert c.anyReady() == "second"


# -- send --------------------------------------------------------------------------


def test_send_to_an_unlinked_outbox_silently_drops():
    c = Plain()
    assert c.send("nowhere") is None
    assert c.send("nowhere", "signal") is None


def test_send_to_an_unknown_outbox_is_a_KeyError():
    with pytest.raises(KeyError):
        Plain().send("x", "nosuchbox")


def test_send_returns_with_the_message_already_in_the_final_inbox():
    child, parent, consumer, middle = Plain(), Plain(), Plain(), Plain()
    po = postoffice()
    po.link((child, "outbox"), (parent, "outbox"), passthrough=2)
    po.link((parent, "outbox"), (middle, "inbox"))
    po.link((middle, "inbox"), (consumer, "inbox"), passthrough=1)
    child.send("deep")
    assert consumer.dataReady() == 1
    assert middle.dataReady() == 0
    assert consumer.recv() == "deep"


def test_send_raises_noSpaceInBox_from_a_size_limited_inbox():
    a, b = Plain(), Plain()
    a.link((a, "outbox"), (b, "inbox"), pipewidth=2)
    a.send(1)
    a.send(2)
    with pytest.raises(noSpaceInBox):
        a.send(3)
    assert [b.recv(), b.recv()] == [1, 2]
    a.send(3)
    assert b.recv() == 3


def test_a_component_can_link_its_outbox_to_its_own_inbox():
    c = Plain()
    c.link((c, "outbox"), (c, "inbox"))
    c.send("loop")
    assert c.recv() == "loop"


# -- link / unlink -----------------------------------------------------------------------


def test_link_accepts_keywords_and_returns_a_linkage():
    a, b = Plain(), Plain()
    l = a.link(source=(a, "signal"), sink=(b, "control"))
    assert isinstance(l, linkage)
    assert a.postoffice.islinkageregistered(l) == 1
    a.send("sig", "signal")
    assert b.recv("control") == "sig"
    p = a.link(source=(b, "inbox"), sink=(a, "inbox"), passthrough=1, synchronous=True)
    assert a.inboxes["inbox"].getSize() == 1
    assert p.passthrough == 1


def test_unlink_by_linkage_and_by_component():
    a, b, c = Plain(), Plain(), Plain()
    ab = a.link((a, "outbox"), (b, "inbox"))
    a.link((a, "signal"), (c, "inbox"))
    a.unlink(thelinkage=ab)
    a.send("x")
    assert b.dataReady() == 0
    a.unlink(thecomponent=c)
    a.send("y", "signal")
    assert c.dataReady() == 0
    assert a.postoffice.linkages == []


# -- waking -----------------------------------------------------------------------------


def test_delivery_wakes_a_paused_receiver(runScheduler):
    s = scheduler.run
    receiver = Sleeper().activate()
    sender = Plain()
    sender.link((sender, "outbox"), (receiver, "control"))
    seen = []
    Probe([lambda: None,
           lambda: seen.append(s.isThreadPaused(receiver)),
           lambda: (sender.send("wake up"), seen.append(s.isThreadPaused(receiver)))]).activate()
    runScheduler()
    assert seen == [True, False]
    assert receiver.runs == 1


def test_recv_wakes_the_producer(runScheduler):
    log = []

    class Producer(component):
        def main(self):
            for i in range(4):
                while True:
                    try:
                        self.send(i)
                        break
                    except noSpaceInBox:
                        log.append("full")
                        self.pause()
                        yield 1
            log.append("producer done")

    class SlowConsumer(component):
        def main(self):
            got = []
            while len(got) < 4:
                yield 1
                yield 1
                if self.dataReady():
                    got.append(self.recv())
            log.append(("consumer got", got))

    p, c = Producer(), SlowConsumer()
    p.link((p, "outbox"), (c, "inbox"), pipewidth=1)
    p.activate()
    c.activate()
    runScheduler()
    assert log.count("full") >= 3
    assert log[-1] == ("consumer got", [0, 1, 2, 3])
    assert "producer done" in log


def test_deliver_wakes_the_owner_and_is_marshalled_from_another_thread(runScheduler):
    class Collector(component):
        def __init__(self):
            super().__init__()
            self.got = []
            self.sleeping = threading.Event()

        def main(self):
            while len(self.got) < 3:
                while self.dataReady():
                    self.got.append((self.recv(), threading.get_ident()))
                if len(self.got) < 3:
                    self.pause()
                    self.sleeping.set()
                    yield 1

    c = Collector().activate()
    c._deliver("before start")

    def other():
        c.sleeping.wait(5)
        c._deliver("from thread 1")
        c._deliver("from thread 2")

    t = threading.Thread(target=other)
    t.start()
    runScheduler()
    t.join(5)
    me = threading.get_ident()
    assert c.got == [("before start", me), ("from thread 1", me), ("from thread 2", me)]


# -- children ---------------------------------------------------------------------------------


def test_addChildren_registers_without_activating():
    parent, a, b = Plain(), Plain(), Plain()
    parent.addChildren(a, b)
    assert parent.childComponents() == [a, b]
    assert parent.unpause in a._callOnCloseDown
    assert a not in scheduler.run.listAllThreads()
    copy = parent.childComponents()
    copy.append("junk")
    assert parent.childComponents() == [a, b]


def test_children_compare_as_a_list_and_adding_twice_keeps_one_entry():
    parent, a, b = Plain(), Plain(), Plain()
    parent.addChildren(a, b, a)
    parent.addChildren(b)
    assert parent.children == [a, b] and a in parent.children
    assert a._callOnCloseDown.count(parent.unpause) == 1
    parent.removeChild(a)
    parent.removeChild(a)
    assert parent.children == [b] and a not in parent.children


def test_removeChild_works_on_a_children_list_assigned_by_old_code():
    """1.x code may assign ``children`` a plain list: removeChild removes every occurrence."""
    parent, a, b = Plain(), Plain(), Plain()
    parent.children = [a, b, a]
    parent.removeChild(a)
    assert parent.children == [b]


def test_addChildren_with_a_class_raises_TypeError_that_is_also_1x_AttributeError(caplog):
    parent = Plain()
    for expected in (TypeError, AttributeError):
        with pytest.raises(expected):
            parent.addChildren(Plain)
    assert parent.children == []
    assert any("class" in r.getMessage() for r in caplog.records)


def test_addChildren_with_a_class_raises():
    parent = Plain()
    with pytest.raises(Exception):
        parent.addChildren(Plain)
    assert parent.childComponents() == []


def test_addChildren_makes_a_child_ending_wake_the_parent(runScheduler):
    class Parent(component):
        def main(self):
            self.child = Plain()
            self.addChildren(self.child)
            self.wakes = 0
            yield newComponent(self.child)
            while not self.child._isStopped():
                self.pause()
                yield 1
                self.wakes += 1

    p = Parent().activate()
    runScheduler()
    assert p.child._isStopped()
    assert p.wakes >= 1


def test_removeChild_forgets_it_drops_its_wake_and_unlinks_links_made_here():
    parent, child, other = Plain(), Plain(), Plain()
    parent.addChildren(child)
    parent.link((child, "outbox"), (parent, "inbox"))
    parent.link((parent, "outbox"), (child, "inbox"))
    keep = parent.link((parent, "signal"), (other, "inbox"))
    byOther = other.link((child, "signal"), (other, "control"))
    parent.removeChild(child)
    assert parent.childComponents() == []
    assert parent.unpause not in child._callOnCloseDown
    child.send("x")
    parent.send("y")
    assert parent.dataReady() == 0 and child.dataReady() == 0
    assert parent.postoffice.linkages == [keep]
    child.send("still linked by other", "signal")
    assert other.recv("control") == "still linked by other"
    assert other.postoffice.islinkageregistered(byOther) == 1


# -- main protocol ----------------------------------------------------------------------------


def test_default_stubs():
    c = Plain()
    assert c.initialiseComponent() == 1
    assert c.mainBody() is None
    assert c.closeDownComponent() == 1


def test_main_runs_initialiseComponent_mainBody_until_falsy_then_closeDownComponent(runScheduler):
    log = []

    class OldStyle(component):
        def initialiseComponent(self):
            log.append("init")
            return 0

        def mainBody(self):
            log.append("body")
            return len([x for x in log if x == "body"]) < 3

        def closeDownComponent(self):
            log.append("close")
            return 1

    c = OldStyle()
    c.activate()
    runScheduler()
    assert log == ["init", "body", "body", "body", "close"]


def test_main_yields_what_the_protocol_methods_return():
    marker = object()

    class OldStyle(component):
        n = 0

        def initialiseComponent(self):
            return None

        def mainBody(self):
            self.n += 1
            return marker if self.n < 3 else 0

        def closeDownComponent(self):
            return "closing"

    assert list(OldStyle().main()) == [1, marker, marker, "closing"]


def test_newComponent_returned_from_initialiseComponent_activates_children(runScheduler):
    children = []

    class Child(component):
        def main(self):
            self.ran = True
            yield 1

    class OldStyle(component):
        def initialiseComponent(self):
            children.extend([Child(), Child()])
            return newComponent(*children)

    OldStyle().activate()
    runScheduler()
    assert [getattr(c, "ran", False) for c in children] == [True, True]


# -- close-down -----------------------------------------------------------------------------------


def test_closeDownMicroprocess_calls_callbacks_unlinks_all_and_returns_None():
    c, other = Plain(), Plain()
    calls = []
    c._callOnCloseDown.append(lambda: calls.append("one"))
    c._callOnCloseDown.append(lambda: calls.append("two"))
    c.link((c, "outbox"), (other, "inbox"))
    assert c._closeDownMicroprocess() is None
    assert calls == ["one", "two"]
    assert c.postoffice.linkages == []
    c.send("x")
    assert other.dataReady() == 0


# -- tracing flags ------------------------------------------------------------------------------------


def test_TraceAllSends_and_TraceAllRecvs_log_at_construction_time(monkeypatch, caplog):
    monkeypatch.setattr(ComponentModule, "TraceAllSends", True)
    monkeypatch.setattr(ComponentModule, "TraceAllRecvs", True)
    traced = Plain()
    monkeypatch.setattr(ComponentModule, "TraceAllSends", False)
    monkeypatch.setattr(ComponentModule, "TraceAllRecvs", False)
    untraced = Plain()
    traced.link((traced, "outbox"), (traced, "inbox"))
    untraced.link((untraced, "outbox"), (untraced, "inbox"))
    with caplog.at_level(logging.DEBUG):
        traced.send("traced-msg")
        assert traced.recv() == "traced-msg"
        untraced.send("quiet-msg")
        assert untraced.recv() == "quiet-msg"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "SEND:" in text and "RECV:" in text and "traced-msg" in text
    assert "quiet-msg" not in text


def test_stopping_a_sleeping_child_terminates_it_and_wakes_its_parent(runScheduler):
    log = []

    class Parent(component):
        def main(self):
            self.child = Sleeper()
            self.addChildren(self.child)
            self.child.activate()
            yield 1
            yield 1
            self.child.stop()
            log.append("stopped child")
            while self.child in self.scheduler.threads:
                self.pause()
                yield 1
            log.append("woken after child ended")

    p = Parent().activate()
    runScheduler()
    assert log == ["stopped child", "woken after child ended"]
    assert p.child._isStopped()
    assert p.child.runs == 1


def test_a_component_that_stops_itself_still_closes_down(runScheduler):
    other = Plain()

    class SelfStopper(component):
        def main(self):
            self.link((self, "outbox"), (other, "inbox"))
            self.stop()
            yield 1

    class Parent(component):
        def main(self):
            self.child = SelfStopper()
            self.addChildren(self.child)
            self.child.activate()
            while not self.child._isStopped() or self.child in self.scheduler.threads:
                self.pause()
                yield 1

    p = Parent().activate()
    runScheduler()
    assert p.child.postoffice.linkages == []
    p.child.send("after close-down")
    assert other.dataReady() == 0


def test_an_immortalised_crash_still_closes_the_child_down_and_wakes_the_parent(runScheduler):
    scheduler.immortalise()

    class Crashes(component):
        def main(self):
            yield 1
            raise ValueError("child crash")

    class Parent(component):
        def main(self):
            self.child = Crashes()
            self.addChildren(self.child)
            self.child.activate()
            while self.child in self.scheduler.threads:
                self.pause()
                yield 1
            self.sawEnd = True

    p = Parent().activate()
    runScheduler()
    assert p.sawEnd
    assert p.child._isStopped()


def test_linking_an_already_linked_outbox_again_raises_and_records_nothing():
    from Axon.AxonExceptions import BoxAlreadyLinkedToDestination
    a, b, c = Plain(), Plain(), Plain()
    a.link((a, "outbox"), (b, "inbox"))
    with pytest.raises(BoxAlreadyLinkedToDestination):
        a.link((a, "outbox"), (c, "inbox"))
    assert len(a.postoffice.linkages) == 1
    a.send("x")
    assert b.recv() == "x" and c.dataReady() == 0


# -- 1.x compatibility: passthrough inboxes, scheduler and box doubles ------------------------

def test_recv_on_a_passed_through_inbox_reads_the_final_destination():
    """recv() pops from the box's final sink, as 1.x's postbox.pop did; dataReady stays local."""
    parent, child, producer = Plain(), Plain(), Plain()
    parent.link((parent, "inbox"), (child, "inbox"), passthrough=1)
    producer.link((producer, "outbox"), (parent, "inbox"))
    producer.send("through")
    assert parent.dataReady("inbox") == 0
    assert len(parent.inboxes["inbox"]) == 1
    assert parent.recv("inbox") == "through"
    assert child.dataReady("inbox") == 0
    with pytest.raises(IndexError):
        parent.recv("inbox")


class OneXScheduler(object):
    """Only what Kamaelia 1.x's scheduler offered, recording every call."""

    def __init__(self):
        self.calls = []

    def _addThread(self, mp):
        self.calls.append(("_addThread", mp))

    def wakeThread(self, mp, canActivate=False):
        self.calls.append(("wakeThread", mp))

    def pauseThread(self, mp):
        self.calls.append(("pauseThread", mp))

    def isThreadPaused(self, mp):
        return False


def test_pause_stop_and_deliveries_work_with_a_1x_style_scheduler_double():
    double = OneXScheduler()
    c = Plain().activate(double)
    assert double.calls == [("_addThread", c)]
    c.pause()
    other = Plain()
    other.link((other, "outbox"), (c, "inbox"))
    other.send("wake up")
    c.stop()
    assert ("pauseThread", c) in double.calls and ("wakeThread", c) in double.calls
    assert c._isStopped()


class OneXBox(postbox):
    """A box double whose addsource takes only the source, as 1.x's did."""

    def addsource(self, newsource):
        self.added = newsource
        super().addsource(newsource)


def test_the_postoffice_links_to_a_1x_style_box():
    a, b = Plain(), Plain()
    box = OneXBox(b.inboxes["inbox"].storage)
    b.inboxes["inbox"] = box
    postoffice().link((a, "outbox"), (b, "inbox"))
    assert box.added is a.outboxes["outbox"]
    a.send("x")
    assert b.recv() == "x"


class RecordsUnpause(component):
    """Overrides unpause, as 1.x test doubles and subclasses may."""

    def __init__(self, **kw):
        self.wakes = []
        super().__init__(**kw)

    def unpause(self):
        self.wakes.append("unpause")
        super().unpause()


def test_a_class_overriding_unpause_is_woken_through_it_by_its_boxes():
    """1.x built every box with notify=self.unpause: a delivery to an inbox,
    and the collection of a message sent from an outbox, call the owner's
    unpause, overridden or not."""
    receiver, sender = RecordsUnpause(), RecordsUnpause()
    sender.link((sender, "outbox"), (receiver, "inbox"))
    sender.send("hello")
    assert receiver.wakes == ["unpause"] and sender.wakes == []
    assert receiver.recv() == "hello"
    assert sender.wakes == ["unpause"] and receiver.wakes == ["unpause"]


def test_boxes_added_to_an_adaptive_component_overriding_unpause_use_it():
    from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent

    class Adaptive(AdaptiveCommsComponent):
        def unpause(self):
            self.woken = True

    a, b = Adaptive(), Plain()
    name = a.addInbox("extra")
    b.link((b, "outbox"), (a, name))
    b.send("x")
    assert a.woken


def test_traced_recv_reads_a_passed_through_inbox_like_recv(monkeypatch):
    monkeypatch.setattr(ComponentModule, "TraceAllRecvs", True)
    parent = Plain()
    monkeypatch.setattr(ComponentModule, "TraceAllRecvs", False)
    child, producer = Plain(), Plain()
    parent.link((parent, "inbox"), (child, "inbox"), passthrough=1)
    producer.link((producer, "outbox"), (parent, "inbox"))
    producer.send("through")
    assert parent.recv("inbox") == "through"


def test_Inbox_drains_through_dataReady_and_recv_so_overrides_are_used():
    class Counting(component):
        def __init__(self):
            super().__init__()
            self.recvs = 0

        def recv(self, boxname="inbox"):
            self.recvs += 1
            return super().recv(boxname)

    c = Counting()
    for n in range(3):
        c._deliver(n, "inbox")
    assert list(c.Inbox("inbox")) == [0, 1, 2]
    assert c.recvs == 3 and c.dataReady("inbox") == 0


def test_anyReady_asks_dataReady_so_an_override_is_used():
    class ReportsControl(component):
        def dataReady(self, boxname="inbox"):
            return 1 if boxname == "control" else 0

    assert ReportsControl().anyReady() == "control"
    plain = Plain()
    assert plain.anyReady() is False
    plain._deliver("x", "control")
    assert plain.anyReady() == "control"


def test_sendWhenRoom_waits_for_room_then_sends_or_gives_up():
    from Axon.Scheduler import scheduler
    s = scheduler()
    receiver = component()
    receiver.setInboxSize("inbox", 1)
    results, stop = [], []

    class Sender(component):
        def main(self):
            for n in range(3):
                results.append((yield from self.sendWhenRoom(n, "outbox",
                                                             lambda: bool(stop))))

    sender = Sender()
    sender.link((sender, "outbox"), (receiver, "inbox"))
    sender.activate(s)
    for _ in range(5):
        s.runCycle()
    assert results == [True] and receiver.recv("inbox") == 0
    for _ in range(5):
        s.runCycle()
    assert results == [True, True] and receiver.dataReady("inbox")
    stop.append(True)
    for _ in range(5):
        s.runCycle()
    assert results == [True, True]          # asleep: giveUp is asked when it wakes
    sender._deliver("wake up", "control")
    for _ in range(5):
        s.runCycle()
    assert results == [True, True, False]
    assert receiver.recv("inbox") == 1 and not receiver.dataReady("inbox")


# -- boxes built on first use -----------------------------------------------------------

def test_boxes_are_built_on_first_use_and_stay_out_of_vars():
    c = Plain()
    assert "inboxes" not in vars(c) and "outboxes" not in vars(c)
    before = dict(vars(c))
    assert c.dataReady("inbox") == 0
    assert vars(c) == before
    assert list(c.inboxes) == list(component.Inboxes)
    assert c.inboxes is c.inboxes


def test_boxes_are_those_declared_at_construction_even_if_built_later():
    class Growing(component):
        Inboxes = {"inbox": "", "control": ""}
        Outboxes = ["outbox"]

    early = Growing()
    Growing.Inboxes["added"] = "declared after the first instance was made"
    Growing.Outboxes.append("extra")
    late = Growing()
    assert list(early.inboxes) == ["inbox", "control"]
    assert list(early.outboxes) == ["outbox"]
    assert list(late.inboxes) == ["inbox", "control", "added"]
    assert list(late.outboxes) == ["outbox", "extra"]


def test_instance_declarations_made_before_construction_are_used():
    class Extended(component):
        def __init__(self):
            self.Outboxes = dict(type(self).Outboxes, more="")
            super().__init__()

    assert list(Extended().outboxes) == list(component.Outboxes) + ["more"]


def test_box_dicts_can_be_replaced():
    c = Plain()
    c.inboxes = {"only": postbox(c.inboxes["inbox"].storage)}
    assert list(c.inboxes) == ["only"]
    assert c.dataReady("only") == 0


def test_a_mixin_init_after_microprocess_in_the_mro_still_runs():
    class Mixin(object):
        def __init__(self, *args, **argd):
            super().__init__(*args, **argd)
            self.mixedIn = True

    class Mixed(component, Mixin):
        pass

    class Between(microprocess):
        def __init__(self):
            super().__init__()
            self.between = True

    class Diamond(component, Between):
        pass

    assert Mixed().mixedIn
    assert Diamond().between
    first, second = Plain(), Plain()
    assert second.id > first.id


# -- wakes that would do nothing are skipped, the others are not ---------------------------

class Draining(component):
    """Drains its inbox into ``got`` each time it runs; counts its steps."""

    def __init__(self):
        super().__init__()
        self.got = []
        self.steps = 0

    def main(self):
        while True:
            self.steps += 1
            while self.dataReady("inbox"):
                self.got.append(self.recv("inbox"))
            self.pause()
            yield 1


def _settle(s):
    for _ in range(20):
        if s.isIdle():
            return
        s.runCycle()


def test_many_sends_in_one_cycle_wake_the_receiver_once_and_deliver_all():
    s = scheduler()
    receiver = Draining().activate(s)
    sender = Plain()
    sender.link((sender, "outbox"), (receiver, "inbox"))
    _settle(s)
    steps = receiver.steps
    Probe([lambda: [sender.send(i) for i in range(5)]]).activate(s)
    _settle(s)
    assert receiver.got == [0, 1, 2, 3, 4]
    assert receiver.steps == steps + 1
    assert s.isThreadPaused(receiver)


def test_a_replaced_inbox_notify_is_called_on_every_send():
    s = scheduler()
    receiver = Draining().activate(s)
    calls = []
    receiver.inboxes["inbox"].storage.notify = lambda: calls.append(1)
    assert receiver.inboxes["inbox"].storage.owner is None
    sender = Plain()
    sender.link((sender, "outbox"), (receiver, "inbox"))
    Probe([lambda: [sender.send(i) for i in range(3)]]).activate(s)
    _settle(s)
    assert calls == [1, 1, 1]


def test_an_overridden_unpause_is_called_on_every_delivery_and_every_recv():
    s = scheduler()
    woken = []

    class Counting(component):
        def unpause(self):
            woken.append(self.name)
            super().unpause()

    receiver, producer = Counting(), Counting()
    producer.link((producer, "outbox"), (receiver, "inbox"))
    Probe([lambda: [producer.send(i) for i in range(3)],
           lambda: [receiver.recv("inbox") for _ in range(3)]]).activate(s)
    _settle(s)
    assert woken == [receiver.name] * 3 + [producer.name] * 3


def test_a_producer_linked_after_a_recv_in_the_same_cycle_is_woken_by_the_next():
    s = scheduler()
    consumer = Plain()
    first, second = Draining().activate(s), Draining().activate(s)
    _settle(s)
    assert s.isThreadPaused(first) and s.isThreadPaused(second)
    consumer.link((first, "outbox"), (consumer, "inbox"))

    def linkSecondAndRecvAgain():
        consumer.link((second, "outbox"), (consumer, "inbox"))
        consumer.recv("inbox")
        return s.isThreadPaused(second)

    seen = []
    Probe([lambda: (first.send("a"), first.send("b"), consumer.recv("inbox"),
                    seen.append(linkSecondAndRecvAgain()))]).activate(s)
    s.runCycle()    # the probe is registered
    s.runCycle()    # its step
    assert seen == [False]


def test_a_replaced_outbox_notify_is_called_on_every_recv():
    s = scheduler()
    producer, consumer = Plain(), Plain()
    taken = []
    producer.outboxes["outbox"].notify = lambda: taken.append(1)
    producer.link((producer, "outbox"), (consumer, "inbox"))
    Probe([lambda: ([producer.send(i) for i in range(3)],
                    [consumer.recv("inbox") for _ in range(3)])]).activate(s)
    _settle(s)
    assert taken == [1, 1, 1]


def test_cycle_numbers_are_unique_across_schedulers():
    first, second = scheduler(), scheduler()
    numbers = set()
    for _ in range(3):
        for s in (first, second):
            s.runCycle()
            numbers.add(s._cycleNumber)
    assert len(numbers) == 6
