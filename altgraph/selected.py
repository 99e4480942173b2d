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

from hloenv.altgraph.alternatives import (alternatives_nodes, check_choices, has_side_effect, prune,
                                          remove_dead_fused_parameters)
from hloenv.altgraph.clone import copy_module
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import detached_body
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.printer import attrs_text, callees_first_from, instruction_text, print_computation
from hloenv.altgraph.sharing import MODES, called_by, callees_closure, freeze, shareable


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
    return copy_selection(Selection.of(module, choices, nodes, share))[0]


class Selection:
    """What the program a choice vector picks keeps of an alternative graph, worked out once so it
    can be printed (`selection_text`) before it is copied (`copy_selection`): the env sends a
    step's text to XLA's worker first and copies while the worker parses.

    Attributes:
        module: the alternative graph (untouched).
        live: the instructions the chosen program keeps (alternatives nodes never: each is read as
            its chosen option, `resolve`).
        computations: ids of the computations it keeps.
        bodies: chosen lazy options not built in `module` -> their new bodies (attached to nothing).
        shared: ids of the kept fused computations the copy shares (with `share`).
    """

    __slots__ = ("module", "share", "resolve", "live", "computations", "bodies", "shared")

    @classmethod
    def of(cls, module: Module, choices: Sequence[int] | Mapping[str, int],
           nodes: list[Instruction] | None = None, share: str = "") -> "Selection":
        """The selection `choices` make in `module` (arguments as for `selected_copy`)."""
        if share not in MODES:
            raise ValueError(f"share={share!r}: expected one of {MODES}")
        nodes = alternatives_nodes(module) if nodes is None else nodes
        picks = check_choices(nodes, choices)
        chosen = {node: node.operands[pick] for node, pick in zip(nodes, picks)}  # (hashed by identity)
        sel = cls.__new__(cls)
        sel.module, sel.share, sel.resolve = module, share, _resolver(chosen)
        if module.entry is None:
            sel.live, sel.computations, sel.bodies, sel.shared = set(), set(), {}, set()
        else:
            with gc_paused():
                sel.live, sel.computations, sel.bodies, sel.shared = _live(module, sel.resolve, share)
        return sel


def copy_selection(sel: Selection, into: Module | None = None) -> tuple[Module, bool]:
    """(the selected program as a new module, whether it differs from `selection_text`'s text).

    `into`: an empty Module to fill in instead of making one (the env hands that object to its
    reward with the text before the copy exists). The text differs only where a kept fusion's body
    reads none of some parameter, which the copy then drops (`remove_dead_fused_parameters`)."""
    module = sel.module
    with gc_paused():
        if module.entry is None:
            copy, edited = module.clone(), False
        else:
            kept = [c for c in module.computations if id(c) in sel.computations]
            copy = copy_module(module, kept, keep=sel.live, resolve=sel.resolve, bodies=sel.bodies,
                               shared=sel.shared)
            if sel.share:
                for body in sel.bodies.values():
                    if shareable(body, sel.share):
                        freeze(body)  # (after `copy_module` gave it its callees in the copy)
            # the copy holds only what the selection reaches (nothing dead, nothing uncalled); only a
            # kept fusion whose body never reads a parameter leaves something for `prune` to do
            edited = remove_dead_fused_parameters(copy)
            if edited:
                prune(copy, merge=False)
    if into is not None:
        into.name, into.attrs, into.entry = copy.name, copy.attrs, copy.entry
        into.computations, into.has_elided_constants = copy.computations, copy.has_elided_constants
        for comp in into.computations:
            comp.module = into
        copy = into
    return copy, edited


def selection_text(sel: Selection) -> str:
    """The HLO text of the selected program, printed from the graph: `copy_selection(sel)[0].to_text()`
    unless that copy reports an edit. Each kept instruction is printed with its alternatives
    operands read as their choices, each chosen lazy option as calling its new body:

        graph:  add.4 = f32[8] add(alternatives.3, p)       alternatives.3 chose fusion.9
        text:   add.4 = f32[8] add(fusion.9, p)
    """
    module, live, resolve, bodies, shared = sel.module, sel.live, sel.resolve, sel.bodies, sel.shared
    if module.entry is None:
        return module.clone().to_text()
    kept = [c for c in module.computations if id(c) in sel.computations]
    # the new bodies join where `copy_module` puts them: before the last computation, in the order
    # their options are copied
    attached = [bodies[i] for c in kept if id(c) not in shared for i in c.instructions if i in bodies]
    order = list(kept)
    if attached:
        at = max(0, len(order) - 1)
        order[at:at] = attached
    as_is = {id(c) for c in attached} | shared  # printed as they are

    def callees(comp: Computation) -> list[Computation]:
        if id(comp) in as_is:
            return called_by(comp)
        out: list[Computation] = []
        for inst in comp.instructions:
            if inst in live:
                called = _called_in_copy(inst, bodies)
                if called:
                    for group in called.values():
                        out += group
        return out

    order = callees_first_from(order, callees)
    order.sort(key=lambda c: c.is_entry)  # (as `print_module`: the entry last)
    out = ["HloModule ", module.name, attrs_text(module.attrs), "\n"]
    for comp in order:
        out.append("\n")
        out.append(print_computation(comp) if id(comp) in as_is else _selected_computation_text(comp, sel))
    return "".join(out)


def _called_in_copy(inst: Instruction, bodies: dict[Instruction, Computation]) -> dict[str, list[Computation]]:
    """What `inst`'s copy calls: its own callees, or the new body of a chosen lazy option."""
    if inst in bodies:
        return {**inst.called, "calls": [bodies[inst]]}  # (as `Instruction.set_called`)
    return inst.called


def _selected_computation_text(comp: Computation, sel: Selection) -> str:
    live, resolve, bodies = sel.live, sel.resolve, sel.bodies
    root = resolve(comp.root) if comp.root is not None else None
    lines = [("ENTRY " if comp.is_entry else "") + comp.name + attrs_text(comp.attrs) + " {\n"]
    for inst in comp.instructions:
        if inst not in live:
            continue
        lines.append("  ROOT " if inst is root else "  ")
        if inst in bodies:  # (a few per step) printed as its copy: a plain fusion calling the body
            plain = Instruction(inst.name, inst.opcode, inst.shape, None, dict(inst.attrs) if inst.attrs else None,
                                inst.payload, None, inst.line)
            plain.operands = [resolve(op) for op in inst.operands]
            plain.control_predecessors = inst.control_predecessors
            plain.called = dict(inst.called)
            plain.set_called("calls", [bodies[inst]])
            lines.append(instruction_text(plain))
        elif any(op.opcode == ALTERNATIVES for op in inst.operands):
            lines.append(instruction_text(inst, [resolve(op).name for op in inst.operands]))
        else:
            lines.append(instruction_text(inst))
        lines.append("\n")
    lines.append("}\n")
    return "".join(lines)


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
                body = bodies[inst] = detached_body(inst)  # goes straight into the copy
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
