"""tuple-simplifier: take tuples apart where they are built and read in the same place.

    get-tuple-element of tuple:   t = (f32[2], s32[]) tuple(a, b)   g = s32[] get-tuple-element(t), index=1
                                  => uses of g read b
    tuple of all its elements:    t2 = (f32[2], s32[]) tuple(gte(x, 0), gte(x, 1))   => uses of t2 read x
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.attributes import int_attr
from hloenv.altgraph.instruction import Instruction
from hloenv.passes.base import RewritePass, RewriteRule, register
from hloenv.passes.rewriter import Rewriter


class GetTupleElementOfTuple(RewriteRule):
    """`get-tuple-element(tuple(a, b)), index=1` => `b`."""

    name = "gte-of-tuple"
    opcodes = frozenset({"get-tuple-element"})

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        tup = inst.operands[0]
        if tup.opcode != "tuple":
            return False
        index = int_attr(inst, "index")
        if not 0 <= index < len(tup.operands):
            return False
        return rewriter.replace(inst, tup.operands[index], self.name)


class TupleOfItsElements(RewriteRule):
    """`tuple(get-tuple-element(x, 0), ..., get-tuple-element(x, n-1))` of an n-tuple x => `x`."""

    name = "tuple-of-elements"
    opcodes = frozenset({"tuple"})

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        ops = inst.operands
        if not ops or any(op.opcode != "get-tuple-element" for op in ops):
            return False
        source = ops[0].operands[0]
        if not source.shape.is_tuple or len(source.shape.tuple_shapes) != len(ops):
            return False
        for k, op in enumerate(ops):
            if op.operands[0] is not source or int_attr(op, "index") != k:
                return False
        if not source.shape.same_as(inst.shape):
            return False
        return rewriter.replace(inst, source, self.name)


@register
@dataclass(frozen=True)
class TupleSimplifier(RewritePass):
    name = "tuple-simplifier"
    rules = (GetTupleElementOfTuple(), TupleOfItsElements())
