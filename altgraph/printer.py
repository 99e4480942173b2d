"""Print a Module as HLO text in the current style; print -> parse -> print is a fixpoint."""

from __future__ import annotations

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import CONTROL_PREDECESSORS, LIST_VALUED_CALL_ATTRS, Instruction
from hloenv.altgraph.lazy import materialize_all
from hloenv.altgraph.module import Module
from hloenv.altgraph.sharing import called_by, remember


def print_module(module: Module) -> str:
    """Module -> HLO text accepted by `jaxlib._hlo.hlo_module_from_text` (lazy options are built)."""
    materialize_all(module)
    out = ["HloModule ", module.name, _attrs_text(module.attrs), "\n"]
    for comp in callees_first(module):
        out.append("\n")
        out.append(print_computation(comp))
    return "".join(out)


def print_computation(comp: Computation) -> str:
    return remember(comp, "text", _computation_text)  # (a frozen one is printed once)


def _computation_text(comp: Computation) -> str:
    head = ("ENTRY " if comp.is_entry else "") + comp.name + _attrs_text(comp.attrs) + " {\n"
    root = comp.root
    lines = [head]
    for inst in comp.instructions:
        lines.append("  ROOT " if inst is root else "  ")
        lines.append(instruction_text(inst))
        lines.append("\n")
    lines.append("}\n")
    return "".join(lines)


def instruction_text(inst: Instruction) -> str:
    """One instruction without indentation or ROOT: `name = shape opcode(operands), attrs`."""
    if inst.payload is not None:
        inside = inst.payload
    else:
        inside = ", ".join([op.name for op in inst.operands])
    text = f"{inst.name} = {inst.shape.to_text()} {inst.opcode}({inside})"
    if inst.attrs or inst.called or inst.control_predecessors:
        text += _instruction_attrs(inst)
    return text


def _instruction_attrs(inst: Instruction) -> str:
    parts = []
    written = set()
    for key, value in inst.attrs.items():
        if value is None:
            value = _reference_value(inst, key)
            if value is None:
                continue
        parts.append(f", {key}={value}")
        written.add(key)
    for key in inst.called:
        if key not in written:
            parts.append(f", {key}={_reference_value(inst, key)}")
    if inst.control_predecessors and CONTROL_PREDECESSORS not in written:
        parts.append(f", {CONTROL_PREDECESSORS}={_reference_value(inst, CONTROL_PREDECESSORS)}")
    return "".join(parts)


def _reference_value(inst: Instruction, key: str) -> str | None:
    if key == CONTROL_PREDECESSORS:
        if not inst.control_predecessors:
            return None
        return "{" + ", ".join(p.name for p in inst.control_predecessors) + "}"
    comps = inst.called.get(key)
    if comps is None:
        return None
    if key in LIST_VALUED_CALL_ATTRS and (len(comps) != 1 or key != "calls"):
        return "{" + ", ".join(c.name for c in comps) + "}"
    return comps[0].name if len(comps) == 1 else "{" + ", ".join(c.name for c in comps) + "}"


def _attrs_text(attrs: dict) -> str:
    return "".join(f", {k}={v}" for k, v in attrs.items() if v is not None)


def callees_first(module: Module) -> list[Computation]:
    """Computations ordered so that each comes after every computation it calls."""
    order = callees_first_from(module.computations)
    # keep the entry last, as XLA prints it
    order.sort(key=lambda c: c.is_entry)
    return order


def callees_first_from(starts: list[Computation]) -> list[Computation]:
    """`starts` and every computation they call (directly or not), each after its callees."""
    done: set[Computation] = set()  # (computations hash by identity)
    order: list[Computation] = []
    for start in starts:
        if start in done:
            continue
        callees = called_by(start)
        if not callees:  # (most computations: fused bodies)
            done.add(start)
            order.append(start)
            continue
        stack = [(start, iter(callees))]
        on_stack = {start}
        while stack:
            comp, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_stack.discard(comp)
                if comp not in done:
                    done.add(comp)
                    order.append(comp)
            elif nxt not in done and nxt not in on_stack:
                on_stack.add(nxt)
                stack.append((nxt, iter(called_by(nxt))))
    return order
