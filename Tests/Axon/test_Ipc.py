"""Axon.Ipc (spec 1.6): every message class and its attributes."""

import pytest

from Axon import Ipc
from Axon.Ipc import (
    WaitComplete,
    errorInformation,
    ipc,
    newComponent,
    notify,
    producerFinished,
    reactivate,
    shutdown,
    shutdownMicroprocess,
    status,
    wouldblock,
)

ALL = [WaitComplete, reactivate, newComponent, shutdownMicroprocess, notify, shutdown, status,
       wouldblock, producerFinished, errorInformation]


def test_ipc_is_a_plain_stateless_base():
    assert ipc.__bases__ == (object,)
    assert vars(ipc()) == {}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_message_class_subclasses_ipc(cls):
    assert issubclass(cls, ipc)
    assert getattr(Ipc, cls.__name__) is cls


def test_WaitComplete_keeps_args_and_argd():
    def gen():
        yield 1
    g = gen()
    w = WaitComplete(g, 2, tag="reading")
    assert w.args == (g, 2)
    assert w.args[0] is g
    assert w.argd == {"tag": "reading"}
    assert WaitComplete(g).argd == {}


def test_reactivate_keeps_the_original():
    thing = object()
    assert reactivate(thing).original is thing


def test_newComponent_components_returns_the_tuple():
    a, b = object(), object()
    assert newComponent(a, b).components() == (a, b)
    assert newComponent().components() == ()


def test_shutdownMicroprocess_microprocesses_returns_the_tuple():
    a = object()
    assert shutdownMicroprocess(a).microprocesses() == (a,)
    assert shutdownMicroprocess().microprocesses() == ()


def test_notify_keeps_caller_and_payload_as_object():
    caller, payload = object(), {"k": 1}
    n = notify(caller, payload)
    assert n.caller is caller
    assert n.object is payload


def test_notify_requires_both_arguments():
    with pytest.raises(TypeError):
        notify(object())
    with pytest.raises(TypeError):
        notify()


def test_shutdown_is_unrelated_to_shutdownMicroprocess():
    assert not issubclass(shutdown, shutdownMicroprocess)
    assert not issubclass(shutdownMicroprocess, shutdown)
    assert not isinstance(shutdown(), shutdownMicroprocess)
    assert not isinstance(shutdownMicroprocess(), shutdown)


def test_status_returns_the_status():
    assert status("busy").status() == "busy"


def test_wouldblock_keeps_the_caller():
    caller = object()
    assert wouldblock(caller).caller is caller


def test_producerFinished_defaults_and_values():
    p = producerFinished()
    assert p.caller is None and p.message is None
    caller = object()
    p = producerFinished(caller, "done")
    assert p.caller is caller and p.message == "done"
    p = producerFinished(caller=caller, message="m")
    assert p.caller is caller and p.message == "m"


def test_errorInformation_keeps_caller_exception_and_message():
    caller = object()
    e = errorInformation(caller)
    assert e.caller is caller and e.exception is None and e.message is None
    exc = ValueError("x")
    e = errorInformation(caller, exc, "while reading")
    assert e.caller is caller and e.exception is exc and e.message == "while reading"
    with pytest.raises(TypeError):
        errorInformation()
