"""
Axon.Box: inboxes, outboxes and how a message reaches its destination
=====================================================================

Every box is a ``postbox``. Linking box A to box B makes A *forward* to B;
chains may be any length (outbox -> inbox, inbox -> inbox passthrough,
outbox -> outbox passthrough). Whatever is appended to any box in a chain is
stored directly in the storage of the box at the end of the chain, the
*final sink*. Delivery is therefore synchronous and zero-copy: when
``append`` returns, the message is already in the destination inbox.

Example Usage
-------------
::

    >>> from Axon.Box import makeInbox, makeOutbox
    >>> woken = []
    >>> inbox = makeInbox(notify=lambda: woken.append("receiver"))
    >>> outbox = makeOutbox(notify=lambda: woken.append("sender"))
    >>> inbox.addsource(outbox)          # link outbox -> inbox
    >>> outbox.append("hello")
    >>> inbox.local_len(), woken
    (1, ['receiver'])
    >>> inbox.pop(0), woken
    ('hello', ['receiver', 'sender'])

How does it work?
-----------------
Storage comes in two kinds:

* ``realsink`` (an inbox's storage) is a list. ``append`` raises
  ``noSpaceInBox`` when a size limit is set and reached, stores the item and
  calls ``notify`` (which wakes the inbox's owner). ``pop`` removes an item
  and calls every callback in ``wakeOnPop`` (which wakes the owners of the
  outboxes feeding it, so producers waiting for space run again).
* ``nullsink`` (an outbox's storage) discards what is appended: sending from
  an unlinked outbox silently drops the message.

A ``postbox`` keeps its own ``storage``, its ``target`` (the box it forwards
to, or None), its ``sink`` (the final storage of its chain) and its
``sources`` (the boxes forwarding to it). ``addsource`` links a source in:
anything already stored in the source moves to the new final sink, every box
upstream is retargeted, and the notify callbacks of the outboxes upstream are
added to the final sink's ``wakeOnPop``. A box may feed only one destination
(``BoxAlreadyLinkedToDestination``); many boxes may feed one.

A size limit (``setSize``) applies to a box's own storage, so it matters only
when that box is the final sink of its chain.

Transit tracing: set ``ShowAllTransits = True`` before boxes are created, or
call ``setShowTransit(True, tag)`` on a box, to log every delivery through it
on the ``"Axon.Box"`` logger.
"""

import logging

from Axon.AxonExceptions import BoxAlreadyLinkedToDestination, noSpaceInBox

ShowAllTransits = False

_log = logging.getLogger("Axon.Box")
_traced = {}  # box -> tag, for boxes whose deliveries are logged
_listappend = list.append
_listpop = list.pop


def _nothing():
    pass


class nullsink(object):
    """Storage that discards everything; used by outboxes."""

    __slots__ = ("wakeOnPop", "size")

    def __init__(self):
        self.wakeOnPop = []
        self.size = None

    def append(self, data):
        pass

    def pop(self, index=-1):
        raise IndexError("pop from an outbox's null sink")

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


# Unlinked outboxes share one null sink: it stores nothing and never pops,
# so it needs no per-box state (wake callbacks are never registered on it).
_SHARED_NULLSINK = nullsink()


