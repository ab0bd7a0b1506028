"""Selector: what 1.x programs and tests rely on, beyond the loopback tests.

Kamaelia 1.x's Selector called ``select.select`` through its module
attribute ``select``, and its tests replaced that attribute with a mock and
drove the Selector by hand (``activate()``, then ``next()``). The port
watches what the scheduler's epoll can take itself; anything epoll refuses
(objects without a usable descriptor, regular files) is polled through the
module's ``select.select``, as 1.x did for everything. These tests pin that
down, along with 1.x's by-hand behaviour.
"""

import logging

import pytest

import Kamaelia.Internet.Selector as SelectorModule
from Axon.Component import component
from Axon.Scheduler import scheduler
from Axon.Testing import ComponentHarness
from Kamaelia.Internet.Selector import Selector
from Kamaelia.IPC import newExceptional, newReader, newWriter, removeReader


class MockSelect(object):
    """Stands in for the ``select`` module: logs calls, returns canned results."""

    def __init__(self, results=()):
        self.results = list(results)
        self.log = []

    def select(self, *args):
        self.log.append(("select", args))
        if self.results:
            return self.results.pop(0)
        return ([], [], [])


@pytest.fixture
def mockSelect(monkeypatch):
    """Installs a MockSelect as ``Kamaelia.Internet.Selector.select``; returns a factory."""
    def install(results=()):
        mock = MockSelect(results)
        monkeypatch.setattr(SelectorModule, "select", mock)
        return mock
    return install


def byHand():
    """A Selector activated on a fresh scheduler, to be stepped with next()."""
    selector = Selector()
    selector.activate(Scheduler=scheduler())
    return selector


def test_driven_by_hand_it_keeps_running_with_nothing_to_do():
    """activate() then next() 100 times: it neither ends nor raises."""
    selector = byHand()
    for _ in range(100):
        selector.next()


def test_an_object_epoll_cannot_watch_is_polled_through_the_modules_select(mockSelect):
    """newReader for a plain string: the module's select.select sees it in the reader list."""
    mock = mockSelect()
    selector = byHand()
    for _ in range(10):
        selector.next()
    assert mock.log == [], "nothing to watch: select is not called"
    D = component()
    selector._deliver(newReader(selector, ((D, "inbox"), "LOOKINGFORTHIS")), "notify")
    for _ in range(10):
        selector.next()
    func, args = mock.log[0]
    assert func == "select"
    assert args[:3] == (["LOOKINGFORTHIS"], [], [])
    assert [name for name in selector.outboxes if name.startswith("readerNotify")]


def test_a_ready_polled_object_is_sent_to_the_reply_box_once_and_forgotten(mockSelect):
    """One-shot: the selectable goes to (D, "inbox"), then is no longer selected."""
    mock = mockSelect([(["LOOKINGFORTHIS"], [], [])])
    selector = byHand()
    D = component()
    selector._deliver(newReader(selector, ((D, "inbox"), "LOOKINGFORTHIS")), "notify")
    for _ in range(20):
        selector.next()
    assert D.recv("inbox") == "LOOKINGFORTHIS"
    assert not D.dataReady("inbox")
    assert len(mock.log) == 1, "after notifying, the selectable is not watched any more"
    assert not [name for name in selector.outboxes if name.startswith("readerNotify")]


def test_writers_and_exceptionals_are_polled_in_their_own_lists(mockSelect):
    """newWriter/newExceptional land in select's second and third lists."""
    mock = mockSelect([([], ["W"], []), ([], [], ["E"])])
    selector = byHand()
    D = component()
    selector._deliver(newWriter(selector, ((D, "inbox"), "W")), "notify")
    selector._deliver(newExceptional(selector, ((D, "control"), "E")), "notify")
    for _ in range(20):
        selector.next()
    assert mock.log[0][1][:3] == ([], ["W"], ["E"])
    assert D.recv("inbox") == "W"
    assert D.recv("control") == "E"


def test_removeReader_stops_polling_an_object(mockSelect):
    """After removeReader the object is no longer passed to select, and its outbox is gone."""
    mock = mockSelect()
    selector = byHand()
    D = component()
    selector._deliver(newReader(selector, ((D, "inbox"), "R")), "notify")
    selector.next()
    selector._deliver(removeReader(selector, "R"), "notify")
    selector.next()
    calls = len(mock.log)
    for _ in range(10):
        selector.next()
    assert len(mock.log) == calls
    assert not [name for name in selector.outboxes if name.startswith("readerNotify")]


class Reply(component):
    Inboxes = dict(component.Inboxes, ready="selectables reported ready")


def test_a_regular_file_is_reported_readable(tmp_path):
    """epoll refuses regular files; select says they are always ready, as in 1.x."""
    path = tmp_path / "data"
    path.write_bytes(b"some data")
    with open(path, "rb") as f:
        selector = Selector()
        h = ComponentHarness(selector)
        reply = Reply()
        h.put(newReader(reply, ((reply, "ready"), f)), "notify")
        h.runUntilIdle()
        assert reply.recv("ready") is f
        assert not [name for name in selector.outboxes if name.startswith("readerNotify")]


class NoDescriptor(object):
    """Neither epoll nor select can watch this."""


def test_an_object_select_rejects_is_dropped_with_a_warning(caplog):
    """FAILHARD False (the default): the bad selectable is forgotten, the Selector carries on."""
    selector = Selector()
    h = ComponentHarness(selector)
    reply = Reply()
    bad = NoDescriptor()
    with caplog.at_level(logging.WARNING, logger="Kamaelia.Internet.Selector"):
        h.put(newReader(reply, ((reply, "ready"), bad)), "notify")
        h.runUntilIdle()
    assert not h.finished
    assert not reply.dataReady("ready")
    assert not [name for name in selector.outboxes if name.startswith("readerNotify")]
    assert any("cannot watch" in record.getMessage() for record in caplog.records)


def test_with_FAILHARD_a_rejected_object_raises(monkeypatch):
    """FAILHARD True: select's error propagates out of the Selector."""
    monkeypatch.setattr(SelectorModule, "FAILHARD", True)
    selector = Selector()
    h = ComponentHarness(selector)
    reply = Reply()
    h.put(newReader(reply, ((reply, "ready"), NoDescriptor())), "notify")
    with pytest.raises(TypeError):
        h.runUntilIdle()


def test_polling_waits_on_a_timer_not_a_busy_loop(mockSelect):
    """While only polled objects are watched, the Selector sleeps between polls."""
    mock = mockSelect()
    selector = Selector()
    h = ComponentHarness(selector)
    h.put(newReader(selector, ((component(), "inbox"), "R")), "notify")
    h.runUntilIdle()
    calls = len(mock.log)
    assert calls >= 1
    h.advance(selector.pollInterval)
    assert len(mock.log) > calls
