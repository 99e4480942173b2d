"""Constant literals: read `constant(...)` payloads into numpy and print numpy back as HLO literals.

Both text eras are read: `0`, `-inf`, `nan`, `true`, `{1, 2}`, `{ {1,2},{3,4} }`, and literals with
`/*i0=0*/` index comments. Complex, sub-byte and f8 types are not modelled (the reader returns
None). Printing is exact: every float is written as the shortest decimal of its value widened to
f64, which XLA's parser (through a double) reads back to the same bits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache

import numpy as np

from hloenv.altgraph.attributes import literal_tokens
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.numpy_types import numpy_dtype
from hloenv.altgraph.shape import Shape


class _NumpyTypes(Mapping[str, np.dtype]):
    """HLO element type -> numpy dtype, for the types literals are read and folded in (through
    `numpy_dtype`: bf16's comes from ml_dtypes, imported at its first use)."""

    def __init__(self, hlo_types: tuple[str, ...]):
        self._keys = hlo_types

    def __getitem__(self, hlo_type: str) -> np.dtype:
        if hlo_type not in self._keys:
            raise KeyError(hlo_type)
        return numpy_dtype(hlo_type)  # type: ignore[return-value]  (every key has one)

    def __contains__(self, hlo_type: object) -> bool:
        return hlo_type in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


NUMPY_TYPES: Mapping[str, np.dtype] = _NumpyTypes(("pred", "s8", "s16", "s32", "s64", "u8", "u16", "u32",
                                                   "u64", "f16", "bf16", "f32", "f64"))
FLOATS = frozenset({"f16", "bf16", "f32", "f64"})
SIGNED = frozenset({"s8", "s16", "s32", "s64"})
UNSIGNED = frozenset({"u8", "u16", "u32", "u64"})
INTEGERS = SIGNED | UNSIGNED

#: Literals longer than this are not read (a uniform-value check on them is not worth the time).
MAX_LITERAL_CHARS = 1 << 20

_NAN = re.compile(r"-?nan(\(0x[0-9a-fA-F]+\))?")
#: float type -> (bits, mantissa bits, the unsigned type of its bits): a NaN's sign and payload are
#: kept as XLA's parser and printer keep them (`-nan`, `nan(0x1)`: the payload is the whole
#: mantissa; `nan` is the quiet NaN, the mantissa's top bit alone). Bitcast-convert, TOTALORDER
#: compares and sorts see them, and numpy's 0/0 is the x86 default NaN, -nan.
_NAN_LAYOUT = {"f16": (16, 10, np.uint16), "bf16": (16, 7, np.uint16), "f32": (32, 23, np.uint32),
               "f64": (64, 52, np.uint64)}
_SPECIAL = {"inf": float("inf"), "+inf": float("inf"), "-inf": float("-inf")}
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _token_value(tok: str, dtype: str) -> float | int | bool:
    if dtype == "pred":
        if tok in ("true", "1"):
            return True
        if tok in ("false", "0"):
            return False
        raise ValueError(tok)
    if dtype in FLOATS:
        special = _SPECIAL.get(tok)
        if special is not None:
            return special
        if _INTEGER.fullmatch(tok):
            # XLA's lexer reads an integer-looking token as an integer: "-0" is 0, so +0.0 (while
            # "-0.0" is -0.0); 1 / -0 would otherwise fold to -inf where XLA computes inf
            return float(int(tok))
        return float(tok)
    return int(tok)


@lru_cache(maxsize=8192)
def _read(payload: str, dtype: str, dims: tuple[int, ...]) -> np.ndarray | None:
    np_type = NUMPY_TYPES.get(dtype)
    if np_type is None or len(payload) > MAX_LITERAL_CHARS or "..." in payload or "(" in payload.replace("nan(", ""):
        return None
    tokens = literal_tokens(payload)
    count = 1
    for d in dims:
        count *= d
    if len(tokens) != count:
        return None
    try:
        # NaNs by their bits (sign and payload: `_nan_bits`), once the array is made
        nans = [(k, t) for k, t in enumerate(tokens) if t[-1] in "n)" and _NAN.fullmatch(t)] \
            if dtype in FLOATS else []
        nan_at = {k for k, _ in nans}
        values = [float("nan") if k in nan_at else _token_value(t, dtype) for k, t in enumerate(tokens)]
        if dtype in INTEGERS:
            info = np.iinfo(np_type)
            if any(not info.min <= v <= info.max for v in values):
                return None
            arr = np.array(values, dtype=np_type)
        elif dtype == "pred":
            arr = np.array(values, dtype=np.bool_)
        else:
            arr = np.array(values, dtype=np.float64).astype(np_type)
            if nans:
                bits = arr.view(_NAN_LAYOUT[dtype][2])
                for k, tok in nans:
                    bits[k] = _nan_bits(tok, dtype)
    except (ValueError, OverflowError):
        return None
    arr = arr.reshape(dims)
    arr.setflags(write=False)
    return arr


def read_literal(payload: str, shape: Shape) -> np.ndarray | None:
    """The literal `payload` of an array `shape` as a read-only numpy array, or None if unreadable."""
    if not shape.is_array or shape.dynamic:
        return None
    return _read(payload.strip(), shape.dtype, shape.dims)


def constant_array(inst: Instruction) -> np.ndarray | None:
    """The value of a `constant` instruction (None for other opcodes or unreadable literals)."""
    if inst.opcode != "constant" or inst.payload is None:
        return None
    return read_literal(inst.payload, inst.shape)


@lru_cache(maxsize=8192)
def _uniform(payload: str, dtype: str, dims: tuple[int, ...]) -> object:
    arr = _read(payload, dtype, dims)
    if arr is None or arr.size == 0:
        return None
    first = arr.flat[0]
    if arr.size > 1:
        if dtype in FLOATS and np.isnan(first):
            return None
        if not np.all(arr == first):
            return None
    return first


def uniform_value(inst: Instruction) -> object:
    """The single value every element of `inst` has, when `inst` is a constant or a (chain of)
    broadcast of one; else None. NaN counts only for scalars."""
    while inst.opcode == "broadcast":
        inst = inst.operands[0]
    if inst.opcode != "constant" or inst.payload is None or not inst.shape.is_array or inst.shape.dynamic:
        return None
    return _uniform(inst.payload.strip(), inst.shape.dtype, inst.shape.dims)


def is_all(inst: Instruction, value: float) -> bool:
    """Is every element of `inst` (a constant or broadcast of one) equal to `value`? (-0 == 0.)"""
    v = uniform_value(inst)
    return v is not None and bool(v == value)


def _nan_bits(tok: str, dtype: str) -> int:
    """The bits XLA's parser gives the NaN token `tok` (`nan`, `-nan`, `nan(0x1)`) in `dtype`."""
    width, mantissa, _ = _NAN_LAYOUT[dtype]
    payload_text = _NAN.fullmatch(tok).group(1)  # type: ignore[union-attr]
    payload = int(payload_text[3:-1], 16) if payload_text else 1 << (mantissa - 1)
    if not 0 < payload < 1 << mantissa:
        raise ValueError(f"NaN payload {tok} does not fit {dtype}")
    sign = 1 << (width - 1) if tok.startswith("-") else 0
    return sign | (((1 << (width - 1 - mantissa)) - 1) << mantissa) | payload


def _nan_text(bits: int, dtype: str) -> str:
    """A NaN's text as XLA prints it: its sign, and its payload unless it is the quiet NaN's."""
    width, mantissa, _ = _NAN_LAYOUT[dtype]
    payload = bits & ((1 << mantissa) - 1)
    text = "nan" if payload == 1 << (mantissa - 1) else f"nan(0x{payload:x})"
    return "-" + text if bits >> (width - 1) & 1 else text


def _element_text(value: object, dtype: str) -> str:
    if dtype == "pred":
        return "true" if value else "false"
    if dtype in FLOATS:
        f = float(value)  # type: ignore[arg-type]
        if f != f:
            return "nan"  # (a placeholder: `format_literal` prints each NaN from its bits)
        if f in (float("inf"), float("-inf")):
            return "inf" if f > 0 else "-inf"
        text = repr(f)
        if f == 0 and text.startswith("-"):
            return "-0.0"  # (XLA reads "-0" as the integer 0: +0.0)
        return text[:-2] if text.endswith(".0") and "e" not in text else text
    return str(int(value))  # type: ignore[call-overload]


def format_literal(arr: np.ndarray, dtype: str) -> str:
    """HLO literal text for `arr` (`1`, `{1, 2}`, `{ {1, 2}, {3, 4} }`)."""
    values = np.asarray(arr).reshape(-1)
    flat = [_element_text(v, dtype) for v in (values.tolist() if dtype != "bf16" else map(float, values))]
    if dtype in FLOATS:
        nan_at = np.flatnonzero(np.isnan(values))
        if len(nan_at):  # (sign and payload from the bits, as XLA prints them)
            bits = values.astype(NUMPY_TYPES[dtype], copy=False).view(_NAN_LAYOUT[dtype][2])
            for k in nan_at.tolist():
                flat[k] = _nan_text(int(bits[k]), dtype)
    return flat[0] if np.ndim(arr) == 0 else _nest(flat, np.shape(arr))


def _nest(flat: list[str], dims: tuple[int, ...]) -> str:
    if len(dims) == 1:
        return "{" + ", ".join(flat) + "}"
    step = len(flat) // dims[0] if dims[0] else 0
    parts = [_nest(flat[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])]
    return "{ " + ", ".join(parts) + " }"
