"""Random small HLO modules for differential tests of the passes: seeded, well-typed by construction.

A module computes on a few parameters and constants of one array shape; every value it makes has
that shape (shape changes are made and undone: reshape and back, transpose and back, slices
concatenated, a reduce broadcast back), so any two values of one type can meet in an op. Constants
favour the values rewrite rules look for (0, 1, -1, 2, -0, NaN, infinities, extremes), and the ops
include the ones XLA's simplifier and constant folder treat specially. `_MORE_OPS` adds control
flow (while loops with a counter, conditionals, calls of bigger callees), gather/scatter,
reduce-window, sort, map, select-and-scatter, batch and transposed dots, reshapes to other shapes,
broadcasts of lower-rank values, variadic reduces, complex round trips and 64/16-bit types. The
root is a tuple of the last few values made, so most of the module is live.

    text = random_module(seed=3)      # HLO text XLA's parser accepts

`python -m tests.passes.random_hlo SEED` prints one.
"""

from __future__ import annotations

import math
import sys

import numpy as np

FLOATS = ("f32", "f16", "bf16", "f64")
INTS = ("s32", "s8", "u8", "u32", "s64", "u64", "s16", "u16")
DTYPES = FLOATS + INTS + ("pred",)
SHAPES = ((2, 3), (4,), (2, 1, 3), (3, 2, 2))

_FLOAT_SPECIAL = ["0", "1", "-1", "2", "0.5", "-0", "3", "inf", "-inf", "nan", "1e-30", "100"]
_INT_SPECIAL = {
    "s32": ["0", "1", "-1", "2", "3", "7", "31", "-2147483648", "2147483647", "-5"],
    "s8": ["0", "1", "-1", "2", "3", "7", "-128", "127", "-5", "100"],
    "u8": ["0", "1", "2", "3", "7", "8", "128", "200", "255", "100"],
    "u32": ["0", "1", "2", "3", "31", "32", "2147483648", "4294967295", "100", "5"],
    "s64": ["0", "1", "-1", "2", "3", "63", "64", "-9223372036854775808", "9223372036854775807", "-5"],
    "u64": ["0", "1", "2", "3", "63", "64", "9223372036854775808", "18446744073709551615", "100", "5"],
    "s16": ["0", "1", "-1", "2", "3", "15", "16", "-32768", "32767", "-5"],
    "u16": ["0", "1", "2", "3", "15", "16", "32768", "65535", "100", "5"],
}
_FLOAT_MAX = {"f32": "3.40282347e+38", "f16": "65504", "bf16": "3.38953139e+38", "f64": "1.7976931348623157e+308"}
_INT_MIN = {"s32": "-2147483648", "s8": "-128", "s64": "-9223372036854775808", "s16": "-32768"}
_INT_MAX = {"s32": "2147483647", "s8": "127", "u8": "255", "u32": "4294967295", "s64": "9223372036854775807",
            "u64": "18446744073709551615", "s16": "32767", "u16": "65535"}

_FLOAT_UNARY = ("negate", "abs", "exponential", "log", "sqrt", "rsqrt", "tanh", "floor", "ceil",
                "round-nearest-even", "round-nearest-afz", "sign", "sine", "cosine",
                "log-plus-one", "exponential-minus-one", "cbrt", "is-finite")
_INT_UNARY = ("negate", "abs", "not", "popcnt", "count-leading-zeros", "sign")
# (no atan2: XLA's own code gives atan2(0, 0) as NaN or 0 depending on how its operands are
# made, e.g. NaN for atan2(iota, iota) and 0 for the same values behind a select, so any fold of
# its operands can flip it)
_FLOAT_BINARY = ("add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power")
_INT_BINARY = ("add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "and",
               "or", "xor", "shift-left", "shift-right-logical", "shift-right-arithmetic")
_PRED_BINARY = ("and", "or", "xor")
_DIRECTIONS = ("EQ", "NE", "LT", "LE", "GT", "GE")
_REDUCERS = {"f": ("add", "multiply", "maximum", "minimum"), "i": ("add", "multiply", "maximum", "minimum", "and", "or"),
             "p": ("and", "or")}


def _kind(dtype: str) -> str:
    return "f" if dtype in FLOATS else "p" if dtype == "pred" else "i"


def _dims(shape: tuple[int, ...]) -> str:
    return ",".join(map(str, shape))


