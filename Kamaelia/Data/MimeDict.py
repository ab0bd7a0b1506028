"""
Kamaelia.Data.MimeDict: the older import path of MimeDict
=========================================================

Programs and tests written for early Kamaelia import ``MimeDict`` from here;
it is the same class as ``Kamaelia.Support.Data.MimeDict.MimeDict``.

Example Usage
-------------
::

    >>> from Kamaelia.Data.MimeDict import MimeDict
    >>> import Kamaelia.Support.Data.MimeDict
    >>> MimeDict is Kamaelia.Support.Data.MimeDict.MimeDict
    True

How does it work?
-----------------
It imports the class from its current module; nothing else lives here.
"""

from Kamaelia.Support.Data.MimeDict import MimeDict
