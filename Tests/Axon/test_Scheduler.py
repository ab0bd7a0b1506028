"""Axon.Scheduler (spec 1.8, DESIGN decisions 3-5): running, pausing, waking,
WaitComplete, errors, stopping, timers, idle blocking, threads and I/O.

Every run of a scheduler has a deadline (the ``runScheduler`` fixture's
watchdog stops the scheduler and fails the test); thread hand-offs wait on
conditions, never on sleeps. Exact cycle-by-cycle orders of runThreads are
pinned in test_Traces.py; the tests here check behaviour, except those at
the end, which pin main()'s yields, as 1.x's, one next() at a time.
"""

import logging
import socket
import threading
import time

import pytest

from Axon.Component import component
from Axon.Ipc import WaitComplete, newComponent, reactivate
from Axon.Microprocess import microprocess
from Axon.Scheduler import _ACTIVE, scheduler


class Counter(microprocess):
    """Takes ``n`` steps (never pauses), counting them."""

    def __init__(self, n, log=None):
        super().__init__()
        self.n = n
        self.count = 0
        self.log = log

    def main(self):
        for _ in range(self.n):
            self.count += 1
            if self.log is not None:
                self.log.append((self.name, self.count))
            yield 1


class Sleeper(component):
    """Pauses until woken ``wakes`` times (anything waking it counts), then ends."""

    def __init__(self, wakes=1):
        super().__init__()
        self.wakes = wakes
        self.woken = 0
        self.sleeping = threading.Event()
        self.stopCalls = 0
        self.closeDownCalls = 0

    def main(self):
        while self.woken < self.wakes:
            self.pause()
            self.sleeping.set()
            yield 1
            self.woken += 1

    def stop(self):
        self.stopCalls += 1
        super().stop()

    def _closeDownMicroprocess(self):
        self.closeDownCalls += 1
        return super()._closeDownMicroprocess()


class Probe(microprocess):
    """Runs a list of callables, one per step."""

    def __init__(self, actions):
        super().__init__()
        self.actions = list(actions)

    def main(self):
        for action in self.actions:
            action()
            yield 1


class Crasher(microprocess):
    """Raises ``exc`` on step ``at``."""

    def __init__(self, at, exc):
        super().__init__()
        self.at = at
        self.exc = exc
        self.steps = 0

    def main(self):
        while True:
            self.steps += 1
            if self.steps == self.at:
                raise self.exc
            yield 1


class Duck(object):
    """Not a microprocess: just ``__next__``, ``stop`` and ``_closeDownMicroprocess``."""

    def __init__(self, steps, log):
        self.left = steps
        self.log = log

    def __next__(self):
        if self.left == 0:
            self.log.append("end")
            raise StopIteration
        self.left -= 1
        self.log.append("step")
        return 1

    def stop(self):
        self.log.append("stop")

    def _closeDownMicroprocess(self):
        self.log.append("closedown")
        return None


# -- construction and state -----------------------------------------------------


def test_first_scheduler_created_becomes_scheduler_run(monkeypatch):
    monkeypatch.setattr(scheduler, "run", None)
    first = scheduler()
    second = scheduler()
    assert scheduler.run is first
    assert second is not first


def test_scheduler_is_a_microprocess_with_the_documented_attributes():
    s = scheduler()
    assert isinstance(s, microprocess)
    assert s.threads == {}
    assert isinstance(s.time, float)
    assert s.extra == 0
    assert hasattr(s, "exception_caught")


def test_wait_for_one_class_attribute_sets_extra():
    class Waiting(scheduler):
        wait_for_one = True

    assert Waiting().extra == 1


def test_keyword_arguments_become_attributes():
    assert scheduler(colour="blue").colour == "blue"


def test_threads_maps_activated_microprocesses_to_a_state():
    s = scheduler()
    m = Counter(1).activate(s)
    assert s.threads[m] is _ACTIVE


# -- running to completion ----------------------------------------------------------


def test_runThreads_with_nothing_to_run_returns_at_once(runScheduler):
    runScheduler(deadline=2)


def test_runThreads_returns_when_every_microprocess_has_ended(runScheduler):
    counters = [Counter(n).activate() for n in (1, 3, 7)]
    runScheduler()
    assert [c.count for c in counters] == [1, 3, 7]
    assert scheduler.run.listAllThreads() == []
    assert all(c._isStopped() for c in counters)


def test_runThreads_never_ends_while_a_paused_microprocess_exists(runScheduler):
    sleeper = Sleeper().activate()
    waker = threading.Timer(0.2, sleeper.unpause)
    start = time.monotonic()
    waker.start()
    try:
        runScheduler()
    finally:
        waker.cancel()
    assert time.monotonic() - start >= 0.19
    assert sleeper.woken == 1


def test_main_is_a_generator_that_runs_cycles_until_none_are_left():
    s = scheduler()
    counters = [Counter(2).activate(s), Counter(4).activate(s)]
    yields = 0
    for _ in s.main():
        yields += 1
        assert yields < 1000
    assert [c.count for c in counters] == [2, 4]
    assert yields > 4


