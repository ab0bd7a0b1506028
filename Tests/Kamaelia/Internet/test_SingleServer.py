"""SingleServer's 1.x helper interface, without a client connecting."""

from Axon.Component import component
from Axon.Ipc import newComponent, producerFinished
from Kamaelia.Internet.SingleServer import SingleServer
from Kamaelia.IPC import newCSA


def test_handleNewCSA_returns_the_newComponent_to_yield_for_each_connection():
    """1.x: handleNewCSA(msg) -> newComponent(csa); main yields it, for wired and refused CSAs."""
    server = SingleServer(port=0, host="127.0.0.1")
    try:
        first, second = component(), component()
        started = server.handleNewCSA(newCSA(server, first))
        assert isinstance(started, newComponent)
        assert started.components() == (first,)
        assert server.CSA is first
        refused = server.handleNewCSA(newCSA(server, second))
        assert isinstance(refused, newComponent)
        assert refused.components() == (second,)
        assert server.CSA is first, "a second client does not replace the first"
        assert isinstance(second.recv("control"), producerFinished)
    finally:
        server.server.stop()
