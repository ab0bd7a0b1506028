"""
Axon.Microprocess: a generator that the scheduler runs
======================================================

A ``microprocess`` wraps a generator -- by default its ``main()`` method --
so that a scheduler can run it a step at a time: each ``yield`` hands
control back. Components are microprocesses with boxes.

Example Usage
-------------
::

    from Axon.Microprocess import microprocess

    class Counter(microprocess):
        def main(self):
            for i in range(3):
                print(i)
                yield 1

    Counter().run()         # activate on the default scheduler and run it

How does it work?
-----------------
``activate()`` calls ``main()`` (or another method named by ``mainmethod``)
to create the generator and registers the microprocess with a scheduler:
the one given, else the scheduler currently running in this thread, else
the default ``schedulerClass.run``. It returns ``self``, so
``X().activate()`` can be chained.

``pause()`` asks the scheduler not to run this microprocess again until it
is woken; called in its own step, it takes effect when the microprocess
next yields; called from outside (another microprocess, between steps), at
the end of the cycle, and the microprocess skips its next turn. A wake in
the same scheduler cycle cancels it. ``unpause()`` wakes it and is safe to
call from any thread. Box deliveries wake the receiving component and
collecting a message wakes the components that sent it.

``stop()`` marks the microprocess stopped: the scheduler does not advance
its generator again, removes it, calls ``stop()`` (subclasses override it
to release resources; it may therefore run twice) and then
``_closeDownMicroprocess()``, whose return value may ask the scheduler for a
knock-on action (``reactivate`` another microprocess).

Termination: a microprocess ends when its generator is exhausted, when it
is stopped, or when it raises (the error propagates out of the scheduler
with the microprocess's name attached, unless the scheduler is immortal).

Crash handlers: setting ``crashHandler`` to a callable ``handler(mp, exc)``
(on the instance or the class) makes a crash of that microprocess its
owner's business instead of the whole scheduler's: once the microprocess has
been stopped and closed down, the scheduler calls the handler, in its own
thread, and carries on. A server uses this to contain a failing connection
(``Kamaelia.Chassis.ConnectedServer``). An exception raised by the handler
propagates as a crash would.
"""

import logging
import types

from Axon import CoordinatingAssistantTracker as _cat
from Axon import debug as _debug
from Axon import idGen
from Axon.Base import AxonObject

_log = logging.getLogger("Axon.Microprocess")
_nextId = idGen.nextUniqueId
_GeneratorType = types.GeneratorType
_sharedDebugger = _debug.debug()
_sharedDebugger.useConfig()


