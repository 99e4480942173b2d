"""constant-folding: evaluate instructions whose operands are all constants.

    before:  a = f32[2] constant({1, 2})   b = f32[2] constant({3, 4})   ROOT r = f32[2] add(a, b)
    after:   ROOT r' = f32[2] constant({4, 6})

Folds elementwise ops, broadcast, reshape, transpose, slice, concatenate, reverse, convert, iota,
compare, select, clamp and single-input reduce with an add/multiply/max/min/and/or reducer,
when the result has at most `max_elements` elements (XLA caps folded constants too). Broadcast
and iota only grow constants, which XLA never folds for that reason; here they fold only up to
`max_expanding_elements` (tiny results, where a literal is no bigger than the instruction). Arithmetic
is numpy's in the instruction's own type: f32 in f32, integers wrap around, f16/bf16 computed in
f32 and rounded once (as XLA's CPU backend does). Cases whose result XLA leaves
implementation-defined are not folded: integer division by zero or of MIN by -1, shifts by the bit
width or more, float-to-integer conversion of NaN or out-of-range values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hloenv.altgraph import attributes as A
from hloenv.altgraph.checks import check_int
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.passes.algsimp.literals import FLOATS, INTEGERS, NUMPY_TYPES, constant_array, format_literal
from hloenv.passes.algsimp.util import reducer_kind
from hloenv.passes.base import Pass, register, rewritable_computations
from hloenv.passes.rewriter import Rewriter

_F32 = np.dtype(np.float32)
_NARROW = frozenset({"f16", "bf16"})

_FLOAT_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "negate": np.negative, "abs": np.abs, "exponential": np.exp, "log": np.log, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "tanh": np.tanh, "sine": np.sin, "cosine": np.cos,
    "floor": np.floor, "ceil": np.ceil, "round-nearest-even": np.rint, "log-plus-one": np.log1p,
    "exponential-minus-one": np.expm1, "cbrt": np.cbrt,
}
_FLOAT_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "remainder": np.fmod, "maximum": np.maximum, "minimum": np.minimum, "power": np.power,
    "atan2": np.arctan2,
}
_INT_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "maximum": np.maximum,
    "minimum": np.minimum, "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
}
_PRED_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor, "maximum": np.logical_or,
    "minimum": np.logical_and,
}
_COMPARE = {"EQ": np.equal, "NE": np.not_equal, "LT": np.less, "LE": np.less_equal, "GT": np.greater,
            "GE": np.greater_equal}
_REDUCERS = {"add": np.add, "multiply": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
             "and": np.bitwise_and, "or": np.bitwise_or}
_SHIFTS = frozenset({"shift-left", "shift-right-logical", "shift-right-arithmetic"})
_EXPANDING = frozenset({"broadcast", "iota"})


def _elementwise_unary(inst: Instruction, x: np.ndarray) -> np.ndarray | None:
    dtype = inst.shape.dtype
    op = inst.opcode
    if op == "is-finite":
        return np.isfinite(x.astype(_F32) if x.dtype.itemsize < 4 else x)
    if op == "not":
        return np.logical_not(x) if dtype == "pred" else np.invert(x)
    if dtype in FLOATS:
        fn = _FLOAT_UNARY.get(op)
        if fn is None:
            return None
        return fn(x.astype(_F32)) if dtype in _NARROW else fn(x)
    if dtype in INTEGERS and op in ("negate", "abs"):
        return np.negative(x) if op == "negate" else np.where(x < 0, np.negative(x), x)
    return None


def _int_divide(inst: Instruction, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Integer divide/remainder, truncating toward zero; None for the undefined cases."""
    info = np.iinfo(a.dtype)
    a, b = np.broadcast_arrays(a, b)
    out = []
    for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()):
        if y == 0 or (x == info.min and y == -1 and info.min < 0):
            return None
        q = abs(x) // abs(y)
        q = q if (x < 0) == (y < 0) else -q
        out.append(q if inst.opcode == "divide" else x - y * q)
    return np.array(out, dtype=a.dtype).reshape(a.shape)


