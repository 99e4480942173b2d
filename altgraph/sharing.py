"""Fused computations held by several modules at once: an env step's program and the graph it
came from share them instead of copying them.

Fused computations are three quarters of a step's program once fusions are chosen (t5: ~30k of
~40k instructions), and no pass of a dry round changes one: rewrite and fusion passes work on the
other computations only (`rewritable_computations`, `fusion_computations`); a fusion option
that extends a fusion reads its body into a new one. So `selected_copy(..., share=FUSED)` puts a
*shareable* fused computation into the copy as it is:

    graph:  fusion.7 = f32[8] fusion(p, q), kind=kLoop, calls=fused_computation.4
    copy:   fusion.7 = f32[8] fusion(p', q'), kind=kLoop, calls=fused_computation.4   (same object)

Shareable: called by a fusion, every instruction but the root used (a copy would have kept all
of it, and no parameter is dead, so `remove_dead_fused_parameters` never edits it), no
alternatives node or lazy option inside, and calling nothing, or (with `FUSED_AND_CALLEES`, for
decision passes that leave every embedded computation alone: `Pass.leaves_embedded_alone`) only
computations that are shareable in the same sense and call no control flow: a reducer a body
calls could otherwise be rewritten by a decision pass such as algsimp, under a body that is
shared. The callees of a shared body are shared with it.

A shared computation is frozen: nothing may change it in place (the env's modules and graphs are
read-only to their users; `clone()` copies everything). So what is worked out about it is kept
(`remember`: its text, the computations it calls, its names) and whole-module scans skip its
instructions. `holders` counts the modules holding it: dismantling a module releases its shared computations and
dismantles one only when its last holder lets go; a holder that is never dismantled (a module
handed to the user) leaves it to the garbage collector, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.opcodes import ALTERNATIVES, CONTROL_FLOW_CALLERS

T = TypeVar("T")
_MISSING = object()
_LOCK = threading.Lock()  # holder counts change in whichever thread copies or dismantles


#: `selected_copy(share=...)`: share fused computations that call nothing...
FUSED = "fused"
#: ...or also those that call (shareable) computations, shared with them.
FUSED_AND_CALLEES = "fused+callees"
MODES = ("", FUSED, FUSED_AND_CALLEES)


def shareable(comp: Computation, mode: str = FUSED) -> bool:
    """May `comp`, a fused computation (or one a shared one calls), go into a copy as it is?
    (see the module docstring)"""
    if comp.holders:  # frozen: it was shareable when it was frozen, and has not changed since
        return True
    root = comp.root
    if root is None:
        return False
    for inst in comp.instructions:
        if inst.lazy is not None or inst.opcode == ALTERNATIVES:
            return False
        if not inst.users and inst is not root:
            return False
        if inst.called:
            if mode != FUSED_AND_CALLEES or inst.opcode in CONTROL_FLOW_CALLERS:
                return False
            if not all(shareable(c, mode) for c in inst.called_computations):
                return False
    return True


def callees_closure(comp: Computation) -> list[Computation]:
    """`comp` and every computation it calls, directly or not."""
    out, seen, stack = [], set(), [comp]
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        stack += called_by(c)  # (kept for a frozen one)
    return out


def freeze(comp: Computation) -> None:
    """`comp`, new and shareable, will never change: one module holds it (the printer may keep
    its text from now on; the next copy shares it)."""
    if not comp.holders:
        comp.holders = 1
        comp.memo = {}


def hold(comps: Iterable[Computation]) -> None:
    """One more module holds each of `comps` (besides the module they came from)."""
    with _LOCK:
        for comp in comps:
            comp.holders = max(comp.holders, 1) + 1
            if comp.memo is None:
                comp.memo = {}


def remember(comp: Computation, key: str, work: Callable[[Computation], T]) -> T:
    """`work(comp)`, computed once for a frozen computation (every time for any other)."""
    memo = comp.memo
    if memo is None:
        return work(comp)
    value = memo.get(key, _MISSING)
    if value is _MISSING:
        value = memo[key] = work(comp)
    return value


def called_by(comp: Computation) -> list[Computation]:
    """The computations `comp`'s instructions call, in order (repeats included)."""
    memo = comp.memo  # (`remember`, inlined: every whole-module scan asks this of every computation)
    if memo is None:
        return _called_by(comp)
    callees = memo.get("callees")
    if callees is None:
        callees = memo["callees"] = _called_by(comp)
    return callees


def _called_by(comp: Computation) -> list[Computation]:
    out: list[Computation] = []
    for inst in comp.instructions:
        called = inst.called
        if called:  # (in attribute order, as `called_computations`)
            for callees in called.values():
                out += callees
    return out


def release(comp: Computation) -> bool:
    """A module that held `comp` lets go of it; True when no holder is left (dismantle it then)."""
    if not comp.holders:
        return True
    with _LOCK:
        comp.holders -= 1
        return comp.holders == 0
