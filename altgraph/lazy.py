"""Lazy options: rewrite options whose called computation is built only when something needs it.

A dry fusion round offers ~2 fusions per site, and each eager option carries a fused computation
(a copy of its members plus a parameter per operand): on resnet50 those bodies were 57,550 of the
first round's 81,889 instructions, while an agent keeps only the options it picks. A lazy option
is the option instruction itself (a `fusion` with its operands, shape, name and attributes, wired
into the graph like any other) plus a `LazyOption` record in `inst.lazy` that can build its body
later, exactly as the eager option would have had it:

    dry graph:   fusion.7 = f32[8] fusion(p, q), kind=kLoop        (lazy: members exponential.2, multiply.3)
    materialize: fusion.7 = f32[8] fusion(p, q), kind=kLoop, calls=fused_computation.4
                 (fused_computation.4 computes multiply(exponential(param_0), param_1))

Everything that reads called computations builds the bodies it needs first: `select` the chosen
options, printing, cloning, fingerprints and the verifier all of them; `selected_copy` builds the
chosen ones straight into its copy and leaves the graph as it is.
The record stays after building (`built` is then True) so the observation describes an option the
same way before and after (by its members, see `hloenv.observation`); a plain module (what
`select` and `selected_copy` return) has no records.

The record's builder must depend only on what it captured at creation (its members and their
operands as they were then) and on the node's current operands (which later rerouting may have
pointed at alternatives nodes); graphs never edit a member in place, so a late build is the build
the eager option would have had. Building is serialised by one lock: forks share graphs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hloenv.altgraph.computation import Computation
    from hloenv.altgraph.instruction import Instruction
    from hloenv.altgraph.module import Module

_BUILD_LOCK = threading.RLock()


class LazyOption(Protocol):
    """What `inst.lazy` holds.

    `members`: the existing instructions the option stands for (the observation links them to it).
    `body(inst, names)`: a new fused computation for it, attached to nothing (`selected_copy` puts
    it in its copy), named by `names` (a `NameUniquer`; default: the dry run's own). `build(inst)`: gives `inst` its called computation in its own module, sets `built`.
    `body_opcodes(parameters)`: the sorted opcodes the body will have (`merge_identical_options`
    compares options without building them). `mapped(inst_map)`: the record for a copy of the
    graph (built records only)."""

    built: bool
    members: tuple[Instruction, ...]
    names: Any  # the dry run's NameUniquer (None once built)

    def body(self, inst: Instruction, names: Any = None) -> Computation: ...

    def build(self, inst: Instruction) -> None: ...

    def body_opcodes(self, parameters: int) -> tuple[str, ...]: ...

    def mapped(self, inst_map: dict[Instruction, Instruction]) -> "LazyOption": ...


def is_unbuilt(inst: Instruction) -> bool:
    lazy = inst.lazy
    return lazy is not None and not lazy.built


def materialize(inst: Instruction) -> None:
    """Build `inst`'s called computation if it is a lazy option not built yet."""
    if is_unbuilt(inst):
        with _BUILD_LOCK:
            if not inst.lazy.built:
                inst.lazy.build(inst)


def detached_body(inst: Instruction, names: Any = None) -> Computation:
    """A new copy of the body the lazy option `inst` stands for, in no module; `inst` is left as it
    is (built or not). `names`: the `NameUniquer` that names it (default: the dry run's own; a
    copy's bodies take a `fork` of it, see `selected_copy`)."""
    with _BUILD_LOCK:
        return inst.lazy.body(inst, names)


def copy_names(inst: Instruction) -> Any:
    """A `fork` of the name uniquer of the lazy option `inst`'s dry run, for bodies that go into a
    copy (`detached_body(inst, names)`); forked under the lock that builds bodies, which may add
    to it in another thread."""
    with _BUILD_LOCK:
        return inst.lazy.names.fork()


def materialize_all(module: Module) -> int:
    """Build every lazy option of `module` that is still in it; returns how many were built."""
    pending = [inst for comp in module.computations for inst in comp.instructions
               if inst.lazy is not None and not inst.lazy.built]
    for inst in pending:
        materialize(inst)
    return len(pending)