class _Builder:
    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...]):
        self.rng = rng
        self.shape = shape
        self.lines: list[str] = []
        self.params: list[str] = []
        self.values: dict[str, list[str]] = {d: [] for d in DTYPES}
        self.made: list[str] = []
        self.reducers: dict[tuple[str, str], str] = {}
        self.callees: list[str] = []
        self.count = 0

    # -- helpers ----------------------------------------------------------------------------
    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem.replace('-', '_')}.{self.count}"

    def emit(self, stem: str, dtype: str, shape: tuple[int, ...], body: str, keep: bool = True) -> str:
        name = self.name(stem)
        self.lines.append(f"  {name} = {dtype}[{_dims(shape)}] {body}")
        if keep and shape == self.shape:
            self.values[dtype].append(name)
            self.made.append(name)
        return name

    def value(self, dtype: str) -> str:
        """A value of `dtype` and the module's shape: an existing one, or a new leaf."""
        have = self.values[dtype]
        if have and self.rng.random() < 0.8:
            # recent values more often: deeper chains
            k = len(have) - 1 - min(int(self.rng.exponential(3)), len(have) - 1)
            return have[k]
        return self.leaf(dtype)

    def literal(self, dtype: str, n: int) -> list[str]:
        if dtype == "pred":
            return [self.pick(["true", "false"]) for _ in range(n)]
        if dtype in FLOATS:
            pool = _FLOAT_SPECIAL + [_FLOAT_MAX[dtype], "-" + _FLOAT_MAX[dtype]]
        else:
            pool = _INT_SPECIAL[dtype]
        return [self.pick(pool) for _ in range(n)]

    def leaf(self, dtype: str) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            index = len(self.params)
            name = self.emit("p", dtype, self.shape, f"parameter({index})")
            self.params.append(name)
            return name
        if roll < 0.75:  # a splat constant, broadcast
            c = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
            return self.emit("splat", dtype, self.shape, f"broadcast({c}), dimensions={{}}")
        if roll < 0.85 and dtype != "pred":
            d = int(self.rng.integers(len(self.shape)))
            return self.emit("iota", dtype, self.shape, f"iota(), iota_dimension={d}")
        values = self.literal(dtype, math.prod(self.shape))
        return self.emit("c", dtype, self.shape, f"constant({_nested(values, self.shape)})")

    def reducer(self, op: str, dtype: str) -> str:
        key = (op, dtype)
        if key not in self.reducers:
            self.reducers[key] = f"{op}_{dtype}_reducer"
        return self.reducers[key]

    # -- ops (each makes one value of the module's shape) ----------------------------------
    def unary(self) -> None:
        dtype = self.pick(FLOATS + INTS + ("pred",))
        if dtype == "pred":
            x = self.value(dtype)
            self.emit("not", dtype, self.shape, f"not({x})")
            return
        op = self.pick(_FLOAT_UNARY if dtype in FLOATS else _INT_UNARY)
        x = self.value(dtype)
        if op == "is-finite":
            self.emit(op, "pred", self.shape, f"is-finite({x})")
            return
        if op in ("negate", "abs", "sign") and dtype.startswith("u"):
            op = "not"
        self.emit(op, dtype, self.shape, f"{op}({x})")

    def binary(self) -> None:
        dtype = self.pick(DTYPES)
        op = self.pick(_FLOAT_BINARY if dtype in FLOATS else _PRED_BINARY if dtype == "pred" else _INT_BINARY)
        x = self.value(dtype)
        y = x if self.rng.random() < 0.15 else self.value(dtype)  # x op x: a rule's favourite
        self.emit(op, dtype, self.shape, f"{op}({x}, {y})")

    def compare(self) -> None:
        dtype = self.pick(DTYPES)
        x, y = self.value(dtype), self.value(dtype)
        direction = self.pick(_DIRECTIONS if dtype != "pred" else ("EQ", "NE"))
        extra = ", type=TOTALORDER" if dtype in FLOATS and self.rng.random() < 0.2 else ""
        self.emit("compare", "pred", self.shape, f"compare({x}, {y}), direction={direction}{extra}")

    def select(self) -> None:
        dtype = self.pick(DTYPES)
        p, x, y = self.value("pred"), self.value(dtype), self.value(dtype)
        self.emit("select", dtype, self.shape, f"select({p}, {x}, {y})")

    def clamp(self) -> None:
        dtype = self.pick(FLOATS + INTS)
        lo, x, hi = self.value(dtype), self.value(dtype), self.value(dtype)
        self.emit("clamp", dtype, self.shape, f"clamp({lo}, {x}, {hi})")

    def convert(self) -> None:
        src, dst = self.pick(DTYPES), self.pick(DTYPES)
        x = self.value(src)
        if src in FLOATS and dst in INTS:  # keep float->int in range: clamp first (XLA leaves the rest undefined)
            lo = self.emit("c", src, (), "constant(-100)", keep=False)
            hi = self.emit("c", src, (), "constant(100)", keep=False)
            lob = self.emit("lo", src, self.shape, f"broadcast({lo}), dimensions={{}}", keep=False)
            hib = self.emit("hi", src, self.shape, f"broadcast({hi}), dimensions={{}}", keep=False)
            x = self.emit("clamp", src, self.shape, f"clamp({lob}, {x}, {hib})", keep=False)
            if dst.startswith("u"):
                x = self.emit("abs", src, self.shape, f"abs({x})", keep=False)
        self.emit("convert", dst, self.shape, f"convert({x})")

    def bitcast_convert(self) -> None:
        pairs = [("f32", "s32"), ("s32", "f32"), ("f32", "u32"), ("u32", "s32"), ("s8", "u8"), ("u8", "s8")]
        src, dst = self.pick(pairs)
        self.emit("bitcast_convert", dst, self.shape, f"bitcast-convert({self.value(src)})")

    def reshape_round_trip(self) -> None:
        dtype = self.pick(DTYPES)
        op = self.pick(_FLOAT_BINARY[:4] if dtype in FLOATS else _PRED_BINARY if dtype == "pred" else _INT_BINARY[:4])
        flat = (math.prod(self.shape),)
        a = self.emit("reshape", dtype, flat, f"reshape({self.value(dtype)})")
        b = self.emit("reshape", dtype, flat, f"reshape({self.value(dtype)})")
        c = self.emit(op, dtype, flat, f"{op}({a}, {b})")
        self.emit("reshape", dtype, self.shape, f"reshape({c})")

    def transpose_round_trip(self) -> None:
        if len(self.shape) < 2:
            return self.reverse_twice()
        dtype = self.pick(FLOATS + INTS)
        perm = list(self.rng.permutation(len(self.shape)))
        tshape = tuple(self.shape[p] for p in perm)
        inverse = [perm.index(i) for i in range(len(perm))]
        ps = "{" + ",".join(map(str, perm)) + "}"
        a = self.emit("transpose", dtype, tshape, f"transpose({self.value(dtype)}), dimensions={ps}")
        b = self.emit("transpose", dtype, tshape, f"transpose({self.value(dtype)}), dimensions={ps}")
        op = self.pick(("add", "multiply", "maximum"))
        c = self.emit(op, dtype, tshape, f"{op}({a}, {b})")
        self.emit("transpose", dtype, self.shape, f"transpose({c}), dimensions={{{','.join(map(str, inverse))}}}")

    def reverse_twice(self) -> None:
        dtype = self.pick(DTYPES)
        d = int(self.rng.integers(len(self.shape)))
        a = self.emit("reverse", dtype, self.shape, f"reverse({self.value(dtype)}), dimensions={{{d}}}", keep=False)
        self.emit("reverse", dtype, self.shape, f"reverse({a}), dimensions={{{d}}}")

    def slices_concatenated(self) -> None:
        dtype = self.pick(DTYPES)
        d = max(range(len(self.shape)), key=lambda i: self.shape[i])
        n = self.shape[d]
        k = int(self.rng.integers(1, n))
        x = self.value(dtype)
        parts = []
        for lo, hi in ((0, k), (k, n)):
            spec = ",".join(f"[{lo}:{hi}]" if i == d else f"[0:{s}]" for i, s in enumerate(self.shape))
            shape = tuple(hi - lo if i == d else s for i, s in enumerate(self.shape))
            parts.append(self.emit("slice", dtype, shape, f"slice({x}), slice={{{spec}}}"))
        self.emit("concatenate", dtype, self.shape, f"concatenate({parts[0]}, {parts[1]}), dimensions={{{d}}}")

    def pad_then_slice(self) -> None:
        dtype = self.pick(FLOATS + INTS)
        x = self.value(dtype)
        zero = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
        padded = tuple(s + 2 for s in self.shape)
        cfg = "x".join("1_1" for _ in self.shape)
        p = self.emit("pad", dtype, padded, f"pad({x}, {zero}), padding={cfg}")
        spec = ",".join(f"[1:{s + 1}]" for s in self.shape)
        self.emit("slice", dtype, self.shape, f"slice({p}), slice={{{spec}}}")

    def reduce_broadcast(self) -> None:
        dtype = self.pick(DTYPES)
        op = self.pick(_REDUCERS[_kind(dtype)])
        d = int(self.rng.integers(len(self.shape)))
        kept = [i for i in range(len(self.shape)) if i != d]
        rshape = tuple(self.shape[i] for i in kept)
        init = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
        r = self.emit("reduce", dtype, rshape,
                      f"reduce({self.value(dtype)}, {init}), dimensions={{{d}}}, to_apply={self.reducer(op, dtype)}")
        self.emit("broadcast", dtype, self.shape, f"broadcast({r}), dimensions={{{','.join(map(str, kept))}}}")

    def dot(self) -> None:
        if len(self.shape) != 2:
            return self.binary()
        dtype = self.pick(("f32", "s32"))
        m, n = self.shape
        w = self.emit("p", dtype, (n, n), f"parameter({len(self.params)})", keep=False)
        self.params.append(w)
        self.emit("dot", dtype, self.shape, f"dot({self.value(dtype)}, {w}), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}")

    def dynamic_slice_update(self) -> None:
        dtype = self.pick(DTYPES)
        x, y = self.value(dtype), self.value(dtype)
        sizes = [max(1, s - 1) for s in self.shape]
        starts = [self.emit("i", "s32", (), f"constant({self.pick(['0', '1', '-1', '5'])})", keep=False)
                  for _ in self.shape]
        part = self.emit("dynamic_slice", dtype, tuple(sizes),
                         f"dynamic-slice({y}, {', '.join(starts)}), dynamic_slice_sizes={{{','.join(map(str, sizes))}}}")
        self.emit("dynamic_update_slice", dtype, self.shape, f"dynamic-update-slice({x}, {part}, {', '.join(starts)})")

    def convert_chain(self) -> None:
        src, mid = self.pick(DTYPES), self.pick(DTYPES)
        x = self.value(src)
        if src in FLOATS and mid in INTS:
            return self.convert()
        m = self.emit("convert", mid, self.shape, f"convert({x})", keep=False)
        self.emit("convert", src, self.shape, f"convert({m})")

    def tuple_round_trip(self) -> None:
        a, b = self.pick(DTYPES), self.pick(DTYPES)
        x, y = self.value(a), self.value(b)
        dims = _dims(self.shape)
        t = self.emit("tuple", f"({a}[{dims}], {b}", (), f"tuple({x}, {y})", keep=False)
        # (the emitted type reads "(a[dims], b[]" + "]": patched below to the tuple type)
        self.lines[-1] = f"  {t} = ({a}[{dims}], {b}[{dims}]) tuple({x}, {y})"
        k = int(self.rng.integers(2))
        self.emit("gte", (a, b)[k], self.shape, f"get-tuple-element({t}), index={k}")

    def call(self) -> None:
        dtype = self.pick(FLOATS + INTS)
        op = self.pick(("add", "multiply", "maximum", "subtract"))
        x, y = self.value(dtype), self.value(dtype)
        dims = _dims(self.shape)
        name = f"callee_{len(self.callees)}"
        self.callees.append(f"{name} {{\n  a = {dtype}[{dims}] parameter(0)\n  b = {dtype}[{dims}] parameter(1)\n"
                            f"  c = {dtype}[{dims}] {op}(a, b)\n  ROOT d = {dtype}[{dims}] {op}(c, a)\n}}\n")
        self.emit("call", dtype, self.shape, f"call({x}, {y}), to_apply={name}")

    def strided_slice_padded(self) -> None:
        """A strided slice padded back to the shape with interior padding (and a negative edge)."""
        d = max(range(len(self.shape)), key=lambda i: self.shape[i])
        n = self.shape[d]
        if n < 3:
            return self.pad_then_slice()
        dtype = self.pick(FLOATS + INTS)
        x = self.value(dtype)
        kept = (n + 1) // 2
        spec = ",".join(f"[0:{n}:2]" if i == d else f"[0:{s}]" for i, s in enumerate(self.shape))
        shape = tuple(kept if i == d else s for i, s in enumerate(self.shape))
        part = self.emit("slice", dtype, shape, f"slice({x}), slice={{{spec}}}")
        pad_value = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
        high = n - (kept + kept - 1)  # what is left after interior padding of 1: may be negative... or 0/1
        cfg = "x".join(f"0_{high}_1" if i == d else "0_0" for i in range(len(self.shape)))
        self.emit("pad", dtype, self.shape, f"pad({part}, {pad_value}), padding={cfg}")

    def unary_pair(self) -> None:
        """Two unary ops in a row, the pairs simplifiers undo (negate twice, log of exp, ...)."""
        dtype, first, second = self.pick([("f32", "negate", "negate"), ("s32", "negate", "negate"),
                                          ("pred", "not", "not"), ("u8", "not", "not"), ("f32", "abs", "abs"),
                                          ("s8", "abs", "abs"), ("f32", "exponential", "log"),
                                          ("f32", "log", "exponential"), ("f16", "sqrt", "sqrt")])
        a = self.emit(first, dtype, self.shape, f"{first}({self.value(dtype)})", keep=False)
        self.emit(second, dtype, self.shape, f"{second}({a})")

    def select_not(self) -> None:
        dtype = self.pick(DTYPES)
        n = self.emit("not", "pred", self.shape, f"not({self.value('pred')})", keep=False)
        self.emit("select", dtype, self.shape, f"select({n}, {self.value(dtype)}, {self.value(dtype)})")

    def broadcast_chain(self) -> None:
        """A scalar broadcast to one dimension, reshaped or broadcast again to the shape."""
        dtype = self.pick(DTYPES)
        c = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
        d = int(self.rng.integers(len(self.shape)))
        line = self.emit("broadcast", dtype, (self.shape[d],), f"broadcast({c}), dimensions={{}}", keep=False)
        if self.rng.random() < 0.5:
            self.emit("broadcast", dtype, self.shape, f"broadcast({line}), dimensions={{{d}}}")
        else:
            ones = tuple(s if i == d else 1 for i, s in enumerate(self.shape))
            r = self.emit("reshape", dtype, ones, f"reshape({line})", keep=False)
            if ones == self.shape:
                kept = ",".join(str(i) for i in range(len(self.shape)))
                self.emit("broadcast", dtype, self.shape, f"broadcast({r}), dimensions={{{kept}}}")
            else:
                self.emit_broadcast_of_ones(dtype, r, ones)

    def emit_broadcast_of_ones(self, dtype: str, value: str, ones: tuple[int, ...]) -> None:
        """`value` of shape `ones` (the module's shape with some dimensions 1) to the shape."""
        kept = [i for i, s in enumerate(ones) if s != 1 or self.shape[i] == 1]
        squeezed = tuple(ones[i] for i in kept)
        r = self.emit("reshape", dtype, squeezed, f"reshape({value})", keep=False)
        self.emit("broadcast", dtype, self.shape, f"broadcast({r}), dimensions={{{','.join(map(str, kept))}}}")

    def slice_of_slice(self) -> None:
        dtype = self.pick(DTYPES)
        x = self.value(dtype)
        big = tuple(s + 2 for s in self.shape)
        pad_value = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
        cfg = "x".join("1_1" for _ in self.shape)
        p = self.emit("pad", dtype, big, f"pad({x}, {pad_value}), padding={cfg}", keep=False)
        mid = tuple(s + 1 for s in self.shape)
        outer = self.emit("slice", dtype, mid, f"slice({p}), slice={{{','.join(f'[1:{s + 2}]' for s in self.shape)}}}", keep=False)
        self.emit("slice", dtype, self.shape, f"slice({outer}), slice={{{','.join(f'[0:{s}]' for s in self.shape)}}}")

    def noops(self) -> None:
        """Instructions that change nothing: copy, zero padding, a reduce over no dimension, a
        dynamic-update-slice of the whole."""
        dtype = self.pick(DTYPES)
        x = self.value(dtype)
        kind = self.pick(("copy", "pad", "reduce", "dus"))
        if kind == "copy":
            self.emit("copy", dtype, self.shape, f"copy({x})")
        elif kind == "pad":
            z = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
            self.emit("pad", dtype, self.shape, f"pad({x}, {z}), padding={'x'.join('0_0' for _ in self.shape)}")
        elif kind == "reduce":
            op = self.pick(_REDUCERS[_kind(dtype)])
            init = self.emit("c", dtype, (), f"constant({self.literal(dtype, 1)[0]})", keep=False)
            self.emit("reduce", dtype, self.shape, f"reduce({x}, {init}), dimensions={{}}, to_apply={self.reducer(op, dtype)}")
        else:
            zeros = [self.emit("i", "s32", (), "constant(0)", keep=False) for _ in self.shape]
            self.emit("dynamic_update_slice", dtype, self.shape,
                      f"dynamic-update-slice({self.value(dtype)}, {x}, {', '.join(zeros)})")

    def outer_dot(self) -> None:
        """A dot whose contracting dimension has size 1 (an outer product)."""
        if len(self.shape) != 2:
            return self.dot()
        m, n = self.shape
        dtype = self.pick(("f32", "s32"))
        a = self.emit("slice", dtype, (m, 1), f"slice({self.value(dtype)}), slice={{[0:{m}],[0:1]}}", keep=False)
        b = self.emit("slice", dtype, (1, n), f"slice({self.value(dtype)}), slice={{[0:1],[0:{n}]}}", keep=False)
        self.emit("dot", dtype, self.shape, f"dot({a}, {b}), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}")

    # -- more op families: control flow, gather/scatter, windows, sort, map, wider types ------
    def computation(self, stem: str, lines: list[str]) -> str:
        """A new computation of `lines` (the last one starts with ROOT); its unique name."""
        name = f"{stem}_{len(self.callees)}"
        self.callees.append(f"{name} {{\n" + "".join(f"  {line}\n" for line in lines) + "}\n")
        return name

    def scalar(self, dtype: str, text: str) -> str:
        return self.emit("c", dtype, (), f"constant({text})", keep=False)

    def splat(self, dtype: str, text: str, shape: tuple[int, ...] | None = None) -> str:
        shape = self.shape if shape is None else shape
        return self.emit("splat", dtype, shape, f"broadcast({self.scalar(dtype, text)}), dimensions={{}}", keep=False)

    def element_of(self, x: str, dtype: str) -> str:
        """One element of `x` (of the module's shape) as a scalar."""
        starts = [int(self.rng.integers(s)) for s in self.shape]
        spec = ",".join(f"[{i}:{i + 1}]" for i in starts)
        one = self.emit("slice", dtype, (1,) * len(self.shape), f"slice({x}), slice={{{spec}}}", keep=False)
        return self.emit("reshape", dtype, (), f"reshape({one})", keep=False)

    def lowest(self, dtype: str) -> str:
        return "-inf" if dtype in FLOATS else _INT_MIN.get(dtype, "0")

    def highest(self, dtype: str) -> str:
        return "inf" if dtype in FLOATS else _INT_MAX[dtype]

    def body_ops(self, dtype: str, dims: str, names: list[str], lines: list[str], k: int) -> str:
        """`k` random elementwise ops in a computation's `lines` on `names` (of type dtype[dims]);
        the name of the last."""
        t = f"{dtype}[{dims}]"
        kind = _kind(dtype)
        for _ in range(k):
            n = f"v{len(lines)}"
            roll = self.rng.random()
            a, b = self.pick(names), self.pick(names)
            if kind == "p":
                if roll < 0.3:
                    lines.append(f"{n} = {t} not({a})")
                else:
                    lines.append(f"{n} = {t} {self.pick(_PRED_BINARY)}({a}, {b})")
            elif roll < 0.25:
                if kind == "f":
                    op = self.pick(("negate", "abs", "tanh", "floor", "exponential", "sqrt", "sine", "round-nearest-even"))
                else:
                    op = self.pick(("not",) if dtype.startswith("u") else ("negate", "abs", "not"))
                lines.append(f"{n} = {t} {op}({a})")
            else:
                if roll < 0.45:
                    c = f"k{len(lines)}"
                    lines.append(f"{c} = {dtype}[] constant({self.literal(dtype, 1)[0]})")
                    if dims:
                        lines.append(f"{c}b = {t} broadcast({c}), dimensions={{}}")
                        c += "b"
                    b = c
                ops = ("add", "subtract", "multiply", "maximum", "minimum", "divide") if kind == "f" else \
                    ("add", "subtract", "multiply", "maximum", "minimum", "and", "or", "xor")
                lines.append(f"{n} = {t} {self.pick(ops)}({a}, {b})")
            names.append(n)
        return names[-1]

    def while_loop(self) -> None:
        """A while loop with an s32 counter and a fixed trip count (0 to 3) carrying two values;
        the body changes the first with elementwise ops on both (and sometimes the counter)."""
        dtype = self.pick(FLOATS + INTS)
        x, y = self.value(dtype), self.value(dtype)
        dims = _dims(self.shape)
        t = f"{dtype}[{dims}]"
        tt = f"(s32[], {t}, {t})"
        lines = [f"p = {tt} parameter(0)", "i = s32[] get-tuple-element(p), index=0",
                 f"a = {t} get-tuple-element(p), index=1", f"b = {t} get-tuple-element(p), index=2",
                 "one = s32[] constant(1)", "i1 = s32[] add(i, one)"]
        names = ["a", "b"]
        if self.rng.random() < 0.4:
            lines += [f"ic = {dtype}[] convert(i)", f"icb = {t} broadcast(ic), dimensions={{}}"]
            names.append("icb")
        last = self.body_ops(dtype, dims, names, lines, int(self.rng.integers(1, 4)))
        lines.append(f"ROOT r = {tt} tuple(i1, {last}, b)")
        body = self.computation("while_body", lines)
        trips = int(self.rng.integers(0, 4))
        cond = self.computation("while_cond", [f"p = {tt} parameter(0)", "i = s32[] get-tuple-element(p), index=0",
                                               f"n = s32[] constant({trips})",
                                               f"ROOT lt = pred[] compare(i, n), direction={self.pick(('LT', 'NE'))}"])
        zero = self.scalar("s32", "0")
        init = self.name("tuple")
        self.lines.append(f"  {init} = {tt} tuple({zero}, {x}, {y})")
        w = self.name("while")
        self.lines.append(f"  {w} = {tt} while({init}), condition={cond}, body={body}")
        k = 1 if self.rng.random() < 0.85 else 2
        self.emit("gte", dtype, self.shape, f"get-tuple-element({w}), index={k}")

    def conditional(self) -> None:
        """A conditional on a pred, or on an s32 branch index (out of range: the last branch),
        with 2 or 3 branches each computing something else of a tuple of two values."""
        dtype = self.pick(DTYPES)
        x, y = self.value(dtype), self.value(dtype)
        dims = _dims(self.shape)
        t = f"{dtype}[{dims}]"
        tt = f"({t}, {t})"
        by_pred = self.rng.random() < 0.4
        n = 2 if by_pred else int(self.rng.integers(2, 4))
        branches = []
        for _ in range(n):
            lines = [f"p = {tt} parameter(0)", f"a = {t} get-tuple-element(p), index=0",
                     f"b = {t} get-tuple-element(p), index=1"]
            last = self.body_ops(dtype, dims, ["a", "b"], lines, int(self.rng.integers(0, 3)))
            lines.append(f"ROOT r = {t} copy({last})")
            branches.append(self.computation("branch", lines))
        arg = self.name("tuple")
        self.lines.append(f"  {arg} = {tt} tuple({x}, {y})")
        if by_pred:
            sel = self.element_of(self.value("pred"), "pred") if self.rng.random() < 0.7 else \
                self.scalar("pred", self.pick(["true", "false"]))
            self.emit("conditional", dtype, self.shape,
                      f"conditional({sel}, {arg}, {arg}), true_computation={branches[0]}, false_computation={branches[1]}")
        else:
            sel = self.element_of(self.value("s32"), "s32") if self.rng.random() < 0.7 else \
                self.scalar("s32", self.pick(["0", "1", "2", "-1", "7"]))
            args = ", ".join([arg] * n)
            self.emit("conditional", dtype, self.shape,
                      f"conditional({sel}, {args}), branch_computations={{{', '.join(branches)}}}")

    def call_complex(self) -> None:
        """A call of a callee with parameters of two types (one maybe unused), a few ops, a
        convert, maybe a nested call, returning a tuple; sometimes called twice."""
        t1, t2 = self.pick(FLOATS + INTS), self.pick(DTYPES)
        dims = _dims(self.shape)
        ty1, ty2 = f"{t1}[{dims}]", f"{t2}[{dims}]"
        inner = None
        if self.rng.random() < 0.4:
            lines = [f"a = {ty1} parameter(0)"]
            last = self.body_ops(t1, dims, ["a"], lines, 2)
            lines.append(f"ROOT r = {ty1} negate({last})" if t1 in FLOATS or t1[0] == "s" else f"ROOT r = {ty1} not({last})")
            inner = self.computation("inner", lines)
        lines = [f"a = {ty1} parameter(0)", f"b = {ty2} parameter(1)"]
        names = ["a"]
        if self.rng.random() < 0.7:
            if t2 == "pred" or (t2 in FLOATS and t1 in INTS):
                lines.append(f"bc = {ty1} select(b, a, a)" if t2 == "pred" else f"bc = {ty1} copy(a)")
            else:
                lines.append(f"bc = {ty1} convert(b)")
            names.append("bc")
        if inner:
            lines.append(f"ic = {ty1} call(a), to_apply={inner}")
            names.append("ic")
        last = self.body_ops(t1, dims, names, lines, int(self.rng.integers(1, 4)))
        lines.append(f"ROOT r = ({ty1}, {ty2}) tuple({last}, b)")
        callee = self.computation("callee", lines)
        for _ in range(1 if self.rng.random() < 0.7 else 2):
            x, y = self.value(t1), self.value(t2)
            c = self.name("call")
            self.lines.append(f"  {c} = ({ty1}, {ty2}) call({x}, {y}), to_apply={callee}")
            self.emit("gte", t1, self.shape, f"get-tuple-element({c}), index=0")

    def index_constant(self, itype: str, shape: tuple[int, ...], bounds: list[int], unique: bool = False) -> str:
        """Indices of `shape` whose last dimension runs over `bounds` (values -1..bound, so some
        out of range); `unique`: no two index vectors alike."""
        count = math.prod(shape[:-1])
        vectors: list[tuple[int, ...]] = []
        tries = 0
        while len(vectors) < count:
            v = tuple(int(self.rng.integers(-1 if itype[0] == "s" else 0, b + 1)) if self.rng.random() < 0.15
                      else int(self.rng.integers(b)) for b in bounds)
            tries += 1
            if unique and v in vectors and tries < 1000:
                continue
            vectors.append(v)
        flat = [str(i) for v in vectors for i in v]
        return self.emit("idx", itype, shape, f"constant({_nested(flat, shape)})", keep=False)

    def gather(self) -> None:
        """A gather of rows along one dimension (index vectors of length 1), or of single elements
        (an index vector per element): the result has the module's shape."""
        dtype = self.pick(DTYPES)
        x = self.value(dtype)
        r = len(self.shape)
        itype = self.pick(("s32", "s32", "s64", "u8", "u32"))
        if self.rng.random() < 0.5:
            d = int(self.rng.integers(r))
            n = self.shape[d]
            if self.rng.random() < 0.3 and itype == "s32":  # computed indices
                p = self.emit("p", "s32", (n, 1), f"parameter({len(self.params)})", keep=False)
                self.params.append(p)
                idx = p
            else:
                idx = self.index_constant(itype, (n, 1), [n])
            offset = ",".join(str(i) for i in range(r) if i != d)
            sizes = ",".join("1" if i == d else str(s) for i, s in enumerate(self.shape))
            self.emit("gather", dtype, self.shape,
                      f"gather({x}, {idx}), offset_dims={{{offset}}}, collapsed_slice_dims={{{d}}}, "
                      f"start_index_map={{{d}}}, index_vector_dim=1, slice_sizes={{{sizes}}}")
        else:
            idx = self.index_constant(itype, self.shape + (r,), list(self.shape))
            alld = ",".join(map(str, range(r)))
            perm = list(self.rng.permutation(r))  # the index vector's order of dimensions
            self.emit("gather", dtype, self.shape,
                      f"gather({x}, {idx}), offset_dims={{}}, collapsed_slice_dims={{{alld}}}, "
                      f"start_index_map={{{','.join(map(str, perm))}}}, index_vector_dim={r}, "
                      f"slice_sizes={{{','.join('1' for _ in range(r))}}}")

    def scatter(self) -> None:
        """A scatter of rows or of single elements, combining by add (any indices) or by
        assignment (unique indices: overlapping assignments are nondeterministic)."""
        assign = self.rng.random() < 0.5
        dtype = self.pick(DTYPES if assign else FLOATS + INTS)
        x, u = self.value(dtype), self.value(dtype)
        r = len(self.shape)
        itype = self.pick(("s32", "s32", "s64", "u8"))
        if assign:
            comb = self.computation("assign", [f"a = {dtype}[] parameter(0)", f"b = {dtype}[] parameter(1)",
                                               f"ROOT r = {dtype}[] copy(b)" if self.rng.random() < 0.5
                                               else f"ROOT r = {dtype}[] add(a, b)" if dtype != "pred"
                                               else f"ROOT r = {dtype}[] or(a, b)"])
        else:
            comb = self.reducer("add", dtype)
        # (assignment with add also is order-free: every index unique)
        if self.rng.random() < 0.5:
            d = int(self.rng.integers(r))
            n = self.shape[d]
            idx = self.index_constant(itype, (n, 1), [n], unique=assign)
            window = ",".join(str(i) for i in range(r) if i != d)
            dnums = (f"update_window_dims={{{window}}}, inserted_window_dims={{{d}}}, "
                     f"scatter_dims_to_operand_dims={{{d}}}, index_vector_dim=1")
        else:
            idx = self.index_constant(itype, self.shape + (r,), list(self.shape), unique=assign)
            alld = ",".join(map(str, range(r)))
            dnums = (f"update_window_dims={{}}, inserted_window_dims={{{alld}}}, "
                     f"scatter_dims_to_operand_dims={{{alld}}}, index_vector_dim={r}")
        self.emit("scatter", dtype, self.shape, f"scatter({x}, {idx}, {u}), {dnums}, to_apply={comb}")

    def reduce_window(self) -> None:
        """A sum/max/min reduce-window with windows, strides, window dilation and padding chosen
        so the result has the module's shape; the init value is the reducer's identity."""
        dtype = self.pick(FLOATS + INTS + ("pred",))
        if dtype == "pred":
            op, init = self.pick((("and", "true"), ("or", "false")))
        else:
            op = self.pick(("add", "maximum", "minimum"))
            init = {"add": "0", "maximum": self.lowest(dtype), "minimum": self.highest(dtype)}[op]
        sizes, strides, pads, dil = [], [], [], []
        for n in self.shape:
            w = int(self.rng.integers(1, 4))
            s = int(self.rng.integers(1, 3))
            wd = 2 if self.rng.random() < 0.2 else 1
            eff = (w - 1) * wd + 1
            total = (n - 1) * s + eff - n + int(self.rng.integers(s))
            lo = int(self.rng.integers(total + 1))
            sizes.append(w), strides.append(s), pads.append(f"{lo}_{total - lo}"), dil.append(wd)
        window = f"size={'x'.join(map(str, sizes))} stride={'x'.join(map(str, strides))} pad={'x'.join(pads)}"
        if any(d != 1 for d in dil):
            window += f" rhs_dilate={'x'.join(map(str, dil))}"
        c = self.scalar(dtype, init)
        self.emit("reduce_window", dtype, self.shape,
                  f"reduce-window({self.value(dtype)}, {c}), window={{{window}}}, to_apply={self.reducer(op, dtype)}")

    def comparator(self, types: list[str], direction: str) -> str:
        """A sort comparator on the first operand (total order for floats)."""
        lines = []
        for i, t in enumerate(types):
            lines += [f"a{i} = {t}[] parameter({2 * i})", f"b{i} = {t}[] parameter({2 * i + 1})"]
        extra = ", type=TOTALORDER" if types[0] in FLOATS else ""
        lines.append(f"ROOT r = pred[] compare(a0, b0), direction={direction}{extra}")
        return self.computation("compare", lines)

    def sort(self) -> None:
        """A sort of one value, or of two by the first (stable: equal keys keep their order)."""
        d = int(self.rng.integers(len(self.shape)))
        k = self.pick(FLOATS + INTS)
        direction = self.pick(("LT", "GT"))
        if self.rng.random() < 0.5:
            cmp = self.comparator([k], direction)
            stable = ", is_stable=true" if self.rng.random() < 0.5 else ""
            self.emit("sort", k, self.shape, f"sort({self.value(k)}), dimensions={{{d}}}{stable}, to_apply={cmp}")
            return
        v = self.pick(DTYPES)
        cmp = self.comparator([k, v], direction)
        dims = _dims(self.shape)
        s = self.name("sort")
        self.lines.append(f"  {s} = ({k}[{dims}], {v}[{dims}]) sort({self.value(k)}, {self.value(v)}), "
                          f"dimensions={{{d}}}, is_stable=true, to_apply={cmp}")
        i = int(self.rng.integers(2))
        self.emit("gte", (k, v)[i], self.shape, f"get-tuple-element({s}), index={i}")

    def map(self) -> None:
        """A map of a scalar computation of a few ops over two values."""
        dtype = self.pick(DTYPES)
        lines = [f"a = {dtype}[] parameter(0)", f"b = {dtype}[] parameter(1)"]
        last = self.body_ops(dtype, "", ["a", "b"], lines, int(self.rng.integers(1, 4)))
        lines.append(f"ROOT r = {dtype}[] copy({last})")
        comp = self.computation("mapper", lines)
        alld = ",".join(map(str, range(len(self.shape))))
        self.emit("map", dtype, self.shape, f"map({self.value(dtype)}, {self.value(dtype)}), dimensions={{{alld}}}, to_apply={comp}")

    def select_and_scatter(self) -> None:
        """select-and-scatter with a 2-wide window on the longest dimension (select by a total
        order, scatter by add)."""
        dtype = self.pick(("f32", "s32", "f64", "s16"))
        d = max(range(len(self.shape)), key=lambda i: self.shape[i])
        if self.shape[d] < 2:
            return self.reduce_window()
        src_shape = tuple(s - 1 if i == d else s for i, s in enumerate(self.shape))
        spec = ",".join(f"[0:{s}]" for s in src_shape)
        src = self.emit("slice", dtype, src_shape, f"slice({self.value(dtype)}), slice={{{spec}}}", keep=False)
        extra = ", type=TOTALORDER" if dtype in FLOATS else ""
        sel = self.computation("select", [f"a = {dtype}[] parameter(0)", f"b = {dtype}[] parameter(1)",
                                          f"ROOT r = pred[] compare(a, b), direction={self.pick(('GE', 'GT', 'LE'))}{extra}"])
        size = "x".join("2" if i == d else "1" for i in range(len(self.shape)))
        ones = "x".join("1" for _ in self.shape)
        self.emit("select_and_scatter", dtype, self.shape,
                  f"select-and-scatter({self.value(dtype)}, {src}, {self.scalar(dtype, '0')}), "
                  f"window={{size={size} stride={ones}}}, select={sel}, scatter={self.reducer('add', dtype)}")

    def batch_dot(self) -> None:
        """A dot with batch dimensions: [b,m,n] x [b,n,n], [m,n] x [m,n,n], or [m,n] x [m] and
        [4] x [4] (batch dimensions only, no contraction)."""
        dtype = self.pick(("f32", "s32", "f64", "s64"))
        x = self.value(dtype)
        r = len(self.shape)
        if r == 3:
            b, m, n = self.shape
            if m == n and self.rng.random() < 0.7:
                w = self.value(dtype)
            else:
                w = self.emit("p", dtype, (b, n, n), f"parameter({len(self.params)})", keep=False)
                self.params.append(w)
            rc = self.pick((1, 2)) if m == n else 1
            self.emit("dot", dtype, self.shape, f"dot({x}, {w}), lhs_batch_dims={{0}}, lhs_contracting_dims={{2}}, "
                                                f"rhs_batch_dims={{0}}, rhs_contracting_dims={{{rc}}}")
        elif r == 2:
            m, n = self.shape
            if self.rng.random() < 0.5:
                w = self.emit("p", dtype, (m, n, n), f"parameter({len(self.params)})", keep=False)
                self.params.append(w)
                self.emit("dot", dtype, self.shape, f"dot({x}, {w}), lhs_batch_dims={{0}}, lhs_contracting_dims={{1}}, "
                                                    f"rhs_batch_dims={{0}}, rhs_contracting_dims={{1}}")
            else:
                col = self.emit("slice", dtype, (m, 1), f"slice({self.value(dtype)}), slice={{[0:{m}],[0:1]}}", keep=False)
                v = self.emit("reshape", dtype, (m,), f"reshape({col})", keep=False)
                self.emit("dot", dtype, self.shape, f"dot({x}, {v}), lhs_batch_dims={{0}}, rhs_batch_dims={{0}}")
        else:
            self.emit("dot", dtype, self.shape, f"dot({x}, {self.value(dtype)}), lhs_batch_dims={{0}}, rhs_batch_dims={{0}}")

    def other_shapes(self) -> list[tuple[int, ...]]:
        n = math.prod(self.shape)
        out = {(n,), (1, n), (n, 1)}
        for a in range(2, n):
            if n % a == 0:
                out.add((a, n // a))
                for b in range(2, n // a):
                    if (n // a) % b == 0:
                        out.add((a, b, n // a // b))
        out.discard(self.shape)
        return sorted(out)

    def reshape_elsewhere(self) -> None:
        """Values reshaped to another shape ([2,3] -> [3,2], [6], [1,6]...), combined there (with a
        constant, an iota or a reduce broadcast back), then reshaped back."""
        dtype = self.pick(DTYPES)
        alt = self.pick(self.other_shapes())
        a = self.emit("reshape", dtype, alt, f"reshape({self.value(dtype)})", keep=False)
        roll = self.rng.random()
        if roll < 0.4:
            b = self.emit("reshape", dtype, alt, f"reshape({self.value(dtype)})", keep=False)
        elif roll < 0.6 or dtype == "pred":
            b = self.splat(dtype, self.literal(dtype, 1)[0], alt)
        elif roll < 0.8:
            b = self.emit("iota", dtype, alt, f"iota(), iota_dimension={int(self.rng.integers(len(alt)))}", keep=False)
        else:
            d = int(self.rng.integers(len(alt)))
            kept = [i for i in range(len(alt)) if i != d]
            op = self.pick(("add", "maximum", "minimum"))
            init = {"add": "0", "maximum": self.lowest(dtype), "minimum": self.highest(dtype)}[op]
            red = self.emit("reduce", dtype, tuple(alt[i] for i in kept),
                            f"reduce({a}, {self.scalar(dtype, init)}), dimensions={{{d}}}, to_apply={self.reducer(op, dtype)}",
                            keep=False)
            b = self.emit("broadcast", dtype, alt, f"broadcast({red}), dimensions={{{','.join(map(str, kept))}}}", keep=False)
        op = self.pick(_PRED_BINARY if dtype == "pred" else ("add", "multiply", "maximum", "subtract", "minimum"))
        c = self.emit(op, dtype, alt, f"{op}({a}, {b})", keep=False)
        if len(alt) == 2 and self.rng.random() < 0.3:  # a transpose there too
            t = self.emit("transpose", dtype, alt[::-1], f"transpose({c}), dimensions={{1,0}}", keep=False)
            c = self.emit("reshape", dtype, alt, f"reshape({t})", keep=False)
        if dtype != "pred" and self.rng.random() < 0.3:
            c = self.emit("negate", dtype, alt, f"negate({c})", keep=False) if dtype in FLOATS or dtype[0] == "s" else \
                self.emit("not", dtype, alt, f"not({c})", keep=False)
        self.emit("reshape", dtype, self.shape, f"reshape({c})")

    def broadcast_lower_rank(self) -> None:
        """A value of lower rank (a dimension sliced away or reduced, maybe transposed; or one
        row) broadcast back with non-trivial dimensions."""
        dtype = self.pick(DTYPES)
        r = len(self.shape)
        x = self.value(dtype)
        if r == 1:
            e = self.element_of(x, dtype)
            self.emit("broadcast", dtype, self.shape, f"broadcast({e}), dimensions={{}}")
            return
        if self.rng.random() < 0.3:  # one line along dimension d
            d = int(self.rng.integers(r))
            spec = ",".join(f"[0:{s}]" if i == d else "[0:1]" for i, s in enumerate(self.shape))
            line = self.emit("slice", dtype, tuple(s if i == d else 1 for i, s in enumerate(self.shape)),
                             f"slice({x}), slice={{{spec}}}", keep=False)
            v = self.emit("reshape", dtype, (self.shape[d],), f"reshape({line})", keep=False)
            self.emit("broadcast", dtype, self.shape, f"broadcast({v}), dimensions={{{d}}}")
            return
        d = int(self.rng.integers(r))
        kept = [i for i in range(r) if i != d]
        low = tuple(self.shape[i] for i in kept)
        if self.rng.random() < 0.5:
            k = int(self.rng.integers(self.shape[d]))
            spec = ",".join(f"[{k}:{k + 1}]" if i == d else f"[0:{s}]" for i, s in enumerate(self.shape))
            s = self.emit("slice", dtype, tuple(1 if i == d else s for i, s in enumerate(self.shape)),
                          f"slice({x}), slice={{{spec}}}", keep=False)
            v = self.emit("reshape", dtype, low, f"reshape({s})", keep=False)
        else:
            op = self.pick(_REDUCERS[_kind(dtype)])
            ident = {"add": "0", "multiply": "1", "maximum": self.lowest(dtype) if dtype != "pred" else "false",
                     "minimum": self.highest(dtype) if dtype != "pred" else "true", "and": "-1" if dtype[0] == "s" else
                     "true" if dtype == "pred" else _INT_MAX.get(dtype, "0"), "or": "false" if dtype == "pred" else "0"}[op]
            v = self.emit("reduce", dtype, low, f"reduce({x}, {self.scalar(dtype, ident)}), dimensions={{{d}}}, "
                                                f"to_apply={self.reducer(op, dtype)}", keep=False)
        if len(low) == 2 and low[0] == low[1] and self.rng.random() < 0.5:
            v = self.emit("transpose", dtype, low, f"transpose({v}), dimensions={{1,0}}", keep=False)
        self.emit("broadcast", dtype, self.shape, f"broadcast({v}), dimensions={{{','.join(map(str, kept))}}}")

    def concatenate_values(self) -> None:
        """Pieces of two or three different values (from anywhere along the dimension)
        concatenated back to the shape."""
        dtype = self.pick(DTYPES)
        d = max(range(len(self.shape)), key=lambda i: self.shape[i])
        n = self.shape[d]
        cuts = sorted(set(int(c) for c in self.rng.integers(1, n, size=int(self.rng.integers(1, 3))))) if n > 1 else []
        bounds = [0, *cuts, n]
        parts = []
        for lo, hi in zip(bounds, bounds[1:]):
            size = hi - lo
            start = int(self.rng.integers(n - size + 1))
            spec = ",".join(f"[{start}:{start + size}]" if i == d else f"[0:{s}]" for i, s in enumerate(self.shape))
            shape = tuple(size if i == d else s for i, s in enumerate(self.shape))
            parts.append(self.emit("slice", dtype, shape, f"slice({self.value(dtype)}), slice={{{spec}}}", keep=False))
        self.emit("concatenate", dtype, self.shape, f"concatenate({', '.join(parts)}), dimensions={{{d}}}")

    def iota_mask(self) -> None:
        """iotas in the middle: a mask from two iotas compared (a triangle), selecting between
        values; or an iota converted and combined with a value."""
        r = len(self.shape)
        itype = self.pick(("s32", "u8", "s64", "f32"))
        d1 = int(self.rng.integers(r))
        d2 = int(self.rng.integers(r))
        if self.rng.random() < 0.6:
            i1 = self.emit("iota", itype, self.shape, f"iota(), iota_dimension={d1}", keep=False)
            i2 = self.emit("iota", itype, self.shape, f"iota(), iota_dimension={d2}", keep=False)
            if self.rng.random() < 0.4:
                i2 = self.emit("add", itype, self.shape, f"add({i2}, {self.splat(itype, self.pick(['1', '2']))})", keep=False)
            mask = self.emit("compare", "pred", self.shape,
                             f"compare({i1}, {i2}), direction={self.pick(_DIRECTIONS)}", keep=self.rng.random() < 0.3)
            dtype = self.pick(DTYPES)
            self.emit("select", dtype, self.shape, f"select({mask}, {self.value(dtype)}, {self.value(dtype)})")
        else:
            dtype = self.pick(FLOATS + INTS)
            i1 = self.emit("iota", itype, self.shape, f"iota(), iota_dimension={d1}", keep=False)
            c = self.emit("convert", dtype, self.shape, f"convert({i1})", keep=False) if itype != dtype else i1
            op = self.pick(("add", "multiply", "subtract", "maximum"))
            self.emit(op, dtype, self.shape, f"{op}({c}, {self.value(dtype)})")

    def reduce_precision(self) -> None:
        dtype = self.pick(FLOATS)
        e, m = self.pick([(5, 10), (8, 7), (8, 23), (4, 3), (5, 2), (11, 52), (2, 1)])
        self.emit("reduce_precision", dtype, self.shape,
                  f"reduce-precision({self.value(dtype)}), exponent_bits={e}, mantissa_bits={m}")

    def complex_round_trip(self) -> None:
        """Two real values made complex (c64 or c128), combined, and back: real, imag or abs."""
        real = self.pick(("f32", "f32", "f64"))
        ctype = "c64" if real == "f32" else "c128"
        a = self.emit("complex", ctype, self.shape, f"complex({self.value(real)}, {self.value(real)})", keep=False)
        roll = self.rng.random()
        if roll < 0.6:
            b = self.emit("complex", ctype, self.shape, f"complex({self.value(real)}, {self.value(real)})", keep=False)
            op = self.pick(("add", "subtract", "multiply"))
            a = self.emit(op, ctype, self.shape, f"{op}({a}, {b})", keep=False)
        elif roll < 0.8:
            op = self.pick(("negate", "exponential", "sqrt"))
            a = self.emit(op, ctype, self.shape, f"{op}({a})", keep=False)
        out = self.pick(("real", "imag", "abs"))
        self.emit(out, real, self.shape, f"{out}({a})")

    def variadic_reduce(self) -> None:
        """A reduce of two values at once: an argmax/argmin (value, s32 index) pair by a total
        order with ties to the lower index, or a (sum, max) pair; either result broadcast back."""
        dtype = self.pick(FLOATS + INTS)
        r = len(self.shape)
        ndims = 2 if r > 1 and self.rng.random() < 0.3 else 1
        dims = sorted(int(i) for i in self.rng.choice(r, size=ndims, replace=False))
        kept = [i for i in range(r) if i not in dims]
        rshape = tuple(self.shape[i] for i in kept)
        x = self.value(dtype)
        extra = ", type=TOTALORDER" if dtype in FLOATS else ""
        if self.rng.random() < 0.6:
            direction = self.pick(("GT", "LT"))
            itype = "s32"
            idx = self.emit("iota", itype, self.shape, f"iota(), iota_dimension={dims[-1]}", keep=False)
            comp = self.computation("argbest", [
                f"a = {dtype}[] parameter(0)", f"ai = {itype}[] parameter(1)", f"b = {dtype}[] parameter(2)",
                f"bi = {itype}[] parameter(3)", f"better = pred[] compare(a, b), direction={direction}{extra}",
                f"eq = pred[] compare(a, b), direction=EQ{extra}", "first = pred[] compare(ai, bi), direction=LT",
                "tie = pred[] and(eq, first)", "pick = pred[] or(better, tie)", f"v = {dtype}[] select(pick, a, b)",
                f"i = {itype}[] select(pick, ai, bi)", f"ROOT r = ({dtype}[], {itype}[]) tuple(v, i)"])
            init = self.lowest(dtype) if direction == "GT" else self.highest(dtype)
            if dtype in FLOATS and self.rng.random() < 0.3:
                init = "nan" if direction == "GT" else "-nan"  # (the extremes of the total order)
            types = (dtype, itype)
            ci, cj = self.scalar(dtype, init), self.scalar(itype, "0")
        else:
            y = self.value(dtype)
            comp = self.computation("sum_max", [
                f"a = {dtype}[] parameter(0)", f"b = {dtype}[] parameter(1)", f"c = {dtype}[] parameter(2)",
                f"d = {dtype}[] parameter(3)", f"s = {dtype}[] add(a, c)", f"m = {dtype}[] maximum(b, d)",
                f"ROOT r = ({dtype}[], {dtype}[]) tuple(s, m)"])
            idx = y
            types = (dtype, dtype)
            ci, cj = self.scalar(dtype, "0"), self.scalar(dtype, self.lowest(dtype))
        rd = _dims(rshape)
        red = self.name("reduce")
        self.lines.append(f"  {red} = ({types[0]}[{rd}], {types[1]}[{rd}]) reduce({x}, {idx}, {ci}, {cj}), "
                          f"dimensions={{{','.join(map(str, dims))}}}, to_apply={comp}")
        k = int(self.rng.integers(2))
        g = self.emit("gte", types[k], rshape, f"get-tuple-element({red}), index={k}", keep=False)
        self.emit("broadcast", types[k], self.shape, f"broadcast({g}), dimensions={{{','.join(map(str, kept))}}}")

    def int_power(self) -> None:
        dtype = self.pick(INTS)
        self.emit("power", dtype, self.shape, f"power({self.value(dtype)}, {self.value(dtype)})")

    def more_unary(self) -> None:
        dtype = self.pick(FLOATS)
        op = self.pick(("logistic", "tan", "erf", "atan2", "real", "imag"))
        if op == "atan2":
            op = "exponential-minus-one"
        self.emit(op, dtype, self.shape, f"{op}({self.value(dtype)})")

    def clamp_scalar(self) -> None:
        """clamp with scalar bounds (XLA broadcasts them)."""
        dtype = self.pick(FLOATS + INTS)
        lo, hi = self.scalar(dtype, self.literal(dtype, 1)[0]), self.scalar(dtype, self.literal(dtype, 1)[0])
        self.emit("clamp", dtype, self.shape, f"clamp({lo}, {self.value(dtype)}, {hi})")

    def dynamic_computed(self) -> None:
        """dynamic-slice and dynamic-update-slice at computed starts (clamped into range)."""
        dtype = self.pick(DTYPES)
        # (signed: XLA's unfused code reads an unsigned start of 128 or more as negative, its fused
        # code and the spec as large; the rewrites that fold constant starts meet that noise)
        itype = self.pick(("s32", "s64", "s16"))
        sizes = [int(self.rng.integers(1, s + 1)) for s in self.shape]
        starts = []
        src = self.value(itype)
        for _ in self.shape:
            starts.append(self.element_of(src, itype) if self.rng.random() < 0.7 else
                          self.scalar(itype, self.pick(self.literal(itype, 3))))
        part = self.emit("dynamic_slice", dtype, tuple(sizes),
                         f"dynamic-slice({self.value(dtype)}, {', '.join(starts)}), dynamic_slice_sizes={{{','.join(map(str, sizes))}}}",
                         keep=tuple(sizes) == self.shape)
        if tuple(sizes) == self.shape and self.rng.random() < 0.5:
            return
        starts2 = [self.element_of(src, itype) if self.rng.random() < 0.5 else s for s in starts]
        self.emit("dynamic_update_slice", dtype, self.shape,
                  f"dynamic-update-slice({self.value(dtype)}, {part}, {', '.join(starts2)})")

    def opt_barrier(self) -> None:
        a, b = self.pick(DTYPES), self.pick(DTYPES)
        x, y = self.value(a), self.value(b)
        dims = _dims(self.shape)
        tt = f"({a}[{dims}], {b}[{dims}])"
        t = self.name("tuple")
        self.lines.append(f"  {t} = {tt} tuple({x}, {y})")
        o = self.name("opt_barrier")
        self.lines.append(f"  {o} = {tt} opt-barrier({t})")
        k = int(self.rng.integers(2))
        self.emit("gte", (a, b)[k], self.shape, f"get-tuple-element({o}), index={k}")

    def bitcast_convert_wide(self) -> None:
        pairs = [("f64", "s64"), ("s64", "f64"), ("u64", "f64"), ("f16", "s16"), ("s16", "f16"),
                 ("bf16", "u16"), ("u16", "bf16"), ("s16", "u16"), ("u64", "s64")]
        src, dst = self.pick(pairs)
        self.emit("bitcast_convert", dst, self.shape, f"bitcast-convert({self.value(src)})")

    def pad_general(self) -> None:
        """A pad with interior padding and negative edges that lands back on the shape."""
        dtype = self.pick(DTYPES)
        cfg = []
        for n in self.shape:
            interior = int(self.rng.integers(0, 3)) if n > 1 else 0
            total = -(n - 1) * interior  # lo + hi
            lo = int(self.rng.integers(total - 1, 2)) if total < 0 else int(self.rng.integers(-1, 2))
            hi = total - lo
            if n + lo + hi + (n - 1) * interior != n or (lo < 0 and -lo > n + (n - 1) * interior):
                lo, hi, interior = 0, 0, 0
            cfg.append(f"{lo}_{hi}_{interior}" if interior else f"{lo}_{hi}")
        pv = self.scalar(dtype, self.literal(dtype, 1)[0])
        self.emit("pad", dtype, self.shape, f"pad({self.value(dtype)}, {pv}), padding={'x'.join(cfg)}")

    def transposed_dot(self) -> None:
        """A dot of a transposed value (batch dimension, contraction and free dimensions moved
        about by the transpose) with a maybe transposed [b,k,k] parameter: what transpose-folding
        folds into the dot's dimension numbers."""
        r = len(self.shape)
        if r == 1:
            return self.batch_dot()
        dtype = self.pick(("f32", "s32", "f64"))
        perm = [int(i) for i in self.rng.permutation(r)]
        lshape = tuple(self.shape[p] for p in perm)
        lhs = self.emit("transpose", dtype, lshape, f"transpose({self.value(dtype)}), dimensions={{{','.join(map(str, perm))}}}",
                        keep=False)
        b, k = self.shape[0], self.shape[-1]
        q = [int(i) for i in self.rng.permutation(3)] if self.rng.random() < 0.5 else [0, 1, 2]
        w = self.emit("p", dtype, (b, k, k), f"parameter({len(self.params)})", keep=False)
        self.params.append(w)
        if q != [0, 1, 2]:
            w = self.emit("transpose", dtype, tuple((b, k, k)[i] for i in q), f"transpose({w}), dimensions={{{','.join(map(str, q))}}}",
                          keep=False)
        self.emit("dot", dtype, self.shape,
                  f"dot({lhs}, {w}), lhs_batch_dims={{{perm.index(0)}}}, lhs_contracting_dims={{{perm.index(r - 1)}}}, "
                  f"rhs_batch_dims={{{q.index(0)}}}, rhs_contracting_dims={{{q.index(1)}}}")

    def batch_outer_dot(self) -> None:
        """A batched outer product: [b,m,1] x [b,1,n] (the contraction has size 1)."""
        if len(self.shape) != 3:
            return self.outer_dot()
        b, m, n = self.shape
        dtype = self.pick(("f32", "s32", "f64", "s64"))
        a = self.emit("slice", dtype, (b, m, 1), f"slice({self.value(dtype)}), slice={{[0:{b}],[0:{m}],[0:1]}}", keep=False)
        c = self.emit("slice", dtype, (b, 1, n), f"slice({self.value(dtype)}), slice={{[0:{b}],[0:1],[0:{n}]}}", keep=False)
        self.emit("dot", dtype, self.shape, f"dot({a}, {c}), lhs_batch_dims={{0}}, lhs_contracting_dims={{2}}, "
                                            f"rhs_batch_dims={{0}}, rhs_contracting_dims={{1}}")

    def while_scan(self) -> None:
        """A while loop indexing by its counter: each trip takes one row of a value with a
        dynamic-slice at the counter and adds it into a dynamic-update-slice of the carry."""
        dtype = self.pick(FLOATS + INTS)
        d = 0
        n = self.shape[d]
        dims = _dims(self.shape)
        t = f"{dtype}[{dims}]"
        row = tuple(1 if i == d else s for i, s in enumerate(self.shape))
        rt = f"{dtype}[{_dims(row)}]"
        tt = f"(s32[], {t}, {t})"
        zeros = ", ".join("z" for _ in self.shape[1:])
        starts = "i" + (", " + zeros if zeros else "")
        op = self.pick(("add", "maximum", "multiply") if dtype in FLOATS else ("add", "maximum", "xor", "multiply"))
        lines = [f"p = {tt} parameter(0)", "i = s32[] get-tuple-element(p), index=0",
                 f"a = {t} get-tuple-element(p), index=1", f"b = {t} get-tuple-element(p), index=2",
                 "z = s32[] constant(0)", "one = s32[] constant(1)", "i1 = s32[] add(i, one)",
                 f"x = {rt} dynamic-slice(b, {starts}), dynamic_slice_sizes={{{_dims(row)}}}",
                 f"y = {rt} dynamic-slice(a, {starts}), dynamic_slice_sizes={{{_dims(row)}}}",
                 f"s = {rt} {op}(x, y)", f"u = {t} dynamic-update-slice(a, s, {starts})",
                 f"ROOT r = {tt} tuple(i1, u, b)"]
        body = self.computation("scan_body", lines)
        cond = self.computation("scan_cond", [f"p = {tt} parameter(0)", "i = s32[] get-tuple-element(p), index=0",
                                              f"n = s32[] constant({n})", "ROOT lt = pred[] compare(i, n), direction=LT"])
        init = self.name("tuple")
        self.lines.append(f"  {init} = {tt} tuple({self.scalar('s32', '0')}, {self.value(dtype)}, {self.value(dtype)})")
        w = self.name("while")
        self.lines.append(f"  {w} = {tt} while({init}), condition={cond}, body={body}")
        self.emit("gte", dtype, self.shape, f"get-tuple-element({w}), index=1")

    def text(self, roots: list[str]) -> str:
        comps = []
        for (op, dtype), name in self.reducers.items():
            comps.append(f"{name} {{\n  a = {dtype}[] parameter(0)\n  b = {dtype}[] parameter(1)\n"
                         f"  ROOT r = {dtype}[] {op}(a, b)\n}}\n")
        comps += self.callees
        types = ", ".join(f"{self.type_of(r)}" for r in roots)
        body = "\n".join(self.lines)
        entry = (f"ENTRY main {{\n{body}\n  ROOT out = ({types}) tuple({', '.join(roots)})\n}}\n")
        return "HloModule random\n\n" + "\n".join(comps) + ("\n" if comps else "") + entry

    def type_of(self, name: str) -> str:
        for dtype, names in self.values.items():
            if name in names:
                return f"{dtype}[{_dims(self.shape)}]"
        raise KeyError(name)


def _nested(values: list[str], shape: tuple[int, ...]) -> str:
    if not shape:
        return values[0]
    if len(shape) == 1:
        return "{" + ", ".join(values) + "}"
    step = len(values) // shape[0]
    return "{" + ", ".join(_nested(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "}"


_OPS = ("unary", "binary", "binary", "compare", "select", "clamp", "convert", "bitcast_convert",
        "reshape_round_trip", "transpose_round_trip", "reverse_twice", "slices_concatenated",
        "pad_then_slice", "reduce_broadcast", "dot", "dynamic_slice_update", "convert_chain",
        "tuple_round_trip", "call", "strided_slice_padded", "unary_pair", "select_not",
        "broadcast_chain", "slice_of_slice", "noops", "outer_dot")
# (added later: picked from together with _OPS)
_MORE_OPS = ("while_loop", "conditional", "call_complex", "gather", "scatter", "reduce_window", "sort", "map",
             "select_and_scatter", "batch_dot", "reshape_elsewhere", "reshape_elsewhere", "broadcast_lower_rank",
             "concatenate_values", "iota_mask", "reduce_precision", "complex_round_trip", "variadic_reduce",
             "int_power", "more_unary", "clamp_scalar", "dynamic_computed", "opt_barrier", "bitcast_convert_wide",
             "pad_general", "transposed_dot", "batch_outer_dot", "while_scan")


def random_module(seed: int, ops: int = 14) -> str:
    """HLO text of a random module of about `ops` operations (see the module docstring)."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng, SHAPES[int(rng.integers(len(SHAPES)))])
    for _ in range(ops):
        getattr(b, b.pick(_OPS + _MORE_OPS))()
    if not b.made:
        b.leaf("f32")
    roots = list(dict.fromkeys(b.made[-int(rng.integers(1, 4)):]))
    return b.text(roots)


if __name__ == "__main__":
    print(random_module(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
