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

from collections.abc import Sequence

from hloenv.altgraph.alternatives import alternative_id, alternatives_nodes, has_side_effect, prune
from hloenv.altgraph.clone import copy_instruction
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES


def selected_copy(module: Module, choices: Sequence[int]) -> Module:
    """The module `select(clone, choices)` would leave (pruned, same names and order), built
    without copying what that selection drops; `module` is untouched.

    Raises:
        ValueError: wrong number of choices, or an index out of range (naming the node).
    """
    nodes = alternatives_nodes(module)
    if len(choices) != len(nodes):
        raise ValueError(f"expected {len(nodes)} choices (one per alternatives node), got {len(choices)}")
    chosen: dict[int, Instruction] = {}
    for node, pick in zip(nodes, choices):
        if not 0 <= int(pick) < len(node.operands):
            raise ValueError(f"choice {pick} out of range for {node.name} ({alternative_id(node)}), "
                             f"which has {len(node.operands)} options")
        chosen[id(node)] = node.operands[int(pick)]
    with gc_paused():
        copy = _copy_live(module, _resolver(chosen))
        prune(copy)  # dead fused parameters of the kept fusions
    return copy


def _resolver(chosen: dict[int, Instruction]):
    def resolve(inst: Instruction) -> Instruction:
        while inst.opcode == ALTERNATIVES:  # a chosen option may itself be an alternatives node
            inst = chosen[id(inst)]
        return inst
    return resolve


def _live(module: Module, resolve) -> tuple[set[int], set[int]]:
    """(ids of the instructions, ids of the computations) the selected program keeps: what the
    entry reaches from roots, parameters and side effects, through operands read as selected,
    control predecessors and called computations."""
    live: set[int] = set()
    comps = {id(module.entry)}
    pending = [module.entry]
    while pending:
        comp = pending.pop()
        stack = [i for i in comp.instructions if i.opcode == "parameter" or has_side_effect(i)]
        if comp.root is not None:
            stack.append(resolve(comp.root))
        while stack:
            inst = stack.pop()
            if id(inst) in live:
                continue
            live.add(id(inst))
            stack.extend(resolve(op) for op in inst.operands)
            stack.extend(inst.control_predecessors)
            for callee in inst.called_computations:
                if id(callee) not in comps:
                    comps.add(id(callee))
                    pending.append(callee)
    return live, comps


def _copy_live(module: Module, resolve) -> Module:
    if module.entry is None:
        return module.clone()
    live, live_comps = _live(module, resolve)
    kept = [c for c in module.computations if id(c) in live_comps]
    comp_map: dict[int, Computation] = {}
    for comp in kept:
        new_comp = Computation(comp.name, is_entry=comp.is_entry)
        new_comp.attrs = dict(comp.attrs)
        comp_map[id(comp)] = new_comp
    inst_map: dict[int, Instruction] = {}
    for comp in kept:
        new_comp = comp_map[id(comp)]
        new_insts = []
        for inst in comp.instructions:
            if id(inst) not in live:
                continue
            operands = [inst_map[id(resolve(op))] for op in inst.operands]
            new = copy_instruction(inst, new_comp, operands, inst_map, comp_map)
            inst_map[id(inst)] = new
            new_insts.append(new)
        new_comp.instructions = new_insts
        new_comp.root = inst_map[id(resolve(comp.root))] if comp.root is not None else None
    out = Module(module.name, [comp_map[id(c)] for c in kept], comp_map[id(module.entry)],
                 dict(module.attrs))
    out.has_elided_constants = module.has_elided_constants
    return out
