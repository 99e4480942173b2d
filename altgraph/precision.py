"""Raise a module's floating-point precision: the oracle that tells a wrong rewrite from rounding.

A correct rewrite can still move f32 outputs far past any tolerance when the program amplifies
rounding (an iterative solver, a training step on random data, a softmax of huge logits): one
reassociated sum is enough. Run both modules in f64 instead and rounding shrinks by ~1e9 while a
wrong rewrite stays wrong. `promote_floats` is the transform; `hloenv.compare(..., precision="f64")`
uses it on both sides.

    before:  ENTRY e { p = f32[4] parameter(0)  ROOT x = f32[4] exponential(p) }
    after:   ENTRY e { p = f32[4] parameter(0)  p.up = f64[4] convert(p)
                       ROOT x = f64[4] exponential(p.up) }

Every f16/bf16/f32 (and fp8) value becomes f64 and c64 becomes c128, in every computation. The
inputs stay what they were (entry parameters keep their type and are converted up), so both
modules see exactly the same input values. Instructions whose meaning depends on the bit width
keep their types, with converts around them: `bitcast-convert`, `rng-bit-generator` and
`custom-call`s (a library kernel for one type), except LAPACK calls, which switch to their double
variant (`lapack_ssyevd_ffi` -> `lapack_dsyevd_ffi`), and type-agnostic `Sharding` markers.
Outputs come out in f64.
"""

from __future__ import annotations

import re

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.names import NameUniquer
from hloenv.altgraph.shape import Shape, tuple_of

#: Element types raised, and what to.
PROMOTED = {"f16": "f64", "bf16": "f64", "f32": "f64", "c64": "c128",
            "f8e4m3fn": "f64", "f8e5m2": "f64", "f8e4m3b11fnuz": "f64", "f8e4m3fnuz": "f64",
            "f8e5m2fnuz": "f64", "f8e3m4": "f64", "f8e4m3": "f64", "f8e8m0fnu": "f64"}

#: Opcodes whose meaning depends on their exact element types: they keep them (so do custom
#: calls, except those `_promote_custom_call` switches to f64).
_KEEP_TYPES = frozenset({"bitcast-convert", "rng-bit-generator"})


_LAPACK = re.compile(r"^lapack_([sc])(\w+_ffi)$")
_NARROW_TYPE_TEXT = re.compile(r"\b(f16|bf16|f32)\[")


def _promote_custom_call(inst: Instruction) -> bool:
    """Switch a LAPACK call to its double variant in place (True), or leave it (False)."""
    target = (inst.attr("custom_call_target") or "").strip('"')
    if target == "Sharding":
        return True
    match = _LAPACK.match(target)
    if match is None:
        return False
    double = {"s": "d", "c": "z"}[match.group(1)]
    inst.set_attr("custom_call_target", f'"lapack_{double}{match.group(2)}"')
    constraints = inst.attr("operand_layout_constraints")
    if constraints is not None:
        constraints = _NARROW_TYPE_TEXT.sub("f64[", constraints).replace("c64[", "c128[")
        inst.set_attr("operand_layout_constraints", constraints)
    return True


def promote_shape(shape: Shape) -> Shape:
    """`shape` with every low-precision float element type raised (layouts kept)."""
    if shape.is_tuple:
        return tuple_of(promote_shape(s) for s in shape.tuple_shapes)
    up = PROMOTED.get(shape.dtype)
    if up is None:
        return shape
    return Shape(up, shape.dims, shape.dynamic, shape.layout)


def needs_promotion(module: Module) -> bool:
    """True when some instruction computes in a type `promote_floats` raises."""
    return any(promote_shape(i.shape) is not i.shape for i in module.instructions())


def promote_floats(module: Module) -> Module:
    """A copy of `module` that computes in f64 (c128) wherever it computed in a narrower float."""
    out = module.clone()
    for key in ("entry_computation_layout", "input_output_alias", "buffer_donor"):
        out.attrs.pop(key, None)  # they pair narrow inputs with outputs that are now wider
    names = NameUniquer(out)
    for comp in out.computations:
        _promote_computation(comp, names, entry=comp.is_entry)
    return out


def _convert(value: Instruction, shape: Shape, names: NameUniquer, hint: str) -> Instruction:
    """`value` converted to `shape` (tuples element by element); `value` itself when equal."""
    if value.shape.key_without_layout() == shape.key_without_layout():
        return value
    if not shape.is_tuple:
        return Instruction(names.fresh(hint), "convert", shape, [value])
    parts = []
    for k, element in enumerate(shape.tuple_shapes):
        part = Instruction(names.fresh(hint + ".gte"), "get-tuple-element", value.shape.tuple_shapes[k],
                           [value], {"index": str(k)})
        parts.append(_convert(part, element, names, hint))
    return Instruction(names.fresh(hint + ".tuple"), "tuple", shape, parts)


def _promote_computation(comp: Computation, names: NameUniquer, entry: bool) -> None:
    narrow: dict[int, Shape] = {}  # id(value) -> the shape it had before promotion
    order: list[Instruction] = []
    for inst in list(comp.instructions):
        narrow[id(inst)] = inst.shape
        high = promote_shape(inst.shape)
        if inst.opcode == "custom-call":
            keep = not _promote_custom_call(inst)  # switches a LAPACK call to f64 in place
        else:
            keep = inst.opcode in _KEEP_TYPES or (entry and inst.opcode == "parameter")
        if not keep:
            inst.shape = high
            order.append(inst)
            continue
        for i, operand in enumerate(list(inst.operands)):  # feed it its original types
            low = _convert(operand, narrow[id(operand)], names, operand.name + ".down")
            if low is not operand:
                _append_tree(low, operand, order)
                inst.set_operand(i, low)
        order.append(inst)
        users, was_root = list(inst.users), inst.is_root
        raised = _convert(inst, high, names, inst.name + ".up")
        if raised is inst:
            continue
        narrow[id(raised)] = inst.shape
        _append_tree(raised, inst, order)
        for user in users:
            user.replace_operand(inst, raised)
        if was_root:
            comp.root = raised
    comp.instructions = order
    for inst in order:
        inst.parent = comp
    _rebuild_users(order)
    comp._by_name = None


def _append_tree(top: Instruction, base: Instruction, order: list[Instruction]) -> None:
    """Append the instructions built by `_convert` between `base` and `top`, operands first."""
    built: list[Instruction] = []

    def visit(inst: Instruction) -> None:
        if inst is base or any(inst is b for b in built):
            return
        for op in inst.operands:
            visit(op)
        built.append(inst)

    visit(top)
    order.extend(built)


def _rebuild_users(order: list[Instruction]) -> None:
    for inst in order:
        inst.users = []
    for inst in order:
        for op in inst.operands:
            if not op.users or op.users[-1] is not inst:  # fast path: just appended
                if not any(u is inst for u in op.users):
                    op.users.append(inst)
