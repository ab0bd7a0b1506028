"""Axon.Microprocess (spec 1.7): identity, stepping, stopping, pausing and activation."""

import logging

import pytest

from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.Ipc import reactivate
from Axon.Microprocess import _nullscheduler, microprocess
from Axon.Scheduler import scheduler


class Steps(microprocess):
    """Yields 1, 2, 3 and records how far its main() got."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.reached = []

    def main(self):
        for i in (1, 2, 3):
            self.reached.append(i)
            yield i


class Pauser(microprocess):
    """Pauses itself on its first step, then records each later step."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def main(self):
        self.pause()
        yield 1
        while True:
            self.steps += 1
            yield 1


class Probe(microprocess):
    """Runs a list of callables, one per step."""

    def __init__(self, actions):
        super().__init__()
        self.actions = actions

    def main(self):
        for action in self.actions:
            action()
            yield 1


# -- identity ---------------------------------------------------------------


def test_ids_are_increasing_integers_and_names_derive_from_class_and_id():
    a, b = Steps(), Steps()
    assert isinstance(a.id, int) and b.id > a.id
    assert a.name == "%s.Steps_%d" % (__name__, a.id)
    assert a.init == 1


def test_tag_is_appended_to_the_name():
    m = Steps(tag="_reader")
    assert m.name == "%s.Steps_%d_reader" % (__name__, m.id)


def test___str___format_before_and_after_stop():
    m = Steps()
    assert str(m) == "%s :%d :1 :0 :" % (m.name, m.id)
    m.stop()
    assert str(m) == "%s :%d :1 :1 :" % (m.name, m.id)


def test_a_fresh_microprocess_uses_the_null_scheduler_and_the_global_tracker():
    m = Steps()
    assert m.scheduler is _nullscheduler
    assert m.tracker is coordinatingassistanttracker.getcat()
    assert m.closeDownValue == 0


def test_null_scheduler_is_inert():
    m = Steps()
    assert _nullscheduler.wakeThread(m) is None
    assert _nullscheduler.pauseThread(m) is None
    assert _nullscheduler.isThreadPaused(m) is False
    m.pause()
    m.unpause()
    assert m._isRunnable()


# -- stepping ------------------------------------------------------------------


def test_next_steps_main_and_raises_StopIteration_after_main_ends():
    sched = scheduler()
    m = Steps().activate(sched)
    assert next(m) == 1
    assert m.next() == 2
    assert m.__next__() == 3
    with pytest.raises(StopIteration):
        next(m)
    with pytest.raises(StopIteration):
        next(m)
    assert m.reached == [1, 2, 3]


def test_a_microprocess_can_be_iterated_to_the_end():
    m = Steps().activate(scheduler())
    assert [v for v in m if v is not None] == [1, 2, 3]


def test_default_main_yields_once_and_ends():
    m = microprocess().activate(scheduler())
    assert next(m) == 1
    with pytest.raises(StopIteration):
        next(m)


def test_a_preset_thread_is_run_instead_of_main():
    def gen():
        yield "a"
        yield "b"

    m = Steps(thread=gen()).activate(scheduler())
    assert [next(m), next(m)] == ["a", "b"]
    with pytest.raises(StopIteration):
        next(m)
    assert m.reached == []


def test_activate_with_another_mainmethod():
    class Two(microprocess):
        def other(self):
            yield "other"

    m = Two().activate(scheduler(), mainmethod="other")
    assert next(m) == "other"


def test_activating_twice_does_not_restart_main():
    sched = scheduler()
    m = Steps().activate(sched)
    next(m)
    m.activate(sched)
    assert next(m) == 2


# -- stop ---------------------------------------------------------------------


def test_stop_sets_the_flag_and_detaches_from_the_scheduler():
    sched = scheduler()
    m = Steps().activate(sched)
    assert m.scheduler is sched
    assert not m._isStopped()
    m.stop()
    assert m._isStopped()
    assert m.scheduler is _nullscheduler
    m.stop()
    assert m._isStopped()


def test_after_stop_main_is_not_advanced_and_next_ends():
    m = Steps().activate(scheduler())
    assert next(m) == 1
    m.stop()
    with pytest.raises(StopIteration):
        for _ in range(3):
            assert next(m) is None
    assert m.reached == [1]


def test_a_microprocess_stopped_while_running_is_not_advanced_again(runScheduler):
    target = Steps()
    Probe([lambda: None, target.stop]).activate()
    target.activate()
    runScheduler()
    # cycle 1: probe, target reaches 1; cycle 2: probe stops target, which never runs again
    assert target.reached == [1]
    assert target._isStopped()


def test_the_scheduler_stops_a_microprocess_that_ends(runScheduler):
    m = Steps().activate()
    runScheduler()
    assert m._isStopped()
    assert m.reached == [1, 2, 3]


# -- pause / unpause / _isRunnable ------------------------------------------------


