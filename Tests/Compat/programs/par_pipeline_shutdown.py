"""PAR and Pipeline nested inside each other, shutting down, Kamaelia 1.x style.

Run: python3 par_pipeline_shutdown.py finished|stopped

* finished: a PAR of two Pipelines, each a DataSource and a Tracer, feeding a
  Collector. Every branch's output and signal come out of the PAR, and the
  PAR says producerFinished itself once both branches are done: the
  Collector waits for those three messages.
* stopped: a shutdownMicroprocess sent into a Pipeline whose middle stage is
  a PAR of a two-stage Pipeline and a single Tracer. The PAR forwards it to
  both branches, so it reaches every Tracer, and the PAR passes it on. The
  branches never end by themselves, so only the shutdown ends the program.

Both print the traces, the shutdown messages the Collector got, and
"finished" once run() has returned.
"""

import sys

from tracing import Collector, Tracer, describe, report

from Axon.Component import component
from Axon.Ipc import shutdownMicroprocess
from Kamaelia.Chassis.PAR import PAR
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.DataSource import DataSource

STOP = shutdownMicroprocess()


class Idle(component):
    """Does nothing until told to stop on "control" (then passes the message on)."""

    def main(self):
        while not self.dataReady("control"):
            self.pause()
            yield 1
        self.send(self.recv("control"), "signal")


class StopAfter(component):
    """Waits a few scheduler cycles, then sends STOP on "signal"."""

    def main(self):
        for _ in range(5):
            yield 1
        self.send(STOP, "signal")
        yield 1


def finished():
    end = Collector("END", expect=3, noteData=False)
    Pipeline(
        PAR(
            Pipeline(DataSource([("left", 1), ("left", 2), ("left", 3)]), Tracer("LEFT")),
            Pipeline(DataSource([("right", 1), ("right", 2)]), Tracer("RIGHT")),
        ),
        end,
    ).run()
    report()
    print("left arrived in order:", [d for d in end.received if d[0] == "left"])
    print("right arrived in order:", [d for d in end.received if d[0] == "right"])
    print("last signal from the PAR itself:", describe(end.controls[-1]), end.controls[-1].caller)


def stopped():
    end = Collector("END")
    Pipeline(
        StopAfter(),
        PAR(
            Pipeline(Idle(), Tracer("P1-A"), Tracer("P1-B")),
            Pipeline(Idle(), Tracer("P2")),
        ),
        end,
    ).run()
    report()
    print("END got the message that was sent:", end.controls[0] is STOP)


{"finished": finished, "stopped": stopped}[sys.argv[1]]()
print("finished")
