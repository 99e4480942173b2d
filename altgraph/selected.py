"""A pruned copy of the program a choice vector picks, without copying the options it drops.

`select` works in place, so trying a choice vector on an alternative graph that must stay intact
means `clone` + `select`: every option is copied, then most are pruned away. `selected_copy` walks
the graph as if selected (each alternatives node read as its chosen operand), and copies only the
computations and instructions the chosen program keeps:

    graph:  alternatives.3 = alternatives(multiply.1, fusion.7, fusion.9), chosen 2
    copy:   fusion.9 and its fused computation, where multiply.1's users read it; multiply.1,
            fusion.7 and fused_computation.7 are not copied (unless something else reads them)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hloenv.altgraph.alternatives import (alternatives_nodes, check_choices, has_side_effect, prune,
                                          remove_dead_fused_parameters)
from hloenv.altgraph.clone import copy_module
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import copy_names, detached_body
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.sharing import MODES, callees_closure, freeze, shareable


def selected_copy(module: Module, choices: Sequence[int] | Mapping[str, int],
                  nodes: list[Instruction] | None = None, share: str = "") -> Module:
    """The module `select(clone, choices)` would leave (pruned, same names and order), built
    without copying what that selection drops; `module` is untouched. `choices` and `nodes` as
    for `select`. With `share` (`sharing.FUSED` or `sharing.FUSED_AND_CALLEES`), shareable fused
    computations go into the copy as they are, frozen from then on, and so do the chosen options'
    new bodies (`hloenv.altgraph.sharing`: the env's steps, whose modules are read-only).

    Raises:
        ValueError: wrong number of choices, or an index out of range (naming the node).
    """
    if share not in MODES:
        raise ValueError(f"share={share!r}: expected one of {MODES}")
    nodes = alternatives_nodes(module) if nodes is None else nodes
    picks = check_choices(nodes, choices)
    chosen = {node: node.operands[pick] for node, pick in zip(nodes, picks)}  # (hashed by identity)
    with gc_paused():
        copy = _copy_live(module, _resolver(chosen), share)
        # the copy holds only what the selection reaches (nothing dead, nothing uncalled); only a
        # kept fusion whose body never reads a parameter leaves something for `prune` to do
        if remove_dead_fused_parameters(copy):
            prune(copy, merge=False)
    return copy


def _resolver(chosen: dict[Instruction, Instruction]):
    def resolve(inst: Instruction) -> Instruction:
        while inst.opcode == ALTERNATIVES:  # a chosen option may itself be an alternatives node
            inst = chosen[inst]
        return inst
    return resolve


def _live(module: Module, resolve, share: str = ""
          ) -> tuple[set[Instruction], set[int], dict[Instruction, Computation], set[int]]:
    """(the instructions, ids of the computations) the selected program keeps: what the
    entry reaches from roots, parameters and side effects, through operands read as selected,
    control predecessors and called computations; the bodies of the chosen lazy options not
    built in `module`, built for the copy (by option; what they call is kept too); and, with
    `share`, the ids of the kept fused computations the copy shares (not walked: all kept)."""
    live: set[Instruction] = set()  # (instructions hash by identity)
    shared: set[int] = set()
    comps = {id(module.entry)}
    pending = [module.entry]
    bodies: dict[Instruction, Computation] = {}
    forks: dict[int, Any] = {}  # the copy's names, by dry-run uniquer (`NameUniquer.fork`)
    memo: dict[int, bool] = {}  # (side effects, by computation)
    while pending:
        comp = pending.pop()
        stack = [i for i in comp.instructions if i.opcode == "parameter" or has_side_effect(i, memo)]
        if comp.root is not None:
            stack.append(resolve(comp.root))
        while stack:
            inst = stack.pop()
            if inst in live:
                continue
            live.add(inst)
            for op in inst.operands:  # (a plain loop: resolving is needed at alternatives nodes only)
                stack.append(resolve(op) if op.opcode == ALTERNATIVES else op)
            if inst.control_predecessors:
                stack.extend(inst.control_predecessors)
            if inst.lazy is not None and not inst.lazy.built:  # a chosen lazy option: its body
                names = forks.get(id(inst.lazy.names))  # goes straight into the copy
                if names is None:
                    names = forks[id(inst.lazy.names)] = copy_names(inst)
                body = bodies[inst] = detached_body(inst, names)
                callees = [c for i in body.instructions if i.called for c in i.called_computations]
            elif inst.called:
                callees = inst.called_computations
                if share and inst.opcode == "fusion":
                    for callee in callees:
                        if id(callee) not in shared and shareable(callee, share):
                            for c in callees_closure(callee):  # (even if kept for a copy so far)
                                comps.add(id(c))
                                shared.add(id(c))
            else:
                continue
            for callee in callees:
                if id(callee) not in comps:
                    comps.add(id(callee))
                    pending.append(callee)
    return live, comps, bodies, shared


def _copy_live(module: Module, resolve, share: str = "") -> Module:
    if module.entry is None:
        return module.clone()
    live, live_comps, bodies, shared = _live(module, resolve, share)
    kept = [c for c in module.computations if id(c) in live_comps]
    copy = copy_module(module, kept, keep=live, resolve=resolve, bodies=bodies, shared=shared)
    if share:
        for body in bodies.values():
            if shareable(body, share):
                freeze(body)  # (after `copy_module` gave it its callees in the copy)
    return copy
