"""Trace tests: the exact scheduling order, event by event.

Each test records events from several microprocesses into one list and
asserts the whole list. The rules (Axon/Scheduler.py's docstring, spec 1.8):

* each cycle runs every microprocess of the run queue one step, in order;
* the next run queue is those that stayed awake, in the order they ran,
  followed by those woken or activated during the cycle, in wake order;
* ``pause()`` takes effect at the next yield, and a wake in the same cycle
  always wins over a pause.

A ``Cycles`` marker activated first stays awake and is therefore first in
every cycle: it logs ``"|n"`` at the start of cycle n and ends once it is
the only microprocess left, so the traces show the cycle boundaries.
"""


from Axon.Component import component
from Axon.Ipc import WaitComplete, newComponent, reactivate
from Axon.Microprocess import microprocess
from Axon.Postoffice import postoffice
from Axon.Scheduler import scheduler


class Cycles(microprocess):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def main(self):
        n = 1
        while any(t is not self for t in self.scheduler.listAllThreads()):
            self.log.append("|%d" % n)
            n += 1
            yield 1


class Script(component):
    """Runs ``script(self, log)``, a generator function, as its main()."""

    def __init__(self, script, log, label=""):
        super().__init__()
        self.script = script
        self.log = log
        self.label = label

    def main(self):
        return self.script(self, self.log)


def steps(label, n):
    """A script logging label1..labeln, one per step, never pausing."""
    def script(me, log):
        for i in range(1, n + 1):
            log.append("%s%d" % (label, i))
            yield 1
    return script


def start(log):
    Cycles(log).activate()


def test_run_queue_is_survivors_in_run_order_then_woken_in_wake_order(runScheduler):
    log = []
    start(log)
    b = c = None

    def sleeperScript(label):
        def script(me, log):
            log.append(label + "1")
            me.pause()
            yield 1
            log.append(label + "2")
        return script

    def waker(me, log):
        log.append("D1")
        c.unpause()
        b.unpause()
        yield 1
        log.append("D2")
        yield 1
        log.append("D3")
        yield 1

    Script(steps("A", 3), log).activate()
    b = Script(sleeperScript("B"), log).activate()
    c = Script(sleeperScript("C"), log).activate()
    Script(waker, log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "A1", "B1", "C1", "D1",
                   "|2", "A2", "D2", "C2", "B2",
                   "|3", "A3", "D3",
                   "|4"]


def test_activation_order_and_activations_share_the_wake_order(runScheduler):
    log = []
    start(log)
    named = {name: Script(steps(name, 1), log) for name in ("X", "Y", "Z", "W")}

    def sleeper(me, log):
        log.append("S1")
        me.pause()
        yield 1
        log.append("S2")

    s = Script(sleeper, log).activate()

    def activator(me, log):
        log.append("A1")
        named["X"].activate()
        yield newComponent(named["Y"], named["Z"])
        log.append("A2")

    def wakerThenActivator(me, log):
        log.append("B1")
        s.unpause()
        named["W"].activate()
        yield 1
        log.append("B2")

    Script(activator, log).activate()
    Script(wakerThenActivator, log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "S1", "A1", "B1",
                   "|2", "A2", "B2", "X1", "Y1", "Z1", "S2", "W1",
                   "|3"]


def test_delivery_wakes_consumers_in_delivery_order(runScheduler):
    log = []
    start(log)

    def consumer(me, log):
        while not me.dataReady("inbox"):
            me.pause()
            yield 1
        log.append("%s got %s" % (me.label, me.recv("inbox")))

    consumers = [Script(consumer, log, label) for label in ("C1", "C2", "C3")]
    for c in consumers:
        c.activate()

    def producer(me, log):
        yield 1
        for label in ("C3", "C1", "C2"):
            me.send("to-" + label, label)
            log.append("sent " + label)
        yield 1

    class Producer(Script):
        Outboxes = ["C1", "C2", "C3"]

    p = Producer(producer, log)
    po = postoffice()
    for c in consumers:
        po.link((p, c.label), (c, "inbox"))
    p.activate()
    runScheduler(deadline=2)
    assert log == ["|1",
                   "|2", "sent C3", "sent C1", "sent C2",
                   "|3", "C3 got to-C3", "C1 got to-C1", "C2 got to-C2"]


def test_message_ping_pong(runScheduler):
    log = []
    start(log)

    def ping(me, log):
        for i in range(2):
            me.send("ping%d" % i, "outbox")
            log.append("Ping sent ping%d" % i)
            while not me.dataReady("inbox"):
                me.pause()
                log.append("Ping waits")
                yield 1
            log.append("Ping got " + me.recv("inbox"))

    def pong(me, log):
        for i in range(2):
            while not me.dataReady("inbox"):
                me.pause()
                log.append("Pong waits")
                yield 1
            log.append("Pong got " + me.recv("inbox"))
            me.send("pong%d" % i, "outbox")
            log.append("Pong sent pong%d" % i)

    pinger, ponger = Script(ping, log), Script(pong, log)
    po = postoffice()
    po.link((pinger, "outbox"), (ponger, "inbox"))
    po.link((ponger, "outbox"), (pinger, "inbox"))
    pinger.activate()
    ponger.activate()
    runScheduler(deadline=2)
    # Cycle 1: Ping's delivery wakes Pong (awake, not yet run), so Pong's
    # pause later in the same cycle is cancelled and it runs again in cycle 2.
    # Pong's recv wakes the sleeping Ping, which therefore runs after Pong.
    assert log == ["|1", "Ping sent ping0", "Ping waits",
                   "Pong got ping0", "Pong sent pong0", "Pong waits",
                   "|2", "Pong waits", "Ping got pong0", "Ping sent ping1", "Ping waits",
                   "|3", "Pong got ping1", "Pong sent pong1",
                   "|4", "Ping got pong1"]


