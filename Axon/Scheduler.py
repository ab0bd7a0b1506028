"""
Axon.Scheduler: runs microprocesses, timers and I/O callbacks
=============================================================

The scheduler runs every *runnable* microprocess one step (up to its next
``yield``) per *cycle*. Paused microprocesses cost nothing: they are not
visited until something wakes them, so the cost of a step does not depend on
how many are paused. When nothing is runnable the scheduler blocks -- until a
timer is due, an I/O callback is ready, or another thread wakes something --
so an idle program uses no CPU.

Example Usage
-------------
::

    from Axon.Scheduler import scheduler
    from Axon.Component import component

    class Hello(component):
        def main(self):
            print("hello")
            yield 1

    Hello().activate()
    scheduler.run.runThreads()      # returns when every microprocess has ended

How does it work?
-----------------
Each cycle:

1. (``slowmo``) sleep that many seconds, for watching a system run slowly;
2. set ``self.time`` to the wall-clock time;
3. run each microprocess of the run queue one step, in order. A value it
   yields may ask for a service: ``newComponent`` activates components,
   ``WaitComplete`` runs a generator in its place until that ends; other
   values are ignored. A microprocess that called ``pause()`` during its
   step goes to sleep -- unless something woke it earlier in the same cycle,
   because a wake in the same cycle always wins over a pause. A pause asked
   for from outside a microprocess's own step (by another microprocess,
   another thread, or code between the steps of a hand-driven ``main()``)
   is applied at the end of the cycle, as in 1.x, and takes effect at the
   microprocess's next turn, which it skips. When a
   ``WaitComplete`` generator ends, that step does nothing more: the caller
   resumes at its next turn, in the next cycle;
4. apply requests made from other threads, run due timers, poll I/O;
5. the next run queue is: the microprocesses that stayed awake, in the order
   they ran, followed by those woken or activated during the cycle, in the
   order they were woken;
6. finish when no microprocesses are left; otherwise, if nothing is
   runnable, block as described above.

A microprocess ends when its generator is exhausted (detected where
``next()`` is called, so PEP 479 does not interfere) or when it is stopped;
the scheduler then calls its ``stop()`` and ``_closeDownMicroprocess()`` and
acts on the knock-on value that returns (``reactivate``).

Errors: an exception raised by a microprocess propagates out of
``runThreads`` with a note naming the microprocess; the microprocess is
removed and every other one is left in place, so ``runThreads`` may be
called again. After ``scheduler.immortalise()`` crashes are logged and the
crashing microprocess is stopped instead.

Threads: ``wakeThread``, ``pauseThread``, ``_addThread`` (and hence
``unpause``/``activate``) and ``callSoonThreadsafe`` may be called from any
thread; they are applied by the scheduler's thread at the next cycle
boundary and interrupt a blocking wait.

Timers and I/O, for components that wait on time or sockets without
threads: ``callLater(delay, fn, *args)`` / ``callAt(when, fn, *args)``
return a handle with ``cancel()`` (from the scheduler's thread; a
cancelled timer leaves the heap when it reaches the top, or in a
compaction once over 100 timers and over half of the heap are cancelled,
so code that re-arms a timeout per request does not grow it);
``addReader(fileobj, fn, *args)``,
``addWriter``, ``removeReader`` and ``removeWriter`` watch a file or socket
with the ``selectors`` module (epoll on Linux) and call ``fn`` in the
scheduler's thread while it is ready. Time comes from one clock:
``clock()`` (``time.monotonic`` by default) for timers and timeouts, and
``wallclock()`` (``time.time``) for ``self.time`` and what components
stamp; ``useClock(c)`` replaces both with one object -- ``c()`` is the
monotonic reading and ``c.wallclock()``, if it has one, the wall-clock
reading -- as ``Axon.Testing.FakeClock`` is.

Termination: ``runThreads`` returns when every microprocess has ended (or
``stop()`` was called on the scheduler, which stops every microprocess left).
"""

import collections
import heapq
import itertools
import logging
import os
import queue
import selectors
import threading
import time

from Axon import Microprocess as _microprocessModule
from Axon.Ipc import WaitComplete, newComponent, reactivate, shutdownMicroprocess
from Axon.Microprocess import microprocess

