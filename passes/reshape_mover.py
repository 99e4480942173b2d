"""reshape-mover: sink reshapes and transposes below elementwise operations.

    before:  ra = f32[8] reshape(a)   rb = f32[8] reshape(b)   s = f32[8] add(ra, rb)   (a, b: f32[2,4])
    after:   s0 = f32[2,4] add(a, b)  s = f32[8] reshape(s0)

Applies when every operand is the same kind of move (reshapes from one input shape, or transposes
with one permutation), or a scalar broadcast / scalar constant that can be re-made at the input
shape. Moving the reshape lets the elementwise work fuse with its producers and often cancels
against another reshape.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.attributes import int_list
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.opcodes import ELEMENTWISE
from hloenv.altgraph.shape import Shape
from hloenv.passes.base import RewritePass, RewriteRule, register
from hloenv.passes.rewriter import Rewriter
from hloenv.passes.transpose_folding import is_layout_bitcast


def _is_scalar_broadcast(inst: Instruction) -> bool:
    return inst.opcode == "broadcast" and inst.operands[0].shape.rank == 0


def _move_key(inst: Instruction) -> tuple | None:
    """What kind of move an operand is: ('reshape', input dims) or ('transpose', dims); None if neither."""
    if inst.opcode == "reshape":
        return ("reshape", inst.operands[0].shape.dims)
    if inst.opcode == "transpose":
        perm = int_list(inst, "dimensions")
        if is_layout_bitcast(inst, perm):
            return None  # free already; and moving these is where XLA computed wrong results (rlax)
        return ("transpose", inst.operands[0].shape.dims, perm)
    return None


class SinkReshapeOrTranspose(RewriteRule):
    """`op(reshape(a), reshape(b))` => `reshape(op(a, b))` (also for transposes)."""

    name = "sink-reshape"
    opcodes = ELEMENTWISE - {"bitcast-convert"}

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if inst.shape.is_tuple or inst.shape.rank == 0:
            return False
        keys = [_move_key(op) for op in inst.operands]
        moved = [k for k in keys if k is not None]
        if not moved or any(k != moved[0] for k in moved):
            return False
        for op, key in zip(inst.operands, keys):
            if key is None and not (_is_scalar_broadcast(op) or (op.opcode == "constant" and op.shape.rank == 0)):
                return False
        # XLA moves only when it does not add work: at least one operand's move goes away entirely.
        if all(op.opcode == "constant" or _is_scalar_broadcast(op) for op in inst.operands):
            return False
        kind = moved[0][0]
        in_dims = moved[0][1]
        comp = inst.parent
        new_operands = []
        for op, key in zip(inst.operands, keys):
            if key is not None:
                new_operands.append(op.operands[0])
            else:
                scalar = op.operands[0] if _is_scalar_broadcast(op) else op
                new_operands.append(rewriter.create(comp, "broadcast", Shape(op.shape.dtype, in_dims),
                                                    [scalar], {"dimensions": "{}"}))
        inner = rewriter.create(comp, inst.opcode, Shape(inst.shape.dtype, in_dims), new_operands,
                                dict(inst.attrs) if inst.attrs else None)
        attrs = {"dimensions": "{" + ",".join(map(str, moved[0][2])) + "}"} if kind == "transpose" else None
        outer = rewriter.create(comp, kind, inst.shape, [inner], attrs)
        return rewriter.replace(inst, outer, self.name)


@register
@dataclass(frozen=True)
class ReshapeMover(RewritePass):
    name = "reshape-mover"
    rules = (SinkReshapeOrTranspose(),)
