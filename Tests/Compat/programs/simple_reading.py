"""A file read line by line and echoed at a limited rate, Kamaelia 1.x style.

Run: python3 simple_reading.py FILENAME RATE BUFFER [HARDLIMIT]

SimpleReader -> MessageRateLimit(RATE, BUFFER[, hardlimit=HARDLIMIT]) ->
ConsoleEchoer: prints the file exactly, no faster than RATE lines a second
once BUFFER lines have been buffered (1.x allowed up to 10% faster), and
ends once the file has been echoed. Then prints whether the lines were
paced, and "finished".
"""

import sys
import time

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.File.Reading import SimpleReader
from Kamaelia.Util.Console import ConsoleEchoer
from Kamaelia.Util.RateFilter import MessageRateLimit

STAMPS = []


class Stamp(component):
    """Notes when each message passes."""

    def main(self):
        while 1:
            while self.dataReady("inbox"):
                STAMPS.append(time.time())
                self.send(self.recv("inbox"), "outbox")
            while self.dataReady("control"):
                msg = self.recv("control")
                self.send(msg, "signal")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    return
            self.pause()
            yield 1


filename, rate, buffer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
extra = {}
if len(sys.argv) > 4:
    extra["hardlimit"] = int(sys.argv[4])

Pipeline(
    SimpleReader(filename),
    MessageRateLimit(rate, buffer, **extra),
    Stamp(),
    ConsoleEchoer(),
).run()

span = STAMPS[-1] - STAMPS[0]
print("paced:", span >= 0.9 * (len(STAMPS) - 1) / (1.1 * rate))
print("finished")
