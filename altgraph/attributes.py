"""Typed views of instruction attributes.

Instructions keep attribute values verbatim (`inst.attrs["window"] == "{size=3x3 stride=2x2}"`).
The functions here turn that text into small immutable values, one pure function per attribute
kind. Nothing is stored on the instruction (attributes are replaced copy-on-write by
`Instruction.set_attr`); parsed values are memoised by their text in a module-level table, so
the thousands of identical `dimensions={0}` in a large module are parsed once.

Malformed or missing attributes raise `HloVerifyError` at the instruction's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from hloenv.altgraph.errors import HloVerifyError
from hloenv.altgraph.instruction import Instruction

T = TypeVar("T")

COMPARISON_DIRECTIONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE"})


class SliceDim(NamedTuple):
    """One dimension of a `slice={[start:limit:stride], ...}` attribute."""
    start: int
    limit: int
    stride: int


class WindowDim(NamedTuple):
    """One dimension of a `window={size=.. stride=.. pad=.. lhs_dilate=.. rhs_dilate=..}`."""
    size: int
    stride: int = 1
    pad_low: int = 0
    pad_high: int = 0
    base_dilation: int = 1
    window_dilation: int = 1
    reversal: bool = False


class PadDim(NamedTuple):
    """One dimension of a `padding=low_high_interior` attribute."""
    low: int
    high: int
    interior: int = 0


class DotDims(NamedTuple):
    """Dot dimension numbers."""
    lhs_batch: tuple[int, ...]
    rhs_batch: tuple[int, ...]
    lhs_contracting: tuple[int, ...]
    rhs_contracting: tuple[int, ...]


class ConvDims(NamedTuple):
    """Convolution dimension numbers, read from `dim_labels=b01f_01io->b01f`."""
    input_batch: int
    input_feature: int
    input_spatial: tuple[int, ...]
    kernel_input_feature: int
    kernel_output_feature: int
    kernel_spatial: tuple[int, ...]
    output_batch: int
    output_feature: int
    output_spatial: tuple[int, ...]


class GatherDims(NamedTuple):
    """Gather dimension numbers plus `slice_sizes`."""
    offset_dims: tuple[int, ...]
    collapsed_slice_dims: tuple[int, ...]
    start_index_map: tuple[int, ...]
    index_vector_dim: int
    slice_sizes: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    start_indices_batching_dims: tuple[int, ...] = ()


class ScatterDims(NamedTuple):
    """Scatter dimension numbers."""
    update_window_dims: tuple[int, ...]
    inserted_window_dims: tuple[int, ...]
    scatter_dims_to_operand_dims: tuple[int, ...]
    index_vector_dim: int
    input_batching_dims: tuple[int, ...] = ()
    scatter_indices_batching_dims: tuple[int, ...] = ()


class _Bad:
    """A memoised parse failure (the message, without a line)."""
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


_MEMO: dict[tuple[str, str], object] = {}
_MEMO_LIMIT = 50_000
_INT = re.compile(r"-?\d+")
_UNDERSCORED = re.compile(r"-?\d+(?:_-?\d+)*")


def _error(inst: Instruction, message: str) -> HloVerifyError:
    return HloVerifyError(f"instruction {inst.name!r} ({inst.opcode}): {message}", line=inst.line, column=1)


def _raw(inst: Instruction, key: str) -> str:
    value = inst.attrs.get(key)
    if value is None:
        raise _error(inst, f"missing attribute {key!r}")
    return value


def _memo(inst: Instruction, kind: str, text: str, parse: Callable[[str], T]) -> T:
    """parse(text), memoised by (kind, text); a ValueError becomes HloVerifyError at inst's line."""
    k = (kind, text)
    value = _MEMO.get(k)
    if value is None:
        try:
            value = parse(text)
        except (ValueError, IndexError) as err:
            value = _Bad(str(err))
        if len(_MEMO) < _MEMO_LIMIT:
            _MEMO[k] = value
    if type(value) is _Bad:
        raise _error(inst, value.message)
    return value  # type: ignore[return-value]


# -- text parsers (pure; raise ValueError) ------------------------------------------------------------
def _to_int(text: str, what: str) -> int:
    text = text.strip()
    if not _INT.fullmatch(text):
        raise ValueError(f"expected an integer in {what}, got {text!r}")
    return int(text)


def parse_int_list(text: str) -> tuple[int, ...]:
    """`{0,1}` or `{}` -> (0, 1) / ()."""
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise ValueError(f"expected an integer list '{{a,b,...}}', got {text!r}")
    body = t[1:-1].strip()
    if not body:
        return ()
    return tuple(_to_int(p, "integer list") for p in body.split(","))


