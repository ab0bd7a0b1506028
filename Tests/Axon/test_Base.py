"""Axon.Base (spec 1.1): AxonType is an empty metaclass, AxonObject a plain cooperative base."""

from Axon.Base import AxonObject, AxonType
from Axon.Linkage import linkage
from Axon.Microprocess import microprocess
from Axon.Postoffice import postoffice


def test_AxonType_is_a_metaclass_behaving_like_type():
    assert issubclass(AxonType, type)

    class Thing(object, metaclass=AxonType):
        colour = "red"

        def hello(self):
            return "hi"

    assert type(Thing) is AxonType
    assert Thing().hello() == "hi"
    assert Thing.colour == "red"


def test_AxonObject_is_a_plain_object_subclass():
    assert AxonObject.__bases__ == (object,)
    assert isinstance(AxonObject(), object)


def test_AxonObject_supports_cooperative_super_in_a_diamond():
    calls = []

    class Left(AxonObject):
        def __init__(self, **kw):
            calls.append("Left")
            super().__init__(**kw)

    class Right(AxonObject):
        def __init__(self, **kw):
            calls.append("Right")
            super().__init__(**kw)

    class Bottom(Left, Right):
        def __init__(self):
            calls.append("Bottom")
            super().__init__()

    Bottom()
    assert calls == ["Bottom", "Left", "Right"]


def test_core_classes_derive_from_AxonObject():
    for cls in (microprocess, linkage, postoffice):
        assert issubclass(cls, AxonObject), cls
