"""The module verifier: operand counts, shape inference and call signatures.

`verify_module(module)` walks every instruction once. Each modelled opcode has a rule that checks
its operands and attributes and returns the inferred result shape (or None when the rule checked
everything itself); the declared shape must equal the inferred one ignoring layouts. Opcodes
without a rule are accepted after an operand-count check where the count is known.

Bounded-dynamic flags (`<=N`) are not inferred: only the bounds are compared.

Every problem is an `HloVerifyError` at the instruction's line that names the computation and the
instruction; an unexpected exception inside a rule is wrapped the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from hloenv.altgraph import attributes as A
from hloenv.altgraph._xla_opcodes import XLA_GENERAL_ATTRIBUTES, XLA_OWN_ATTRIBUTES, XLA_RESERVED_NAMES
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.errors import HloVerifyError
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import materialize_all
from hloenv.altgraph.module import Module
from hloenv.altgraph.numpy_types import numpy_dtype
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.shape import (COMPLEX_TYPES, ELEMENT_BITS, FLOAT_TYPES, SIGNED_TYPES, UNSIGNED_TYPES,
                                   Shape, _parse_at, tuple_of)

INT_TYPES = SIGNED_TYPES | UNSIGNED_TYPES
PRED_INT_TYPES = INT_TYPES | {"pred"}
FLOATISH_TYPES = FLOAT_TYPES | COMPLEX_TYPES
NUMERIC_TYPES = frozenset(ELEMENT_BITS) - {"pred"}
_COMPLEX_OF = {"f32": "c64", "f64": "c128"}
_REAL_OF = {"c64": "f32", "c128": "f64"}
_PRED_SCALAR = Shape("pred")


class _Fail(Exception):
    """A rule's complaint about the instruction being verified (becomes HloVerifyError)."""


Rule = Callable[[Instruction], "Shape | None"]


# -- entry point ------------------------------------------------------------------------------------
def verify_module(module: Module) -> None:
    """Check every computation of `module` (lazy options built first); raises HloVerifyError at the
    first problem."""
    materialize_all(module)
    if not module.computations or module.entry is None:
        raise HloVerifyError(f"module {module.name!r} has no entry computation")
    if module.name in XLA_RESERVED_NAMES:
        raise HloVerifyError(f"module name {module.name!r} {_RESERVED}")
    for comp in module.computations:
        if comp.name in XLA_RESERVED_NAMES:
            raise HloVerifyError(f"computation name {comp.name!r} {_RESERVED}", comp.root.line if comp.root else 0, 1)
        verify_computation(comp)
    _check_entry_layout(module)


#: (XLA's lexer reads such a word as a keyword or an element type, and its parser says "expects name")
_RESERVED = "is a word XLA's parser does not take as a name (a keyword or an element type); rename it"


def verify_computation(comp: Computation) -> None:
    """Check one computation: its parameter numbering, then every instruction."""
    if comp.root is None or not comp.instructions:
        raise HloVerifyError(f"computation {comp.name!r} has no root instruction")
    _check_parameter_numbers(comp)
    rules = _RULES
    counts = _OPERAND_COUNTS
    for inst in comp.instructions:
        try:
            if inst.name in XLA_RESERVED_NAMES:
                raise _Fail(f"the name {_RESERVED}")
            count = counts.get(inst.opcode)
            if count is not None:
                _check_count(inst, count)
            if inst.attrs:
                _check_attributes(inst)
            rule = rules.get(inst.opcode)
            if rule is not None:
                inferred = rule(inst)
                if inferred is not None and not shapes_match(inferred, inst.shape):
                    raise _Fail(f"declared shape {inst.shape.to_text(False)} does not match the inferred "
                                f"shape {inferred.to_text(False)}")
        except _Fail as err:
            raise _error(comp, inst, str(err)) from None
        except HloVerifyError as err:  # a malformed attribute, reported by hloenv.altgraph.attributes
            raise HloVerifyError(f"computation {comp.name!r}, {err.reason}", inst.line, 1) from None
        except Exception as err:  # a rule tripped over input it did not foresee: still a typed error
            raise _error(comp, inst, f"malformed instruction ({type(err).__name__}: {err})") from None


def _check_entry_layout(module: Module) -> None:
    """The entry's parameters and root agree with `entry_computation_layout` (when given)."""
    text = module.attrs.get("entry_computation_layout")
    entry = module.entry
    if text is None or entry is None:
        return
    root = entry.root
    try:
        params, pos = _parse_at(text, 1)
        arrow = text.index("->", pos)
        result, _ = _parse_at(text, arrow + 2)
    except Exception:  # the shape parser's errors, or a missing '->'
        raise HloVerifyError(f"malformed entry_computation_layout {text[:80]!r}", root.line, 1) from None
    args = entry.parameters
    if not params.is_tuple or len(params.tuple_shapes) != len(args):
        raise _error(entry, root, f"entry_computation_layout has {len(params.tuple_shapes)} parameters, "
                                  f"the entry computation has {len(args)}")
    for param, shape in zip(args, params.tuple_shapes):
        if not shapes_match(shape, param.shape):
            raise _error(entry, param, f"shape {param.shape.to_text(False)} differs from "
                                       f"{shape.to_text(False)} in entry_computation_layout")
    if not shapes_match(result, root.shape):
        raise _error(entry, root, f"root shape {root.shape.to_text(False)} differs from the result "
                                  f"{result.to_text(False)} in entry_computation_layout")


def _error(comp: Computation, inst: Instruction, message: str) -> HloVerifyError:
    return HloVerifyError(f"computation {comp.name!r}, instruction {inst.name!r} ({inst.opcode}): {message}",
                          line=inst.line, column=1)


def shapes_match(inferred: Shape, declared: Shape) -> bool:
    """Equal ignoring layouts; bounded-dynamic flags are not inferred, so only bounds count (the
    verifier's test of a declared shape, and the rewriters' of a replacement)."""
    if inferred is declared or inferred.key_without_layout() == declared.key_without_layout():
        return True
    return _static_key(inferred) == _static_key(declared)


def _static_key(shape: Shape) -> tuple:
    if shape.is_tuple:
        return ("tuple", tuple(_static_key(s) for s in shape.tuple_shapes))
    return (shape.dtype, shape.dims)