def parse_slice(text: str) -> tuple[SliceDim, ...]:
    """`{[0:2], [1:3:1]}` -> (SliceDim(0, 2, 1), SliceDim(1, 3, 1))."""
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise ValueError(f"expected a slice '{{[start:limit:stride], ...}}', got {text!r}")
    body = t[1:-1].strip()
    if not body:
        return ()
    out = []
    for part in body.split(","):
        p = part.strip()
        if not (p.startswith("[") and p.endswith("]")):
            raise ValueError(f"expected '[start:limit(:stride)]' in slice, got {p!r}")
        nums = p[1:-1].split(":")
        if len(nums) not in (2, 3):
            raise ValueError(f"expected '[start:limit(:stride)]' in slice, got {p!r}")
        start, limit = _to_int(nums[0], "slice"), _to_int(nums[1], "slice")
        stride = _to_int(nums[2], "slice") if len(nums) == 3 else 1
        out.append(SliceDim(start, limit, stride))
    return tuple(out)


_WINDOW_KEYS = ("size", "stride", "pad", "lhs_dilate", "rhs_dilate", "rhs_reversal")


def parse_window(text: str) -> tuple[WindowDim, ...]:
    """`{size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=1x1 rhs_dilate=1x1}` -> WindowDims."""
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise ValueError(f"expected a window '{{size=...}}', got {text!r}")
    fields: dict[str, list[str]] = {}
    for item in t[1:-1].split():
        key, eq, value = item.partition("=")
        if not eq or key not in _WINDOW_KEYS:
            raise ValueError(f"unknown window field {item!r}")
        if key in fields:
            raise ValueError(f"window field {key!r} given twice")
        fields[key] = value.split("x")
    if not fields:
        return ()
    if "size" not in fields:
        raise ValueError(f"window without size: {text!r}")
    rank = len(fields["size"])
    for key, parts in fields.items():
        if len(parts) != rank:
            raise ValueError(f"window field {key!r} has {len(parts)} dimensions, size has {rank}")
    dims = []
    for i in range(rank):
        size = _to_int(fields["size"][i], "window size")
        stride = _to_int(fields["stride"][i], "window stride") if "stride" in fields else 1
        low = high = 0
        if "pad" in fields:
            low_high = _split_underscore(fields["pad"][i], (2,), "window pad")
            low, high = low_high
        lhs = _to_int(fields["lhs_dilate"][i], "window lhs_dilate") if "lhs_dilate" in fields else 1
        rhs = _to_int(fields["rhs_dilate"][i], "window rhs_dilate") if "rhs_dilate" in fields else 1
        rev = _to_int(fields["rhs_reversal"][i], "window rhs_reversal") if "rhs_reversal" in fields else 0
        if size < 0 or stride < 1 or lhs < 1 or rhs < 1 or rev not in (0, 1):
            raise ValueError(f"invalid window dimension {i} in {text!r}")
        dims.append(WindowDim(size, stride, low, high, lhs, rhs, bool(rev)))
    return tuple(dims)


def _split_underscore(text: str, counts: tuple[int, ...], what: str) -> tuple[int, ...]:
    """`-1_2` -> (-1, 2): underscore-separated integers (a minus sign belongs to a number)."""
    t = text.strip()
    if not _UNDERSCORED.fullmatch(t):
        raise ValueError(f"malformed {what} {text!r}")
    nums = tuple(int(n) for n in t.split("_"))
    if len(nums) not in counts:
        raise ValueError(f"malformed {what} {text!r}: expected {' or '.join(map(str, counts))} numbers")
    return nums


def parse_padding(text: str) -> tuple[PadDim, ...]:
    """`0_0_0x1_1_0` (interior optional) -> (PadDim(0, 0, 0), PadDim(1, 1, 0))."""
    t = text.strip()
    if t in ("", "{}"):
        return ()
    out = []
    for part in t.split("x"):
        nums = _split_underscore(part, (2, 3), "padding")
        pad = PadDim(*nums)
        if pad.interior < 0:
            raise ValueError(f"negative interior padding in {text!r}")
        out.append(pad)
    return tuple(out)


def parse_dim_labels(text: str) -> ConvDims:
    """`b01f_01io->b01f` -> ConvDims."""
    t = text.strip()
    lhs_kernel, arrow, out = t.partition("->")
    lhs, underscore, kernel = lhs_kernel.partition("_")
    if not arrow or not underscore:
        raise ValueError(f"expected dim_labels like 'b01f_01io->b01f', got {text!r}")
    ib, if_, isp = _labels(lhs, "bf", text)
    ki, ko, ksp = _labels(kernel, "io", text)
    ob, of, osp = _labels(out, "bf", text)
    if not len(isp) == len(ksp) == len(osp):
        raise ValueError(f"dim_labels {text!r} have different spatial ranks")
    return ConvDims(ib, if_, isp, ki, ko, ksp, ob, of, osp)