_log = logging.getLogger("Axon.Scheduler")
_CYCLE_DONE = object()
_get_ident = threading.get_ident
# Cycle numbers are unique across every scheduler in the process, so "woken
# in this cycle" (``_wokenInCycle``, a sink's ``_poppedIn``) never matches a
# number left from another scheduler.
_cycleNumbers = itertools.count(1)


# Imported here, not at the top: Axon.Microprocess imports this module.
from Axon.Microprocess import _ACTIVE, _GOINGTOSLEEP, _SLEEPING  # noqa: E402, I001


class _RunningScheduler(threading.local):
    """Per thread: the scheduler whose ``main()`` is running there (None if none)."""

    scheduler = None


_running = _RunningScheduler()


def _runningHere():
    """The scheduler whose ``main()`` is running in the calling thread, or None."""
    return _running.scheduler


_microprocessModule._runningScheduler = _runningHere
_microprocessModule._running = _running


class _Stopped(object):
    """Iterator standing in for a stopped microprocess's generator: ends at once."""

    __slots__ = ()

    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration


_stoppedStep = _Stopped()


class _SleepStep(object):
    """Stands in for the step of a microprocess that is going to sleep.

    In 1.x a pause took effect at the microprocess's next turn in the run
    queue: it was skipped there (and marked asleep) unless something had
    woken it in the meantime. This object is installed as the step of a
    microprocess paused from outside its own step (and, in ``main()``, of
    one that paused itself), and does exactly that at its next turn, putting
    the real step back first.
    """

    __slots__ = ("scheduler", "mp", "step", "cycle", "wakeAfterSkip")

    def __init__(self, scheduler, mp, step):
        self.scheduler = scheduler
        self.mp = mp
        self.step = step
        self.cycle = scheduler._cycleNumber
        # Woken after the cycle the pause took hold in: 1.x still skipped this
        # turn (wakes waited for the end of the cycle) and ran it in the next.
        self.wakeAfterSkip = False

    def __iter__(self):
        return self

    def __next__(self):
        scheduler, mp = self.scheduler, self.mp
        if scheduler._steps.get(mp) is self:
            scheduler._steps[mp] = self.step
        if scheduler.threads.get(mp) is _GOINGTOSLEEP:
            scheduler.threads[mp] = _ACTIVE if self.wakeAfterSkip else _SLEEPING
            return None
        return next(self.step)


# A heap of more timers than this is compacted once over half of them are cancelled.
_MIN_COMPACTED_TIMERS = 100


class TimerHandle(object):
    """A callback scheduled with ``callLater``/``callAt``; ``cancel()`` withdraws it."""

    __slots__ = ("when", "seq", "callback", "args", "cancelled", "_heap", "__weakref__")

    def __init__(self, when, seq, callback, args, heap=None):
        self.when = when
        self.seq = seq
        self.callback = callback
        self.args = args
        self.cancelled = False
        # The scheduler whose heap holds this handle (told of a cancellation).
        self._heap = heap

    def cancel(self):
        """Withdraw the callback; cancelling twice, or after it ran, is harmless."""
        self.cancelled = True
        self.callback = None
        self.args = None
        heap = self._heap
        if heap is not None:
            self._heap = None
            heap._timerCancelled()

    def __lt__(self, other):
        return (self.when, self.seq) < (other.when, other.seq)

    def __repr__(self):
        return "<TimerHandle when=%r%s>" % (self.when, " cancelled" if self.cancelled else "")


