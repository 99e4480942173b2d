"""gc_paused: the collector is off inside, what was built is frozen after, cycles are still found."""

from __future__ import annotations

import gc
import weakref

from hloenv.altgraph import gcpause
from hloenv.altgraph.gcpause import collect_now, gc_paused


class Node:
    def __init__(self):
        self.other = None


def make_cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_collector_is_off_inside_and_back_on_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: only pauses
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_region_builds_is_frozen_and_collect_now_finds_its_cycles():
    collect_now()
    with gc_paused():
        ref = make_cycle()
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert ref() is not None  # frozen: a plain collection skips it
    collect_now()
    assert ref() is None


def test_next_region_collects_once_enough_was_added(monkeypatch):
    collect_now()
    monkeypatch.setattr(gcpause, "MIN_BLOCKS_BEFORE_FULL", 1000)
    monkeypatch.setattr(gcpause, "_growth", 0.0)
    with gc_paused():
        ref = make_cycle()
    assert ref() is not None  # too little added yet: frozen, not collected
    with gc_paused():
        keep = [Node() for _ in range(5000)]  # noqa: F841 (objects added by this region)
    assert ref() is None  # the region's full collection found the earlier cycle


def test_a_collector_turned_off_by_the_caller_stays_off_and_unfrozen():
    collect_now()
    gc.disable()
    try:
        with gc_paused():
            make_cycle()
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_collections_that_find_little_garbage_let_the_heap_grow_further(monkeypatch):
    collect_now()
    monkeypatch.setattr(gcpause, "MIN_BLOCKS_BEFORE_FULL", 1000)
    monkeypatch.setattr(gcpause, "_growth", 1.0)
    monkeypatch.setattr(gcpause, "_heap_after_full", 0)
    keep = []
    with gc_paused():
        keep.append([Node() for _ in range(5000)])  # live data, no garbage: an unproductive collection
    assert gcpause._growth == 2.0
    monkeypatch.setattr(gcpause, "_heap_after_full", 0)
    with gc_paused():
        for _ in range(200_000):
            make_cycle()  # garbage the region's collection finds: back to the base fraction
    assert gcpause._growth == gcpause.FULL_COLLECTION_FRACTION
