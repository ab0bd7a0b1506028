"""
Kamaelia.Support.Data.requestLine: the first line of an HTTP/RTSP-style request
===============================================================================

``requestLine(text)`` splits a request line of the form::

    METHOD proto://[user[:passwd]@]domain/path PROTOCOL/VERSION

into its parts, available as attributes. A line that does not have that
shape raises ``Kamaelia.KamaeliaExceptions.BadRequest``.

Example Usage
-------------
::

    >>> from Kamaelia.Support.Data.requestLine import requestLine
    >>> r = requestLine("GET http://user:password@127.0.0.1:1234/index.html HTTP/1.0")
    >>> r.method, r.reqprotocol, r.user, r.passwd, r.domain, r.url
    ('GET', 'http', 'user', 'password', '127.0.0.1:1234', '/index.html')
    >>> r.protocol, r.version
    ('HTTP', '1.0')
    >>> str(r)
    'GET http://user:password@127.0.0.1:1234/index.html HTTP/1.0'

How does it work?
-----------------
The line is cut, left to right, at: the first space (the method), the first
``://`` (the requested protocol), the next ``/`` (the authority, which may
start with ``user[:passwd]@``; missing parts are ``""``), the next space
(the URL, which keeps its leading ``/``) and the first ``/`` of what remains
(protocol and version). A missing separator anywhere raises ``BadRequest``
with the line and the underlying ``ValueError``.

``str()`` puts the line back together (the ``user[:passwd]@`` part only when
there is a user, the ``:passwd`` only when there is a password);
``debug__str__()`` lists every field on its own line.
"""

from Kamaelia.KamaeliaExceptions import BadRequest


def _cut(text, separator, what):
    """Split ``text`` at the first ``separator``; ValueError naming ``what`` if absent."""
    before, found, after = text.partition(separator)
    if not found:
        raise ValueError("%r expected after the %s" % (separator, what))
    return before, after


class requestLine(object):
    """requestLine(request) -> the parsed parts of one request line.

    Attributes: ``method``, ``reqprotocol``, ``user``, ``passwd``, ``domain``,
    ``url``, ``protocol``, ``version`` (all strings). Raises ``BadRequest``
    when ``request`` is not a request line.
    """

    def __init__(self, request):
        try:
            self._parse(request)
        except (ValueError, TypeError, AttributeError) as e:
            raise BadRequest(request, e) from e

    def _parse(self, request):
        self.method, rest = _cut(request, " ", "method")
        self.reqprotocol, rest = _cut(rest, "://", "requested protocol")
        authority, rest = _cut(rest, "/", "domain")
        userinfo, at, self.domain = authority.rpartition("@")
        self.user, _colon, self.passwd = userinfo.partition(":") if at else ("", "", "")
        path, rest = _cut(rest, " ", "url")
        self.url = "/" + path
        self.protocol, self.version = _cut(rest, "/", "protocol")

    def __str__(self):
        credentials = ""
        if self.user:
            credentials = self.user + (":" + self.passwd if self.passwd else "") + "@"
        return "%s %s://%s%s%s %s/%s" % (self.method, self.reqprotocol, credentials, self.domain,
                                         self.url, self.protocol, self.version)

    def debug__str__(self):
        """Every field, one ``name: value`` per line (for debugging output)."""
        fields = ("method", "reqprotocol", "user", "passwd", "domain", "url", "protocol", "version")
        return "\n".join("%s: %s" % (name, getattr(self, name)) for name in fields)