def test_other_yielded_values_are_ignored(runScheduler):
    log = []

    class Yielder(microprocess):
        def main(self):
            for value in (None, "text", 3.5, object(), [1], {"a": 1}, True):
                log.append(type(value).__name__)
                yield value

    Yielder().activate()
    runScheduler()
    assert log == ["NoneType", "str", "float", "object", "list", "dict", "bool"]


def test_scheduler_time_is_the_wall_clock_time_of_the_cycle(runScheduler):
    seen = []
    s = scheduler.run
    before = time.time()
    Probe([lambda: seen.append(s.time)] * 3).activate()
    runScheduler()
    after = time.time()
    assert len(seen) == 3
    assert before - 1 <= seen[0] <= seen[1] <= seen[2] <= after + 1


# -- registering, pausing and waking --------------------------------------------------


def test_addThread_and_wakeThread_canActivate_register_a_microprocess():
    s = scheduler()
    log = []
    a, b, c = Duck(1, log), Duck(1, log), Duck(1, log)
    s.wakeThread(a)
    assert a not in s.listAllThreads()
    s.wakeThread(b, True)
    s._addThread(c)
    assert set(s.listAllThreads()) == {b, c}


def test_pauseThread_of_an_unknown_microprocess_is_ignored():
    s = scheduler()
    d = Duck(1, [])
    s.pauseThread(d)
    assert d not in s.threads
    assert s.isThreadPaused(d)


def test_isThreadPaused_unknown_sleeping_awake_and_going_to_sleep(runScheduler):
    s = scheduler.run
    target = Counter(1000)
    seen = []
    Probe([
        lambda: seen.append(("awake", s.isThreadPaused(target))),
        lambda: (s.pauseThread(target), seen.append(("pause requested", s.isThreadPaused(target)))),
        lambda: seen.append(("going to sleep", s.isThreadPaused(target), target.count)),
        lambda: seen.append(("asleep", s.isThreadPaused(target), target.count)),
        lambda: (s.wakeThread(target), seen.append(("woken", s.isThreadPaused(target)))),
        lambda: None,
        lambda: (seen.append(("ran again", target.count)), target.stop()),
    ]).activate()
    target.activate()
    assert s.isThreadPaused(Counter(1)) is True
    runScheduler()
    # The pause is applied at the end of the cycle it was asked in (target has
    # already run in it: count 2); target then counts as awake, going to
    # sleep, until its next turn, which it skips: it never reaches 3 asleep.
    assert seen == [("awake", False), ("pause requested", False), ("going to sleep", False, 2),
                    ("asleep", True, 2), ("woken", False), ("ran again", 3)]


def test_pause_takes_effect_at_the_next_yield(runScheduler):
    log = []

    class PausesThenWorks(component):
        def main(self):
            self.pause()
            log.append("after pause, same step")
            yield 1
            log.append("woken")

    p = PausesThenWorks().activate()
    Probe([lambda: None, lambda: None, lambda: log.append("probe"), p.unpause]).activate()
    runScheduler()
    assert log == ["after pause, same step", "probe", "woken"]


def test_a_wake_in_the_same_cycle_wins_over_a_pause_in_either_order(runScheduler):
    log = []

    class PauseEveryStep(microprocess):
        def main(self):
            for i in range(2):
                log.append((self.label, i))
                self.pause()
                yield 1
            log.append((self.label, "end"))

    late = PauseEveryStep()
    late.label = "late"
    early = PauseEveryStep()
    early.label = "early"
    # The waker runs after `late` (late pauses, then is woken) and before
    # `early` (early is woken, then pauses): in both cases the wake wins, so
    # both run their next step. Without that they would sleep forever.
    late.activate()
    Probe([lambda: (late.unpause(), early.unpause())] * 2).activate()
    early.activate()
    runScheduler(deadline=2)
    assert sorted(log, key=str) == sorted([("late", 0), ("late", 1), ("late", "end"),
                                           ("early", 0), ("early", 1), ("early", "end")], key=str)


def test_listAllThreads_lists_sleeping_and_awake_but_not_ended(runScheduler):
    s = scheduler.run
    sleeper = Sleeper()
    short = Counter(1)
    busy = Counter(4)
    snapshots = []
    sleeper.activate()
    short.activate()
    busy.activate()
    Probe([lambda: None, lambda: snapshots.append(set(s.listAllThreads())),
           sleeper.unpause]).activate()
    runScheduler()
    assert len(snapshots) == 1
    snapshot = snapshots[0]
    assert sleeper in snapshot and busy in snapshot
    assert short not in snapshot
    assert s.debuggingon
    assert s.listAllThreads() == []


def test_duck_typed_microprocesses_run_and_terminate(runScheduler):
    log = []
    scheduler.run._addThread(Duck(2, log))
    runScheduler()
    assert log == ["step", "step", "end", "stop", "closedown"]


def test_knockon_reactivate_readds_the_original():
    s = scheduler()
    d = Duck(1, [])
    s.handleMicroprocessShutdownKnockon(reactivate(d))
    assert d in s.listAllThreads()


