"""HLO shapes: arrays (`f32[2,<=3]{1,0}`), tuples (`(f32[], s32[4])`) and tokens (`token[]`).

Shapes are immutable and interned by their text, so a module with 18k instructions and a few
hundred distinct shapes parses each shape string once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hloenv.altgraph.errors import HloParseError

#: Bits per element of every XLA primitive type (sub-byte types round up to whole bytes in `byte_size`).
ELEMENT_BITS: dict[str, int] = {
    "pred": 8, "s2": 2, "s4": 4, "s8": 8, "s16": 16, "s32": 32, "s64": 64,
    "u2": 2, "u4": 4, "u8": 8, "u16": 16, "u32": 32, "u64": 64,
    "f16": 16, "bf16": 16, "f32": 32, "f64": 64, "c64": 64, "c128": 128,
    "f4e2m1fn": 4, "f8e3m4": 8, "f8e4m3": 8, "f8e4m3fn": 8, "f8e4m3b11fnuz": 8,
    "f8e4m3fnuz": 8, "f8e5m2": 8, "f8e5m2fnuz": 8, "f8e8m0fnu": 8,
}
#: Non-array leaf types.
SPECIAL_TYPES = ("token", "opaque")
#: Fixed order of element types, used for observation features and hashing.
DTYPES: tuple[str, ...] = tuple(ELEMENT_BITS) + SPECIAL_TYPES + ("tuple",)

FLOAT_TYPES = frozenset(t for t in ELEMENT_BITS if t.startswith(("f", "bf")))
COMPLEX_TYPES = frozenset({"c64", "c128"})
SIGNED_TYPES = frozenset(t for t in ELEMENT_BITS if t.startswith("s"))
UNSIGNED_TYPES = frozenset(t for t in ELEMENT_BITS if t.startswith("u"))


class Shape:
    """An HLO shape. Use `parse_shape`/`array`/`tuple_of` to make one; never mutate it.

    Attributes:
        dtype: element type (`"f32"`, `"pred"`, ...), `"tuple"`, `"token"` or `"opaque"`.
        dims: dimension sizes (the bound, for a bounded dynamic dimension).
        dynamic: per dimension, True where it is bounded dynamic (`<=N`); empty when none is.
        layout: the text inside the layout braces (`"1,0"`, `"1,0:T(8,128)"`), or None.
        tuple_shapes: element shapes of a tuple, else an empty tuple.
    """

    __slots__ = ("dtype", "dims", "dynamic", "layout", "tuple_shapes", "_text", "_key", "_bare", "_hash")

    def __init__(self, dtype: str, dims: tuple[int, ...] = (), dynamic: tuple[bool, ...] = (),
                 layout: str | None = None, tuple_shapes: tuple["Shape", ...] = ()):
        self.dtype = dtype
        self.dims = dims
        self.dynamic = dynamic if any(dynamic) else ()
        self.layout = layout
        self.tuple_shapes = tuple_shapes
        self._text: str | None = None
        self._key: tuple | None = None
        self._bare: Shape | None = None  # without_layout(), computed once
        self._hash: int | None = None  # (shapes are immutable: keys of cse, merges, caches)

    # -- queries -------------------------------------------------------------------------------
    @property
    def is_tuple(self) -> bool:
        return self.dtype == "tuple"

    @property
    def is_array(self) -> bool:
        return self.dtype in ELEMENT_BITS

    @property
    def is_token(self) -> bool:
        return self.dtype == "token"

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def element_count(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def byte_size(self) -> int:
        """Bytes of the array (sum over leaves for a tuple; tokens are 0)."""
        if self.is_tuple:
            return sum(s.byte_size for s in self.tuple_shapes)
        bits = ELEMENT_BITS.get(self.dtype)
        if bits is None:
            return 0
        return (self.element_count * bits + 7) // 8

    @property
    def minor_to_major(self) -> tuple[int, ...] | None:
        """The layout's dimension order, or None when no layout was written."""
        if self.layout is None:
            return None
        dims = self.layout.split(":", 1)[0]
        return tuple(int(d) for d in dims.split(",") if d.strip()) if dims.strip() else ()

    def leaves(self) -> Iterable["Shape"]:
        """Array/token leaves in order (depth-first)."""
        if self.is_tuple:
            for s in self.tuple_shapes:
                yield from s.leaves()
        else:
            yield self

    def without_layout(self) -> "Shape":
        if self._bare is None:
            if self.is_tuple:
                self._bare = tuple_of(s.without_layout() for s in self.tuple_shapes)
            elif self.layout is None:
                self._bare = self
            else:
                self._bare = Shape(self.dtype, self.dims, self.dynamic)
        return self._bare

    def with_layout(self, layout: str | None) -> "Shape":
        return Shape(self.dtype, self.dims, self.dynamic, layout)

    def with_dims(self, dims: tuple[int, ...], dtype: str | None = None) -> "Shape":
        """An array shape of the same (or a given) element type with new dims and no layout."""
        return Shape(dtype or self.dtype, tuple(dims))

    def same_as(self, other: "Shape") -> bool:
        """Equal ignoring layouts (the verifier's notion of compatible)."""
        return self.key_without_layout() == other.key_without_layout()

    def key_without_layout(self) -> tuple:
        if self.is_tuple:
            return ("tuple", tuple(s.key_without_layout() for s in self.tuple_shapes))
        return (self.dtype, self.dims, self.dynamic)

    # -- identity ------------------------------------------------------------------------------
    def _k(self) -> tuple:
        if self._key is None:
            self._key = (self.dtype, self.dims, self.dynamic, self.layout,
                         tuple(s._k() for s in self.tuple_shapes))
        return self._key

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Shape) and self._k() == other._k())

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash(self._k())
        return h

    def to_text(self, layout: bool = True) -> str:
        if layout and self._text is not None:
            return self._text
        if self.is_tuple:
            text = "(" + ", ".join(s.to_text(layout) for s in self.tuple_shapes) + ")"
        else:
            if self.dynamic:
                dims = ",".join(f"<={d}" if dyn else str(d) for d, dyn in zip(self.dims, self.dynamic))
            else:
                dims = ",".join(map(str, self.dims))
            text = f"{self.dtype}[{dims}]"
            if layout and self.layout is not None:
                text += "{" + self.layout + "}"
        if layout:
            self._text = text
        return text

    __str__ = to_text

    def __repr__(self) -> str:
        return f"Shape({self.to_text()!r})"


