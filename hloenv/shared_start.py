"""What every env over the same module starts from, computed once per process and shared.

An env's canonical module (the canonicalising passes applied) and its first dry round's graph
depend only on the module's text, the env pipeline and `max_options`, and take most of a new
env's time on a large module (t5-small: about 1 s each). Envs made over the same module in one
process share them instead of computing them again: the envs of a sync vector env, `replay`
beside the env it replays, a script comparing agents or seeds on one module (`fork` shares them
too, as it always did).

Both are read-only, as they already were for the resets of one env: a step copies what it
selects (`selected_copy`), a dry round runs in place only in a module the env built itself, and
`_finish` cleans up a copy. A `SharedStart` lives as long as some env holds it (the registry
keeps weak references), so a benchmark over many modules does not pile them up. The key is the
module's printed text, the `EnvPipeline` (its pass strings), the pass classes those strings name
now (a pass registered again under its name, as a notebook cell run twice does, starts afresh)
and `max_options`.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
import weakref
from collections.abc import Hashable
from itertools import chain
from typing import Any

from hloenv.altgraph.module import Module

#: key -> SharedStart, held weakly: an entry goes when the last env using it does
_REGISTRY: "weakref.WeakValueDictionary[tuple, SharedStart]" = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()
#: False: every new env starts on its own (`benchmarks/vector_env.py` times both ways)
ENABLED = True


class SharedStart:
    """The canonical module, and (once an env has run it) the first dry round with alternatives.

    Attributes:
        canonical: the module after the canonicalising passes; never changed after construction.
        first_round: (decision stage, graph) of the first dry round that offered alternatives,
            or None until an env has run it (`lock` serialises that).
        first_obs: that graph's observation, once built (handed out as copies).
    """

    __slots__ = ("canonical", "first_round", "first_obs", "lock", "seen", "__weakref__")

    def __init__(self, canonical: Module):
        self.canonical = canonical
        self.first_round: tuple[int, Module] | None = None
        self.first_obs: dict[str, Any] | None = None
        self.lock = threading.Lock()
        #: (module, its computations, their `edit_stamp`) of the shared modules handed to a user
        self.seen: list[tuple[Module, list[Any], int]] = []

    def hand_out(self, module: Module) -> None:
        """`env.graph` or `env.module` is giving `module` to its user: if it is one of the shared
        ones (the canonical module, the first round's graph), note its `edit_stamp` now. They are
        read-only, but nothing stops an edit in place, which every later env over the module would
        start from: `intact` finds it (only modules handed out are stamped and checked)."""
        first = self.first_round[1] if self.first_round is not None else None
        if module is not self.canonical and module is not first:
            return
        with self.lock:
            if not any(m is module for m, _, _ in self.seen):
                comps = list(module.computations)
                self.seen.append((module, comps, edit_stamp(comps)))

    def intact(self) -> bool:
        """Are the shared modules handed out so far as they were then?"""
        return all(_holds_all(m, comps) and edit_stamp(comps) == stamp for m, comps, stamp in self.seen)


def _holds_all(module: Module, comps: list[Any]) -> bool:
    """Does `module` still hold every one of `comps`? (Building an option adds its body.)"""
    now = {id(c) for c in module.computations}
    return all(id(c) in now for c in comps)


def edit_stamp(comps: list[Any]) -> int:
    """A hash of what an edit in place changes in `comps`, by identity: each one's instructions
    and root, and each instruction's opcode, shape, attributes, callees, operands, control
    predecessors and literal. Reading a module builds its lazy options (new computations, and the
    options' callees), which is no edit: an option's callees and attributes are left out. t5's
    first-round graph (41k instructions): about 35 ms (a fingerprint hashes every shape and
    attribute, and builds every option first)."""
    parts: list[tuple] = []
    for comp in comps:
        insts = comp.instructions
        parts.append((id(comp), id(comp.root), tuple(map(id, insts)),
                      tuple(map(id, chain.from_iterable([i.operands for i in insts]))),
                      tuple([len(i.operands) for i in insts]),
                      tuple([id(i.shape) for i in insts]),
                      tuple([0 if i.lazy is not None else id(i.attrs) ^ (id(i.called) << 1) for i in insts]),
                      tuple([id(p) for i in insts if i.control_predecessors for p in (i, *i.control_predecessors)]),
                      tuple([i.payload for i in insts if i.payload is not None]),
                      tuple([i.opcode for i in insts])))
    return hash(tuple(parts))


def shared_start(original: Module, original_text: str, pipeline: Any, max_options: int) -> SharedStart:
    """The `SharedStart` of envs over `original_text` with `pipeline` and `max_options`; made
    (verifying `original`, then canonicalising a clone of it) if no live env has one. Two threads asking at once may
    both canonicalise; the first to finish is kept, so both envs share it."""
    key: Hashable | None = None  # None: this env starts on its own
    if ENABLED:
        key = (hashlib.sha256(original_text.encode()).digest(), pipeline, _pass_classes(pipeline), max_options)
        try:
            hash(key)
        except TypeError:  # a pipeline object that cannot be a key
            key = None
    with _REGISTRY_LOCK:
        found = None if key is None else _REGISTRY.get(key)
    if found is not None and not found.intact():
        warn_edited()
        found = None  # (made afresh below, and registered in its place)
    if found is not None:
        return found
    original.verify()  # (once per module: an env over a malformed one ran episodes on it, reward 0)
    canonical = original.clone()
    pipeline.canonicalize_pipeline()(canonical)
    made = SharedStart(canonical)
    if key is None:
        return made
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(key)
        if found is not None and found.intact():
            return found
        _REGISTRY[key] = made
    return made


def warn_edited() -> None:
    warnings.warn("hloenv: env.graph or env.module of an env over this module was changed in place; "
                  "they are read-only (clone() one to edit it): starting again from the module",
                  UserWarning, stacklevel=4)


def forget_shared_start(start: SharedStart) -> None:
    """Drop `start` from the registry (an env found it edited): the next env makes its own."""
    with _REGISTRY_LOCK:
        for key, value in list(_REGISTRY.items()):
            if value is start:
                del _REGISTRY[key]


def _pass_classes(pipeline: Any) -> tuple[type, ...]:
    """The classes the pipeline's canonicalising and decision passes are now (names are looked
    up in the registry each time a stage is built)."""
    passes = [*pipeline.canonicalize_pipeline().passes(), *pipeline.decision_passes()]
    return tuple(type(p) for p in passes)


def forget_shared_starts() -> None:
    """Make the next env over any module start from scratch (live envs keep what they hold);
    benchmarks call it to time a new env's first reset."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()
