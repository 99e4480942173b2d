"""Compare and select rules: comparisons of a value with itself, selects that need no choosing."""

from __future__ import annotations

from hloenv.altgraph import attributes as A
from hloenv.altgraph.instruction import Instruction
from hloenv.passes.algsimp.literals import INTEGERS, uniform_value
from hloenv.passes.algsimp.util import Rule, filled
from hloenv.passes.rewriter import Rewriter

_TRUE_WHEN_EQUAL = {"EQ": True, "LE": True, "GE": True, "NE": False, "LT": False, "GT": False}


class CompareSameInteger(Rule):
    """compare(A, A) => true for EQ/LE/GE, false for NE/LT/GT, integers only (NaN != NaN for floats).

        r = pred[4] compare(x: s32[4], x), direction=EQ   =>  pred[4] broadcast(pred[] constant(true))
    """
    name = "compare-same-integer"
    opcodes = frozenset({"compare"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if a is not b or a.shape.dtype not in INTEGERS:
            return False
        value = _TRUE_WHEN_EQUAL[A.comparison_direction(inst)]
        return self.replace(inst, filled(rewriter, inst, value), rewriter)


class SelectConstantPredicate(Rule):
    """select(true, A, B) => A; select(false, A, B) => B (a constant or broadcast predicate).

        t = pred[4] broadcast(pred[] constant(true)), dimensions={}    r = f32[4] select(t, a, b)   =>  a
    """
    name = "select-constant-predicate"
    opcodes = frozenset({"select"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        value = uniform_value(inst.operands[0])
        if value is None:
            return False
        return self.replace(inst, inst.operands[1] if value else inst.operands[2], rewriter)


class SelectSameBranches(Rule):
    """select(P, A, A) => A.

        r = f32[4] select(p, x, x)     =>  x
    """
    name = "select-same-branches"
    opcodes = frozenset({"select"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        _, a, b = inst.operands
        return a is b and self.replace(inst, a, rewriter)


class SelectNotPredicate(Rule):
    """select(not(P), A, B) => select(P, B, A).

        n = pred[4] not(p)     r = f32[4] select(n, a, b)     =>  f32[4] select(p, b, a)
    """
    name = "select-not-predicate"
    opcodes = frozenset({"select"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        pred, a, b = inst.operands
        if pred.opcode != "not":
            return False
        new = rewriter.create(inst.parent, "select", inst.shape, [pred.operands[0], b, a])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


RULES: tuple[Rule, ...] = (CompareSameInteger(), SelectConstantPredicate(), SelectSameBranches(),
                           SelectNotPredicate())