def array(dtype: str, dims: Iterable[int], layout: str | None = None) -> Shape:
    """An array shape, e.g. `array("f32", (2, 3))`."""
    if dtype not in ELEMENT_BITS and dtype not in SPECIAL_TYPES:
        raise ValueError(f"unknown element type {dtype!r}")
    return Shape(dtype, tuple(int(d) for d in dims), (), layout)


def tuple_of(shapes: Iterable[Shape]) -> Shape:
    return Shape("tuple", (), (), None, tuple(shapes))


_ARRAY = re.compile(r"([a-z][a-z0-9]*)\[([^\]]*)\](?:\{([^{}]*)\})?")
_DIM = re.compile(r"\s*(<=)?\s*(\d+|\?)\s*")
_cache: dict[str, Shape] = {}

#: Deeper tuple shapes are refused (JAX's are at most a few deep). Everything that walks a shape
#: recurses over its nesting, and compiled (`hloenv.native`) recursion has no recursion limit.
MAX_TUPLE_NESTING = 64


#: XLA keeps dimension sizes in int64
MAX_DIMENSION = 2**63 - 1


def parse_shape(text: str) -> Shape:
    """Parse shape text such as `f32[2,3]{1,0}` or `(s32[], f32[<=4])`; results are interned.

    Raises:
        HloParseError: the text is not a shape (column is relative to `text`).
    """
    shape = _cache.get(text)
    if shape is not None:
        return shape
    shape, end = _parse_at(text, 0)
    while end < len(text) and text[end] == " ":
        end += 1
    if end != len(text):
        raise HloParseError(f"unexpected {text[end:end + 20]!r} after shape {text[:end]!r}", 0, end + 1)
    if len(_cache) < 100_000:
        _cache[text] = shape
    return shape