def _check_parameter_numbers(comp: Computation) -> None:
    """Parameters are numbered 0..n-1, each number once."""
    seen: dict[int, Instruction] = {}
    for inst in comp.instructions:
        if inst.opcode != "parameter":
            continue
        try:
            number = int(inst.payload or "")
        except ValueError:
            raise _error(comp, inst, f"parameter number {inst.payload!r} is not an integer") from None
        if number in seen:
            raise _error(comp, inst, f"parameter number {number} is also used by {seen[number].name!r}")
        seen[number] = inst
    for number, inst in seen.items():
        if number >= len(seen) or number < 0:
            missing = min(set(range(len(seen))) - set(seen))
            raise _error(comp, inst, f"parameter number {number} leaves a gap: computation has "
                                     f"{len(seen)} parameters but no parameter {missing}")


# -- small helpers used by the rules ---------------------------------------------------------------
def _check_count(inst: Instruction, count: tuple[int, int | None]) -> None:
    lo, hi = count
    n = len(inst.operands)
    if n < lo or (hi is not None and n > hi):
        want = str(lo) if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
        raise _Fail(f"expects {want} operands, got {n}")


def _array(inst: Instruction, i: int) -> Shape:
    """Operand i's shape, which must be an array."""
    if i >= len(inst.operands):
        raise _Fail(f"missing operand {i}")
    shape = inst.operands[i].shape
    if not shape.is_array:
        raise _Fail(f"operand {i} ({inst.operands[i].name}) must be an array, got {shape.to_text(False)}")
    return shape


def _result_array(inst: Instruction) -> Shape:
    if not inst.shape.is_array:
        raise _Fail(f"result must be an array, got {inst.shape.to_text(False)}")
    return inst.shape


def _need_type(inst: Instruction, shape: Shape, allowed: frozenset[str], what: str) -> None:
    if shape.dtype not in allowed:
        raise _Fail(f"element type {shape.dtype} is not allowed: {inst.opcode} needs {what}")


def _dims_in_range(dims: Sequence[int], rank: int, what: str) -> None:
    for d in dims:
        if not 0 <= d < rank:
            raise _Fail(f"{what} {d} is out of range for rank {rank}")
    if len(set(dims)) != len(dims):
        raise _Fail(f"{what} {list(dims)} has duplicates")


def _same_dims(shapes: Sequence[Shape], what: str = "operands") -> None:
    first = shapes[0]
    for s in shapes[1:]:
        if s.dims != first.dims:
            raise _Fail(f"{what} have different dimensions: {first.to_text(False)} vs {s.to_text(False)}")


def _same_type(shapes: Sequence[Shape], what: str = "operands") -> None:
    first = shapes[0]
    for s in shapes[1:]:
        if s.dtype != first.dtype:
            raise _Fail(f"{what} have different element types: {first.to_text(False)} vs {s.to_text(False)}")


def _callee(inst: Instruction, key: str) -> Computation:
    comps = inst.called.get(key)
    if not comps:
        raise _Fail(f"missing called computation {key!r}")
    if len(comps) != 1:
        raise _Fail(f"{key!r} must name one computation, got {len(comps)}")
    return comps[0]


def _check_signature(inst: Instruction, callee: Computation, args: Sequence[Shape], role: str) -> None:
    """callee takes exactly `args` (ignoring layouts)."""
    params = callee.parameters
    if len(params) != len(args):
        raise _Fail(f"{role} {callee.name!r} takes {len(params)} parameters, but is given {len(args)}")
    for k, (param, arg) in enumerate(zip(params, args)):
        if not shapes_match(arg, param.shape):
            raise _Fail(f"{role} {callee.name!r} parameter {k} has shape {param.shape.to_text(False)}, "
                        f"but is given {arg.to_text(False)}")


def _root_shape(callee: Computation) -> Shape:
    return callee.root.shape  # type: ignore[union-attr]


def _window_out(size: int, dim: A.WindowDim) -> int:
    """Output size of one windowed dimension (reduce-window and convolution)."""
    dilated_base = (size - 1) * dim.base_dilation + 1 if size > 0 else 0
    padded = dim.pad_low + dilated_base + dim.pad_high
    dilated_window = (dim.size - 1) * dim.window_dilation + 1 if dim.size > 0 else 0
    if padded < dilated_window:
        return 0
    return (padded - dilated_window) // dim.stride + 1


# -- elementwise --------------------------------------------------------------------------------------
def _unary(allowed: frozenset[str] | None, what: str = "") -> Rule:
    """Same shape as the operand; the element type must be in `allowed` (any when None)."""
    def rule(inst: Instruction) -> Shape:
        op = _array(inst, 0)
        if allowed is not None:
            _need_type(inst, op, allowed, what)
        return op
    return rule


def _unary_to(result_type: Callable[[str], str], allowed: frozenset[str], what: str) -> Rule:
    """Operand dims; element type mapped by `result_type` (is-finite -> pred, abs(c64) -> f32)."""
    def rule(inst: Instruction) -> Shape:
        op = _array(inst, 0)
        _need_type(inst, op, allowed, what)
        return Shape(result_type(op.dtype), op.dims, op.dynamic)
    return rule


def _binary(allowed: frozenset[str] | None, what: str = "", result: Callable[[str], str] | None = None) -> Rule:
    """Both operands have the same dims and element type (no implicit broadcast in HLO)."""
    def rule(inst: Instruction) -> Shape:
        lhs, rhs = _array(inst, 0), _array(inst, 1)
        if lhs.dims != rhs.dims:
            raise _Fail(f"operands have different dimensions: {lhs.to_text(False)} vs {rhs.to_text(False)} "
                        "(implicit broadcast is not allowed in HLO)")
        if lhs.dtype != rhs.dtype:
            raise _Fail(f"operands have different element types: {lhs.dtype} vs {rhs.dtype}")
        if allowed is not None:
            _need_type(inst, lhs, allowed, what)
        dynamic = lhs.dynamic or rhs.dynamic
        return Shape(result(lhs.dtype) if result else lhs.dtype, lhs.dims, dynamic)
    return rule


def _compare(inst: Instruction) -> Shape:
    # compare: like a binary op, with a valid direction and a pred result.
    A.comparison_direction(inst)
    return _COMPARE_BINARY(inst)


_COMPARE_BINARY = _binary(None, result=lambda _: "pred")


