"""Kamaelia.Chassis.Prefab.JoinChooserToCarousel: the wiring and a full run through it."""

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Axon.Testing import ComponentHarness
from Kamaelia.Chassis.Carousel import Carousel
from Kamaelia.Chassis.Graphline import Graphline
from Kamaelia.Chassis.Prefab import JoinChooserToCarousel


class ListChooser(component):
    """Sends the next item of ``items`` for each request; producerFinished when out."""

    def __init__(self, items):
        super().__init__()
        self.items = list(items)
        self.requests = []
        self.controls = []

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.requests.append(self.recv("inbox"))
                if self.items:
                    self.send(self.items.pop(0), "outbox")
                else:
                    self.send(producerFinished(self), "signal")
                    return
            if self.dataReady("control"):
                message = self.recv("control")
                self.controls.append(message)
                self.send(message, "signal")
                return
            self.pause()
            yield 1


def test_it_is_a_graphline_with_the_documented_linkages(parts):
    chooser, carousel = ListChooser([]), Carousel(parts.Source)
    g = JoinChooserToCarousel(chooser, carousel)
    assert isinstance(g, Graphline)
    assert g.components == {"CHOOSER": chooser, "CAROUSEL": carousel}
    assert g.layout == {
        ("CHOOSER", "outbox"): ("CAROUSEL", "next"),
        ("CHOOSER", "signal"): ("CAROUSEL", "control"),
        ("CAROUSEL", "requestNext"): ("CHOOSER", "inbox"),
        ("self", "inbox"): ("CAROUSEL", "inbox"),
        ("self", "control"): ("CHOOSER", "control"),
        ("CAROUSEL", "outbox"): ("self", "outbox"),
        ("CAROUSEL", "signal"): ("self", "signal"),
    }


def test_carousel_requests_are_answered_by_the_chooser_until_it_runs_out(parts):
    chooser = ListChooser([["a1", "a2"], ["b1"]])
    g = JoinChooserToCarousel(chooser, Carousel(parts.Source, make1stRequest=True))
    h = ComponentHarness(g)
    h.runUntilIdle()
    assert h.getAll("outbox") == ["a1", "a2", "b1"]
    assert chooser.requests == ["NEXT", "NEXT", "NEXT"]
    assert h.finished
    signals = h.getAll("signal")
    assert len(signals) == 1
    assert isinstance(signals[0], producerFinished) and signals[0].caller is chooser


def test_graphline_inbox_feeds_the_carousel_child(parts):
    chooser = ListChooser(["x"])
    g = JoinChooserToCarousel(chooser, Carousel(lambda tag: parts.Recorder(tag=tag),
                                                make1stRequest=True))
    h = ComponentHarness(g)
    h.runUntilIdle()
    h.put("data", "inbox")
    h.runUntilIdle()
    assert h.getAll("outbox") == [("x", "data")]


def test_graphline_control_goes_to_the_chooser_and_shuts_everything_down(parts):
    chooser = ListChooser(["x"])
    g = JoinChooserToCarousel(chooser, Carousel(lambda tag: parts.Recorder(tag=tag),
                                                make1stRequest=True))
    h = ComponentHarness(g)
    h.runUntilIdle()
    message = shutdownMicroprocess()
    h.put(message, "control")
    h.runUntilIdle()
    assert chooser.controls == [message]
    assert h.finished
    assert h.getAll("signal") == [message]
