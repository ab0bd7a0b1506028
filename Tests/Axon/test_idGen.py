"""Axon.idGen (spec 1.3): one process-wide id counter and the names built from it."""

import threading

from Axon import idGen as idGenModule
from Axon.AdaptiveCommsComponent import AdaptiveCommsComponent
from Axon.CoordinatingAssistantTracker import coordinatingassistanttracker
from Axon.debug import debug
from Axon.idGen import Debug, debugger, idGen, newId, numId, strId, tupleId
from Axon.Microprocess import microprocess


class Named(object):
    pass


def test_nextId_increments_and_returns_the_shared_counter():
    a, b = idGen(), idGen()
    first = a.nextId()
    second = b.nextId()
    assert second > first
    assert idGen.lowestAllocatedId == second


def test_next_and___next___are_aliases_of_nextId():
    g = idGen()
    x = g.next()
    y = next(g)
    z = g.nextId()
    assert x < y < z
    assert idGen.next is idGen.nextId
    assert idGen.__next__ is idGen.nextId


def test_idToString_names_a_thing_after_its_module_and_class():
    thing = Named()
    assert idGen().idToString(thing, 42) == "%s.Named_42" % __name__
    assert idGen().idToString(thing, 7) == str(Named)[8:-2] + "_7"


def test_numId_strId_tupleId_allocate_fresh_ids():
    n = numId()
    assert isinstance(n, int)
    s = strId(Named())
    prefix = "%s.Named_" % __name__
    assert s.startswith(prefix)
    assert int(s[len(prefix):]) > n
    t = tupleId(Named())
    assert t[1] == prefix + str(t[0])
    assert t[0] > int(s[len(prefix):])


def test_newId_is_strId():
    assert newId(Named()).startswith("%s.Named_" % __name__)
    assert idGenModule.newId is idGenModule.strId


def test_module_level_Debug_is_the_debug_method_of_a_debug_object():
    assert isinstance(debugger, debug)
    assert Debug == debugger.debug


def test_microprocesses_trackers_and_box_suffixes_share_one_counter():
    n1 = numId()
    mp = microprocess()
    n2 = numId()
    cat = coordinatingassistanttracker()
    n3 = numId()
    acc = AdaptiveCommsComponent()
    n4 = numId()
    suffixed = acc.addInbox("inbox")
    n5 = numId()
    assert n1 < mp.id < n2 < cat.id < n3 < acc.id < n4 < int(suffixed[len("inbox"):]) < n5


def test_ids_are_unique_when_allocated_from_several_threads():
    results = [[] for _ in range(4)]

    def grab(out):
        for _ in range(2000):
            out.append(numId())

    threads = [threading.Thread(target=grab, args=(out,)) for out in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    allIds = [i for out in results for i in out]
    assert len(allIds) == 8000
    assert len(set(allIds)) == 8000


def test_lowestAllocatedId_reads_the_shared_counter_through_an_instance_too():
    """1.x kept the counter as a class attribute, so ``idGen().lowestAllocatedId``
    read it as well; tests written for 1.x compare it with what nextId returns."""
    g = idGen()
    before = g.lowestAllocatedId
    assert before == idGen.lowestAllocatedId
    allocated = g.nextId()
    assert allocated == before + 1
    assert g.lowestAllocatedId == allocated == idGen().lowestAllocatedId


def test_assigning_lowestAllocatedId_on_an_instance_leaves_the_counter_alone():
    g = idGen()
    current = idGen.lowestAllocatedId
    g.lowestAllocatedId = current + 1000
    assert g.lowestAllocatedId == current + 1000
    assert idGen.lowestAllocatedId == current
    assert numId() == current + 1