def _shift(inst: Instruction, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    bits = a.dtype.itemsize * 8
    if np.any(b < 0) or np.any(b >= bits):
        return None
    unsigned, signed = np.dtype(f"u{a.dtype.itemsize}"), np.dtype(f"i{a.dtype.itemsize}")
    if inst.opcode == "shift-left":
        return np.left_shift(a, b.astype(a.dtype))
    if inst.opcode == "shift-right-logical":
        return np.right_shift(a.view(unsigned), b.astype(unsigned)).view(a.dtype)
    # arithmetic: the sign bit fills in, for unsigned types too (XLA: u8 200 >> 1 is 228)
    return np.right_shift(a.view(signed), b.astype(signed)).view(a.dtype)


def _elementwise_binary(inst: Instruction, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    hlo = inst.operands[0].shape.dtype
    op = inst.opcode
    if op == "compare":
        if hlo in FLOATS and (inst.attrs.get("type") or "").strip() == "TOTALORDER":
            return None
        if hlo in _NARROW:
            a, b = a.astype(_F32), b.astype(_F32)
        return _COMPARE[A.comparison_direction(inst)](a, b)
    if hlo == "pred":
        fn = _PRED_BINARY.get(op)
        return fn(a, b) if fn is not None else None
    if hlo in FLOATS:
        fn = _FLOAT_BINARY.get(op)
        if fn is None:
            return None
        return fn(a.astype(_F32), b.astype(_F32)) if hlo in _NARROW else fn(a, b)
    if hlo in INTEGERS:
        if op in ("divide", "remainder"):
            return _int_divide(inst, a, b)
        if op in _SHIFTS:
            return _shift(inst, a, b)
        fn = _INT_BINARY.get(op)
        return fn(a, b) if fn is not None else None
    return None


def _convert(inst: Instruction, x: np.ndarray) -> np.ndarray | None:
    src, dst = inst.operands[0].shape.dtype, inst.shape.dtype
    target = NUMPY_TYPES[dst]
    if src in FLOATS and dst in INTEGERS:
        wide = x.astype(np.float64)
        if not np.all(np.isfinite(wide)):
            return None
        t = np.trunc(wide)
        info = np.iinfo(target)
        if np.any(t < info.min) or np.any(t > info.max):
            return None
        return np.array([int(v) for v in t.reshape(-1).tolist()], dtype=target).reshape(x.shape)
    if dst == "pred":
        return x != 0
    if src in INTEGERS and dst in FLOATS and dst != "f64":
        if np.any(np.abs(x.astype(np.float64)) > 2.0 ** 24):
            return None  # a double rounding on the way would be possible
        return x.astype(_F32).astype(target)
    if src == "f64" and dst in _NARROW:
        if not np.all(np.isnan(x) | (x.astype(_F32).astype(np.float64) == x)):
            return None  # f64 -> f32 -> narrow would round twice
        return x.astype(_F32).astype(target)
    return x.astype(target)


def _broadcast(inst: Instruction, x: np.ndarray) -> np.ndarray:
    dims = A.int_list(inst)
    order = sorted(range(len(dims)), key=lambda i: dims[i])
    x = np.transpose(x, order)
    shape = [1] * inst.shape.rank
    for i in order:
        shape[dims[i]] = inst.operands[0].shape.dims[i]
    return np.broadcast_to(x.reshape(shape), inst.shape.dims)


def _reduce(inst: Instruction, args: list[np.ndarray]) -> np.ndarray | None:
    if len(args) != 2 or inst.operands[0].shape.dtype != inst.shape.dtype:
        return None
    comps = inst.called.get("to_apply")
    kind = reducer_kind(comps[0]) if comps and len(comps) == 1 else None
    dtype = inst.shape.dtype
    if kind is None or (dtype in _NARROW and kind in ("add", "multiply")):
        return None
    if dtype == "pred" or (dtype in FLOATS and kind in ("and", "or")):
        return None
    x, init = args
    if not _is_identity(kind, init):
        # HLO leaves a reduce whose init value is not its computation's identity undefined, and
        # XLA does use that: its simplifier turns a reduce over no dimension, or over dimensions of
        # size 1, into its input reshaped, the init value unused (`u32 31 * init 2^31` stays 31)
        return None
    if dtype in FLOATS and kind in ("add", "multiply") and not _order_free(kind, x, init, dtype):
        return None
    axes = A.int_list(inst)
    fn = _REDUCERS[kind]
    partial = fn.reduce(x, axis=axes) if axes else x
    return fn(np.asarray(partial, dtype=x.dtype), init)


def _is_identity(kind: str, init: np.ndarray) -> bool:
    """Is `init` the identity of reducer `kind` (0 for add, 1 for multiply, the lowest value for
    maximum...)?"""
    value = init[()] if init.ndim == 0 else None
    if value is None:
        return False
    if init.dtype.kind == "f":
        identities = {"add": 0, "multiply": 1, "maximum": -np.inf, "minimum": np.inf}
    else:
        info = np.iinfo(init.dtype)
        identities = {"add": 0, "multiply": 1, "maximum": info.min, "minimum": info.max,
                      "and": ~init.dtype.type(0), "or": 0}
    return kind in identities and bool(value == identities[kind])


def fold(inst: Instruction, args: list[np.ndarray]) -> np.ndarray | None:
    """The value of `inst` given its operands' values, or None when it is not folded."""
    op = inst.opcode
    if op == "convert":
        return _convert(inst, args[0])
    if op == "broadcast":
        return _broadcast(inst, args[0])
    if op == "reshape":
        return args[0].reshape(inst.shape.dims)
    if op == "transpose":
        return np.transpose(args[0], A.int_list(inst))
    if op == "slice":
        return args[0][tuple(slice(s.start, s.limit, s.stride) for s in A.slice_spec(inst))]
    if op == "concatenate":
        return np.concatenate(args, axis=A.int_list(inst)[0])
    if op == "reverse":
        return np.flip(args[0], A.int_list(inst)) if A.int_list(inst) else args[0]
    if op == "iota":
        d = A.int_attr(inst, "iota_dimension")
        shape = [1] * inst.shape.rank
        shape[d] = inst.shape.dims[d]
        values = np.arange(inst.shape.dims[d]).astype(NUMPY_TYPES[inst.shape.dtype]).reshape(shape)
        return np.broadcast_to(values, inst.shape.dims)
    if op == "select":
        return np.where(args[0], args[1], args[2])
    if op == "clamp":
        if inst.shape.dtype == "pred":
            return None
        return np.minimum(np.maximum(args[1], args[0]), args[2])
    if op == "reduce":
        return _reduce(inst, args)
    if len(args) == 1:
        return _elementwise_unary(inst, args[0])
    if len(args) == 2:
        return _elementwise_binary(inst, args[0], args[1])
    return None


def _feeds_an_integer_division(inst: Instruction, max_elements: int, limit: int = 2_000) -> bool:
    """Is an integer divide or remainder computed from `inst` (in its computation)?

    XLA (jaxlib 0.10.2) folds an instruction whose operands are constants (or broadcasts of
    constants) while compiling, and dies of SIGFPE on an integer division by a constant 0; it runs
    the same division on computed operands (x / 0 is -1, x % 0 is x). It never folds an iota, so
    a module whose divisions depend on iotas compiles, until the iotas become constants. So an
    iota that feeds an integer division is not folded:

        before:  i = s32[2] iota(), iota_dimension=0   ROOT r = s32[2] remainder(i, i)
        after:   (unchanged: folded, it would be remainder({0, 1}, {0, 1}))

    (Other folds only do what XLA's own folding would: their operands are constants already.)
    Only users that could fold in turn are followed (a foldable opcode, a result of at most
    `max_elements`): the folded iota's values go no further.
    """
    seen: set[int] = set()
    stack = [inst]
    while stack:
        node = stack.pop()
        if node.opcode in ("divide", "remainder") and node.shape.dtype in INTEGERS:
            return True
        for user in node.users:
            if id(user) in seen or user.opcode not in FOLDABLE or not user.shape.is_array \
                    or user.shape.element_count > max_elements:
                continue
            seen.add(id(user))
            if len(seen) > limit:
                return True  # (conservative)
            stack.append(user)
    return False


def _order_free(kind: str, x: np.ndarray, init: np.ndarray, dtype: str) -> bool:
    """Can a float add or multiply reduction be folded without knowing the order XLA combines
    the elements in? Only when no infinity or NaN can appear on the way: every term finite and
    no partial result able to overflow. (XLA's CPU code starts from the init value: with init 2,
    3.4e38 * -0 * 2 is NaN there and -0 in the other order.) Otherwise orders differ only by rounding."""
    values = np.concatenate([np.ravel(x), np.ravel(init)]).astype(np.float64)
    if not np.all(np.isfinite(values)):
        return False
    limit = float(np.finfo(NUMPY_TYPES[dtype]).max) / 2
    magnitudes = np.abs(values)
    with np.errstate(over="ignore"):
        bound = magnitudes.sum() if kind == "add" else np.prod(np.maximum(magnitudes, 1.0))
    return bool(bound <= limit)


FOLDABLE = frozenset({
    "convert", "broadcast", "reshape", "transpose", "slice", "concatenate", "reverse", "iota", "select",
    "clamp", "reduce", "compare", "is-finite", "not", *_FLOAT_UNARY, *_FLOAT_BINARY, *_INT_BINARY,
    *_PRED_BINARY, *_SHIFTS,
})


@register
@dataclass(frozen=True)
class ConstantFolding(Pass):
    """Replace instructions computed from constants only by their value as a constant."""

    name = "constant-folding"
    #: Largest result folded (elements); larger results stay computed.
    max_elements: int = 1024
    #: Largest broadcast or iota result folded.
    max_expanding_elements: int = 16

    def __post_init__(self) -> None:
        check_int("max_elements", self.max_elements, 0)
        check_int("max_expanding_elements", self.max_expanding_elements, 0)

    def run(self, module: Module, rewriter: Rewriter) -> None:
        for comp in rewritable_computations(module):
            for inst in list(comp.instructions):
                if inst.opcode not in FOLDABLE or inst.parent is not comp:
                    continue
                if not inst.users and inst is not comp.root:
                    continue
                value = self.evaluate(inst)
                if value is None or (inst.opcode == "iota" and _feeds_an_integer_division(inst, self.max_elements)):
                    continue
                literal = format_literal(value, inst.shape.dtype)
                new = rewriter.constant(comp, inst.shape, literal)
                rewriter.replace(inst, new, "constant-folding")

    def evaluate(self, inst: Instruction) -> np.ndarray | None:
        """`inst`'s value as an array of its own type, when it can and should be folded."""
        shape = inst.shape
        if not shape.is_array or shape.dynamic or shape.dtype not in NUMPY_TYPES:
            return None
        limit = self.max_expanding_elements if inst.opcode in _EXPANDING else self.max_elements
        if not 0 < shape.element_count <= limit or inst.control_predecessors:
            return None
        args = []
        for op in inst.operands:
            arr = constant_array(op)
            if arr is None:
                return None
            args.append(arr)
        with np.errstate(all="ignore"):
            try:
                value = fold(inst, args)
            except (ValueError, TypeError, IndexError, OverflowError):
                return None
            if value is None:
                return None
            value = np.asarray(value)
            if value.shape != shape.dims:
                return None
            value = value.astype(NUMPY_TYPES[shape.dtype])
        if inst.opcode not in _MOVES_VALUES and any(
                _flushed_by_xla(x, op.shape.dtype) for x, op in zip([value, *args], [inst, *inst.operands])):
            return None
        return value


#: Opcodes that only move, copy or pick values (no arithmetic reads them): subnormals pass as they are.
_MOVES_VALUES = frozenset({"broadcast", "reshape", "transpose", "slice", "concatenate", "reverse", "iota",
                           "select"})
#: The smallest normal number of the precision XLA's CPU code computes each float type in (f16
#: and bf16 in f32: f16's subnormals are normal there, bf16's are not).
_SMALLEST_NORMAL = {"bf16": float(np.finfo(np.float32).tiny), "f32": float(np.finfo(np.float32).tiny),
                    "f64": float(np.finfo(np.float64).tiny)}


def _flushed_by_xla(x: np.ndarray, dtype: str) -> bool:
    """Does `x` hold a number XLA's compiled CPU code reads or writes as zero? It computes with
    subnormals flushed (denormals-are-zero, flush-to-zero), while numpy, and so a folded
    constant, keeps them: folding would change the value.

        before:  a = f32[] constant(1e-45)   ROOT m = f32[] exponential-minus-one(a)   (XLA: 0)
        after:   (unchanged: folded, it would be constant(1.4e-45))
    """
    tiny = _SMALLEST_NORMAL.get(dtype)
    if tiny is None:
        return False
    with np.errstate(all="ignore"):
        magnitudes = np.abs(np.asarray(x, dtype=np.float64))
    return bool(np.any((magnitudes > 0) & (magnitudes < tiny)))