def _parse_at(text: str, pos: int, depth: int = 0) -> tuple[Shape, int]:
    n = len(text)
    while pos < n and text[pos] == " ":
        pos += 1
    if pos < n and text[pos] == "(":
        if depth >= MAX_TUPLE_NESTING:
            raise HloParseError(f"tuple shape nested more than {MAX_TUPLE_NESTING} deep", 0, pos + 1)
        pos += 1
        elems: list[Shape] = []
        while True:
            while pos < n and text[pos] == " ":
                pos += 1
            if pos < n and text[pos] == ")":
                return tuple_of(elems), pos + 1
            if elems:
                if pos >= n or text[pos] != ",":
                    raise HloParseError(f"expected ',' or ')' in tuple shape {text!r}", 0, pos + 1)
                pos += 1
                while pos < n and text[pos] == " ":
                    pos += 1
                # the printer of some XLA versions writes /*index=5*/ comments inside tuples
            if text.startswith("/*", pos):
                close = text.find("*/", pos)
                if close < 0:
                    raise HloParseError("unterminated comment in shape", 0, pos + 1)
                pos = close + 2
            elem, pos = _parse_at(text, pos, depth + 1)
            elems.append(elem)
    m = _ARRAY.match(text, pos)
    if m is None:
        raise HloParseError(f"expected a shape, got {text[pos:pos + 30]!r}", 0, pos + 1)
    dtype, dims_text, layout = m.group(1), m.group(2), m.group(3)
    if dtype not in ELEMENT_BITS and dtype not in SPECIAL_TYPES:
        raise HloParseError(f"unknown element type {dtype!r}", 0, pos + 1)
    dims: list[int] = []
    dynamic: list[bool] = []
    if dims_text.strip():
        for part in dims_text.split(","):
            d = _DIM.fullmatch(part)
            if d is None:
                raise HloParseError(f"bad dimension {part!r} in shape {m.group(0)!r}", 0, pos + 1)
            if d.group(2) == "?":
                raise HloParseError(f"unbounded dynamic dimension in {m.group(0)!r} is not supported",
                                    0, pos + 1)
            size = int(d.group(2))
            if size > MAX_DIMENSION:  # (XLA's parser: "expects integer"; numpy overflowed on it)
                raise HloParseError(f"dimension {size} in shape {m.group(0)!r} is larger than XLA's "
                                    f"largest, {MAX_DIMENSION} (int64)", 0, pos + 1)
            dims.append(size)
            dynamic.append(d.group(1) is not None)
    if layout is not None:
        _check_layout(layout, len(dims), m.group(0), pos)
    return Shape(dtype, tuple(dims), tuple(dynamic), layout), m.end()


_ORDER = re.compile(r"\s*(?:\d+\s*(?:,\s*\d+\s*)*)?")


def _check_layout(layout: str, rank: int, shape_text: str, pos: int) -> None:
    """The layout's minor-to-major part (before any `:` tiling) orders the shape's dimensions:
    each of 0..rank-1 once (XLA refuses anything else when it compiles; found here, with the line)."""
    order_text = layout.split(":", 1)[0]
    if _ORDER.fullmatch(order_text) is None:
        raise HloParseError(f"malformed layout {{{layout}}} in shape {shape_text!r}: expected dimension "
                            "numbers, minor to major", 0, pos + 1)
    order = sorted(int(d) for d in order_text.split(",") if d.strip())
    if order != list(range(rank)):
        raise HloParseError(f"layout {{{layout}}} of shape {shape_text!r} does not order its {rank} "
                            f"dimension(s): minor to major, it must list each of 0..{rank - 1} once", 0, pos + 1)