class _State(object):
    """A scheduling state (see ``Axon.Scheduler``)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_ACTIVE = _State("_ACTIVE")
_SLEEPING = _State("_SLEEPING")
_GOINGTOSLEEP = _State("_GOINGTOSLEEP")


class _NullScheduler(object):
    """Stands in for a scheduler before activation and after stopping."""

    threads = {}
    _current = None
    _cycleNumber = 0

    def wakeThread(self, mp, canActivate=False):
        pass

    def pauseThread(self, mp):
        pass

    def isThreadPaused(self, mp):
        return False

    def _stopThread(self, mp):
        pass

    def _wakeLocal(self, mp, canActivate=False):
        pass

    def __repr__(self):
        return "<no scheduler>"


_nullscheduler = _NullScheduler()


class _TrackerDefault(object):
    """``self.tracker`` defaults to the process-wide coordinating assistant tracker."""

    def __get__(self, instance, owner):
        return _cat.coordinatingassistanttracker.getcat()


class _NameDefault(object):
    """``self.name`` defaults to "<module>.<Class>_<id>", built when first read."""

    def __get__(self, instance, owner):
        if instance is None:
            return self
        name = idGen.idGen().idToString(instance, instance.id)
        instance.name = name
        return name


class microprocess(AxonObject):
    """A schedulable generator. See the module documentation."""

    schedulerClass = None
    trackerClass = None
    debugger = _sharedDebugger
    tracker = _TrackerDefault()
    name = _NameDefault()
    scheduler = _nullscheduler
    init = 1
    closeDownValue = 0
    __stopped = 0
    __thread = None
    __stopYielded = False
    _wokenInCycle = -1
    crashHandler = None

    def __init__(self, thread=None, closeDownValue=0, tag=""):
        super().__init__()
        self.id = next(idGen._counter)
        if tag:
            self.name = self.name + tag
        if thread is not None:
            self.__thread = thread
        if closeDownValue != 0:
            self.closeDownValue = closeDownValue

    @classmethod
    def setSchedulerClass(cls, newSchedulerClass):
        """Use ``newSchedulerClass.run`` as the default scheduler of this class."""
        cls.schedulerClass = newSchedulerClass

    @classmethod
    def setTrackerClass(cls, newTrackerClass):
        cls.trackerClass = newTrackerClass

    def __str__(self):
        return "%s :%s :%s :%s :" % (self.name, self.id, self.init, self.__stopped)

    def next(self):
        """Advance the microprocess one step; StopIteration once it has finished."""
        if self.__stopped:
            if self.__stopYielded:
                raise StopIteration
            self.__stopYielded = True
            return None
        thread = self.__thread
        if thread is None:
            raise TypeError("%s has not been activated" % self.name)
        return next(thread)

    __next__ = next

    def __iter__(self):
        return self

    def _isStopped(self):
        """True once ``stop()`` has been called."""
        return bool(self.__stopped)

    def _isRunnable(self):
        """True unless the scheduler holds this microprocess paused."""
        return not self.scheduler.isThreadPaused(self)

    def stop(self):
        """Stop: the generator is not advanced again and the scheduler removes it."""
        if self.__stopped:
            return
        self.__stopped = 1
        scheduler = self.scheduler
        self.scheduler = _nullscheduler
        stopThread = getattr(scheduler, "_stopThread", None)
        if stopThread is not None:    # a scheduler with only 1.x's interface has none
            stopThread(self)

    def pause(self):
        """Sleep from the next yield until woken (a wake in the same cycle wins).

        Called from outside this microprocess's own step, the pause is applied
        at the end of the cycle and this microprocess skips its next turn.
        """
        scheduler = self.scheduler
        try:
            current = scheduler._current
        except AttributeError:        # a scheduler with only 1.x's interface
            scheduler.pauseThread(self)
            return
        if current is self:
            # Pausing itself while running: the common case, done inline.
            if self._wokenInCycle != scheduler._cycleNumber:
                scheduler.threads[self] = _GOINGTOSLEEP
        else:
            scheduler.pauseThread(self)

    def unpause(self):
        """Wake this microprocess; safe from any thread."""
        self.scheduler.wakeThread(self)

    def _deliveryWake(self):
        """Wake this microprocess after a box operation (always in the scheduler's thread)."""
        scheduler = self.scheduler
        try:
            threads = scheduler.threads
            woken = scheduler._woken
        except AttributeError:        # a scheduler with only 1.x's interface
            scheduler.wakeThread(self)
            return
        state = threads.get(self)
        # The two common cases are done inline; see scheduler._wakeLocal.
        if state is _SLEEPING:
            threads[self] = _ACTIVE
            woken.append(self)
            self._wokenInCycle = scheduler._cycleNumber
        elif state is _ACTIVE:
            self._wokenInCycle = scheduler._cycleNumber
        else:
            scheduler._wakeLocal(self)

    def _unpause(self):
        """Deprecated name of ``unpause``."""
        _log.warning("microprocess._unpause is deprecated; use unpause")
        self.unpause()

    def main(self):
        """Default behaviour: one step, then finish. Override in subclasses."""
        yield 1

    def _microprocessGenerator(self, someobject, mainmethod="main"):
        """Generator running ``someobject.<mainmethod>()`` until it ends or is stopped."""
        for value in getattr(someobject, mainmethod)():
            if someobject._isStopped():
                yield None
                return
            yield value

    def _makeThread(self, mainmethod):
        thread = self.__thread
        if thread is None:
            body = getattr(self, mainmethod)()
            if body is None:
                raise TypeError("%s.%s() returned None: it must be a generator "
                                "(did it forget to yield?)" % (self.name, mainmethod))
            try:
                thread = iter(body)
            except TypeError:
                raise TypeError("%s.%s() must be a generator (did it forget to yield?), got %r"
                                % (self.name, mainmethod, body)) from None
            self.__thread = thread
        return thread

    def activate(self, Scheduler=None, Tracker=None, mainmethod="main"):
        """Register with a scheduler (see module docs) and return ``self``."""
        if self.__thread is None:
            if mainmethod == "main" and type(self).main is not microprocess.main:
                body = self.main()
                if body.__class__ is _GeneratorType or hasattr(body, "__next__"):
                    self.__thread = body
                else:
                    self._makeThread(mainmethod)
            else:
                self._makeThread(mainmethod)
        if Scheduler is None:
            Scheduler = _running.scheduler or self.__class__.schedulerClass.run
        if Tracker is not None:
            self.tracker = Tracker
        self.scheduler = Scheduler
        Scheduler._addThread(self)
        return self

    def _schedulerIterator(self):
        """The iterator the scheduler advances to run this microprocess."""
        cls = type(self)
        if cls.__next__ is not microprocess.__next__ or cls.next is not microprocess.next:
            return self
        return self.__thread

    def _closeThread(self):
        """Finalise the generator of a stopped microprocess (runs its finally blocks)."""
        thread = self.__thread
        if thread is not None and hasattr(thread, "close"):
            thread.close()

    def _closeDownMicroprocess(self):
        """Called by the scheduler after termination; may return a knock-on request."""
        return self.closeDownValue

    def run(self):
        """Activate and run the default scheduler until everything has finished."""
        self.activate()
        self.__class__.schedulerClass.run.runThreads()


class _NoneRunning(object):
    scheduler = None


# Per thread, the scheduler running there (``.scheduler``, None if none):
# replaced by ``Axon.Scheduler``'s thread-local when it is imported.
_running = _NoneRunning()


def _runningScheduler():
    """The scheduler currently running in the calling thread, if any."""
    return _running.scheduler