# -- WaitComplete ------------------------------------------------------------------------


class Caller(component):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def sub(self, tag, n):
        for i in range(n):
            self.log.append((tag, i))
            yield 1
        self.result = tag

    def main(self):
        self.log.append("before")
        yield WaitComplete(self.sub("sub", 2))
        self.log.append(("after", self.result))


def test_WaitComplete_runs_the_generator_in_place_of_the_caller_then_resumes_it(runScheduler):
    log = []
    caller = Caller(log).activate()
    runScheduler()
    assert log == ["before", ("sub", 0), ("sub", 1), ("after", "sub")]
    assert caller._isStopped()


def test_nested_WaitComplete(runScheduler):
    log = []

    class Nested(Caller):
        def outer(self):
            self.log.append("outer start")
            yield WaitComplete(self.sub("inner", 2))
            self.log.append(("outer sees", self.result))
            yield WaitComplete(self.sub("inner2", 1))
            self.log.append("outer end")

        def main(self):
            self.log.append("main start")
            yield WaitComplete(self.outer(), tag="outer")
            self.log.append("main end")

    Nested(log).activate()
    runScheduler()
    assert log == ["main start", "outer start", ("inner", 0), ("inner", 1),
                   ("outer sees", "inner"), ("inner2", 0), "outer end", "main end"]


def test_many_WaitCompletes_in_a_row_do_not_kill_the_scheduler(runScheduler):
    class Repeater(component):
        done = 0

        def empty(self):
            return
            yield

        def one(self):
            yield 1

        def main(self):
            for i in range(500):
                yield WaitComplete(self.empty() if i % 2 else self.one())
                self.done += 1

    r = Repeater().activate()
    bystander = Counter(3000).activate()
    runScheduler()
    assert r.done == 500
    assert bystander.count == 3000


def test_WaitComplete_generator_may_pause_until_data_arrives(runScheduler):
    class Reader(component):
        def readOne(self):
            while not self.dataReady("inbox"):
                self.pause()
                yield 1
            self.line = self.recv("inbox")

        def main(self):
            yield WaitComplete(self.readOne())
            self.got = self.line

    r = Reader().activate()
    Probe([lambda: None, lambda: None, lambda: r._deliver("data")]).activate()
    runScheduler()
    assert r.got == "data"


def test_an_error_inside_a_WaitComplete_generator_propagates_with_the_callers_name(runScheduler):
    class Failing(component):
        def sub(self):
            yield 1
            raise KeyError("in sub")

        def main(self):
            yield WaitComplete(self.sub())

    f = Failing().activate()
    with pytest.raises(KeyError) as info:
        runScheduler()
    assert any(f.name in note for note in getattr(info.value, "__notes__", []))


# -- newComponent -------------------------------------------------------------------------


def test_yielding_newComponent_activates_the_components(runScheduler):
    children = [Counter(2), Counter(3)]

    class Parent(component):
        def main(self):
            yield newComponent(*children)

    Parent().activate()
    runScheduler()
    assert [c.count for c in children] == [2, 3]


def test_newComponent_activates_on_the_scheduler_running_the_parent(runScheduler):
    private = scheduler()
    child = Counter(2)

    class Parent(component):
        def main(self):
            yield newComponent(child)

    Parent().activate(private)
    runScheduler(private)
    assert child.count == 2
    assert child not in scheduler.run.listAllThreads()


# -- errors ---------------------------------------------------------------------------------


def test_an_error_propagates_out_of_runThreads_with_the_name_in_its_notes(runScheduler):
    crasher = Crasher(2, ValueError("bad thing"))
    crasher.activate()
    with pytest.raises(ValueError, match="bad thing") as info:
        runScheduler()
    notes = getattr(info.value, "__notes__", [])
    assert any(crasher.name in note for note in notes), notes


def test_after_an_error_the_rest_of_the_system_resumes_with_another_runThreads(runScheduler):
    s = scheduler.run
    before = Counter(6).activate()
    crasher = Crasher(2, ValueError("x")).activate()
    after = Counter(6).activate()
    with pytest.raises(ValueError):
        runScheduler()
    assert crasher not in s.listAllThreads()
    assert before in s.listAllThreads() and after in s.listAllThreads()
    runScheduler()
    assert before.count == 6 and after.count == 6
    assert crasher.steps == 2
    assert crasher._isStopped()


def test_RuntimeError_raised_by_component_code_is_an_error_not_termination(runScheduler):
    class Raises(component):
        def main(self):
            yield 1
            raise RuntimeError("really broken")

    r = Raises().activate()
    with pytest.raises(RuntimeError, match="really broken") as info:
        runScheduler()
    assert any(r.name in note for note in getattr(info.value, "__notes__", []))


def test_StopIteration_raised_inside_component_code_is_an_error_not_termination(runScheduler):
    reached = []

    class Leaks(component):
        def main(self):
            yield 1
            next(iter([]))      # StopIteration escaping from component code
            reached.append("after")
            yield 1

    l = Leaks().activate()
    with pytest.raises(RuntimeError) as info:
        runScheduler()
    assert isinstance(info.value.__cause__, StopIteration)
    assert any(l.name in note for note in getattr(info.value, "__notes__", []))
    assert reached == []


