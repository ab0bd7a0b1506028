"""Kamaelia.IPC, Kamaelia.BaseIPC and the legacy Kamaelia.KamaeliaIPC."""

import importlib

import pytest

from Axon.Ipc import ipc, notify, producerFinished, shutdownMicroprocess
from Kamaelia import IPC
from Kamaelia.BaseIPC import IPC as BaseIPC
from Kamaelia.Support.Deprecate import KamaeliaDeprecationWarning

ALL_NAMES = ["socketShutdown", "serverShutdown", "newCSA", "shutdownCSA", "newServer",
             "newReader", "newWriter", "newExceptional", "removeReader", "removeWriter",
             "removeExceptional"]


def test_socketShutdown_is_a_producerFinished_with_caller_and_message():
    m = IPC.socketShutdown("csa", ["sock", "howDied"])
    assert isinstance(m, producerFinished)
    assert m.caller == "csa" and m.message == ["sock", "howDied"]
    bare = IPC.socketShutdown()
    assert bare.caller is None and bare.message is None


def test_serverShutdown_is_a_shutdownMicroprocess():
    m = IPC.serverShutdown()
    assert isinstance(m, shutdownMicroprocess)
    assert m.microprocesses() == ()


def test_newCSA_carries_the_csa_and_socket_and_handles_writing():
    m = IPC.newCSA("server", "csa", sock="sock")
    assert isinstance(m, notify)
    assert m.caller == "server" and m.object == "csa" and m.sock == "sock"
    assert m.handlesWriting() is True
    assert IPC.newCSA("server", "csa").sock is None


def test_shutdownCSA_carries_the_csa_and_says_shutdown():
    m = IPC.shutdownCSA("server", ("csa", "sock"))
    assert isinstance(m, notify)
    assert m.caller == "server" and m.object == ("csa", "sock")
    assert m.shutdown() is True


def test_newServer_does_not_handle_writing():
    m = IPC.newServer("caller", "server")
    assert isinstance(m, notify) and m.object == "server"
    assert m.handlesWriting() is False


@pytest.mark.parametrize("name", ["newReader", "newWriter", "newExceptional"])
def test_selector_requests_carry_reply_box_and_selectable(name):
    cls = getattr(IPC, name)
    payload = (("component", "readReady"), "sock")
    m = cls("caller", payload)
    assert isinstance(m, notify)
    assert m.caller == "caller" and m.object == payload
    assert m.hasOOB is False


@pytest.mark.parametrize("name", ["removeReader", "removeWriter", "removeExceptional"])
def test_selector_removals_carry_the_selectable(name):
    m = getattr(IPC, name)("caller", "sock")
    assert isinstance(m, notify)
    assert m.caller == "caller" and m.object == "sock"


def test_selector_messages_are_distinct_classes():
    classes = [getattr(IPC, n) for n in ALL_NAMES[5:]]
    assert len(set(classes)) == 6
    assert not isinstance(IPC.newReader(None, None), IPC.newWriter)


def test_every_message_is_an_axon_ipc():
    assert all(issubclass(getattr(IPC, name), ipc) for name in ALL_NAMES)


class moveTo(BaseIPC):
    "Move %(who)s to %(where)s"
    Parameters = ["who", "where", "?speed"]


def test_declarative_ipc_sets_parameters_as_attributes():
    m = moveTo(who="bob", where=(3, 4), speed=2)
    assert (m.who, m.where, m.speed) == ("bob", (3, 4), 2)


def test_declarative_ipc_optional_parameter_defaults_to_None():
    assert moveTo(who="bob", where=1).speed is None


def test_declarative_ipc_rejects_missing_required_parameters():
    with pytest.raises(ValueError, match="where"):
        moveTo(who="bob")


def test_declarative_ipc_rejects_unknown_parameters():
    with pytest.raises(ValueError, match="colour"):
        moveTo(who="bob", where=1, colour="red")


def test_declarative_ipc_str_is_the_docstring_filled_in():
    assert str(moveTo(who="bob", where=(3, 4))) == "Move bob to (3, 4)"


def test_declarative_ipc_without_docstring_still_has_a_str():
    class quiet(BaseIPC):
        Parameters = ["x"]
    assert "quiet" in str(quiet(x=1))


def test_legacy_KamaeliaIPC_reexports_the_same_classes_with_a_warning():
    legacy = importlib.import_module("Kamaelia.KamaeliaIPC")
    with pytest.warns(KamaeliaDeprecationWarning, match="Kamaelia.IPC"):
        legacy = importlib.reload(legacy)
    for name in ALL_NAMES:
        assert getattr(legacy, name) is getattr(IPC, name)
