"""transpose-folding: fold a transposed dot operand into the dot's dimension numbers.

    before:  t = f32[4,3] transpose(a), dimensions={1,0}       (a: f32[3,4])
             d = f32[4,5] dot(t, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
    after:   d = f32[4,5] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}

Legal when the transpose keeps the operand's free (non-contracting, non-batch) dimensions in the
same relative order: the dot's result lists batch dimensions in the order the dimension numbers
name them, then each side's free dimensions in increasing order, so the result does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.attributes import dot_dnums, int_list
from hloenv.altgraph.instruction import Instruction
from hloenv.passes.base import RewritePass, RewriteRule, register
from hloenv.passes.rewriter import Rewriter


def _fold(perm: tuple[int, ...], contracting: tuple[int, ...], batch: tuple[int, ...]):
    """New (contracting, batch) dims on the transpose's input, or None when the fold is not legal."""
    rank = len(perm)
    free = [d for d in range(rank) if d not in contracting and d not in batch]
    new_batch = [perm[d] for d in batch]
    new_free = [perm[d] for d in free]
    if new_free != sorted(new_free):
        return None
    # XLA's CPU compiler refuses dots whose batch dimensions are not the leading ones in order
    # (measured on t5: "LHS batch dims [0,1,...]"), so keep them leading and in order.
    if new_batch != list(range(len(new_batch))):
        return None
    return tuple(perm[d] for d in contracting), tuple(new_batch)


def is_layout_bitcast(transpose: Instruction, perm: tuple[int, ...]) -> bool:
    """True when the transpose only relabels dimensions of the same bytes (its result layout is
    the permuted operand layout): XLA lowers it to a bitcast, so there is nothing to fold away.

    Folding such transposes is also where we measured XLA computing wrong results (the evosax
    CMA-ES module in the corpus: dot of a bitcast-transposed matrix inside a loop body), so they
    are left alone."""
    out = transpose.shape.minor_to_major
    src = transpose.operands[0].shape.minor_to_major
    if out is None or src is None or len(out) != len(perm):
        return False
    return tuple(perm[d] for d in out) == src


def _dims(values) -> str:
    return "{" + ",".join(map(str, values)) + "}"


class FoldTransposeIntoDot(RewriteRule):
    """`dot(transpose(a), b)` => `dot(a, b)` with remapped dimension numbers (either side)."""

    name = "fold-transpose-into-dot"
    opcodes = frozenset({"dot"})

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if len(inst.operands) != 2:
            return False
        dn = dot_dnums(inst)
        lhs, rhs = inst.operands
        attrs = dict(inst.attrs)
        operands = [lhs, rhs]
        folded = False
        for side, op, contracting, batch in (("lhs", lhs, dn.lhs_contracting, dn.lhs_batch),
                                             ("rhs", rhs, dn.rhs_contracting, dn.rhs_batch)):
            if op.opcode != "transpose":
                continue
            perm = int_list(op, "dimensions")
            if is_layout_bitcast(op, perm):
                continue
            result = _fold(perm, contracting, batch)
            if result is None:
                continue
            new_contracting, new_batch = result
            attrs[f"{side}_contracting_dims"] = _dims(new_contracting)
            if batch:
                attrs[f"{side}_batch_dims"] = _dims(new_batch)
            operands[0 if side == "lhs" else 1] = op.operands[0]
            folded = True
        if not folded:
            return False
        new = rewriter.create(inst.parent, "dot", inst.shape, operands, attrs, name=inst.name)
        return rewriter.replace(inst, new, self.name)


@register
@dataclass(frozen=True)
class TransposeFolding(RewritePass):
    name = "transpose-folding"
    rules = (FoldTransposeIntoDot(),)