def test_immortalise_stops_a_crashing_microprocess_and_lets_the_rest_run(runScheduler, caplog):
    scheduler.immortalise()
    assert scheduler.run.exception_caught is Exception
    crasher = Crasher(2, ValueError("ignored crash")).activate()
    survivor = Counter(5).activate()
    with caplog.at_level(logging.ERROR):
        runScheduler()
    assert survivor.count == 5
    assert crasher._isStopped()
    assert crasher.steps == 2
    assert any(crasher.name in r.getMessage() for r in caplog.records)


def test_immortal_crash_mid_cycle_does_not_run_the_rest_of_the_cycle_twice(runScheduler):
    """The components after a crasher in a cycle keep one step per cycle (no duplicates)."""
    scheduler.immortalise()
    cycles = {"before": [], "after": []}

    class CycleRecorder(microprocess):
        def __init__(self, key):
            super().__init__()
            self.key = key

        def main(self):
            for _ in range(3):
                cycles[self.key].append(self.scheduler._cycleNumber)
                yield 1

    CycleRecorder("before").activate()
    Crasher(1, ValueError("crash")).activate()
    CycleRecorder("after").activate()
    runScheduler()
    for key in ("before", "after"):
        assert len(cycles[key]) == 3
        assert len(set(cycles[key])) == 3, "stepped twice in one cycle: %r" % cycles


def test_a_crash_handler_takes_the_crash_and_the_scheduler_carries_on(runScheduler):
    """crashHandler(mp, exc) is called once the crasher is stopped; nothing propagates."""
    seen = []
    crasher = Crasher(2, ValueError("contained"))
    crasher.crashHandler = lambda mp, exc: seen.append((mp, exc, mp._isStopped()))
    crasher.activate()
    survivor = Counter(5).activate()
    runScheduler()
    assert survivor.count == 5
    assert len(seen) == 1
    mp, exc, stoppedWhenCalled = seen[0]
    assert mp is crasher and isinstance(exc, ValueError) and stoppedWhenCalled
    assert crasher.steps == 2


def test_an_error_in_a_crash_handler_propagates_with_a_note(runScheduler):
    def handler(mp, exc):
        raise RuntimeError("handler broke")

    crasher = Crasher(1, ValueError("first"))
    crasher.crashHandler = handler
    crasher.activate()
    with pytest.raises(RuntimeError, match="handler broke") as info:
        runScheduler()
    assert any("crash handler" in note and crasher.name in note
               for note in getattr(info.value, "__notes__", []))


def test_mortalise_makes_errors_propagate_again(runScheduler):
    scheduler.immortalise()
    scheduler.mortalise()
    assert scheduler.run.exception_caught is StopIteration
    Crasher(1, ValueError("propagates")).activate()
    with pytest.raises(ValueError):
        runScheduler()


# -- scheduler.stop() ---------------------------------------------------------------------------


def test_stop_stops_every_microprocess_and_calls_their_stop(runScheduler):
    s = scheduler.run
    sleepers = [Sleeper().activate(), Sleeper().activate()]
    busy = Counter(10 ** 6).activate()
    Probe([lambda: None, s.stop]).activate()
    runScheduler()
    assert [x.stopCalls for x in sleepers] == [1, 1]
    assert all(x._isStopped() for x in sleepers)
    assert busy._isStopped() and busy.count < 10
    assert s.listAllThreads() == []
    assert s._isStopped()


def test_stop_does_not_call_closeDownMicroprocess(runScheduler):
    s = scheduler.run
    sleeper = Sleeper().activate()
    Probe([s.stop]).activate()
    runScheduler()
    assert sleeper.stopCalls == 1
    assert sleeper.closeDownCalls == 0


def test_stop_from_another_thread_ends_a_blocked_scheduler(runScheduler):
    s = scheduler.run
    sleeper = Sleeper().activate()

    def stopper():
        sleeper.sleeping.wait(5)
        s.stop()

    t = threading.Thread(target=stopper)
    t.start()
    runScheduler()
    t.join(5)
    assert sleeper._isStopped() and sleeper.stopCalls == 1


# -- slowmo ----------------------------------------------------------------------------------------


def test_slowmo_delays_every_cycle(runScheduler):
    c = Counter(3).activate()
    start = time.monotonic()
    runScheduler(slowmo=0.05)
    assert c.count == 3
    assert time.monotonic() - start >= 0.15


# -- timers ----------------------------------------------------------------------------------------


class TimerUser(component):
    """Calls ``setup(scheduler, log)`` on its first step, then sleeps until ``done`` is logged."""

    def __init__(self, setup):
        super().__init__()
        self.setup = setup
        self.log = []

    def main(self):
        self.setup(self.scheduler, self.log, self)
        while "done" not in self.log:
            self.pause()
            yield 1


