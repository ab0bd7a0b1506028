"""Kamaelia.Data.MimeDict: the old import path still gives the same MimeDict class."""

from Kamaelia.Support.Data.MimeDict import MimeDict as current


def test_the_old_path_is_the_same_class():
    from Kamaelia.Data.MimeDict import MimeDict
    assert MimeDict is current
    assert str(MimeDict(Hello="World")) == "Hello: World\r\n\r\n"


def test_the_old_package_imports_as_a_module_attribute_too():
    import Kamaelia.Data.MimeDict
    assert Kamaelia.Data.MimeDict.MimeDict is current


def test_the_docstring_example_runs():
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module("Kamaelia.Data.MimeDict"))
    assert result.attempted > 0 and result.failed == 0
