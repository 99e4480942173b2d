"""Keeping Python's cyclic garbage collector away from large graphs while they are built or rewritten.

Graph work allocates hundreds of thousands of objects that stay alive (instructions, their operand
and user lists). Left to itself, the collector scans each of them in generation 0, again in
generation 1, then in every full collection: on a 9k-instruction module (resnet50), one env step
spent 0.6 s in a generation-0 and 1.9 s in a generation-1 collection of what the step built, about
a third of the step.

`gc_paused()` runs its body with the collector off. On leaving the outermost such region, every
live object is frozen (`gc.freeze()`: moved to the permanent generation, which is never scanned),
so what the region built skips the two young generations; entering the next region unfreezes them
into the oldest generation. Garbage cycles among them (discarded graphs) are found by a full
collection that a region runs itself when the heap (alive, or garbage not found yet) has grown by
`FULL_COLLECTION_FRACTION` since the last full collection: amortised, every object is scanned
about once, where the young generations scanned it twice more. A collection that finds little
garbage lets the heap grow further before the next (up to `MAX_GROWTH`: at worst, garbage cycles
hold twice the live data's memory before they are found). Most garbage
never gets that far: pruning breaks the cycles of what it drops, so reference counting frees it.

`gc.collect()` does not look at frozen objects; `collect_now()` does. One caveat: a region unfreezes
whatever was frozen before it, so code that relies on `gc.freeze()` for its own purposes (pre-fork
servers) should not run graph work between its freeze and its fork.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: A full collection runs when the heap (`sys.getallocatedblocks()`: Python's small-object blocks, a
#: cheap measure of it) has grown by this fraction since the last one (CPython collects its oldest
#: generation at 0.25, after the young generations have scanned everything twice)...
FULL_COLLECTION_FRACTION = 1.0
#: ...and by at least this many blocks (small programs never pay for a full collection).
MIN_BLOCKS_BEFORE_FULL = 500_000
#: A full collection that finds less than this fraction of the heap to be garbage doubles the
#: growth allowed before the next, up to `MAX_GROWTH` (growth was live data, not garbage); one that
#: finds more resets it to `FULL_COLLECTION_FRACTION`.
UNPRODUCTIVE = 0.05
MAX_GROWTH = 2.0

_heap_after_full = 0
_growth = FULL_COLLECTION_FRACTION


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off; see the module docstring for what happens after.

    Nested regions only pause: the outermost one does the freezing and the collecting.
    """
    if not gc.isenabled():  # nested, or the caller turned the collector off: leave it to them
        yield
        return
    gc.disable()
    gc.unfreeze()  # what earlier regions built joins the oldest generation again
    try:
        yield
    finally:
        _settle()
        gc.enable()


def _settle() -> None:
    """Freeze everything alive, after a full collection when the heap has grown enough since the last."""
    global _heap_after_full, _growth
    heap = sys.getallocatedblocks()  # alive, or garbage cycles not found yet; O(arenas), not O(objects)
    if heap > max((1 + _growth) * _heap_after_full, _heap_after_full + MIN_BLOCKS_BEFORE_FULL):
        found = gc.collect()
        _heap_after_full = sys.getallocatedblocks()
        productive = found > UNPRODUCTIVE * _heap_after_full
        _growth = FULL_COLLECTION_FRACTION if productive else min(2 * _growth, MAX_GROWTH)
    gc.freeze()


def collect_now() -> int:
    """A full collection that includes what paused regions froze (plain `gc.collect()` skips it);
    returns the number of unreachable objects found. Benchmarks call it between timed rounds."""
    global _heap_after_full
    gc.unfreeze()
    found = gc.collect()
    _heap_after_full = sys.getallocatedblocks()
    return found
