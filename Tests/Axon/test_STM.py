"""Tests for Axon.STM: versioned values, conflict detection and thread safety."""

import io
import threading

import pytest

from Axon.STM import BusyRetry, Collection, ConcurrentUpdate, Store, Value


def test_usevar_on_a_new_key_gives_version_0_and_None():
    store = Store()
    v = store.usevar("x")
    assert (v.version, v.value, v.key, v.store) == (0, None, "x", store)


def test_commit_stores_the_value_and_advances_both_versions():
    store = Store()
    v = store.usevar("x")
    v.set(5)
    v.commit()
    assert v.version == 1
    again = store.usevar("x")
    assert (again.version, again.value) == (1, 5)


def test_set_changes_only_the_local_copy_until_commit():
    store = Store()
    v = store.usevar("x")
    v.set("local")
    assert store.usevar("x").value is None


def test_the_same_copy_can_be_committed_repeatedly():
    store = Store()
    v = store.usevar("n")
    for i in range(3):
        v.set(i)
        v.commit()
    assert repr(store.usevar("n")) == "Value(3, 2)"


def test_a_stale_copy_raises_ConcurrentUpdate_and_changes_nothing():
    store = Store()
    first = store.usevar("x")
    second = store.usevar("x")
    first.set("first")
    first.commit()
    second.set("second")
    with pytest.raises(ConcurrentUpdate):
        second.commit()
    assert store.usevar("x").value == "first"


def test_values_are_deep_copied_in_and_out_of_the_store():
    store = Store()
    v = store.usevar("list")
    shared = [1, 2]
    v.set(shared)
    v.commit()
    shared.append(3)
    out = store.usevar("list")
    out.value.append(99)
    assert store.usevar("list").value == [1, 2]


def test_value_repr_and_clone():
    store = Store()
    v = Value(4, {"a": [1]}, store, "k")
    c = v.clone()
    c.value["a"].append(2)
    assert repr(v) == "Value(4, {'a': [1]})"
    assert (c.version, c.key, c.store) == (4, "k", store)


def test_using_returns_a_collection_that_commits_all_values():
    store = Store()
    accounts = store.using("alice", "bob")
    assert isinstance(accounts, Collection)
    assert accounts.store is store
    accounts["alice"].set(10)
    accounts["bob"].set(20)
    accounts.commit()
    assert store.usevar("alice").value == 10
    assert store.usevar("bob").value == 20
    assert accounts["alice"].version == 1


def test_collection_commit_is_all_or_nothing():
    store = Store()
    together = store.using("a", "b")
    rival = store.usevar("b")
    rival.set("rival")
    rival.commit()
    together["a"].set("new a")
    together["b"].set("new b")
    with pytest.raises(ConcurrentUpdate):
        together.commit()
    assert store.usevar("a").value is None
    assert store.usevar("b").value == "rival"


def test_a_contended_lock_raises_BusyRetry_instead_of_waiting():
    store = Store()
    v = store.usevar("x")
    with store.lock:
        with pytest.raises(BusyRetry):
            store.usevar("x")
        with pytest.raises(BusyRetry):
            v.commit()
        with pytest.raises(BusyRetry):
            store.using("x")
    v.set(1)
    v.commit()
    assert store.usevar("x").value == 1


def test_dump_writes_each_key_and_value():
    store = Store()
    v = store.usevar("greeting")
    v.set("hi")
    v.commit()
    out = io.StringIO()
    store.dump(out)
    assert out.getvalue() == "greeting: Value(1, 'hi')\n"


def _retrying(action):
    while True:
        try:
            return action()
        except (ConcurrentUpdate, BusyRetry):
            continue


def test_concurrent_increments_from_threads_are_never_lost():
    """Many threads incrementing one counter: every increment lands exactly once."""
    store = Store()
    threads, increments = 4, 300

    def increment():
        v = store.usevar("counter")
        v.set((v.value or 0) + 1)
        v.commit()

    def worker():
        for _ in range(increments):
            _retrying(increment)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert not any(w.is_alive() for w in workers)
    final = store.usevar("counter")
    assert final.value == threads * increments
    assert final.version == threads * increments


def test_concurrent_transfers_preserve_the_total():
    """Multi-value transactions from threads: money moves but is never created or lost."""
    store = Store()
    names = ["a", "b", "c"]
    setup = store.using(*names)
    for name in names:
        setup[name].set(1000)
    setup.commit()

    def transfer(src, dst):
        accounts = store.using(src, dst)
        accounts[src].set(accounts[src].value - 1)
        accounts[dst].set(accounts[dst].value + 1)
        accounts.commit()

    def worker(src, dst):
        for _ in range(200):
            _retrying(lambda: transfer(src, dst))

    pairs = [("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")]
    workers = [threading.Thread(target=worker, args=pair) for pair in pairs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert not any(w.is_alive() for w in workers)
    final = {name: store.usevar(name).value for name in names}
    assert sum(final.values()) == 3000
    assert final == {"a": 800, "b": 1000, "c": 1200}
