"""Kamaelia.KamaeliaExceptions: the 1.x exception names, their hierarchy, and BadRequest's fields."""

import pytest

from Axon.AxonExceptions import AxonException
from Kamaelia import KamaeliaExceptions as KE


@pytest.mark.parametrize("name, parent", [
    ("BadRequest", "AxonException"),
    ("socketSendFailure", "AxonException"),
    ("connectionClosedown", "AxonException"),
    ("connectionDied", "connectionClosedown"),
    ("connectionDiedSending", "connectionDied"),
    ("connectionDiedReceiving", "connectionDied"),
    ("connectionServerShutdown", "connectionClosedown"),
])
def test_each_exception_derives_directly_from_its_1x_parent(name, parent):
    cls = getattr(KE, name)
    expected = AxonException if parent == "AxonException" else getattr(KE, parent)
    assert cls.__bases__ == (expected,)


def test_a_send_failure_is_not_a_closedown():
    assert not issubclass(KE.socketSendFailure, KE.connectionClosedown)


def test_catching_connectionDied_catches_both_directions():
    for cls in (KE.connectionDiedSending, KE.connectionDiedReceiving):
        with pytest.raises(KE.connectionDied):
            raise cls("peer went away")


def test_BadRequest_keeps_the_request_and_the_inner_exception():
    inner = ValueError("no space")
    e = KE.BadRequest("GARBAGE", inner)
    assert e.request == "GARBAGE"
    assert e.exception is inner
    assert e.args == ("GARBAGE", inner)


def test_BadRequest_requires_both_arguments_as_in_1x():
    with pytest.raises(TypeError):
        KE.BadRequest("only the request")


def test_plain_exceptions_keep_their_arguments():
    e = KE.connectionServerShutdown("shutting down", 7)
    assert e.args == ("shutting down", 7)
    assert isinstance(e, AxonException)


def test_the_docstring_example_runs():
    import doctest
    result = doctest.testmod(KE)
    assert result.attempted > 0 and result.failed == 0
