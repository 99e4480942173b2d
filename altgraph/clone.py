"""Deep copies of modules: new instructions and computations, shared immutable shapes."""

from __future__ import annotations

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module


def clone_module(module: Module) -> Module:
    with gc_paused():  # every object made here stays alive
        return _clone(module)


def _clone(module: Module) -> Module:
    comp_map: dict[int, Computation] = {}
    inst_map: dict[int, Instruction] = {}
    comps = []
    for comp in module.computations:
        new_comp = Computation(comp.name, is_entry=comp.is_entry)
        new_comp.attrs = dict(comp.attrs)
        comp_map[id(comp)] = new_comp
        comps.append(new_comp)
    for comp in module.computations:
        new_comp = comp_map[id(comp)]
        new_insts = []
        for inst in comp.instructions:
            new = copy_instruction(inst, new_comp, [inst_map[id(op)] for op in inst.operands], inst_map, comp_map)
            inst_map[id(inst)] = new
            new_insts.append(new)
        new_comp.instructions = new_insts
        new_comp.root = inst_map[id(comp.root)] if comp.root is not None else None
    out = Module(module.name, comps, comp_map[id(module.entry)] if module.entry else None,
                 dict(module.attrs))
    out.has_elided_constants = module.has_elided_constants
    return out


def copy_instruction(inst: Instruction, parent: Computation, operands: list[Instruction],
                     inst_map: dict[int, Instruction], comp_map: dict[int, Computation]) -> Instruction:
    """A copy of `inst` in `parent` that reads `operands` (copies already made) and is added to
    their users; its control predecessors and callees are mapped through `inst_map`/`comp_map`."""
    new = Instruction(inst.name, inst.opcode, inst.shape, None,
                      dict(inst.attrs) if inst.attrs else None, inst.payload, None, inst.line)
    new.parent = parent
    new.operands = operands
    for op in operands:
        if not op.users or op.users[-1] is not new:
            op.users.append(new)
    if inst.control_predecessors:
        new.control_predecessors = [inst_map[id(p)] for p in inst.control_predecessors]
    if inst.called:
        new.called = {k: [comp_map[id(c)] for c in v] for k, v in inst.called.items()}
    return new