class scheduler(microprocess):
    """The Axon scheduler. See the module documentation."""

    run = None
    wait_for_one = False
    exception_caught = StopIteration
    clock = staticmethod(time.monotonic)
    wallclock = staticmethod(time.time)
    ioPollInterval = 8

    def __init__(self, **argd):
        super().__init__()
        for key, value in argd.items():
            setattr(self, key, value)
        if scheduler.run is None:
            scheduler.run = self
        self.time = time.time()
        self.threads = {}
        self.debuggingon = False
        self.extra = 1 if self.wait_for_one else 0
        self._steps = {}
        self._waitStacks = {}
        self._runqueue = []
        self._woken = []
        self._wokenActive = set()   # woken while awake this cycle (objects without _wokenInCycle)
        self._cycleNumber = next(_cycleNumbers)
        self._foreign = collections.deque()
        self._pausesPending = set()
        # 1.x's request queues, for code that looks at them. Requests are
        # carried by _foreign (other threads) or applied directly.
        self.stopRequests = queue.Queue()
        self.wakeRequests = queue.Queue()
        self.pauseRequests = queue.Queue()
        self._startLock = threading.Lock()
        self._ownerThread = None
        self._current = None
        self._blocking = False
        self._stopRequested = False
        self._timers = []
        self._cancelledTimers = 0
        self._timerSeq = itertools.count()
        self._selector = None
        self._io = {}
        self._wakeRead = self._wakeWrite = None
        self._ioCountdown = 0
        self._exceptionCaught = None

    # -- registration, waking and pausing -----------------------------

    def useClock(self, clock):
        """Take all time from ``clock`` (see the module documentation); returns self."""
        self.clock = clock
        self.wallclock = getattr(clock, "wallclock", clock)
        return self

    def _foreignThread(self):
        owner = self._ownerThread
        return owner is not None and owner != _get_ident()

    def _fromOtherThread(self, fn, *args):
        self._foreign.append((fn, args))
        if self._blocking:
            self._poke()

    def _addThread(self, mp):
        """Register ``mp`` (if new) and make it runnable."""
        owner = self._ownerThread
        if owner is None:
            # Not running: serialise with a thread starting us (_enter). The
            # lock is taken without ``with``, which would allocate.
            lock = self._startLock
            lock.acquire()
            try:
                if self._ownerThread is None:
                    if mp in self.threads or not isinstance(mp, microprocess):
                        self._wakeLocal(mp, True)
                    else:
                        self._register(mp)
                    return
            finally:
                lock.release()
            owner = self._ownerThread
        if owner == _get_ident() and mp not in self.threads:
            # Activation from a running microprocess (e.g. a chassis starting
            # its children): the common case, registered directly.
            self._register(mp)
        else:
            self.wakeThread(mp, True)

    def _register(self, mp):
        """A new microprocess (in the scheduler's thread): runnable from the next cycle."""
        self._steps[mp] = mp._schedulerIterator() if isinstance(mp, microprocess) else mp
        self.threads[mp] = _ACTIVE
        self._woken.append(mp)
        self.extra = 0

    def wakeThread(self, mp, canActivate=False):
        """Make ``mp`` runnable from the next cycle; register it too if ``canActivate``."""
        owner = self._ownerThread
        if owner is None:
            # Not running: a thread may be about to start us; serialise with _enter.
            with self._startLock:
                if self._ownerThread is None:
                    self._wakeLocal(mp, canActivate)
                    return
            owner = self._ownerThread
        if owner != _get_ident():
            self._fromOtherThread(self.wakeThread, mp, canActivate)
            return
        self._wakeLocal(mp, canActivate)

    def _wakeLocal(self, mp, canActivate=False):
        """``wakeThread`` for callers known to be in the scheduler's thread (box deliveries)."""
        threads = self.threads
        state = threads.get(mp)
        if state is _SLEEPING:
            threads[mp] = _ACTIVE
            self._woken.append(mp)
            self._markWoken(mp)
        elif state is _ACTIVE:
            self._markWoken(mp)
        elif state is _GOINGTOSLEEP:
            step = self._steps.get(mp)
            if step.__class__ is _SleepStep and step.cycle != self._cycleNumber:
                step.wakeAfterSkip = True
            else:
                threads[mp] = _ACTIVE
            self._markWoken(mp)
        elif state is None and canActivate:
            try:
                step = mp._schedulerIterator()
            except AttributeError:
                step = mp
            self._steps[mp] = step
            threads[mp] = _ACTIVE
            self._woken.append(mp)
            self.extra = 0

    def _markWoken(self, mp):
        """Remember that awake ``mp`` was woken this cycle, so a pause this cycle is ignored."""
        try:
            mp._wokenInCycle = self._cycleNumber
        except AttributeError:
            self._wokenActive.add(mp)

    def _wokenThisCycle(self, mp):
        return getattr(mp, "_wokenInCycle", None) == self._cycleNumber or mp in self._wokenActive

    def pauseThread(self, mp):
        """Put ``mp`` to sleep, unless it is woken in the same cycle.

        A microprocess pausing itself sleeps from its next yield. Any other
        pause is applied, as in 1.x, at the end of the current cycle, and
        takes effect at ``mp``'s next turn: ``mp`` is skipped there, so it
        does not run again even if it has already run in this cycle.
        """
        if mp is self._current:
            # The running microprocess pausing itself: we are in the scheduler's thread.
            if not self._wokenThisCycle(mp):
                self.threads[mp] = _GOINGTOSLEEP
            return
        owner = self._ownerThread
        if owner is not None and owner != _get_ident():
            self._fromOtherThread(self.pauseThread, mp)
            return
        if mp in self.threads and mp not in self._pausesPending:
            self._pausesPending.add(mp)
            self._foreign.append((self._applyPause, (mp,)))

    def _applyPause(self, mp):
        """End of cycle: a pause requested from outside ``mp``'s step takes hold."""
        self._pausesPending.discard(mp)
        if self.threads.get(mp) is _ACTIVE and not self._wokenThisCycle(mp):
            self._goingToSleep(mp)

    def _goingToSleep(self, mp):
        """``mp`` (awake and queued to run) is skipped, and sleeps, at its next turn."""
        self.threads[mp] = _GOINGTOSLEEP
        step = self._steps[mp]
        if step.__class__ is not _SleepStep:
            self._steps[mp] = _SleepStep(self, mp, step)

    def _stopThread(self, mp):
        """``mp`` was stopped: do not advance it again; terminate it promptly."""
        if self._foreignThread():
            self._fromOtherThread(self._stopThread, mp)
            return
        if mp in self.threads:
            self._steps[mp] = _stoppedStep
            self._waitStacks.pop(mp, None)
            self.wakeThread(mp)

    def isThreadPaused(self, mp):
        """True if ``mp`` is asleep or unknown to this scheduler."""
        state = self.threads.get(mp)
        return state is None or state is _SLEEPING

    def listAllThreads(self):
        """Every registered microprocess that has not yet terminated."""
        self.debuggingon = True
        return list(self.threads)

    def waitForOne(self):
        """Keep running even with no microprocesses until the first one is activated."""
        self.extra = 1

    @classmethod
    def immortalise(cls):
        """Log and stop crashing microprocesses instead of letting errors escape."""
        cls.run.exception_caught = Exception

    @classmethod
    def mortalise(cls):
        """Let errors from microprocesses propagate out of ``runThreads`` (the default)."""
        cls.run.exception_caught = StopIteration

    def callSoonThreadsafe(self, callback, *args):
        """Call ``callback(*args)`` in the scheduler's thread at the next cycle boundary."""
        self._fromOtherThread(callback, *args)

    def stop(self):
        """Stop every microprocess and end ``main()`` after the current cycle.

        Safe to call from any thread.
        """
        self._stopRequested = True
        if self._blocking:
            self._poke()

    # -- timers -----------------------------------------------------------

    def callAt(self, when, callback, *args):
        """Call ``callback(*args)`` once ``self.clock()`` reaches ``when``."""
        if self._foreignThread():
            raise RuntimeError("callAt/callLater must be called from the scheduler's "
                               "thread; use callSoonThreadsafe")
        handle = TimerHandle(when, next(self._timerSeq), callback, args, self)
        heapq.heappush(self._timers, handle)
        return handle

    def _timerCancelled(self):
        """A pending timer was cancelled: compact the heap once most of it is cancelled."""
        self._cancelledTimers += 1
        timers = self._timers
        if self._cancelledTimers > _MIN_COMPACTED_TIMERS and 2 * self._cancelledTimers > len(timers):
            # In place: _runTimers may be iterating over this very list.
            timers[:] = [handle for handle in timers if not handle.cancelled]
            heapq.heapify(timers)
            self._cancelledTimers = 0

    def _popTimer(self):
        """Take the earliest timer off the heap (one that is due, or cancelled)."""
        handle = heapq.heappop(self._timers)
        if handle.cancelled:
            self._cancelledTimers -= 1
        else:
            handle._heap = None
        return handle

    def callLater(self, delay, callback, *args):
        """Call ``callback(*args)`` after ``delay`` seconds of ``self.clock``."""
        return self.callAt(self.clock() + delay, callback, *args)

    def nextTimerDue(self):
        """When the earliest pending timer is due (``self.clock`` time), or None."""
        timers = self._timers
        while timers and timers[0].cancelled:
            self._popTimer()
        return timers[0].when if timers else None

    def _runTimers(self):
        timers = self._timers
        now = self.clock()
        while timers and (timers[0].cancelled or timers[0].when <= now):
            handle = self._popTimer()
            if not handle.cancelled:
                callback, args = handle.callback, handle.args
                handle.cancel()
                callback(*args)

    # -- I/O ---------------------------------------------------------------

    def _ensureSelector(self):
        if self._selector is None:
            self._selector = selectors.DefaultSelector()
            self._wakeRead, self._wakeWrite = os.pipe()
            os.set_blocking(self._wakeRead, False)
            os.set_blocking(self._wakeWrite, False)
            self._selector.register(self._wakeRead, selectors.EVENT_READ, None)
        return self._selector

    def _poke(self):
        if self._wakeWrite is not None:
            try:
                os.write(self._wakeWrite, b"\0")
            except BlockingIOError:
                pass

    def _setIO(self, fileobj, index, callback, args):
        selector = self._ensureSelector()
        entry = self._io.get(fileobj)
        if entry is None:
            entry = [None, None]
            entry[index] = (callback, args)
            try:
                selector.register(fileobj, self._events(entry), entry)
            except KeyError:
                # A file closed without being unregistered left its descriptor
                # number behind, now reused: forget the stale registration.
                stale = selector.get_key(fileobj)
                _log.warning("dropping a stale I/O registration for %r", stale.fileobj)
                selector.unregister(stale.fileobj)
                self._io.pop(stale.fileobj, None)
                selector.register(fileobj, self._events(entry), entry)
            self._io[fileobj] = entry
        else:
            entry[index] = (callback, args)
            selector.modify(fileobj, self._events(entry), entry)

    def _clearIO(self, fileobj, index):
        entry = self._io.get(fileobj)
        if entry is None or entry[index] is None:
            return False
        entry[index] = None
        if entry[0] is None and entry[1] is None:
            del self._io[fileobj]
            try:
                self._selector.unregister(fileobj)
            except (KeyError, ValueError):
                pass
        else:
            self._selector.modify(fileobj, self._events(entry), entry)
        return True

    @staticmethod
    def _events(entry):
        return (selectors.EVENT_READ if entry[0] is not None else 0) | \
               (selectors.EVENT_WRITE if entry[1] is not None else 0)

    def addReader(self, fileobj, callback, *args):
        """Call ``callback(*args)`` each time ``fileobj`` is readable (until removed)."""
        self._setIO(fileobj, 0, callback, args)

    def addWriter(self, fileobj, callback, *args):
        """Call ``callback(*args)`` each time ``fileobj`` is writable (until removed)."""
        self._setIO(fileobj, 1, callback, args)

    def removeReader(self, fileobj):
        """Stop watching ``fileobj`` for reading; True if it was watched."""
        return self._clearIO(fileobj, 0)

    def removeWriter(self, fileobj):
        """Stop watching ``fileobj`` for writing; True if it was watched."""
        return self._clearIO(fileobj, 1)

    def _pollIO(self, timeout):
        selector = self._selector
        self._ioCountdown = self.ioPollInterval
        try:
            events = selector.select(timeout)
        except (OSError, ValueError):
            events = self._pollIndividually()
        for key, mask in events:
            entry = key.data
            if entry is None:
                self._drainWakePipe()
                continue
            if mask & selectors.EVENT_READ and entry[0] is not None:
                callback, args = entry[0]
                callback(*args)
            if mask & selectors.EVENT_WRITE and entry[1] is not None:
                callback, args = entry[1]
                callback(*args)

    def _pollIndividually(self):
        """A watched file was closed while registered: drop it and report it ready."""
        ready = []
        for fileobj, entry in list(self._io.items()):
            try:
                fileno = fileobj if isinstance(fileobj, int) else fileobj.fileno()
            except (OSError, ValueError):
                fileno = -1
            if fileno < 0:
                _log.warning("unregistering closed file %r from the scheduler", fileobj)
                del self._io[fileobj]
                try:
                    self._selector.unregister(fileobj)
                except (KeyError, ValueError):
                    pass
                key = selectors.SelectorKey(fileobj, -1, selectors.EVENT_READ | selectors.EVENT_WRITE, entry)
                ready.append((key, key.events))
        return ready

    def _drainWakePipe(self):
        try:
            while os.read(self._wakeRead, 4096):
                pass
        except BlockingIOError:
            pass

    def _waitForEvents(self):
        """Block until a timer is due, an I/O callback is ready or another thread calls."""
        self._ensureSelector()
        self._blocking = True
        try:
            if self._foreign or self._stopRequested or self._woken:
                timeout = 0
            else:
                due = self.nextTimerDue()
                timeout = None if due is None else max(0.0, due - self.clock())
            self._pollIO(timeout)
        finally:
            self._blocking = False

    # -- running -----------------------------------------------------------

    def _handleYield(self, mp, value):
        if isinstance(value, newComponent):
            for c in value.components():
                c.activate(self)
        elif isinstance(value, WaitComplete):
            sub = iter(value.args[0])
            self._waitStacks.setdefault(mp, []).append(self._steps[mp])
            self._steps[mp] = sub

    def _subGeneratorEnded(self, mp):
        """A WaitComplete generator of ``mp`` ended: resume its caller. False if none."""
        stack = self._waitStacks.get(mp)
        if not stack:
            return False
        self._steps[mp] = stack.pop()
        if not stack:
            del self._waitStacks[mp]
        return True

    def _terminate(self, mp):
        stopped = self._steps.get(mp) is _stoppedStep
        self.threads.pop(mp, None)
        self._steps.pop(mp, None)
        self._waitStacks.pop(mp, None)
        self._wokenActive.discard(mp)
        if stopped and hasattr(mp, "_closeThread"):
            try:
                mp._closeThread()
            except RuntimeError as e:
                _log.warning("%s: its generator would not close: %s", _nameOf(mp), e)
        mp.stop()
        knockon = mp._closeDownMicroprocess()
        if knockon:
            self.handleMicroprocessShutdownKnockon(knockon)

    def handleMicroprocessShutdownKnockon(self, knockon):
        """Act on what a terminated microprocess's ``_closeDownMicroprocess`` returned."""
        if isinstance(knockon, reactivate):
            self._addThread(knockon.original)
        elif isinstance(knockon, shutdownMicroprocess):
            for mp in knockon.microprocesses():
                mp.stop()

    def _crashed(self, mp, exc, runqueue, survivors):
        """``mp`` raised ``exc``: remove it; report it to its crash handler, or re-raise unless immortal.

        Returns only if the crash was handled; the rest of the cycle then
        carries on. Before an error escapes, the rest of ``runqueue`` is kept
        for the next cycle.
        """
        try:
            self._steps[mp] = _stoppedStep
            self._terminate(mp)
        except Exception as cleanupError:
            _log.error("%s: error while stopping after a crash: %r", _nameOf(mp), cleanupError)
        handler = mp.crashHandler
        if handler is not None:
            try:
                handler(mp, exc)
                return
            except Exception as handlerError:
                if hasattr(handlerError, "add_note"):
                    handlerError.add_note("raised by the crash handler of microprocess %s"
                                          % _nameOf(mp))
                self._rescue(runqueue, mp, survivors)
                raise
        if isinstance(exc, self.exception_caught):
            _log.error("%s crashed and was stopped", _nameOf(mp),
                       exc_info=(type(exc), exc, exc.__traceback__))
            return
        if hasattr(exc, "add_note"):
            exc.add_note("raised in microprocess %s" % _nameOf(mp))
        self._rescue(runqueue, mp, survivors)
        raise exc

    def _enter(self, merge=True):
        """Mark this scheduler as running in the calling thread; returns what to restore.

        With ``merge``, what was woken or activated while it was not running
        joins the run queue now; without, at the end of the current cycle.
        """
        saved = (_running.scheduler, self._ownerThread)
        _running.scheduler = self
        with self._startLock:
            self._ownerThread = _get_ident()
            if merge and self._woken:
                self._runqueue.extend(self._woken)
                self._woken = []
        return saved

    def _leave(self, saved):
        self._current = None
        _running.scheduler, self._ownerThread = saved

    def _runSteps(self, runqueue, survivors):
        """Run one step of each microprocess in ``runqueue``; those staying awake join ``survivors``."""
        threads = self.threads
        steps = self._steps
        _next = next
        for mp in runqueue:
            self._current = mp
            try:
                value = _next(steps[mp])
                if value.__class__ is not int and value is not None:
                    self._handleYield(mp, value)
            except StopIteration:
                try:
                    if not self._subGeneratorEnded(mp):
                        self._terminate(mp)
                        continue
                except Exception as e:
                    self._crashed(mp, e, runqueue, survivors)
                    continue
            except Exception as e:
                self._crashed(mp, e, runqueue, survivors)
                continue
            state = threads[mp]
            if state is _ACTIVE:
                survivors.append(mp)
            elif state is _GOINGTOSLEEP:
                threads[mp] = _SLEEPING
        self._current = None

    def _startCycle(self):
        self._cycleNumber = next(_cycleNumbers)
        self.time = self.wallclock()
        runqueue = self._runqueue
        self._runqueue = []
        return runqueue, self._runqueue

    def _finishCycle(self, survivors, canblock):
        """The end of every cycle: what was woken joins the next run queue.

        The common case -- microprocesses still runnable, and no timer, I/O,
        cross-thread call, stop or wake-up bookkeeping pending -- is only
        that merge; anything else goes through ``_endOfCycle``, which may
        block when nothing is runnable and ``canblock``.
        """
        woken = self._woken
        if (self._foreign or self._timers or self._io or self._stopRequested
                or self._wokenActive or not (survivors or woken)):
            self._endOfCycle(survivors, canblock)
        elif woken:
            if survivors:
                survivors.extend(woken)
                self._woken = []
            else:
                self._runqueue = woken
                self._woken = survivors

    def _cycleFast(self, canblock):
        """Run one cycle (no yields), as ``runCycle`` does and ``runThreads`` (calling the parts).

        The cycle is defined once, in three parts that ``_cycle`` (which
        yields between turns, as 1.x did) shares: ``_startCycle``,
        ``_runSteps``, ``_finishCycle``; the end of a cycle that is not the
        common case is ``_endOfCycle`` (cross-thread calls, timers, I/O wait).
        """
        runqueue, survivors = self._startCycle()
        self._runSteps(runqueue, survivors)
        self._finishCycle(survivors, canblock)

    def _cycle(self, canblock):
        """Generator running one cycle as 1.x's ``main()`` did, yield for yield.

        It yields 1 before each turn in the run queue and once at the end. A
        microprocess that pauses itself keeps its place in the next run
        queue, where its turn (still a yield) marks it asleep, unless it was
        woken in between.
        """
        runqueue, survivors = self._startCycle()
        threads = self.threads
        steps = self._steps
        for mp in runqueue:
            yield 1
            skipping = steps.get(mp).__class__ is _SleepStep
            try:
                self._runSteps((mp,), survivors)
            except BaseException:
                self._rescue(runqueue, mp, survivors)
                raise
            if not skipping and threads.get(mp) is _SLEEPING:
                threads[mp] = _ACTIVE
                self._goingToSleep(mp)
                survivors.append(mp)
        yield 1
        self._finishCycle(survivors, canblock)

    def _over(self):
        """After a cycle: True when the scheduler should return (stopped, or nothing left)."""
        if self._stopRequested:
            self._stopEverything()
            return True
        return not self.threads and not self.extra

    def main(self, slowmo=0, canblock=False):
        """Generator running cycles (see the module documentation) until none are left.

        It yields as 1.x's did: once before each microprocess's turn and
        once at the end of each cycle, so whoever drives it can interleave
        other work, and tests written for 1.x that count steps see the same
        thing. What was activated or woken joins the run queue at the end of
        the cycle (so the first cycle is empty), and a pause takes effect at
        the microprocess's next turn (see ``_cycle``). This scheduler counts
        as running in the calling thread (for ``activate()`` with no
        scheduler) only while one of its steps runs, never while the
        generator is suspended: a generator left suspended must not capture
        components activated later.
        """
        while True:
            if slowmo:
                if canblock:
                    time.sleep(slowmo)
                else:
                    until = time.time() + slowmo
                    while time.time() < until:
                        yield 1
            steps = self._cycle(canblock)
            while True:
                saved = self._enter(merge=False)
                try:
                    value = next(steps, _CYCLE_DONE)
                finally:
                    self._leave(saved)
                if value is _CYCLE_DONE:
                    break
                yield value
            saved = self._enter(merge=False)
            try:
                over = self._over()
            finally:
                self._leave(saved)
            if over:
                return

    def runThreads(self, slowmo=0):
        """Run until every microprocess has ended, blocking (not spinning) when idle."""
        saved = self._enter()
        # _cycleFast's parts, called from here: one call fewer per cycle.
        start, run, finish = self._startCycle, self._runSteps, self._finishCycle
        over = self._over
        try:
            while True:
                if slowmo:
                    time.sleep(slowmo)
                runqueue, survivors = start()
                run(runqueue, survivors)
                finish(survivors, True)
                if (self._stopRequested or not self.threads) and over():
                    return
        finally:
            self._leave(saved)

    def runCycle(self):
        """Run exactly one cycle in the calling thread, without blocking.

        Returns True while microprocesses remain. Used by ``Axon.Testing``
        to step a system deterministically.
        """
        saved = self._enter()
        try:
            self._cycleFast(False)
            if self._stopRequested:
                self._stopEverything()
        finally:
            self._leave(saved)
        return bool(self.threads)

    def isIdle(self):
        """True when nothing is runnable (everything left is asleep, or nothing is left)."""
        return not (self._runqueue or self._woken or self._foreign)

    def _rescue(self, runqueue, mp, survivors):
        """Before an error escapes mid-cycle, keep the rest of the cycle's run queue."""
        runqueue = list(runqueue)
        rest = runqueue[runqueue.index(mp) + 1:]
        if rest:
            survivors.extend(m for m in rest if m in self.threads)

    def _endOfCycle(self, survivors, canblock):
        """The slow end of a cycle, in named parts: the cross-thread queue, the
        timers due, the I/O ready, the merge of what was woken, and -- when
        nothing is runnable and ``canblock`` -- the wait for the next event."""
        self._runForeign()
        if self._timers:
            self._runTimers()
        if self._io:
            self._ioCountdown -= 1
            if self._ioCountdown <= 0 or not (survivors or self._woken):
                self._pollIO(0)
        self._mergeWoken(survivors)
        if self._wokenActive:
            self._wokenActive.clear()
        if not survivors and canblock and (self.threads or self.extra) and not self._stopRequested:
            self._waitUntilRunnable()
            self._runForeign()
            self._mergeWoken(survivors)

    def _runForeign(self):
        """Run the calls other threads queued (``callSoonThreadsafe`` and wake-ups)."""
        foreign = self._foreign
        while foreign:
            fn, args = foreign.popleft()
            fn(*args)

    def _mergeWoken(self, survivors):
        """What was woken this cycle joins the next run queue."""
        if self._woken:
            survivors.extend(self._woken)
            self._woken = []

    def _waitUntilRunnable(self):
        """Block in the I/O wait (up to the next timer) until something is runnable."""
        while not (self._woken or self._stopRequested or self._foreign):
            if not self.threads and not self.extra:
                break
            self._waitForEvents()
            if self._timers:
                self._runTimers()

    def _stopEverything(self):
        self._stopRequested = False
        remaining = list(self.threads)
        self.threads.clear()
        self._steps.clear()
        self._waitStacks.clear()
        self._runqueue = []
        self._woken = []
        for mp in remaining:
            try:
                mp.stop()
            except Exception:
                _log.exception("%s: error in stop() during scheduler shutdown", _nameOf(mp))
        microprocess.stop(self)



def _nameOf(mp):
    return getattr(mp, "name", None) or repr(mp)