def test_callLater_and_callAt_fire_in_due_order_and_cancel_works(runScheduler):
    def setup(s, log, comp):
        now = s.clock()
        s.callLater(0.06, log.append, "third")
        s.callLater(0.02, log.append, "first")
        cancelled = s.callLater(0.03, log.append, "cancelled")
        s.callAt(now + 0.04, log.append, "second")
        s.callLater(0.08, lambda: (log.append("done"), comp.unpause()))
        cancelled.cancel()
        cancelled.cancel()

    t = TimerUser(setup).activate()
    runScheduler()
    assert t.log == ["first", "second", "third", "done"]


def test_timers_due_at_the_same_time_fire_in_the_order_they_were_set(runScheduler):
    def setup(s, log, comp):
        when = s.clock() + 0.01
        for name in ("a", "b", "c", "d"):
            s.callAt(when, log.append, name)
        s.callAt(when, lambda: (log.append("done"), comp.unpause()))

    t = TimerUser(setup).activate()
    runScheduler()
    assert t.log == ["a", "b", "c", "d", "done"]


def test_a_timer_in_the_past_fires_at_once(runScheduler):
    def setup(s, log, comp):
        s.callAt(s.clock() - 10, lambda: (log.append("done"), comp.unpause()))

    t = TimerUser(setup).activate()
    start = time.monotonic()
    runScheduler()
    assert t.log == ["done"]
    assert time.monotonic() - start < 1


def test_the_clock_attribute_is_replaceable():
    fake = [100.0]
    s = scheduler()
    s.clock = lambda: fake[0]
    fired = []
    handle = s.callLater(10, fired.append, "x")
    assert handle.when == 110.0
    assert s.nextTimerDue() == 110.0
    Sleeper().activate(s)
    s.runCycle()
    assert fired == []
    fake[0] = 110.0
    s.runCycle()
    assert fired == ["x"]
    assert s.nextTimerDue() is None


def test_a_timeout_re_armed_per_request_does_not_grow_the_timer_heap():
    from Axon.Testing import FakeClock
    clock = FakeClock(start=0.0)
    s = scheduler().useClock(clock)
    fired = []
    keep = s.callLater(1000, fired.append, "kept")
    timer = None
    for i in range(10000):
        if timer is not None:
            timer.cancel()
        timer = s.callLater(300, fired.append, i)
        clock.advance(0.001)
    assert len(s._timers) < 250
    Sleeper().activate(s)
    clock.advance(300)
    s.runCycle()
    assert fired == [9999]
    timer.cancel()          # after it ran: harmless, and not counted as pending
    clock.advance(1000)
    s.runCycle()
    assert fired == [9999, "kept"] and keep.cancelled
    assert s.nextTimerDue() is None


def test_a_timer_that_cancels_many_others_while_timers_run_loses_none_that_are_due():
    from Axon.Testing import FakeClock
    clock = FakeClock(start=0.0)
    s = scheduler().useClock(clock)
    fired = []
    doomed = [s.callLater(50 + i, fired.append, "doomed") for i in range(300)]

    def cancelThem():
        fired.append("canceller")
        for handle in doomed:
            handle.cancel()

    s.callLater(1, cancelThem)
    s.callLater(1, fired.append, "same time")
    s.callLater(2, fired.append, "later")
    Sleeper().activate(s)
    clock.advance(5)
    s.runCycle()
    assert fired == ["canceller", "same time", "later"]
    assert len(s._timers) <= 1
    clock.advance(1000)
    s.runCycle()
    assert fired == ["canceller", "same time", "later"] and s.nextTimerDue() is None


def test_one_clock_object_gives_timers_and_the_wall_clock():
    from Axon.Testing import FakeClock
    clock = FakeClock(start=50.0, epoch=1_000_000.0)
    s = scheduler().useClock(clock)
    fired = []
    s.callLater(5, fired.append, "due")
    Sleeper().activate(s)
    s.runCycle()
    assert s.time == 1_000_050.0 and fired == []
    clock.advance(5)
    s.runCycle()
    assert fired == ["due"] and s.time == 1_000_055.0
    plain = scheduler().useClock(lambda: 7.0)
    assert plain.clock() == plain.wallclock() == 7.0


def test_an_idle_scheduler_waiting_for_a_timer_uses_almost_no_CPU(runScheduler):
    def setup(s, log, comp):
        s.callLater(0.5, lambda: (log.append("done"), comp.unpause()))

    TimerUser(setup).activate()
    wallStart, cpuStart = time.monotonic(), time.process_time()
    runScheduler()
    wall, cpu = time.monotonic() - wallStart, time.process_time() - cpuStart
    assert wall >= 0.49
    assert cpu < 0.1, "idle scheduler used %.3f s CPU in %.3f s" % (cpu, wall)


# -- threads ------------------------------------------------------------------------------------------


def test_unpause_from_another_thread_wakes_a_blocked_scheduler(runScheduler):
    sleeper = Sleeper().activate()

    def wake():
        sleeper.sleeping.wait(5)
        sleeper.unpause()

    t = threading.Thread(target=wake)
    t.start()
    runScheduler()
    t.join(5)
    assert sleeper.woken == 1