def _select(inst: Instruction) -> Shape:
    # select(pred, on_true, on_false): pred has the dims of the branches (or is a scalar, 2022 era).
    pred = _array(inst, 0)
    on_true, on_false = inst.operands[1].shape, inst.operands[2].shape
    if pred.dtype != "pred":
        raise _Fail(f"predicate must be pred, got {pred.to_text(False)}")
    if not shapes_match(on_true, on_false):
        raise _Fail(f"branches differ: {on_true.to_text(False)} vs {on_false.to_text(False)}")
    if on_true.is_array and pred.rank and pred.dims != on_true.dims:
        raise _Fail(f"predicate {pred.to_text(False)} does not match the branches {on_true.to_text(False)}")
    return on_true


def _clamp(inst: Instruction) -> Shape:
    # clamp(min, x, max): min and max have x's type and either x's dims or are scalars.
    lo, x, hi = _array(inst, 0), _array(inst, 1), _array(inst, 2)
    for bound, name in ((lo, "min"), (hi, "max")):
        if bound.dtype != x.dtype:
            raise _Fail(f"{name} has element type {bound.dtype}, operand has {x.dtype}")
        if bound.rank and bound.dims != x.dims:
            raise _Fail(f"{name} {bound.to_text(False)} must be a scalar or match {x.to_text(False)}")
    return x


def _convert(inst: Instruction) -> Shape:
    # convert: same dims, any element type (complex -> real is not defined).
    op = _array(inst, 0)
    out = _result_array(inst)
    if op.dtype in COMPLEX_TYPES and out.dtype not in COMPLEX_TYPES:
        raise _Fail(f"conversion from complex {op.dtype} to real {out.dtype} is not defined")
    return Shape(out.dtype, op.dims, op.dynamic)


