"""Random small HLO modules for differential tests of the passes: seeded, well-typed by construction.

A module computes on a few parameters and constants of one array shape; every value it makes has
that shape (shape changes are made and undone: reshape and back, transpose and back, slices
concatenated, a reduce broadcast back), so any two values of one type can meet in an op. Constants
favour the values rewrite rules look for (0, 1, -1, 2, -0, NaN, infinities, extremes), and the ops
include the ones XLA's simplifier and constant folder treat specially. The root is a tuple of the
last few values made, so most of the module is live.

    text = random_module(seed=3)      # HLO text XLA's parser accepts

`python -m tests.passes.random_hlo SEED` prints one.
"""

from __future__ import annotations

import math
import sys

import numpy as np

FLOATS = ("f32", "f16", "bf16")
INTS = ("s32", "s8", "u8", "u32")
DTYPES = FLOATS + INTS + ("pred",)
SHAPES = ((2, 3), (4,), (2, 1, 3), (3, 2, 2))

_FLOAT_SPECIAL = ["0", "1", "-1", "2", "0.5", "-0", "3", "inf", "-inf", "nan", "1e-30", "100"]
_INT_SPECIAL = {
    "s32": ["0", "1", "-1", "2", "3", "7", "31", "-2147483648", "2147483647", "-5"],
    "s8": ["0", "1", "-1", "2", "3", "7", "-128", "127", "-5", "100"],
    "u8": ["0", "1", "2", "3", "7", "8", "128", "200", "255", "100"],
    "u32": ["0", "1", "2", "3", "31", "32", "2147483648", "4294967295", "100", "5"],
}
_FLOAT_MAX = {"f32": "3.40282347e+38", "f16": "65504", "bf16": "3.38953139e+38"}

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


def random_module(seed: int, ops: int = 14) -> str:
    """HLO text of a random module of about `ops` operations (see the module docstring)."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng, SHAPES[int(rng.integers(len(SHAPES)))])
    for _ in range(ops):
        getattr(b, b.pick(_OPS))()
    if not b.made:
        b.leaf("f32")
    roots = list(dict.fromkeys(b.made[-int(rng.integers(1, 4)):]))
    return b.text(roots)


if __name__ == "__main__":
    print(random_module(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