class realsink(list):
    """Storage of an inbox: a list that wakes its owner on append and producers on pop.

    ``owner``, when set, is the microprocess whose standard delivery wake
    ``notify`` is: a component's ``send`` skips the call when that owner
    has already been woken in the current scheduler cycle (it would do
    nothing). Replacing ``notify`` clears ``owner``. ``_poppedIn`` is the
    same for the producers: the scheduler cycle in which a component's
    ``recv`` last woke every one of them (valid only while the callbacks
    are all standard delivery wakes, ``_popStandard``, and are unchanged:
    reading ``wakeOnPop`` to change it forgets both).
    """

    __slots__ = ("_notify", "size", "_wakeOnPop", "_wakeWhenFull", "owner",
                 "_poppedIn", "_popStandard")

    def __init__(self, notify=None, size=None, owner=None):
        self._notify = notify if notify is not None else _nothing
        self.size = size
        self._wakeOnPop = None
        self._wakeWhenFull = None
        self.owner = owner
        self._poppedIn = None
        self._popStandard = None

    @property
    def notify(self):
        """Called after every append: wakes the inbox's owner."""
        return self._notify

    @notify.setter
    def notify(self, callback):
        self._notify = callback
        self.owner = None

    @property
    def wakeOnPop(self):
        """Callbacks run on every pop: they wake the owners of the outboxes feeding this sink."""
        callbacks = self._wakeOnPop
        if callbacks is None:
            callbacks = self._wakeOnPop = []
        self._poppedIn = self._popStandard = None
        return callbacks

    @wakeOnPop.setter
    def wakeOnPop(self, callbacks):
        self._wakeOnPop = callbacks
        self._poppedIn = self._popStandard = None

    @property
    def wakeWhenFull(self):
        """Callbacks run on a pop from a full sink only: producers linked with wakeProducer=False."""
        callbacks = self._wakeWhenFull
        if callbacks is None:
            callbacks = self._wakeWhenFull = []
        return callbacks

    def _wakeQuietProducers(self, lengthBefore):
        """After a pop: wake the producers behind quiet links if the sink had been full."""
        callbacks = self._wakeWhenFull
        if callbacks and self.size is not None and lengthBefore >= self.size:
            for wake in callbacks:
                wake()

    def append(self, data):
        size = self.size
        if size is not None and len(self) >= size:
            raise noSpaceInBox(len(self), size)
        _listappend(self, data)
        self._notify()

    def pop(self, index=-1):
        item = _listpop(self, index)
        callbacks = self._wakeOnPop
        if callbacks:
            for wake in callbacks:
                wake()
        if self._wakeWhenFull:
            self._wakeQuietProducers(len(self) + 1)
        return item

    def __repr__(self):
        return "realsink(%s)" % list.__repr__(self)


