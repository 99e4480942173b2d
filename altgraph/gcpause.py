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
collection that the region runs itself, once the objects it has added since the last one exceed
`FULL_COLLECTION_FRACTION` of the objects alive after it: the same amortised rule CPython applies to
its oldest generation, without the young-generation passes.

`gc.collect()` does not look at frozen objects; `collect_now()` does. One caveat: this unfreezes on entry whatever was frozen before, so code that relies on
`gc.freeze()` for its own purposes (pre-fork servers) should not run graph work in the same process
between its freeze and its fork.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: A full collection runs when the objects added by paused regions since the last one exceed this
#: fraction of the objects alive after it (CPython uses 0.25 for its oldest generation).
FULL_COLLECTION_FRACTION = 1.0
#: ...and at least this many (small programs never pay for a full collection).
MIN_OBJECTS_BEFORE_FULL = 200_000

_added_since_full = 0
_alive_after_full = 0


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
    start = gc.get_count()[0]
    try:
        yield
    finally:
        _settle(gc.get_count()[0] - start)
        gc.enable()


def _settle(added: int) -> None:
    """Freeze everything alive, after a full collection when enough has been added since the last."""
    global _added_since_full, _alive_after_full
    _added_since_full += max(added, 0)
    if _added_since_full > max(FULL_COLLECTION_FRACTION * _alive_after_full, MIN_OBJECTS_BEFORE_FULL):
        gc.collect()
        _added_since_full = 0
        gc.freeze()
        _alive_after_full = gc.get_freeze_count()
    else:
        gc.freeze()


def collect_now() -> int:
    """A full collection that includes what paused regions froze (plain `gc.collect()` skips it);
    returns the number of unreachable objects found. Benchmarks call it between timed rounds."""
    global _added_since_full, _alive_after_full
    gc.unfreeze()
    found = gc.collect()
    _added_since_full = 0
    _alive_after_full = len(gc.get_objects())
    return found
