"""
Kamaelia: components and chassis built on Axon
==============================================

Subpackages (none is imported eagerly; import what you use):

* ``Kamaelia.Chassis`` -- ways of wiring components together: ``Pipeline``,
  ``Graphline``, ``ServerCore``/``SimpleServer``, ``Carousel``, ``Seq``, ``PAR``.
* ``Kamaelia.Internet`` -- networking: ``TCPServer``, ``TCPClient``,
  ``ConnectedSocketAdapter``, ``Selector``, ``SingleServer``, UDP peers.
* ``Kamaelia.Util`` -- general components (``Backplane``, ``PureTransformer``,
  ``Console``, ``DataSource``, ...).
* ``Kamaelia.File`` -- reading and writing files.
* ``Kamaelia.Protocol`` -- protocol handlers (``EchoProtocol``).
* ``Kamaelia.Support`` -- non-component support code.
* ``Kamaelia.Apps.Grey`` -- Kamaelia Grey, the greylisting SMTP proxy.
"""
