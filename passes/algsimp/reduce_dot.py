"""Reduce and dot rules: reductions that do not reduce, dots that do not contract."""

from __future__ import annotations

from hloenv.altgraph import attributes as A
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.shape import Shape
from hloenv.passes.algsimp.util import Rule, broadcast, is_identity, reducer_kind
from hloenv.passes.rewriter import Rewriter


def _simple_reduce(inst: Instruction) -> tuple[Instruction, Instruction, str] | None:
    """(input, init, reducer kind) of a single-input reduce whose reducer is a plain binary op."""
    if len(inst.operands) != 2:
        return None
    comps = inst.called.get("to_apply")
    if not comps or len(comps) != 1:
        return None
    kind = reducer_kind(comps[0])
    x, init = inst.operands
    if kind is None or not x.shape.is_array or x.shape.dynamic or x.shape.dtype != inst.shape.dtype:
        return None
    return x, init, kind


class ReduceNoDimensions(Rule):
    """reduce over no dimensions with the reducer's identity as init => the input.

        r = f32[4] reduce(x: f32[4], f32[] constant(0)), dimensions={}, to_apply=add   =>  x
    """
    name = "reduce-no-dimensions"
    opcodes = frozenset({"reduce"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        parts = _simple_reduce(inst)
        if parts is None or A.int_list(inst):
            return False
        x, init, kind = parts
        return is_identity(init, kind) and self.replace(inst, x, rewriter)


class ReduceDegenerate(Rule):
    """reduce over size-1 dimensions only, with the identity as init => reshape.

        r = f32[4] reduce(x: f32[1,4], f32[] constant(0)), dimensions={0}, to_apply=add
        =>  f32[4] reshape(x)
    """
    name = "reduce-degenerate-to-reshape"
    opcodes = frozenset({"reduce"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        parts = _simple_reduce(inst)
        dims = A.int_list(inst)
        if parts is None or not dims:
            return False
        x, init, kind = parts
        if any(x.shape.dims[d] != 1 for d in dims) or not is_identity(init, kind):
            return False
        new = rewriter.create(inst.parent, "reshape", inst.shape, [x])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class ReduceEmpty(Rule):
    """reduce of an array with no elements => broadcast of the init value.

        r = f32[3] reduce(x: f32[0,3], init), dimensions={0}, to_apply=add   =>  f32[3] broadcast(init)
    """
    name = "reduce-empty"
    opcodes = frozenset({"reduce"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if len(inst.operands) != 2:
            return False
        x, init = inst.operands
        if not x.shape.is_array or x.shape.element_count != 0 or init.shape.dtype != inst.shape.dtype:
            return False
        new = broadcast(rewriter, inst.parent, init, inst.shape, ())  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class DotToMultiply(Rule):
    """dot whose contracting dimensions all have size 1 (or that has none) => multiply of broadcasts
    (an outer product, batched or not). Only when operand and result types agree.

        d = f32[4,3] dot(a: f32[4,1], b: f32[1,3]), lhs_contracting_dims={1}, rhs_contracting_dims={0}
        =>  a' = f32[4] reshape(a)     b' = f32[3] reshape(b)
            r = f32[4,3] multiply(f32[4,3] broadcast(a'), dimensions={0}, f32[4,3] broadcast(b'), dimensions={1})
    """
    name = "dot-to-multiply"
    opcodes = frozenset({"dot"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if len(inst.operands) != 2 or "sparsity" in inst.attrs or "algorithm" in inst.attrs:
            return False
        lhs, rhs = inst.operands
        dtype = inst.shape.dtype
        if dtype == "pred" or lhs.shape.dtype != dtype or rhs.shape.dtype != dtype or lhs.shape.dynamic \
                or rhs.shape.dynamic:
            return False
        d = A.dot_dnums(inst)
        if any(lhs.shape.dims[c] != 1 for c in d.lhs_contracting) or \
                any(rhs.shape.dims[c] != 1 for c in d.rhs_contracting):
            return False
        nb = len(d.lhs_batch)
        lhs_free = [i for i in range(lhs.shape.rank) if i not in d.lhs_batch and i not in d.lhs_contracting]
        rhs_free = [i for i in range(rhs.shape.rank) if i not in d.rhs_batch and i not in d.rhs_contracting]
        lhs_map = {b: k for k, b in enumerate(d.lhs_batch)} | {f: nb + j for j, f in enumerate(lhs_free)}
        rhs_map = {b: k for k, b in enumerate(d.rhs_batch)} | \
            {f: nb + len(lhs_free) + j for j, f in enumerate(rhs_free)}
        lhs_plan = self._plan(lhs, d.lhs_contracting, lhs_map)
        rhs_plan = self._plan(rhs, d.rhs_contracting, rhs_map)
        if lhs_plan is None or rhs_plan is None:
            return False  # an operand would need a transpose first
        lhs_b = self._build(inst, lhs, d.lhs_contracting, lhs_plan, rewriter)
        rhs_b = self._build(inst, rhs, d.rhs_contracting, rhs_plan, rewriter)
        new = rewriter.create(inst.parent, "multiply", inst.shape, [lhs_b, rhs_b])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)

    @staticmethod
    def _plan(op: Instruction, contracting: tuple[int, ...], to_out: dict[int, int]) -> tuple[int, ...] | None:
        """The result dims the operand's non-contracting dims land on (None unless increasing)."""
        out_dims = tuple(to_out[i] for i in range(op.shape.rank) if i not in contracting)
        return out_dims if list(out_dims) == sorted(out_dims) else None

    @staticmethod
    def _build(inst: Instruction, op: Instruction, contracting: tuple[int, ...], out_dims: tuple[int, ...],
               rewriter: Rewriter) -> Instruction:
        comp = inst.parent
        if contracting:
            dims = tuple(n for i, n in enumerate(op.shape.dims) if i not in contracting)
            op = rewriter.create(comp, "reshape", Shape(op.shape.dtype, dims), [op])  # type: ignore[arg-type]
        if out_dims == tuple(range(inst.shape.rank)):
            return op
        return broadcast(rewriter, comp, op, inst.shape, out_dims)  # type: ignore[arg-type]


RULES: tuple[Rule, ...] = (ReduceNoDimensions(), ReduceDegenerate(), ReduceEmpty(), DotToMultiply())
