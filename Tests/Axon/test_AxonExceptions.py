"""Axon.AxonExceptions (spec 1.2): a flat family of AxonException subclasses."""

import pytest

from Axon import AxonExceptions
from Axon.AxonExceptions import AxonException, BoxAlreadyLinkedToDestination, noSpaceInBox
from Axon.Box import makeInbox, makeOutbox

NAMES = ["normalShutdown", "invalidComponentInterface", "noSpaceInBox", "BadParentTracker",
         "ServiceAlreadyExists", "BadComponent", "BadInbox", "MultipleServiceDeletion",
         "NamespaceClash", "AccessToUndeclaredTrackedVariable", "ArgumentsClash",
         "BoxAlreadyLinkedToDestination"]


def test_AxonException_is_an_Exception_that_keeps_its_args():
    assert issubclass(AxonException, Exception)
    e = AxonException(1, "two", None)
    assert e.args == (1, "two", None)
    assert AxonException().args == ()


@pytest.mark.parametrize("name", NAMES)
def test_every_exception_is_a_direct_subclass_of_AxonException(name):
    cls = getattr(AxonExceptions, name)
    assert cls.__bases__ == (AxonException,)
    e = cls("a", 2)
    assert e.args == ("a", 2)
    with pytest.raises(cls):
        raise e


def test_no_exception_inherits_from_another_one():
    classes = [getattr(AxonExceptions, name) for name in NAMES]
    for a in classes:
        for b in classes:
            if a is not b:
                assert not issubclass(a, b), (a, b)


def test_a_full_inbox_raises_noSpaceInBox_with_length_and_size():
    inbox = makeInbox(notify=lambda: None, size=2)
    inbox.append("x")
    inbox.append("y")
    with pytest.raises(noSpaceInBox) as info:
        inbox.append("z")
    assert info.value.args == (2, 2)


def test_a_second_link_from_the_same_box_raises_BoxAlreadyLinkedToDestination():
    source = makeOutbox(notify=lambda: None)
    first = makeInbox(notify=lambda: None)
    second = makeInbox(notify=lambda: None)
    first.addsource(source)
    with pytest.raises(BoxAlreadyLinkedToDestination) as info:
        second.addsource(source)
    assert info.value.args == (second, first, source)
