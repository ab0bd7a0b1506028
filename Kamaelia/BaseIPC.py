"""
Kamaelia.BaseIPC: declarative message classes
=============================================

``IPC`` is a base class for messages whose fields are declared in a
``Parameters`` list and given as keyword arguments.

Example Usage
-------------
::

    from Kamaelia.BaseIPC import IPC

    class moveTo(IPC):
        "Move %(who)s to %(where)s"
        Parameters = ["who", "where", "?speed"]

    m = moveTo(who="bob", where=(3, 4))
    assert m.where == (3, 4) and m.speed is None
    print(str(m))                       # Move bob to (3, 4)

How does it work?
-----------------
Each name in ``Parameters`` becomes an attribute set from the keyword
argument of that name. A name starting with "?" is optional: the attribute
is None when it is not given. A missing required parameter, or a keyword
that is not a parameter, raises ``ValueError``.

``str(message)`` is the class docstring formatted with ``%`` and the
message's attributes, so the docstring doubles as a description template.
A class without a docstring falls back to the default ``object`` text.
"""


class IPC(object):
    """Base class of declarative messages (see the module documentation)."""

    Parameters = []

    def __init__(self, **kwds):
        super().__init__()
        for declared in self.Parameters:
            optional = declared.startswith("?")
            name = declared[1:] if optional else declared
            if name in kwds:
                setattr(self, name, kwds.pop(name))
            elif optional:
                setattr(self, name, None)
            else:
                raise ValueError("%s needs the parameter %r"
                                 % (self.__class__.__name__, name))
        if kwds:
            raise ValueError("%s has no parameter(s) %s"
                             % (self.__class__.__name__, ", ".join(sorted(kwds))))

    def __str__(self):
        template = self.__class__.__doc__
        if not template:
            return object.__str__(self)
        return template % self.__dict__