def test_callSoonThreadsafe_runs_the_callback_in_the_scheduler_thread(runScheduler):
    s = scheduler.run
    sleeper = Sleeper().activate()
    ran = []

    def callback(tag):
        ran.append((tag, threading.get_ident()))
        sleeper.unpause()

    def other():
        sleeper.sleeping.wait(5)
        s.callSoonThreadsafe(callback, "hello")

    t = threading.Thread(target=other)
    t.start()
    runScheduler()
    t.join(5)
    assert ran == [("hello", threading.get_ident())]


def test_activate_from_another_thread_while_running(runScheduler):
    sleeper = Sleeper().activate()
    late = Probe([lambda: None, sleeper.unpause])

    def other():
        sleeper.sleeping.wait(5)
        late.activate()

    t = threading.Thread(target=other)
    t.start()
    runScheduler()
    t.join(5)
    assert late._isStopped()
    assert sleeper.woken == 1


def test_waitForOne_keeps_running_until_the_first_activation(runScheduler):
    s = scheduler()
    s.waitForOne()
    c = Counter(3)
    timer = threading.Timer(0.1, c.activate, args=(s,))
    start = time.monotonic()
    timer.start()
    runScheduler(s)
    timer.join(5)
    assert c.count == 3
    assert time.monotonic() - start >= 0.09


# -- I/O ----------------------------------------------------------------------------------------------


def test_addReader_calls_back_when_readable_and_removeReader_stops_it(runScheduler):
    a, b = socket.socketpair()
    calls = []
    result = {}

    class Reader(component):
        def main(self):
            s = self.scheduler

            def readable():
                calls.append(a.recv(100))
                self.unpause()

            s.addReader(a, readable)
            b.send(b"one")
            while not calls:
                self.pause()
                yield 1
            result["removed"] = s.removeReader(a)
            result["removedAgain"] = s.removeReader(a)
            b.send(b"two")
            s.callLater(0.1, lambda: (calls.append("timer"), self.unpause()))
            while calls[-1] != "timer":
                self.pause()
                yield 1

    try:
        Reader().activate()
        runScheduler()
        assert calls == [b"one", "timer"]
        assert result == {"removed": True, "removedAgain": False}
        assert a.recv(100) == b"two"
    finally:
        a.close()
        b.close()


def test_a_socket_becoming_readable_wakes_a_blocked_scheduler(runScheduler):
    a, b = socket.socketpair()
    got = []
    registered = threading.Event()

    class Reader(component):
        def main(self):
            def readable():
                got.append(a.recv(100))
                self.scheduler.removeReader(a)
                self.unpause()

            self.scheduler.addReader(a, readable)
            registered.set()
            while not got:
                self.pause()
                yield 1

    def writer():
        registered.wait(5)
        b.send(b"ping")

    t = threading.Thread(target=writer)
    try:
        Reader().activate()
        t.start()
        runScheduler()
        t.join(5)
        assert got == [b"ping"]
    finally:
        a.close()
        b.close()


def test_addWriter_calls_back_when_writable_and_removeWriter_stops_it(runScheduler):
    a, b = socket.socketpair()
    calls = []

    class Writer(component):
        def main(self):
            s = self.scheduler

            def writable():
                calls.append("writable")
                s.removeWriter(a)
                self.unpause()

            s.addWriter(a, writable)
            while not calls:
                self.pause()
                yield 1
            s.callLater(0.05, lambda: (calls.append("timer"), self.unpause()))
            while calls[-1] != "timer":
                self.pause()
                yield 1

    try:
        Writer().activate()
        runScheduler()
        assert calls == ["writable", "timer"]
    finally:
        a.close()
        b.close()


# -- more -------------------------------------------------------------------------------------------


def test_scheduling_states_are_distinct_sentinels():
    from Axon.Scheduler import _GOINGTOSLEEP, _SLEEPING
    assert len({id(_ACTIVE), id(_SLEEPING), id(_GOINGTOSLEEP)}) == 3


def test_pending_timers_do_not_keep_the_scheduler_alive(runScheduler):
    fired = []
    s = scheduler.run

    class LeavesATimer(component):
        def main(self):
            s.callLater(30, fired.append, "late")
            yield 1

    LeavesATimer().activate()
    start = time.monotonic()
    runScheduler()
    assert time.monotonic() - start < 5
    assert fired == []


def test_a_caller_inside_WaitComplete_is_still_listed_and_awake(runScheduler):
    s = scheduler.run
    seen = []

    class Waits(component):
        def sub(self):
            for _ in range(3):
                yield 1

        def main(self):
            yield WaitComplete(self.sub())

    w = Waits().activate()
    Probe([lambda: None,
           lambda: seen.append((w in s.listAllThreads(), s.isThreadPaused(w)))]).activate()
    runScheduler()
    assert seen == [(True, False)]