class postbox(object):
    """A box: own storage, an optional forwarding target, and the sources feeding it."""

    __slots__ = ("storage", "notify", "target", "sink", "_sources", "_quiet")

    def __init__(self, storage, notify=None):
        self.storage = storage
        self.notify = notify
        self.target = None
        self.sink = storage
        self._sources = None
        self._quiet = False
        if ShowAllTransits:
            _traced[self] = None

    @property
    def sources(self):
        """The boxes that forward into this one (a list)."""
        if self._sources is None:
            self._sources = []
        return self._sources

    def __repr__(self):
        return "postbox(own=%d, total=%d, linked=%s)" % (
            len(self.storage), len(self.sink), self.target is not None)

    def append(self, data):
        """Deliver ``data`` to the final sink of this box's chain."""
        if _traced and self in _traced:
            _log.info("Transit %s: %r", _traced[self], data)
        self.sink.append(data)

    def pop(self, index):
        """Remove and return an item from the final sink."""
        return self.sink.pop(index)

    def __len__(self):
        return len(self.sink)

    def local_len(self):
        """Number of items held in this box's own storage."""
        return len(self.storage)

    @property
    def showtransit(self):
        """True when deliveries through this box are being logged."""
        return self in _traced

    @property
    def tag(self):
        """The tag shown when deliveries through this box are logged."""
        return _traced.get(self)

    def setShowTransit(self, showtransit=False, tag=None):
        """Log every delivery passing through this box (with ``tag``)."""
        if showtransit:
            _traced[self] = tag
        else:
            _traced.pop(self, None)

    def setSize(self, size):
        """Limit this box's own storage to ``size`` items (None: unlimited).

        On an outbox the limit is only recorded (``getSize``): what an outbox
        stores is discarded, so it never fills.
        """
        storage = self.storage
        if storage is _SHARED_NULLSINK:
            if size is None:
                return
            storage = self.storage = nullsink()
            if self.target is None:
                self.sink = storage
        storage.size = size

    def getSize(self):
        """The size limit of this box's own storage (None: unlimited)."""
        return self.storage.size

    def isFull(self):
        """True when the final sink has a size limit and has reached it."""
        size = self.sink.size
        return size is not None and len(self.sink) >= size

    # -- linking --------------------------------------------------------

    def addsource(self, newsource, quiet=False):
        """Link ``newsource`` so that it forwards into this box.

        With ``quiet`` a pop from the final sink wakes the owners of
        ``newsource`` and of the boxes feeding it only if the sink was full
        (so a producer waiting for room still runs again).
        """
        if newsource.target is not None:
            raise BoxAlreadyLinkedToDestination(self, newsource.target, newsource)
        loud, whenFull = newsource.getnotifys(), newsource._whenFullNotifys()
        newsource._removenotifys(loud, whenFull)
        self.sources.append(newsource)
        newsource._retarget(self)
        if quiet:
            newsource._quiet = True
            self._addnotifys((), loud + whenFull)
        else:
            self._addnotifys(loud, whenFull)

    def removesource(self, oldsource):
        """Unlink ``oldsource``; it goes back to storing into its own storage."""
        quiet = oldsource._quiet
        oldsource._quiet = False
        loud, whenFull = oldsource.getnotifys(), oldsource._whenFullNotifys()
        self.sources.remove(oldsource)
        if quiet:
            self._removenotifys((), loud + whenFull)
        else:
            self._removenotifys(loud, whenFull)
        oldsource._retarget(None)
        oldsource._addnotifys(loud, whenFull)

    def _retarget(self, newtarget=None):
        self.target = newtarget
        if newtarget is None:
            self.sink = self.storage
        else:
            self.sink = sink = newtarget.sink
            storage = self.storage
            if len(storage):
                moving = list(storage)
                del storage[:]
                for item in moving:
                    sink.append(item)
        if self._sources:
            for source in self._sources:
                source._retarget(self)

    def getnotifys(self):
        """Notify callbacks of every outbox owner upstream of (and including) this box
        that a pop from the final sink always wakes (not through a quiet link)."""
        notifys = [self.notify] if self.notify is not None else []
        if self._sources:
            for source in self._sources:
                if not source._quiet:
                    notifys.extend(source.getnotifys())
        return notifys

    def _whenFullNotifys(self):
        """Notify callbacks upstream of this box that are behind a quiet link."""
        notifys = []
        if self._sources:
            for source in self._sources:
                if source._quiet:
                    notifys.extend(source.getnotifys())
                notifys.extend(source._whenFullNotifys())
        return notifys

    def _addnotifys(self, notifys, whenFull=()):
        if self.target is not None:
            self.target._addnotifys(notifys, whenFull)
        elif not isinstance(self.sink, nullsink):
            if notifys:
                self.sink.wakeOnPop.extend(notifys)
            if whenFull:
                self.sink.wakeWhenFull.extend(whenFull)

    def _removenotifys(self, notifys, whenFull=()):
        if self.target is not None:
            self.target._removenotifys(notifys, whenFull)
        elif not isinstance(self.sink, nullsink):
            for callbacks, removing in ((self.sink._wakeOnPop, notifys),
                                        (self.sink._wakeWhenFull, whenFull)):
                for notify in removing:
                    try:
                        callbacks.remove(notify)
                    except (ValueError, AttributeError):
                        pass


def makeInbox(notify, size=None):
    """A new inbox whose owner is woken through ``notify`` on every delivery."""
    return postbox(realsink(notify, size))


def makeOutbox(notify):
    """A new outbox; ``notify`` wakes its owner when a downstream item is collected."""
    return postbox(_SHARED_NULLSINK, notify)