def test_pause_unpause_and_isRunnable(runScheduler):
    p = Pauser()
    seen = []
    p.activate()
    Probe([
        lambda: seen.append(("after pause", p._isRunnable(), p.steps)),
        lambda: seen.append(("still", p._isRunnable(), p.steps)),
        lambda: (p.unpause(), seen.append(("woken", p._isRunnable()))),
        lambda: seen.append(("not yet", p.steps)),  # p is woken: it runs after this probe
        lambda: seen.append(("ran", p.steps)),
        p.stop,
    ]).activate()
    runScheduler()
    assert seen == [("after pause", False, 0), ("still", False, 0), ("woken", True),
                    ("not yet", 0), ("ran", 1)]


def test_unpaused_microprocess_is_runnable_before_it_first_runs():
    sched = scheduler()
    m = Steps().activate(sched)
    assert m._isRunnable()
    assert not sched.isThreadPaused(m)


def test_deprecated__unpause_logs_and_wakes(runScheduler, caplog):
    p = Pauser()
    p.activate()
    Probe([lambda: None, p._unpause, lambda: None, p.stop]).activate()
    with caplog.at_level(logging.WARNING):
        runScheduler()
    assert p.steps >= 1
    assert any("deprecated" in r.getMessage() for r in caplog.records)


# -- activation ----------------------------------------------------------------


def test_activate_returns_self_and_registers_with_the_default_scheduler():
    m = Steps()
    assert m.activate() is m
    assert m.scheduler is scheduler.run
    assert m in scheduler.run.listAllThreads()


def test_activate_with_an_explicit_scheduler():
    other = scheduler()
    assert scheduler.run is not other
    m = Steps().activate(other)
    assert m.scheduler is other
    assert m in other.listAllThreads()
    assert m not in scheduler.run.listAllThreads()


def test_activate_uses_a_reassigned_scheduler_run(runScheduler):
    replacement = scheduler()
    scheduler.run = replacement
    m = Steps().activate()
    assert m.scheduler is replacement
    runScheduler(replacement)
    assert m.reached == [1, 2, 3]


def test_activate_with_a_tracker_sets_it():
    cat = coordinatingassistanttracker()
    m = Steps().activate(scheduler(), cat)
    assert m.tracker is cat


class OtherScheduler(scheduler):
    pass


class UsesOtherScheduler(Steps):
    pass


def test_setSchedulerClass_changes_the_default_scheduler_of_a_class(monkeypatch):
    monkeypatch.setattr(OtherScheduler, "run", OtherScheduler(), raising=False)
    monkeypatch.setattr(UsesOtherScheduler, "schedulerClass", UsesOtherScheduler.schedulerClass)
    UsesOtherScheduler.setSchedulerClass(OtherScheduler)
    assert UsesOtherScheduler.schedulerClass is OtherScheduler
    m = UsesOtherScheduler().activate()
    assert m.scheduler is OtherScheduler.run
    assert Steps().activate().scheduler is scheduler.run


def test_setTrackerClass_sets_the_class_attribute(monkeypatch):
    monkeypatch.setattr(UsesOtherScheduler, "trackerClass", UsesOtherScheduler.trackerClass)
    UsesOtherScheduler.setTrackerClass(coordinatingassistanttracker)
    assert UsesOtherScheduler.trackerClass is coordinatingassistanttracker


def test_run_activates_and_runs_until_everything_ends(watchdog):
    dog = watchdog(scheduler.run)
    other = Steps().activate()
    m = Steps()
    m.run()
    assert not dog()
    assert m.reached == [1, 2, 3] and other.reached == [1, 2, 3]


def test_activation_inside_a_running_scheduler_uses_that_scheduler(runScheduler):
    private = scheduler()
    child = Steps()
    Probe([child.activate]).activate(private)
    runScheduler(private)
    assert child.reached == [1, 2, 3]
    assert child not in scheduler.run.listAllThreads()


# -- closeDownValue --------------------------------------------------------------


def test_closeDownMicroprocess_returns_closeDownValue():
    assert Steps()._closeDownMicroprocess() == 0
    knock = reactivate(object())
    assert Steps(closeDownValue=knock)._closeDownMicroprocess() is knock
    assert Steps(closeDownValue=knock).closeDownValue is knock


def test_a_reactivate_closeDownValue_resumes_the_original(runScheduler):
    waiting = Pauser().activate()
    Steps(closeDownValue=reactivate(waiting)).activate()
    seen = []
    Probe([lambda: None] * 5 + [lambda: seen.append(waiting.steps), waiting.stop]).activate()
    runScheduler()
    assert seen and seen[0] >= 1


# -- stopping from inside and outside -------------------------------------------------


def test_a_microprocess_that_stops_itself_is_not_advanced_again(runScheduler):
    log = []

    class SelfStopper(microprocess):
        def main(self):
            log.append("before")
            self.stop()
            yield 1
            log.append("never")
            yield 1

    m = SelfStopper().activate()
    runScheduler()
    assert log == ["before"]
    assert m._isStopped()
    assert m not in scheduler.run.threads


def test_pause_and_unpause_of_a_terminated_microprocess_do_nothing(runScheduler):
    m = Steps().activate()
    runScheduler()
    m.unpause()
    m.pause()
    assert m not in scheduler.run.threads
    assert m._isRunnable()