def test_pause_from_another_thread_takes_effect_and_unpause_resumes(runScheduler, waitFor):
    s = scheduler.run
    state = {"stop": False}

    class Busy(microprocess):
        count = 0

        def main(self):
            while not state["stop"]:
                self.count += 1
                yield 1

    busy, ticker = Busy().activate(), Busy().activate()
    result = {}

    def other():
        try:
            busy.pause()
            result["paused"] = waitFor(lambda: s.isThreadPaused(busy))
            frozen, ticks = busy.count, ticker.count
            result["ticked"] = waitFor(lambda: ticker.count >= ticks + 20)
            result["frozen"] = busy.count == frozen
            busy.unpause()
            result["resumed"] = waitFor(lambda: busy.count > frozen)
        finally:
            state["stop"] = True

    t = threading.Thread(target=other)
    t.start()
    runScheduler()
    t.join(5)
    assert result == {"paused": True, "ticked": True, "frozen": True, "resumed": True}


def test_a_wake_from_another_thread_between_pause_and_yield_is_not_lost(runScheduler):
    class CarefulWaiter(component):
        def __init__(self):
            super().__init__()
            self.inbound = []
            self.got = []

        def main(self):
            while not self.got:
                if self.inbound:
                    self.got.append(self.inbound.pop())
                    continue
                self.pause()
                if not hasattr(self, "raced"):
                    self.raced = True
                    # another thread delivers and wakes us after we decided to sleep
                    t = threading.Thread(target=lambda: (self.inbound.append("late"),
                                                         self.unpause()))
                    t.start()
                    t.join(5)
                yield 1

    w = CarefulWaiter().activate()
    runScheduler(deadline=2)
    assert w.got == ["late"]


def test_wakes_made_before_an_error_in_the_same_cycle_are_kept(runScheduler):
    sleeper = Sleeper().activate()
    Probe([sleeper.unpause]).activate()
    Crasher(1, ValueError("after the wake")).activate()
    with pytest.raises(ValueError):
        runScheduler()
    runScheduler()
    assert sleeper.woken == 1


def test_newComponent_yielded_from_a_WaitComplete_generator_activates(runScheduler):
    child = Counter(2)

    class Parent(component):
        def sub(self):
            yield newComponent(child)
            yield 1

        def main(self):
            yield WaitComplete(self.sub())

    Parent().activate()
    runScheduler()
    assert child.count == 2


def test_a_suspended_scheduler_generator_does_not_capture_new_components():
    """Stepping another scheduler's main() by hand and leaving it suspended: activate() with no
    argument still uses scheduler.run (the other is 'running' only during its own steps)."""
    other = scheduler()
    Counter(10).activate(other)
    stepper = other.main()
    next(stepper)
    next(stepper)
    fresh = Counter(1).activate()
    assert fresh.scheduler is scheduler.run
    assert fresh in scheduler.run.threads and fresh not in other.threads
    stepper.close()


def test_components_activated_during_a_hand_stepped_cycle_join_that_scheduler():
    other = scheduler()
    made = []

    class Spawner(microprocess):
        def main(self):
            made.append(Counter(1).activate())
            yield 1

    Spawner().activate(other)
    for _ in other.main():
        pass
    assert made and made[0].count == 1, "it ran on the hand-stepped scheduler"
    assert made[0] not in scheduler.run.threads


# -- main() stepped by hand, yield for yield as in 1.x ---------------------------------


class Logger(microprocess):
    """Appends its label to ``log`` on every step; pauses after step ``pauseAt`` if given."""

    def __init__(self, label, log, pauseAt=None):
        super().__init__()
        self.label = label
        self.log = log
        self.pauseAt = pauseAt

    def main(self):
        step = 0
        while True:
            step += 1
            self.log.append(self.label)
            if step == self.pauseAt:
                self.pause()
            yield 1


def stepped(gen, n):
    """Advance ``gen`` n times (it must not end)."""
    for _ in range(n):
        next(gen)


def test_main_first_cycle_is_empty_then_one_yield_before_each_turn_and_one_at_the_end():
    """1.x's main() took what was activated at the end of a cycle, so its first
    cycle yields once and runs nothing; then every cycle yields before each
    microprocess's turn and once at the end."""
    s = scheduler()
    log = []
    Logger("a", log).activate(s)
    Logger("b", log).activate(s)
    gen = s.main()
    stepped(gen, 2)          # the empty first cycle; the yield before a's turn
    assert log == []
    stepped(gen, 1)          # a runs; the yield before b's turn
    assert log == ["a"]
    stepped(gen, 1)          # b runs; the end of the cycle
    assert log == ["a", "b"]
    stepped(gen, 3)          # the next cycle, yield for yield
    assert log == ["a", "b", "a", "b"]