def test_WaitComplete_resumption_timing(runScheduler):
    log = []
    start(log)

    def sub(me, log):
        log.append("s1")
        yield 1
        log.append("s2")
        yield 1

    def caller(me, log):
        log.append("A1")
        yield WaitComplete(sub(me, log))
        log.append("A resumed")

    Script(caller, log).activate()
    Script(steps("B", 6), log).activate()
    runScheduler(deadline=2)
    # The generator runs in the caller's run-queue slot; the step in which it
    # ends (cycle 4) resumes nothing yet; the caller continues in cycle 5,
    # still in its own slot.
    assert log == ["|1", "A1", "B1",
                   "|2", "s1", "B2",
                   "|3", "s2", "B3",
                   "|4", "B4",
                   "|5", "A resumed", "B5",
                   "|6", "B6",
                   "|7"]


def test_WaitComplete_of_an_empty_generator(runScheduler):
    log = []
    start(log)

    def empty():
        return
        yield

    def caller(me, log):
        log.append("A1")
        yield WaitComplete(empty())
        log.append("A resumed")

    Script(caller, log).activate()
    Script(steps("B", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "A1", "B1", "|2", "B2", "|3", "A resumed", "B3", "|4"]


def test_pause_then_wake_in_one_cycle_runs_next_cycle_after_the_survivors(runScheduler):
    log = []
    start(log)

    def pauser(me, log):
        log.append("A1")
        me.pause()
        yield 1
        log.append("A2")

    a = Script(pauser, log).activate()

    def waker(me, log):
        log.append("W1")
        a.unpause()
        yield 1
        log.append("W2")
        yield 1

    Script(waker, log).activate()
    Script(steps("B", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "A1", "W1", "B1",
                   "|2", "W2", "B2", "A2",
                   "|3", "B3",
                   "|4"]


def test_wake_then_pause_in_one_cycle_keeps_its_place(runScheduler):
    log = []
    start(log)
    a = None

    def waker(me, log):
        log.append("W1")
        a.unpause()
        yield 1
        log.append("W2")
        yield 1

    def pauser(me, log):
        log.append("A1")
        me.pause()
        yield 1
        log.append("A2")
        yield 1
        log.append("A3")

    Script(waker, log).activate()
    a = Script(pauser, log).activate()
    Script(steps("B", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "W1", "A1", "B1",
                   "|2", "W2", "A2", "B2",
                   "|3", "A3", "B3",
                   "|4"]


def test_external_pause_of_an_awake_microprocess_takes_effect_after_its_next_step(runScheduler):
    log = []
    start(log)
    a = None

    def pauser(me, log):
        log.append("P1")
        yield 1
        a.pause()
        log.append("P2 paused A")
        yield 1
        log.append("P3")
        yield 1
        a.unpause()
        log.append("P4 woke A")

    def busy(me, log):
        for i in range(1, 5):
            log.append("A%d" % i)
            yield 1

    a = Script(busy, log)
    Script(pauser, log).activate()
    a.activate()
    runScheduler(deadline=2)
    assert log == ["|1", "P1", "A1",
                   "|2", "P2 paused A", "A2",
                   "|3", "P3",
                   "|4", "P4 woke A",
                   "|5", "A3",
                   "|6", "A4",
                   "|7"]


def test_wake_of_a_sleeper_then_external_pause_in_one_cycle_the_wake_wins(runScheduler):
    log = []
    start(log)
    a = None

    def sleeper(me, log):
        log.append("A1")
        me.pause()
        yield 1
        for i in (2, 3, 4):
            log.append("A%d" % i)
            yield 1

    def waker(me, log):
        log.append("W1")
        yield 1
        a.unpause()
        log.append("W2")

    def pauser(me, log):
        log.append("P1")
        yield 1
        a.pause()
        log.append("P2")

    def guard(me, log):
        # Keeps the test from hanging if A is left asleep for ever.
        for _ in range(6):
            yield 1
        if not a._isStopped():
            log.append("A left asleep")
            a.stop()

    a = Script(sleeper, log).activate()
    Script(waker, log).activate()
    Script(pauser, log).activate()
    Script(guard, log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "A1", "W1", "P1",
                   "|2", "W2", "P2",
                   "|3", "A2",
                   "|4", "A3",
                   "|5", "A4",
                   "|6",
                   "|7"]


def test_a_microprocess_woken_twice_runs_once_in_first_wake_order(runScheduler):
    log = []
    start(log)
    sleepers = {}

    def sleeper(me, log):
        me.pause()
        yield 1
        log.append(me.label)

    for label in ("S1", "S2"):
        sleepers[label] = Script(sleeper, log, label).activate()

    def waker(me, log):
        yield 1
        sleepers["S2"].unpause()
        sleepers["S1"].unpause()
        sleepers["S2"].unpause()
        log.append("woke S2 S1 S2")

    Script(waker, log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "|2", "woke S2 S1 S2", "|3", "S2", "S1"]


def test_waking_an_awake_microprocess_does_not_reorder_or_rerun_it(runScheduler):
    log = []
    start(log)
    b = None

    def waker(me, log):
        for i in range(1, 4):
            b.unpause()
            b.unpause()
            log.append("W%d" % i)
            yield 1

    Script(waker, log).activate()
    b = Script(steps("B", 3), log).activate()
    Script(steps("C", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "W1", "B1", "C1", "|2", "W2", "B2", "C2", "|3", "W3", "B3", "C3", "|4"]


# -- termination ([B]/[Q] items of spec 1.8 and 1.21) ---------------------------


class Ending(component):
    """Ends after one step; logs stop() and _closeDownMicroprocess() calls."""

    def __init__(self, log, knockon=None):
        super().__init__()
        self.log = log
        self.knockon = knockon

    def main(self):
        self.log.append("E1")
        yield 1

    def stop(self):
        self.log.append("E.stop (registered=%s)" % (self in scheduler.run.threads))
        super().stop()

    def _closeDownMicroprocess(self):
        super()._closeDownMicroprocess()
        self.log.append("E.closedown")
        return self.knockon


def test_termination_removes_then_stops_then_closes_down_then_acts_on_the_knockon(runScheduler):
    log = []
    start(log)

    def waiting(me, log):
        log.append("R1")
        me.pause()
        yield 1
        log.append("R reactivated")

    r = Script(waiting, log).activate()
    Ending(log, reactivate(r)).activate()
    Script(steps("B", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "R1", "E1", "B1",
                   "|2", "E.stop (registered=False)", "E.closedown", "B2",
                   "|3", "B3", "R reactivated",
                   "|4"]


def test_a_child_ending_wakes_its_parent_next_cycle(runScheduler):
    log = []
    start(log)
    child = Script(steps("C", 2), log)

    def parent(me, log):
        me.addChildren(child)
        child.activate()
        while not child._isStopped():
            log.append("P waits")
            me.pause()
            yield 1
        log.append("P saw child end")

    Script(parent, log).activate()
    Script(steps("B", 4), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "P waits", "B1",
                   "|2", "B2", "C1",
                   "|3", "B3", "C2",
                   "|4", "B4",
                   "|5", "P saw child end"]


def test_a_plain_iterator_microprocess_terminates_and_the_system_goes_on(runScheduler):
    log = []
    start(log)

    class Plain(object):
        def __init__(self):
            self.left = 2

        def __next__(self):
            if not self.left:
                raise StopIteration
            log.append("plain%d" % self.left)
            self.left -= 1
            return 1

        def stop(self):
            log.append("plain.stop")

        def _closeDownMicroprocess(self):
            log.append("plain.closedown")

    scheduler.run._addThread(Plain())
    Script(steps("B", 4), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "plain2", "B1",
                   "|2", "plain1", "B2",
                   "|3", "plain.stop", "plain.closedown", "B3",
                   "|4", "B4",
                   "|5"]


def test_immortal_scheduler_removes_a_crasher_and_the_cycle_goes_on(runScheduler):
    log = []
    scheduler.immortalise()
    start(log)

    def crasher(me, log):
        log.append("C1")
        yield 1
        log.append("C crashes")
        raise ValueError("crash")

    Script(steps("A", 3), log).activate()
    Script(crasher, log).activate()
    Script(steps("B", 3), log).activate()
    runScheduler(deadline=2)
    assert log == ["|1", "A1", "C1", "B1",
                   "|2", "A2", "C crashes", "B2",
                   "|3", "A3", "B3",
                   "|4"]


def test_scheduler_stop_finishes_the_current_cycle_then_stops_everyone(runScheduler):
    log = []
    s = scheduler.run

    class Logged(Script):
        def stop(self):
            if not self._isStopped():
                self.log.append(self.label + ".stop")
            super().stop()

    def stopper(me, log):
        log.append("S1")
        yield 1
        s.stop()
        log.append("S2 stopped the scheduler")
        yield 1
        log.append("S never again")

    def sleeper(me, log):
        me.pause()
        yield 1
        log.append("Z never again")

    Logged(steps("A", 5), log, "A").activate()
    Logged(stopper, log, "S").activate()
    Logged(steps("B", 5), log, "B").activate()
    Logged(sleeper, log, "Z").activate()
    runScheduler(deadline=2)
    assert log[:6] == ["A1", "S1", "B1", "A2", "S2 stopped the scheduler", "B2"]
    assert sorted(log[6:]) == ["A.stop", "B.stop", "S.stop", "Z.stop"]
