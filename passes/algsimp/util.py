"""Helpers shared by the algsimp rule families: shapes of new instructions, attribute text,
reducer recognition and identity values."""

from __future__ import annotations

import numpy as np

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.shape import Shape
from hloenv.passes.algsimp.literals import FLOATS, NUMPY_TYPES, format_literal, uniform_value
from hloenv.passes.base import RewriteRule
from hloenv.passes.rewriter import Rewriter


class Rule(RewriteRule):
    """An algsimp rule: `rewrite` is only called on array-shaped, static instructions."""

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        shape = inst.shape
        if shape.dynamic or not shape.is_array:
            return False
        return self.rewrite(inst, rewriter)

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        raise NotImplementedError

    def replace(self, inst: Instruction, new: Instruction, rewriter: Rewriter) -> bool:
        """Replace `inst` by `new` when they have the same dims and element type."""
        if new is inst or not new.shape.same_as(inst.shape):
            return False
        return rewriter.replace(inst, new, rule=self.name)


def shape_like(inst: Instruction, dims: tuple[int, ...], dtype: str | None = None) -> Shape:
    """`inst`'s shape (with its layout) when dims and type agree, else a layout-free shape."""
    dtype = dtype or inst.shape.dtype
    if dims == inst.shape.dims and dtype == inst.shape.dtype:
        return inst.shape
    return Shape(dtype, tuple(dims))


def ints_text(values) -> str:
    """`{0,1}`: an integer-list attribute."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def slice_text(spec) -> str:
    """`{[0:2], [1:5:2]}`: a slice attribute from (start, limit, stride) triples."""
    return "{" + ", ".join(f"[{s}:{l}]" if st == 1 else f"[{s}:{l}:{st}]" for s, l, st in spec) + "}"


def broadcast(rewriter: Rewriter, comp: Computation, operand: Instruction, shape: Shape,
              dims: tuple[int, ...]) -> Instruction:
    """A new `broadcast(operand)` of `shape` mapping operand dim i to `dims[i]`."""
    return rewriter.create(comp, "broadcast", shape, [operand], {"dimensions": ints_text(dims)})


def scalar_constant(rewriter: Rewriter, comp: Computation, dtype: str, value: object,
                    shape: Shape | None = None) -> Instruction:
    """A constant holding `value` (of a scalar `shape`, default `dtype[]`)."""
    arr = np.array(value, dtype=NUMPY_TYPES[dtype])
    return rewriter.constant(comp, shape or Shape(dtype), format_literal(arr, dtype))


def filled(rewriter: Rewriter, like: Instruction, value: object) -> Instruction:
    """A constant scalar `value` broadcast to `like`'s shape (just the scalar for a scalar)."""
    comp = like.parent
    dtype = like.shape.dtype
    if not like.shape.dims:
        return scalar_constant(rewriter, comp, dtype, value, like.shape)  # type: ignore[arg-type]
    c = scalar_constant(rewriter, comp, dtype, value)  # type: ignore[arg-type]
    return broadcast(rewriter, comp, c, like.shape, ())  # type: ignore[arg-type]


#: Opcodes a reducer computation may consist of (the binary op of its two parameters).
_REDUCER_OPS = frozenset({"add", "multiply", "maximum", "minimum", "and", "or"})


def reducer_kind(comp: Computation) -> str | None:
    """`add`/`multiply`/`maximum`/`minimum`/`and`/`or` when `comp` is exactly that binary op of its
    two scalar parameters (in either order), else None."""
    root = comp.root
    if root is None or len(comp.instructions) != 3 or root.opcode not in _REDUCER_OPS:
        return None
    params = comp.parameters
    if len(params) != 2 or {id(o) for o in root.operands} != {id(p) for p in params}:
        return None
    if any(p.shape.rank or not p.shape.is_array or p.shape.dtype != root.shape.dtype for p in params):
        return None
    return root.opcode


def identity_value(kind: str, dtype: str) -> object:
    """x `kind` identity == x for every x of `dtype` (None when there is none we model)."""
    if dtype not in NUMPY_TYPES:
        return None
    if kind in ("and", "or") and dtype in FLOATS:
        return None
    if kind in ("add", "or"):
        return 0
    if kind == "multiply":
        return 1
    if kind == "and":
        return 1 if dtype == "pred" else int(np.iinfo(NUMPY_TYPES[dtype]).max) if dtype.startswith("u") else -1
    if dtype in FLOATS:
        return float("-inf") if kind == "maximum" else float("inf")
    if dtype == "pred":
        return 0 if kind == "maximum" else 1
    info = np.iinfo(NUMPY_TYPES[dtype])
    return int(info.min) if kind == "maximum" else int(info.max)


def is_identity(init: Instruction, kind: str) -> bool:
    """Is `init` the identity of the reducer `kind` (x op init == x for every x)?"""
    value = identity_value(kind, init.shape.dtype)
    if value is None:
        return False
    v = uniform_value(init)
    return v is not None and bool(v == value)