def test_main_a_paused_microprocess_uses_one_more_turn_to_go_to_sleep():
    """In 1.x a pause took effect at the microprocess's next turn: it was still
    in the next run queue (a yield) and only then marked asleep. Until then
    isThreadPaused says False."""
    s = scheduler()
    log = []
    p = Logger("p", log, pauseAt=1).activate(s)
    Logger("q", log).activate(s)
    gen = s.main()
    stepped(gen, 4)          # empty cycle; p runs and pauses; q runs; end
    assert log == ["p", "q"]
    assert not s.isThreadPaused(p)
    stepped(gen, 1)          # next cycle: the yield before p's turn
    assert not s.isThreadPaused(p)
    stepped(gen, 1)          # p's turn: marked asleep, not run
    assert s.isThreadPaused(p)
    assert log == ["p", "q"]
    stepped(gen, 2)          # q runs; end of the cycle
    assert log == ["p", "q", "q"]
    stepped(gen, 2)          # a cycle with only q left: two yields
    assert log == ["p", "q", "q", "q"]


def test_main_a_wake_after_the_pause_in_the_same_cycle_keeps_it_running():
    s = scheduler()
    log = []
    p = Logger("p", log, pauseAt=1).activate(s)
    gen = s.main()
    stepped(gen, 2)          # empty cycle; the yield before p's turn
    stepped(gen, 1)          # p runs and pauses
    p.unpause()
    stepped(gen, 2)          # the yield before p's next turn; p runs
    assert log == ["p", "p"]
    assert not s.isThreadPaused(p)


def test_main_pauseThread_from_outside_stops_a_microprocess_that_already_ran_this_cycle():
    """1.x applied pause requests at the end of the cycle and skipped the
    microprocess at its next turn, so it did not run again."""
    s = scheduler()
    log = []
    c = Logger("c", log).activate(s)
    gen = s.main()
    stepped(gen, 3)          # empty cycle; the yield before c's turn; c runs
    assert log == ["c"]
    s.pauseThread(c)
    assert not s.isThreadPaused(c)
    stepped(gen, 1)          # end of the cycle applies the pause; yield before c's turn
    assert not s.isThreadPaused(c)
    stepped(gen, 1)          # c's turn: skipped, asleep
    assert s.isThreadPaused(c)
    stepped(gen, 10)
    assert log == ["c"]
    c.unpause()
    stepped(gen, 3)
    assert log == ["c", "c"]


def test_main_what_is_activated_during_a_cycle_runs_after_the_rest_of_the_next_run_queue():
    """1.x added activated microprocesses at the end of the cycle, after every
    microprocess that ran in it."""
    s = scheduler()
    log = []
    late = Logger("new", log)

    class Spawner(microprocess):
        def main(self):
            log.append("spawner")
            late.activate(s)
            yield 1
            while True:
                log.append("spawner")
                yield 1

    Spawner().activate(s)
    Logger("other", log).activate(s)
    gen = s.main()
    stepped(gen, 4)          # empty cycle; spawner runs (activating new); other runs; end
    assert log == ["spawner", "other"]
    stepped(gen, 4)          # next cycle: spawner, other, then new; end
    assert log == ["spawner", "other", "spawner", "other", "new"]


def test_runThreads_pauseThread_from_another_microprocess_after_the_targets_turn(runScheduler):
    """A microprocess paused by another after it has run in the cycle does not
    run again (1.x: the pause is applied at the end of the cycle and the
    target skipped at its next turn)."""
    log = []
    target = Logger("t", log).activate()
    Probe([lambda: scheduler.run.pauseThread(target), lambda: None, lambda: None,
           target.stop]).activate()
    runScheduler()
    assert log == ["t"]


def test_scheduler_has_1x_request_queues():
    s = scheduler()
    for name in ("stopRequests", "wakeRequests", "pauseRequests"):
        q = getattr(s, name)
        assert q.empty() and hasattr(q, "put") and hasattr(q, "get")


def test_main_a_message_in_the_cycle_after_a_pause_wakes_it_for_the_cycle_after_that():
    """1.x applied wakes at the end of a cycle: a consumer that paused in one
    cycle and gets a message early in the next is still skipped at its turn
    there (its pause taking hold) and runs in the cycle after."""
    s = scheduler()
    log = []

    class Consumer(component):
        def main(self):
            while True:
                log.append(("consumer", self.dataReady("inbox")))
                while self.dataReady("inbox"):
                    self.recv("inbox")
                self.pause()
                yield 1

    class Producer(component):
        def main(self):
            yield 1                     # cycle 2: nothing
            log.append("send")
            self.send("x", "outbox")    # cycle 3, before the consumer's turn
            while True:
                self.pause()
                yield 1

    producer, consumer = Producer(), Consumer()
    producer.link((producer, "outbox"), (consumer, "inbox"))
    producer.activate(s)
    consumer.activate(s)
    gen = s.main()
    stepped(gen, 4)         # empty cycle; cycle 2: producer, consumer (pauses), end
    assert log == [("consumer", 0)]
    stepped(gen, 3)         # cycle 3: producer sends; consumer's turn is skipped; end
    assert log == [("consumer", 0), "send"]
    assert not s.isThreadPaused(consumer)
    stepped(gen, 2)         # cycle 4: producer's skipped turn; consumer runs
    assert log == [("consumer", 0), "send"]
    stepped(gen, 1)
    assert log == [("consumer", 0), "send", ("consumer", 1)]