def _bitcast_convert(inst: Instruction) -> Shape:
    # bitcast-convert: same bits; a narrower result adds a minor dim, a wider one consumes it.
    op = _array(inst, 0)
    out = _result_array(inst)
    src, dst = ELEMENT_BITS[op.dtype], ELEMENT_BITS[out.dtype]
    if src == dst:
        return Shape(out.dtype, op.dims, op.dynamic)
    if src > dst:
        if src % dst:
            raise _Fail(f"cannot bitcast {op.dtype} to {out.dtype}")
        return Shape(out.dtype, op.dims + (src // dst,))
    if dst % src or not op.rank or op.dims[-1] != dst // src:
        raise _Fail(f"bitcast of {op.to_text(False)} to {out.dtype} needs a minor dimension of {dst // src}")
    return Shape(out.dtype, op.dims[:-1])


def _complex(inst: Instruction) -> Shape:
    # complex(re, im): f32 -> c64, f64 -> c128.
    return _COMPLEX_BINARY(inst)


_COMPLEX_BINARY = _binary(frozenset(_COMPLEX_OF), "f32 or f64", result=_COMPLEX_OF.__getitem__)


# -- shape manipulation -----------------------------------------------------------------------------
def _broadcast(inst: Instruction) -> Shape:
    # broadcast: operand dim i becomes result dim dimensions[i], with the same size.
    op = _array(inst, 0)
    out = _result_array(inst)
    dims = A.int_list(inst, "dimensions")
    if len(dims) != op.rank:
        raise _Fail(f"dimensions {list(dims)} must have one entry per operand dimension ({op.rank})")
    _dims_in_range(dims, out.rank, "broadcast dimension")
    for i, d in enumerate(dims):
        if op.dims[i] != out.dims[d]:
            raise _Fail(f"operand dimension {i} (size {op.dims[i]}) maps to result dimension {d} "
                        f"(size {out.dims[d]})")
    return Shape(op.dtype, out.dims, out.dynamic)


def _reshape(inst: Instruction) -> Shape:
    # reshape: same element type and element count.
    op = _array(inst, 0)
    out = _result_array(inst)
    if op.element_count != out.element_count:
        raise _Fail(f"cannot reshape {op.to_text(False)} ({op.element_count} elements) to "
                    f"{out.to_text(False)} ({out.element_count} elements)")
    return Shape(op.dtype, out.dims, out.dynamic)


def _transpose(inst: Instruction) -> Shape:
    # transpose: dimensions is a permutation; result dim i is operand dim dimensions[i].
    op = _array(inst, 0)
    perm = A.int_list(inst, "dimensions")
    if sorted(perm) != list(range(op.rank)):
        raise _Fail(f"dimensions {list(perm)} is not a permutation of the operand's {op.rank} dimensions")
    return Shape(op.dtype, tuple(op.dims[p] for p in perm))


def _slice(inst: Instruction) -> Shape:
    # slice: 0 <= start <= limit <= size, stride >= 1; result ceil((limit - start) / stride).
    op = _array(inst, 0)
    spec = A.slice_spec(inst)
    if len(spec) != op.rank:
        raise _Fail(f"slice has {len(spec)} dimensions, operand has {op.rank}")
    dims = []
    for i, (s, size) in enumerate(zip(spec, op.dims)):
        if not (0 <= s.start <= s.limit <= size) or s.stride < 1:
            raise _Fail(f"slice [{s.start}:{s.limit}:{s.stride}] is invalid for dimension {i} of size {size}")
        dims.append((s.limit - s.start + s.stride - 1) // s.stride)
    return Shape(op.dtype, tuple(dims))


def _start_indices(inst: Instruction, first: int, rank: int) -> None:
    """Dynamic start indices: `rank` integer scalars, or one integer vector of length rank (2022)."""
    idx = [_array(inst, i) for i in range(first, len(inst.operands))]
    for s in idx:
        _need_type(inst, s, INT_TYPES, "integer start indices")
    if len(idx) == 1 and idx[0].rank == 1 and idx[0].dims[0] == rank and rank != 1:
        return
    if len(idx) != rank or any(s.rank for s in idx):
        raise _Fail(f"expects {rank} scalar start indices, got {', '.join(s.to_text(False) for s in idx) or 'none'}")


def _dynamic_slice(inst: Instruction) -> Shape:
    # dynamic-slice(operand, starts...): sizes from dynamic_slice_sizes, each within the operand.
    op = _array(inst, 0)
    _start_indices(inst, 1, op.rank)
    sizes = A.int_list(inst, "dynamic_slice_sizes")
    if len(sizes) != op.rank:
        raise _Fail(f"dynamic_slice_sizes has {len(sizes)} entries, operand has rank {op.rank}")
    for i, (n, size) in enumerate(zip(sizes, op.dims)):
        if not 0 <= n <= size:
            raise _Fail(f"slice size {n} of dimension {i} exceeds the operand size {size}")
    return Shape(op.dtype, sizes)


def _dynamic_update_slice(inst: Instruction) -> Shape:
    # dynamic-update-slice(operand, update, starts...): update fits inside the operand.
    op, update = _array(inst, 0), _array(inst, 1)
    if update.dtype != op.dtype:
        raise _Fail(f"update has element type {update.dtype}, operand has {op.dtype}")
    if update.rank != op.rank or any(u > o for u, o in zip(update.dims, op.dims)):
        raise _Fail(f"update {update.to_text(False)} does not fit in operand {op.to_text(False)}")
    _start_indices(inst, 2, op.rank)
    return op


def _concatenate(inst: Instruction) -> Shape:
    # concatenate: same rank and type; dims equal except `dimensions`, which adds up.
    shapes = [_array(inst, i) for i in range(len(inst.operands))]
    dims = A.int_list(inst, "dimensions")
    if len(dims) != 1:
        raise _Fail(f"dimensions must name one dimension, got {list(dims)}")
    d = dims[0]
    first = shapes[0]
    _dims_in_range(dims, first.rank, "concatenate dimension")
    _same_type(shapes)
    total = 0
    for s in shapes:
        if s.rank != first.rank or any(a != b for k, (a, b) in enumerate(zip(s.dims, first.dims)) if k != d):
            raise _Fail(f"operands {first.to_text(False)} and {s.to_text(False)} differ outside dimension {d}")
        total += s.dims[d]
    return Shape(first.dtype, first.dims[:d] + (total,) + first.dims[d + 1:])


def _pad(inst: Instruction) -> Shape:
    # pad(operand, scalar value): size = low + high + dim + (dim - 1) * interior, never negative.
    op, value = _array(inst, 0), _array(inst, 1)
    if value.rank or value.dtype != op.dtype:
        raise _Fail(f"padding value must be a {op.dtype} scalar, got {value.to_text(False)}")
    config = A.padding_config(inst)
    if len(config) != op.rank:
        raise _Fail(f"padding has {len(config)} dimensions, operand has {op.rank}")
    dims = []
    for i, (p, size) in enumerate(zip(config, op.dims)):
        n = p.low + p.high + size + max(size - 1, 0) * p.interior
        if n < 0:
            raise _Fail(f"padding {p.low}_{p.high}_{p.interior} makes dimension {i} negative")
        dims.append(n)
    return Shape(op.dtype, tuple(dims))


def _reverse(inst: Instruction) -> Shape:
    # reverse: dimensions in range, same shape.
    op = _array(inst, 0)
    _dims_in_range(A.int_list(inst, "dimensions"), op.rank, "reverse dimension")
    return op


def _iota(inst: Instruction) -> None:
    # iota: an array result with iota_dimension within its rank.
    out = _result_array(inst)
    d = A.int_attr(inst, "iota_dimension")
    if not 0 <= d < out.rank:
        raise _Fail(f"iota_dimension {d} is out of range for {out.to_text(False)}")


def _check_attributes(inst: Instruction) -> None:
    # an instruction carries only the attributes the pinned jaxlib's HLO parser allows its opcode
    # (`_xla_opcodes`, generated from the parser's own answers); XLA refuses any other when it
    # compiles, e.g. `dimensions=` left on an opcode edited from broadcast to abs, or `to_apply=`
    # on a fusion. Opcodes the table lacks (async-update/-done, alternatives) are not checked.
    own = XLA_OWN_ATTRIBUTES.get(inst.opcode)
    if own is None:
        return
    for key in inst.attrs:
        if key not in XLA_GENERAL_ATTRIBUTES and key not in own:
            takes = f"; it takes {', '.join(sorted(own))}" if own else ""
            raise _Fail(f"attribute {key!r} does not apply to {inst.opcode}{takes}")


def _constant(inst: Instruction) -> None:
    # constant: an array literal holds one value per element, each one its element type can
    # hold (XLA's parser refuses `s32[] constant(-inf)` or `f32[3] constant({1, 2})` when it
    # compiles). Tuple, complex, sub-byte-float and elided (`{...}`) literals are not looked into.
    shape, text = inst.shape, inst.payload or ""
    kind = _LITERAL_KIND.get(shape.dtype)
    if kind is None or not shape.is_array or shape.dynamic or "..." in text or len(text) > _MAX_LITERAL_CHARS:
        return
    tokens = A.literal_tokens(text)
    if len(tokens) != shape.element_count:
        raise _Fail(f"the literal has {len(tokens)} value(s); {shape.to_text(False)} holds {shape.element_count}")
    pattern = _LITERAL_VALUE[kind]
    for token in tokens:
        if pattern.fullmatch(token) is None:
            raise _Fail(f"literal value {token!r} is not a {shape.dtype} value")
    if kind == "float":
        _check_float_range(shape.dtype, tokens)
    if kind == "int":
        bits = ELEMENT_BITS[shape.dtype]
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if shape.dtype in SIGNED_TYPES else (0, (1 << bits) - 1)
        for token in tokens:
            if not low <= int(token) <= high:
                raise _Fail(f"literal value {token} is out of range for {shape.dtype} ({low}..{high})")


def _check_float_range(dtype: str, tokens: list[str]) -> None:
    """A finite literal value that rounds to an infinity (or NaN) in `dtype` is refused, as XLA's
    parser refuses `f16[] constant(70000)` (65519 is fine: it rounds to 65504)."""
    finite = [t for t in tokens if t[-1].isdigit()]  # (not inf, nan or nan(0x...))
    if not finite:
        return
    np_type = numpy_dtype(dtype)
    if np_type is None:
        return
    values = np.asarray(finite, dtype=np.float64)
    limit = float(np.finfo(np_type).max) if dtype in ("f16", "f32", "f64") else float(_ml_finfo(np_type).max)
    big = np.flatnonzero(~(np.abs(values) <= limit))  # (inf from a huge f64 token too)
    if not len(big):
        return
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = values[big].astype(np_type).astype(np.float64)
    bad = big[~np.isfinite(rounded) | ~np.isfinite(values[big])]
    if len(bad):
        raise _Fail(f"literal value {finite[int(bad[0])]} is out of range for {dtype} (it rounds past the "
                    f"largest {dtype}, {limit:g})")


def _ml_finfo(np_type: np.dtype):  # (ml_dtypes takes 0.9 s to import: only for a huge bf16/f8 value)
    import ml_dtypes
    return ml_dtypes.finfo(np_type)


_MAX_LITERAL_CHARS = 1 << 22
_LITERAL_KIND = {**{t: "int" for t in INT_TYPES}, **{t: "float" for t in FLOAT_TYPES}, "pred": "pred"}
_LITERAL_VALUE = {
    "int": re.compile(r"[+-]?\d+"),
    "pred": re.compile(r"true|false|0|1"),
    "float": re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|nan(?:\(0x[0-9a-fA-F]+\))?)"),
}


# -- tuples ------------------------------------------------------------------------------------------
def _tuple(inst: Instruction) -> Shape:
    # tuple: the tuple of its operands' shapes.
    return tuple_of(op.shape for op in inst.operands)


def _get_tuple_element(inst: Instruction) -> Shape:
    # get-tuple-element: element `index` of a tuple operand.
    op = inst.operands[0].shape
    if not op.is_tuple:
        raise _Fail(f"operand must be a tuple, got {op.to_text(False)}")
    index = A.int_attr(inst, "index")
    if not 0 <= index < len(op.tuple_shapes):
        raise _Fail(f"index {index} is out of range for a tuple of {len(op.tuple_shapes)} elements")
    return op.tuple_shapes[index]


# -- reductions ---------------------------------------------------------------------------------------
def _split_inputs(inst: Instruction) -> tuple[list[Shape], list[Shape]]:
    """(inputs, init values) of a variadic reduce / reduce-window: N arrays then N scalars."""
    n = len(inst.operands)
    if n % 2:
        raise _Fail(f"expects inputs and init values in pairs, got {n} operands")
    k = n // 2
    inputs = [_array(inst, i) for i in range(k)]
    inits = [_array(inst, i) for i in range(k, n)]
    for i, init in enumerate(inits):
        if init.rank:
            raise _Fail(f"init value {i} must be a scalar, got {init.to_text(False)}")
    _same_dims(inputs, "inputs")
    return inputs, inits


def _check_reducer(inst: Instruction, inputs: list[Shape], inits: list[Shape], key: str = "to_apply") -> None:
    """The reducer takes 2N scalars (accumulators of the init types, then inputs) and returns N."""
    comp = _callee(inst, key)
    k = len(inits)
    params = comp.parameters
    if len(params) != 2 * k:
        raise _Fail(f"reducer {comp.name!r} takes {len(params)} parameters, expected {2 * k}")
    for i, param in enumerate(params):
        init = inits[i % k]
        ok = {init.dtype, inputs[i % k].dtype} if i >= k else {init.dtype}
        if param.shape.is_tuple or param.shape.rank or param.shape.dtype not in ok:
            raise _Fail(f"reducer {comp.name!r} parameter {i} is {param.shape.to_text(False)}, expected "
                        f"a {init.dtype} scalar")
    want = Shape(inits[0].dtype) if k == 1 else tuple_of(Shape(s.dtype) for s in inits)
    if not shapes_match(want, _root_shape(comp)):
        raise _Fail(f"reducer {comp.name!r} returns {_root_shape(comp).to_text(False)}, expected "
                    f"{want.to_text(False)}")


def _results(dtypes: Sequence[str], dims: tuple[int, ...]) -> Shape:
    if len(dtypes) == 1:
        return Shape(dtypes[0], dims)
    return tuple_of(Shape(t, dims) for t in dtypes)


def _reduce(inst: Instruction) -> Shape:
    # reduce(inputs..., inits...): drop `dimensions`; one result per input, typed like its init.
    inputs, inits = _split_inputs(inst)
    dims = A.int_list(inst, "dimensions")
    _dims_in_range(dims, inputs[0].rank, "reduce dimension")
    _check_reducer(inst, inputs, inits)
    kept = tuple(d for i, d in enumerate(inputs[0].dims) if i not in dims)
    return _results([s.dtype for s in inits], kept)


def _reduce_window(inst: Instruction) -> Shape:
    # reduce-window: one window dimension per input dimension; windowed output sizes.
    inputs, inits = _split_inputs(inst)
    win = A.window(inst)
    if len(win) != inputs[0].rank:
        raise _Fail(f"window has {len(win)} dimensions, input has {inputs[0].rank}")
    _check_reducer(inst, inputs, inits)
    dims = tuple(_window_out(size, w) for size, w in zip(inputs[0].dims, win))
    return _results([s.dtype for s in inits], dims)


def _select_and_scatter(inst: Instruction) -> Shape:
    # select-and-scatter(operand, source, init): the result has the operand's shape.
    op, _, init = _array(inst, 0), _array(inst, 1), _array(inst, 2)
    if len(A.window(inst)) != op.rank:
        raise _Fail(f"window must have {op.rank} dimensions")
    _check_reducer(inst, [op], [init], "scatter")
    return op


def _sort(inst: Instruction) -> Shape:
    # sort: operands of equal dims; the comparator maps 2N scalars to pred[].
    shapes = [_array(inst, i) for i in range(len(inst.operands))]
    _same_dims(shapes)
    _dims_in_range(A.int_list(inst, "dimensions"), shapes[0].rank, "sort dimension")
    comp = _callee(inst, "to_apply")
    scalars = [Shape(s.dtype) for s in shapes for _ in (0, 1)]
    _check_signature(inst, comp, scalars, "comparator")
    if not shapes_match(_PRED_SCALAR, _root_shape(comp)):
        raise _Fail(f"comparator {comp.name!r} must return pred[], returns {_root_shape(comp).to_text(False)}")
    return shapes[0] if len(shapes) == 1 else tuple_of(shapes)


# -- dot and convolution ------------------------------------------------------------------------------
def _dot(inst: Instruction) -> Shape | None:
    # dot: batch dims, then lhs free dims, then rhs free dims; batch and contracting sizes agree.
    lhs, rhs = _array(inst, 0), _array(inst, 1)
    if "sparsity" in inst.attrs:
        return None
    d = A.dot_dnums(inst)
    if len(d.lhs_batch) != len(d.rhs_batch):
        raise _Fail(f"lhs and rhs have different numbers of batch dimensions: {d.lhs_batch} vs {d.rhs_batch}")
    if len(d.lhs_contracting) != len(d.rhs_contracting):
        raise _Fail("lhs and rhs have different numbers of contracting dimensions")
    _dims_in_range(d.lhs_batch + d.lhs_contracting, lhs.rank, "lhs batch/contracting dimension")
    _dims_in_range(d.rhs_batch + d.rhs_contracting, rhs.rank, "rhs batch/contracting dimension")
    for kind, ls, rs in (("batch", d.lhs_batch, d.rhs_batch), ("contracting", d.lhs_contracting, d.rhs_contracting)):
        for a, b in zip(ls, rs):
            if lhs.dims[a] != rhs.dims[b]:
                raise _Fail(f"{kind} dimension sizes differ: lhs dimension {a} is {lhs.dims[a]}, "
                            f"rhs dimension {b} is {rhs.dims[b]}")
    used_l = set(d.lhs_batch) | set(d.lhs_contracting)
    used_r = set(d.rhs_batch) | set(d.rhs_contracting)
    dims = (tuple(lhs.dims[a] for a in d.lhs_batch)
            + tuple(n for i, n in enumerate(lhs.dims) if i not in used_l)
            + tuple(n for i, n in enumerate(rhs.dims) if i not in used_r))
    return Shape(_result_array(inst).dtype, dims)


def _convolution(inst: Instruction) -> Shape:
    # convolution: features and groups agree; spatial sizes follow the window; dims per dim_labels.
    lhs, rhs = _array(inst, 0), _array(inst, 1)
    d = A.conv_dnums(inst)
    n = len(d.input_spatial)
    if lhs.rank != n + 2 or rhs.rank != n + 2:
        raise _Fail(f"dim_labels need rank-{n + 2} operands, got {lhs.to_text(False)} and {rhs.to_text(False)}")
    win = A.window(inst)
    if len(win) != n:
        raise _Fail(f"window has {len(win)} dimensions, convolution has {n} spatial dimensions")
    groups = A.int_attr(inst, "feature_group_count", 1)
    batch_groups = A.int_attr(inst, "batch_group_count", 1)
    if groups < 1 or batch_groups < 1:
        raise _Fail("feature_group_count and batch_group_count must be positive")
    batch, features = lhs.dims[d.input_batch], lhs.dims[d.input_feature]
    k_in, k_out = rhs.dims[d.kernel_input_feature], rhs.dims[d.kernel_output_feature]
    if features % groups or features // groups != k_in:
        raise _Fail(f"input features {features} / feature_group_count {groups} must equal the kernel "
                    f"input features {k_in}")
    if k_out % groups or k_out % batch_groups or batch % batch_groups:
        raise _Fail(f"kernel output features {k_out} and batch {batch} must divide by the group counts "
                    f"({groups}, {batch_groups})")
    for i, w in enumerate(win):
        if w.size != rhs.dims[d.kernel_spatial[i]]:
            raise _Fail(f"window size {w.size} differs from kernel spatial dimension {i} "
                        f"({rhs.dims[d.kernel_spatial[i]]})")
    out = [0] * (n + 2)
    out[d.output_batch] = batch // batch_groups
    out[d.output_feature] = k_out
    for i, w in enumerate(win):
        out[d.output_spatial[i]] = _window_out(lhs.dims[d.input_spatial[i]], w)
    return Shape(_result_array(inst).dtype, tuple(out))


# -- gather and scatter -------------------------------------------------------------------------------
def _gather(inst: Instruction) -> Shape:
    # gather: batch dims come from the indices, offset dims from slice_sizes minus collapsed dims.
    op, idx = _array(inst, 0), _array(inst, 1)
    _need_type(inst, idx, INT_TYPES, "integer start indices")
    g = A.gather_dnums(inst)
    if len(g.slice_sizes) != op.rank:
        raise _Fail(f"slice_sizes has {len(g.slice_sizes)} entries, operand has rank {op.rank}")
    for i, (n, size) in enumerate(zip(g.slice_sizes, op.dims)):
        if not 0 <= n <= size:
            raise _Fail(f"slice size {n} of dimension {i} exceeds the operand size {size}")
    dropped = g.collapsed_slice_dims + g.operand_batching_dims
    _dims_in_range(dropped, op.rank, "collapsed/batching slice dimension")
    for i in dropped:
        if g.slice_sizes[i] > 1:
            raise _Fail(f"collapsed dimension {i} has slice size {g.slice_sizes[i]}, must be at most 1")
    indices = idx.dims + (1,) if g.index_vector_dim == idx.rank else idx.dims
    if not 0 <= g.index_vector_dim < len(indices):
        raise _Fail(f"index_vector_dim {g.index_vector_dim} is out of range")
    if len(g.start_index_map) != indices[g.index_vector_dim]:
        raise _Fail(f"start_index_map has {len(g.start_index_map)} entries, index vectors have "
                    f"{indices[g.index_vector_dim]}")
    _dims_in_range(g.start_index_map, op.rank, "start_index_map entry")
    offsets = [n for i, n in enumerate(g.slice_sizes) if i not in dropped]
    batch = [n for i, n in enumerate(indices) if i != g.index_vector_dim]
    rank = len(offsets) + len(batch)
    if len(g.offset_dims) != len(offsets):
        raise _Fail(f"offset_dims has {len(g.offset_dims)} entries, expected {len(offsets)}")
    _dims_in_range(g.offset_dims, rank, "offset dimension")
    offset_set = set(g.offset_dims)
    it_off, it_batch = iter(sorted(zip(g.offset_dims, offsets))), iter(batch)
    dims = tuple(next(it_off)[1] if i in offset_set else next(it_batch) for i in range(rank))
    return Shape(op.dtype, dims)


def _scatter(inst: Instruction) -> Shape:
    # scatter(operands..., indices, updates...): results have the operands' shapes; each update is
    # the indices' scatter dims plus window dims that fit in the operand.
    n = len(inst.operands)
    if n % 2 == 0:
        raise _Fail(f"expects N operands, indices and N updates, got {n} operands")
    k = n // 2
    operands = [_array(inst, i) for i in range(k)]
    idx = _array(inst, k)
    _need_type(inst, idx, INT_TYPES, "integer scatter indices")
    updates = [_array(inst, i) for i in range(k + 1, n)]
    _same_dims(operands)
    _same_dims(updates, "updates")
    s = A.scatter_dnums(inst)
    op, upd = operands[0], updates[0]
    if len(s.update_window_dims) + len(s.inserted_window_dims) + len(s.input_batching_dims) != op.rank:
        raise _Fail(f"update_window_dims, inserted_window_dims and input_batching_dims must cover the "
                    f"operand's {op.rank} dimensions")
    _dims_in_range(s.update_window_dims, upd.rank, "update window dimension")
    _dims_in_range(s.inserted_window_dims + s.input_batching_dims, op.rank, "inserted/batching dimension")
    _dims_in_range(s.scatter_dims_to_operand_dims, op.rank, "scatter_dims_to_operand_dims entry")
    indices = idx.dims + (1,) if s.index_vector_dim == idx.rank else idx.dims
    if not 0 <= s.index_vector_dim < len(indices):
        raise _Fail(f"index_vector_dim {s.index_vector_dim} is out of range")
    if len(s.scatter_dims_to_operand_dims) != indices[s.index_vector_dim]:
        raise _Fail(f"scatter_dims_to_operand_dims has {len(s.scatter_dims_to_operand_dims)} entries, index "
                    f"vectors have {indices[s.index_vector_dim]}")
    scatter_sizes = [d for i, d in enumerate(indices) if i != s.index_vector_dim]
    update_scatter = [d for i, d in enumerate(upd.dims) if i not in s.update_window_dims]
    if scatter_sizes != update_scatter:
        raise _Fail(f"update scatter dimensions {update_scatter} differ from the indices' {scatter_sizes}")
    window_dims = [d for i, d in enumerate(op.dims)
                   if i not in s.inserted_window_dims and i not in s.input_batching_dims]
    for w, d in zip(s.update_window_dims, window_dims):
        if upd.dims[w] > d:
            raise _Fail(f"update window dimension {w} (size {upd.dims[w]}) exceeds the operand's {d}")
    _check_reducer(inst, updates, operands)
    return operands[0] if k == 1 else tuple_of(operands)


# -- calls and control flow ---------------------------------------------------------------------------
def _call(inst: Instruction) -> Shape:
    # call: operands match to_apply's parameters; result is its root shape.
    comp = _callee(inst, "to_apply")
    _check_signature(inst, comp, [op.shape for op in inst.operands], "callee")
    return _root_shape(comp)


def _alternatives(inst: Instruction) -> Shape:
    # alternatives(original, options...): every option computes the original's value, so has its shape.
    for k, option in enumerate(inst.operands):
        if not shapes_match(inst.shape, option.shape):
            raise _Fail(f"option {k} ({option.name}) has shape {option.shape.to_text(False)}; every option "
                        f"must have the node's shape {inst.shape.to_text(False)}")
    return inst.shape


#: XLA's HloInstruction::FusionKind names, which its parser requires as `kind=`
_FUSION_KINDS = ("kLoop", "kInput", "kOutput", "kCustom")


def _fusion(inst: Instruction) -> Shape:
    # fusion: a kind; operands match the fused computation's parameters; result is its root shape.
    kind = inst.attrs.get("kind")
    if kind not in _FUSION_KINDS:
        raise _Fail(f"kind must be one of {', '.join(_FUSION_KINDS)}, got "
                    + ("no kind attribute" if kind is None else f"kind={kind}"))
    comp = _callee(inst, "calls")
    _check_signature(inst, comp, [op.shape for op in inst.operands], "fused computation")
    return _root_shape(comp)


def _while(inst: Instruction) -> Shape:
    # while(init): condition (T) -> pred[], body (T) -> T, result T.
    state = inst.operands[0].shape
    cond, body = _callee(inst, "condition"), _callee(inst, "body")
    _check_signature(inst, cond, [state], "condition")
    _check_signature(inst, body, [state], "body")
    if not shapes_match(_PRED_SCALAR, _root_shape(cond)):
        raise _Fail(f"condition {cond.name!r} must return pred[], returns {_root_shape(cond).to_text(False)}")
    if not shapes_match(state, _root_shape(body)):
        raise _Fail(f"body {body.name!r} returns {_root_shape(body).to_text(False)}, but the loop state is "
                    f"{state.to_text(False)}")
    return state


def _conditional(inst: Instruction) -> Shape:
    # conditional(selector, args...): branch i takes args[i]; all branches return the result shape.
    selector = _array(inst, 0)
    if "branch_computations" in inst.called:
        branches = inst.called["branch_computations"]
        want = "s32"
    else:
        branches = [_callee(inst, "true_computation"), _callee(inst, "false_computation")]
        want = "pred"
    if selector.rank or selector.dtype != want:
        raise _Fail(f"selector must be {want}[], got {selector.to_text(False)}")
    if not branches or len(inst.operands) != len(branches) + 1:
        raise _Fail(f"expects 1 + {len(branches)} operands (one per branch), got {len(inst.operands)}")
    result = _root_shape(branches[0])
    for i, branch in enumerate(branches):
        _check_signature(inst, branch, [inst.operands[i + 1].shape], f"branch {i}")
        if not shapes_match(result, _root_shape(branch)):
            raise _Fail(f"branch {branch.name!r} returns {_root_shape(branch).to_text(False)}, branch "
                        f"{branches[0].name!r} returns {result.to_text(False)}")
    return result


def _map(inst: Instruction) -> Shape:
    # map(xs...): operands of equal dims; to_apply maps one scalar per operand to a scalar.
    shapes = [_array(inst, i) for i in range(len(inst.operands))]
    _same_dims(shapes)
    comp = _callee(inst, "to_apply")
    _check_signature(inst, comp, [Shape(s.dtype) for s in shapes], "mapped computation")
    root = _root_shape(comp)
    if not root.is_array or root.rank:
        raise _Fail(f"mapped computation {comp.name!r} must return a scalar, returns {root.to_text(False)}")
    return Shape(root.dtype, shapes[0].dims)


def _all_reduce(inst: Instruction) -> Shape:
    # all-reduce(xs...): the result has the operands' shapes (a tuple for several operands).
    shapes = [_array(inst, i) for i in range(len(inst.operands))]
    return shapes[0] if len(shapes) == 1 else tuple_of(shapes)


def _same_as_operand(i: int) -> Rule:
    """Result shape is operand i's (copy, optimization-barrier, add-dependency, ...)."""
    def rule(inst: Instruction) -> Shape:
        return inst.operands[i].shape
    return rule


def _fixed(shape: Shape) -> Rule:
    def rule(inst: Instruction) -> Shape:
        return shape
    return rule


# -- tables -------------------------------------------------------------------------------------------
_FLOAT_UNARY = ("exponential", "exponential-minus-one", "log", "log-plus-one", "sqrt", "rsqrt", "cbrt",
                "tanh", "sine", "cosine", "tan", "logistic", "erf", "acos", "acosh", "asin", "asinh",
                "atanh", "cosh", "sinh")
_REAL_FLOAT_UNARY = ("floor", "ceil", "round-nearest-afz", "round-nearest-even")
_SIGNED_UNARY = ("negate", "sign")
_ARITH_BINARY = ("add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "remainder")
_LOGIC_BINARY = ("and", "or", "xor")
_SHIFTS = ("shift-left", "shift-right-logical", "shift-right-arithmetic")

_RULES: dict[str, Rule] = {
    **{op: _unary(FLOATISH_TYPES, "a floating-point or complex type") for op in _FLOAT_UNARY},
    **{op: _unary(FLOAT_TYPES, "a floating-point type") for op in _REAL_FLOAT_UNARY},
    **{op: _unary(NUMERIC_TYPES, "a numeric type") for op in _SIGNED_UNARY},
    "not": _unary(PRED_INT_TYPES, "pred or an integer type"),
    "popcnt": _unary(INT_TYPES, "an integer type"),
    "count-leading-zeros": _unary(INT_TYPES, "an integer type"),
    "reduce-precision": _unary(FLOAT_TYPES, "a floating-point type"),
    "abs": _unary_to(lambda t: _REAL_OF.get(t, t), NUMERIC_TYPES, "a numeric type"),
    "real": _unary_to(lambda t: _REAL_OF.get(t, t), FLOATISH_TYPES, "a floating-point or complex type"),
    "imag": _unary_to(lambda t: _REAL_OF.get(t, t), FLOATISH_TYPES, "a floating-point or complex type"),
    "is-finite": _unary_to(lambda t: "pred", FLOAT_TYPES, "a floating-point type"),
    **{op: _binary(None) for op in _ARITH_BINARY},
    "atan2": _binary(FLOATISH_TYPES, "a floating-point or complex type"),
    **{op: _binary(PRED_INT_TYPES, "pred or an integer type") for op in _LOGIC_BINARY},
    **{op: _binary(INT_TYPES, "an integer type") for op in (*_SHIFTS, "mulhi")},
    "complex": _complex,
    "compare": _compare,
    "select": _select,
    "clamp": _clamp,
    "convert": _convert,
    "bitcast-convert": _bitcast_convert,
    "broadcast": _broadcast,
    "reshape": _reshape,
    "transpose": _transpose,
    "slice": _slice,
    "dynamic-slice": _dynamic_slice,
    "dynamic-update-slice": _dynamic_update_slice,
    "concatenate": _concatenate,
    "pad": _pad,
    "reverse": _reverse,
    "iota": _iota,
    "constant": _constant,
    "tuple": _tuple,
    "get-tuple-element": _get_tuple_element,
    "reduce": _reduce,
    "reduce-window": _reduce_window,
    "select-and-scatter": _select_and_scatter,
    "sort": _sort,
    "dot": _dot,
    "convolution": _convolution,
    "gather": _gather,
    "scatter": _scatter,
    "call": _call,
    "fusion": _fusion,
    ALTERNATIVES: _alternatives,
    "while": _while,
    "conditional": _conditional,
    "map": _map,
    "all-reduce": _all_reduce,
    "copy": _same_as_operand(0),
    "opt-barrier": _same_as_operand(0),
    "add-dependency": _same_as_operand(0),
    "domain": _same_as_operand(0),
    "cholesky": _same_as_operand(0),
    "triangular-solve": _same_as_operand(1),
    "after-all": _fixed(Shape("token")),
    "partition-id": _fixed(Shape("u32")),
    "replica-id": _fixed(Shape("u32")),
    "get-dimension-size": _fixed(Shape("s32")),
}

_UNBOUNDED = None
#: opcode -> (minimum, maximum) operand count; None as maximum means any number.
_OPERAND_COUNTS: dict[str, tuple[int, int | None]] = {
    **{op: (1, 1) for op in (*_FLOAT_UNARY, *_REAL_FLOAT_UNARY, *_SIGNED_UNARY, "not", "popcnt", "count-leading-zeros",
                             "reduce-precision", "abs", "real", "imag", "is-finite", "convert",
                             "bitcast-convert", "broadcast", "reshape", "transpose", "slice", "reverse",
                             "get-tuple-element", "copy", "opt-barrier", "domain", "cholesky",
                             "while", "bitcast", "get-dimension-size", "copy-start", "copy-done",
                             "fft", "send-done", "recv-done", "async-done", "rng-bit-generator")},
    **{op: (2, 2) for op in (*_ARITH_BINARY, *_LOGIC_BINARY, *_SHIFTS, "mulhi", "atan2", "complex", "compare",
                             "pad", "gather", "triangular-solve", "add-dependency", "set-dimension-size",
                             "rng", "stochastic-convert")},
    **{op: (0, 0) for op in ("parameter", "constant", "iota", "partition-id", "replica-id",
                             "rng-get-and-update-state")},
    "select": (3, 3), "clamp": (3, 3), "select-and-scatter": (3, 3),
    "dot": (2, 4), "convolution": (2, 2),
    "dynamic-slice": (2, _UNBOUNDED), "dynamic-update-slice": (3, _UNBOUNDED),
    "concatenate": (1, _UNBOUNDED), "map": (1, _UNBOUNDED), "all-reduce": (1, _UNBOUNDED), "reduce": (2, _UNBOUNDED), "reduce-window": (2, _UNBOUNDED),
    "sort": (1, _UNBOUNDED), "scatter": (3, _UNBOUNDED), "conditional": (1, _UNBOUNDED),
    "batch-norm-training": (3, 3), "batch-norm-inference": (5, 5), "batch-norm-grad": (5, 5),
}