def _labels(part: str, letters: str, text: str) -> tuple[int, int, tuple[int, ...]]:
    """Positions of the two letters and of spatial dims '0', '1', ... within one label group."""
    n_spatial = len(part) - 2
    expected = set(letters) | {str(i) for i in range(n_spatial)}
    if len(part) < 2 or len(set(part)) != len(part) or set(part) != expected or n_spatial > 10:
        raise ValueError(f"bad dimension labels {part!r} in dim_labels {text!r}")
    spatial = tuple(part.index(str(i)) for i in range(n_spatial))
    return part.index(letters[0]), part.index(letters[1]), spatial


def parse_int(text: str) -> int:
    return _to_int(text, "integer attribute")


# -- per-instruction accessors ------------------------------------------------------------------------
def int_list(inst: Instruction, key: str = "dimensions",
             default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """An integer-list attribute such as `dimensions={0,1}`; `default` when absent (if given)."""
    value = inst.attrs.get(key)
    if value is None:
        if default is not None:
            return default
        raise _error(inst, f"missing attribute {key!r}")
    return _memo(inst, "ints", value, parse_int_list)


def int_attr(inst: Instruction, key: str, default: int | None = None) -> int:
    """An integer attribute such as `index=0`; `default` when absent (if given)."""
    value = inst.attrs.get(key)
    if value is None:
        if default is not None:
            return default
        raise _error(inst, f"missing attribute {key!r}")
    return _memo(inst, "int", value, parse_int)


def slice_spec(inst: Instruction) -> tuple[SliceDim, ...]:
    """The `slice` attribute."""
    return _memo(inst, "slice", _raw(inst, "slice"), parse_slice)


def window(inst: Instruction) -> tuple[WindowDim, ...]:
    """The `window` attribute; () when absent (a convolution without spatial dimensions)."""
    value = inst.attrs.get("window")
    if value is None:
        return ()
    return _memo(inst, "window", value, parse_window)


def padding_config(inst: Instruction) -> tuple[PadDim, ...]:
    """The `padding` attribute of a pad instruction."""
    return _memo(inst, "padding", _raw(inst, "padding"), parse_padding)


def dot_dnums(inst: Instruction) -> DotDims:
    """Dot dimension numbers; absent lists are empty."""
    return DotDims(int_list(inst, "lhs_batch_dims", ()), int_list(inst, "rhs_batch_dims", ()),
                   int_list(inst, "lhs_contracting_dims", ()), int_list(inst, "rhs_contracting_dims", ()))


def conv_dnums(inst: Instruction) -> ConvDims:
    """Convolution dimension numbers from `dim_labels`."""
    return _memo(inst, "dim_labels", _raw(inst, "dim_labels"), parse_dim_labels)


def gather_dnums(inst: Instruction) -> GatherDims:
    """Gather dimension numbers and slice sizes."""
    return GatherDims(int_list(inst, "offset_dims"), int_list(inst, "collapsed_slice_dims"),
                      int_list(inst, "start_index_map"), int_attr(inst, "index_vector_dim"),
                      int_list(inst, "slice_sizes"), int_list(inst, "operand_batching_dims", ()),
                      int_list(inst, "start_indices_batching_dims", ()))


def scatter_dnums(inst: Instruction) -> ScatterDims:
    """Scatter dimension numbers."""
    return ScatterDims(int_list(inst, "update_window_dims"), int_list(inst, "inserted_window_dims"),
                       int_list(inst, "scatter_dims_to_operand_dims"), int_attr(inst, "index_vector_dim"),
                       int_list(inst, "input_batching_dims", ()),
                       int_list(inst, "scatter_indices_batching_dims", ()))


def comparison_direction(inst: Instruction) -> str:
    """The `direction` of a compare (`EQ`, `NE`, `LT`, `LE`, `GT`, `GE`)."""
    value = _raw(inst, "direction").strip()
    if value not in COMPARISON_DIRECTIONS:
        raise _error(inst, f"unknown comparison direction {value!r}")
    return value


def bool_attr(inst: Instruction, key: str, default: bool = False) -> bool:
    """A `true`/`false` attribute such as `is_stable=true`."""
    value = inst.attrs.get(key)
    if value is None:
        return default
    v = value.strip()
    if v not in ("true", "false"):
        raise _error(inst, f"attribute {key!r} must be true or false, got {v!r}")
    return v == "true"


def literal_tokens(payload: str) -> list[str]:
    """The values of a `constant(...)` literal in order, as written (`{ {1, 2}, /*i0=1*/ {3, -inf} }`
    -> `['1', '2', '3', '-inf']`): index comments dropped, nesting braces and commas split on.
    Read by the verifier (counts, element types) and by constant folding (values)."""
    text = _LITERAL_COMMENT.sub(" ", payload) if "/*" in payload else payload
    return _LITERAL_TOKEN.findall(text)


_LITERAL_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_LITERAL_TOKEN = re.compile(r"[^\s,{}]+")
