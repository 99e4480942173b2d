"""Deep copies of modules: new instructions and computations, shared immutable shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import materialize_all
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.sharing import hold


def clone_module(module: Module) -> Module:
    """A deep copy; lazy options are built first (in `module`) and stay marked as such."""
    materialize_all(module)
    with gc_paused():  # every object made here stays alive
        return copy_module(module, module.computations)


def copy_module(module: Module, computations: Sequence[Computation], keep: set[Instruction] | None = None,
                resolve: Callable[[Instruction], Instruction] | None = None,
                bodies: dict[Instruction, Computation] | None = None, shared: set[int] | None = None) -> Module:
    """A copy of `module` made of `computations` (in that order; they must include the entry and
    everything the kept instructions call).

    Args:
        keep: the instructions to copy (default: all); every operand, control predecessor
            and root of a kept instruction must be kept too, after `resolve`. A full copy keeps
            the records of (built) lazy options; a partial one makes plain instructions of them.
        resolve: what each alternatives operand (and root) is read as (`selected_copy`: its
            chosen option); default: itself.
        bodies: lazy option -> a new body for it, attached to nothing (`lazy.detached_body`):
            its copy calls that body, which joins the copy (placed before the entry, its own
            callees mapped to their copies).
    """
    comp_map: dict[int, Computation] = {}
    attached: list[Computation] = []  # the `bodies` used, in the order their options were copied
    lazy: list[tuple[Instruction, Instruction]] = []  # (lazy option, its copy), full copies only
    for comp in computations:
        if shared and id(comp) in shared:
            comp_map[id(comp)] = comp
            continue
        new_comp = Computation(comp.name, is_entry=comp.is_entry)
        new_comp.attrs = dict(comp.attrs)
        comp_map[id(comp)] = new_comp
    inst_map: dict[Instruction, Instruction] = {}  # (instructions hash by identity)
    for comp in computations:
        new_comp = comp_map[id(comp)]
        if new_comp is comp:  # shared
            continue
        new_insts = []
        for inst in comp.instructions:
            if keep is not None and inst not in keep:
                continue
            ops = inst.operands if resolve is None else [
                resolve(op) if op.opcode == ALTERNATIVES else op for op in inst.operands]
            new = _copy_instruction(inst, new_comp, [inst_map[op] for op in ops], inst_map, comp_map)
            inst_map[inst] = new
            new_insts.append(new)
            if keep is None and inst.lazy is not None:
                lazy.append((inst, new))
            if bodies and inst in bodies:
                body = bodies[inst]
                for b in body.instructions:
                    if b.called:
                        b.called = {k: [comp_map[id(c)] for c in v] for k, v in b.called.items()}
                new.set_called("calls", [body])
                attached.append(body)
        new_comp.instructions = new_insts
        root = comp.root if comp.root is None or resolve is None else resolve(comp.root)
        new_comp.root = inst_map[root] if root is not None else None
    for inst, new in lazy:  # (once every member has its copy)
        new.lazy = inst.lazy.mapped(inst_map)
    new_comps = [comp_map[id(c)] for c in computations]
    if attached:  # where `Rewriter.add_computation` puts new computations: before the last (the entry)
        at = max(0, len(new_comps) - 1)
        new_comps[at:at] = attached
    out = Module(module.name, new_comps,
                 comp_map[id(module.entry)] if module.entry else None, dict(module.attrs))
    out.has_elided_constants = module.has_elided_constants
    if shared:
        hold(c for c in computations if id(c) in shared)
    return out


def _copy_instruction(inst: Instruction, parent: Computation, operands: list[Instruction],
                      inst_map: dict[Instruction, Instruction], comp_map: dict[int, Computation]) -> Instruction:
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
        new.control_predecessors = [inst_map[p] for p in inst.control_predecessors]
    if inst.called:
        new.called = {k: [comp_map[id(c)] for c in v] for k, v in inst.called.items()}
    return new
