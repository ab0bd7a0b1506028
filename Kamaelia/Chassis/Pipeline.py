"""
Kamaelia.Chassis.Pipeline: components in a line
================================================

A ``Pipeline`` wires its components one after another, like a Unix shell
pipeline: each component's "outbox" feeds the next one's "inbox" and each
"signal" feeds the next "control". The pipeline itself looks like a single
component: its "inbox"/"control" lead to the first component and the last
component's "outbox"/"signal" come out of the pipeline's.

Example Usage
-------------
::

    from Kamaelia.Chassis.Pipeline import Pipeline
    from Kamaelia.Util.DataSource import DataSource
    from Kamaelia.Util.PureTransformer import PureTransformer
    from Kamaelia.Util.Console import ConsoleEchoer

    Pipeline(
        DataSource(["hello\\n", "world\\n"]),
        PureTransformer(lambda line: line.upper()),
        ConsoleEchoer(),
    ).run()

With ``circular=True`` the last component's output goes back to the first
instead of out of the pipeline (a ring); see the tests for one.

How does it work?
-----------------
Nothing happens at construction except storing the components (in
``self.components``) and turning keyword arguments into attributes. When the
pipeline runs, it:

* makes every component its child (``addChildren``);
* links each component's "outbox" to the next "inbox" and "signal" to the
  next "control";
* links its own "inbox" and "control" straight through to the first
  component's (passthrough=1), so data sent to the pipeline lands directly
  in the first component's inbox;
* links the last component's "outbox" and "signal" straight out through its
  own (passthrough=2) -- or, with ``circular=True``, back to the first
  component's "inbox" and "control";
* activates the components, on the scheduler the pipeline runs on.

The pipeline never sends anything itself and never touches the data.

Termination
-----------
The pipeline sleeps until one of its children terminates (a child's end
wakes its parent). It then forgets the children that have stopped, which
removes the links it made to them, and terminates once every child has
stopped. Shutdown therefore travels down the pipeline like any other
message: send ``producerFinished`` or ``shutdownMicroprocess`` to the
pipeline's "control" and each component passes it on as it finishes.
A pipeline of no components terminates at once.
"""

from Axon.Component import component
from Kamaelia.Support.Deprecate import makeClassStub


class Pipeline(component):
    """Pipeline(*components, **argd) -> a component wiring ``components`` in a line.

    Keyword arguments become attributes; ``circular=True`` links the last
    component back to the first instead of out of the pipeline.
    """

    Inboxes = {"inbox": "Passed straight through to the first component's inbox",
               "control": "Passed straight through to the first component's control"}
    Outboxes = {"outbox": "The last component's outbox, passed straight out (unless circular)",
                "signal": "The last component's signal, passed straight out (unless circular)"}

    circular = False

    def __init__(self, *components, **argd):
        super().__init__(**argd)
        self.components = list(components)

    def main(self):
        """Wire the components up, activate them and wait for them all to stop."""
        components = self.components
        if not components:
            return
        self.addChildren(*components)
        for source, sink in zip(components, components[1:]):
            self.link((source, "outbox"), (sink, "inbox"))
            self.link((source, "signal"), (sink, "control"))
        first, last = components[0], components[-1]
        self.link((self, "inbox"), (first, "inbox"), passthrough=1)
        self.link((self, "control"), (first, "control"), passthrough=1)
        if self.circular:
            self.link((last, "outbox"), (first, "inbox"))
            self.link((last, "signal"), (first, "control"))
        else:
            self.link((last, "outbox"), (self, "outbox"), passthrough=2)
            self.link((last, "signal"), (self, "signal"), passthrough=2)
        for child in self.childComponents():
            child.activate()
        while not self.childrenDone():
            self.pause()
            yield 1

    def childrenDone(self):
        """Forget the children that have stopped; True once none are left."""
        for child in self.childComponents():
            if child._isStopped():
                self.removeChild(child)
        return not self.children


pipeline = makeClassStub(
    Pipeline,
    "pipeline is deprecated: use Kamaelia.Chassis.Pipeline.Pipeline (capital P)")


__kamaelia_components__ = (Pipeline,)
