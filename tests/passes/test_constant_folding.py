"""constant-folding: what folds (with exact per-type arithmetic) and what must not."""

from __future__ import annotations

import re

import pytest

from hloenv import compare, parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, option_rules, select
from hloenv.passes import PASSES
from hloenv.passes.constant_folding import ConstantFolding
from hloenv.passes.dce import DeadCodeElimination
from tests.passes.algsimp.helpers import ADD, module_text


def fold(body: str, extra: str = "", **options) -> tuple[str, int]:
    module = parse_hlo(module_text(body, extra))
    module.verify()
    result = ConstantFolding(**options)(module)
    DeadCodeElimination()(module)
    module.verify()
    return module.to_text(), result.rewrites


def root_constant(text: str) -> str:
    m = re.search(r"ROOT \S+ = (\S+) constant\((.*)\)\n", text)
    assert m, text
    return m.group(1) + " " + m.group(2)


@pytest.mark.parametrize("body,expected", [
    ("a = f32[2] constant({1, 2})\nb = f32[2] constant({3, 4})\nROOT r = f32[2] add(a, b)", "f32[2] {4, 6}"),
    ("a = f32[] constant(0.1)\nb = f32[] constant(0.2)\nROOT r = f32[] add(a, b)",  # f32 arithmetic, not f64
     "f32[] 0.30000001192092896"),
    ("a = s32[] constant(2147483647)\nb = s32[] constant(1)\nROOT r = s32[] add(a, b)", "s32[] -2147483648"),
    ("a = u8[] constant(3)\nb = u8[] constant(5)\nROOT r = u8[] subtract(a, b)", "u8[] 254"),
    ("a = s32[] constant(-7)\nb = s32[] constant(2)\nROOT r = s32[] divide(a, b)", "s32[] -3"),
    ("a = s32[] constant(-7)\nb = s32[] constant(2)\nROOT r = s32[] remainder(a, b)", "s32[] -1"),
    # (a NaN an invalid operation makes: numpy's is x86's default, -nan, as XLA's own folder gives;
    # XLA's compiled code gives either sign, depending on how the operands were made)
    ("a = f32[] constant(0)\nROOT r = f32[] divide(a, a)", "f32[] -nan"),
    ("a = f32[] constant(1)\nz = f32[] constant(0)\nROOT r = f32[] divide(a, z)", "f32[] inf"),
    ("a = f32[] constant(-1)\nROOT r = f32[] log(a)", "f32[] -nan"),
    ("a = u32[] constant(2147483648)\nb = u32[] constant(31)\nROOT r = u32[] shift-right-logical(a, b)", "u32[] 1"),
    ("a = s32[] constant(-8)\nb = s32[] constant(1)\nROOT r = s32[] shift-right-logical(a, b)", "s32[] 2147483644"),
    ("a = s32[] constant(-8)\nb = s32[] constant(1)\nROOT r = s32[] shift-right-arithmetic(a, b)", "s32[] -4"),
    # unsigned too: the top bit fills in (numpy's right_shift of a u8 is a logical shift)
    ("a = u8[3] constant({200, 129, 255})\nb = u8[3] constant({1, 1, 7})\n"
     "ROOT r = u8[3] shift-right-arithmetic(a, b)", "u8[3] {228, 192, 255}"),
    ("a = u32[2] constant({4294967295, 2147483648})\nb = u32[2] constant({4, 31})\n"
     "ROOT r = u32[2] shift-right-arithmetic(a, b)", "u32[2] {4294967295, 4294967295}"),
    ("a = f32[] constant(2.5)\nROOT r = f32[3] broadcast(a), dimensions={}", "f32[3] {2.5, 2.5, 2.5}"),
    ("a = s32[2,3] constant({ {1,2,3},{4,5,6} })\nROOT r = s32[3,2] transpose(a), dimensions={1,0}",
     "s32[3,2] { {1, 4}, {2, 5}, {3, 6} }"),
    ("a = s32[2,3] constant({ {1,2,3},{4,5,6} })\nROOT r = s32[3,2] reshape(a)", "s32[3,2] { {1, 2}, {3, 4}, {5, 6} }"),
    ("a = s32[6] constant({1,2,3,4,5,6})\nROOT r = s32[2] slice(a), slice={[1:5:2]}", "s32[2] {2, 4}"),
    ("a = s32[2] constant({1,2})\nb = s32[1] constant({3})\nROOT r = s32[3] concatenate(a, b), dimensions={0}",
     "s32[3] {1, 2, 3}"),
    ("a = f32[3] constant({-1.5, 2.7, -0.5})\nROOT r = s32[3] convert(a)", "s32[3] {-1, 2, 0}"),
    ("a = f32[2] constant({1.00390625, 3})\nROOT r = bf16[2] convert(a)", "bf16[2] {1, 3}"),
    ("ROOT r = s32[2,3] iota(), iota_dimension=1", "s32[2,3] { {0, 1, 2}, {0, 1, 2} }"),
    ("a = f32[2] constant({1, nan})\nROOT r = pred[2] compare(a, a), direction=EQ", "pred[2] {true, false}"),
    ("p = pred[2] constant({1, 0})\na = f32[2] constant({1, 2})\nb = f32[2] constant({3, 4})\n"
     "ROOT r = f32[2] select(p, a, b)", "f32[2] {1, 4}"),
])
def test_folds(body, expected):
    text, rewrites = fold(body)
    assert rewrites >= 1
    assert root_constant(text) == expected


def test_a_reduce_whose_init_is_not_the_identity_is_not_folded():
    """XLA turns a reduce over dimensions of size 1 (or none) into its input, the init value
    unused: HLO leaves a non-identity init undefined, so the fold (init applied) disagreed."""
    body = "a = u32[2,1] constant({ {31}, {31} })\nz = u32[] constant(2147483648)\nROOT r = u32[2] reduce(a, z), dimensions={1}, to_apply=mul"
    assert fold(body, MUL.replace("f32", "u32"))[1] == 0


def test_folds_reduce_with_add_and_max():
    body = "a = f32[2,3] constant({ {1,2,3},{4,5,6} })\nz = f32[] constant(0)\nROOT r = f32[2] reduce(a, z), dimensions={1}, to_apply=add"
    assert root_constant(fold(body, ADD)[0]) == "f32[2] {6, 15}"
    mx = ADD.replace("add {", "max {").replace("add(a, b)", "maximum(a, b)")
    body = "a = s32[2,2] constant({ {1,7},{4,5} })\nz = s32[] constant(-2147483648)\nROOT r = s32[2] reduce(a, z), dimensions={0}, to_apply=max"
    assert root_constant(fold(body, mx.replace("f32", "s32"))[0]) == "s32[2] {4, 7}"


def test_folds_a_chain_in_one_real_run():
    text, rewrites = fold("a = f32[] constant(1)\nb = f32[] add(a, a)\nc = f32[] multiply(b, b)\nROOT r = f32[] negate(c)")
    assert rewrites == 3 and root_constant(text) == "f32[] -4"


@pytest.mark.parametrize("body", [
    "x = f32[2] parameter(0)\na = f32[2] constant({1, 2})\nROOT r = f32[2] add(a, x)",            # not all constant
    "a = s32[] constant(7)\nz = s32[] constant(0)\nROOT r = s32[] divide(a, z)",                  # implementation-defined
    "a = s32[] constant(-2147483648)\nm = s32[] constant(-1)\nROOT r = s32[] divide(a, m)",
    "a = s32[] constant(1)\nb = s32[] constant(32)\nROOT r = s32[] shift-left(a, b)",
    "a = f32[2] constant({nan, 1})\nROOT r = s32[2] convert(a)",                                  # NaN -> int
    "a = f32[] constant(1e10)\nROOT r = s32[] convert(a)",                                        # out of range
    "a = f32[] constant(1)\nROOT r = f32[64] broadcast(a), dimensions={}",                        # grows a constant
    "ROOT r = s32[100] iota(), iota_dimension=0",
    "a = f32[2000] parameter(0)\nROOT r = f32[2000] negate(a)",
])
def test_does_not_fold(body):
    assert fold(body)[1] == 0


def test_result_size_cap():
    body = "a = f32[] constant(1)\nb = f32[4] broadcast(a), dimensions={}\nROOT r = f32[4] negate(b)"
    assert fold(body, max_elements=2, max_expanding_elements=2)[1] == 0
    assert fold(body)[1] == 2


def test_registered_and_dry_mode_offers_the_constant():
    assert PASSES["constant-folding"] is ConstantFolding
    module = parse_hlo(module_text("x = f32[2] parameter(0)\na = f32[2] constant({1, 2})\nb = f32[2] add(a, a)\n"
                                   "ROOT r = f32[2] multiply(b, x)"))
    ConstantFolding()(module, dry=True)
    (node,) = alternatives_nodes(module)
    assert option_rules(node) == ["original", "constant-folding"]
    assert node.operands[1].opcode == "constant" and node.operands[1].payload == "{2, 4}"


def test_xla_reads_folded_literals_back_exactly():
    # Values whose shortest decimal forms are long; the folded module must compute the same bits.
    body = """x = f32[3] parameter(0)
a = f32[3] constant({0.1, 3.14159274, -1e-30})
b = f32[3] constant({0.2, 2.71828175, 3e-8})
c = f32[3] multiply(a, b)
d = f32[3] divide(c, b)
h = bf16[3] convert(d)
e = f32[3] convert(h)
ROOT r = f32[3] add(e, x)"""
    original = module_text(body)
    folded, rewrites = fold(body)
    assert rewrites == 4 and "multiply(" not in folded
    result = compare(original, folded, rtol=0, atol=0)
    assert result.equal, str(result)


def test_xla_shifts_unsigned_values_as_the_fold_does():
    body = """x = u8[3] parameter(0)
a = u8[3] constant({200, 129, 3})
b = u8[3] constant({1, 7, 1})
s = u8[3] shift-right-arithmetic(a, b)
ROOT r = u8[3] add(s, x)"""
    original = module_text(body)
    folded, rewrites = fold(body)
    assert rewrites >= 1 and "shift-right-arithmetic(" not in folded
    result = compare(original, folded, rtol=0, atol=0)
    assert result.equal, str(result)


def test_dry_choices_compute_the_same():
    body = "x = s32[3] parameter(0)\na = s32[3] constant({2147483647, -5, 9})\nb = s32[3] add(a, a)\n" \
           "ROOT r = s32[3] multiply(b, x)"
    module = parse_hlo(module_text(body))
    ConstantFolding()(module, dry=True)
    select(module, [1] * len(alternatives_nodes(module)))
    assert compare(module_text(body), module).equal


@pytest.mark.parametrize("body", [
    "i = s32[2] iota(), iota_dimension=0\nROOT r = s32[2] remainder(i, i)",             # divisor {0, 1}
    "i = s32[2] iota(), iota_dimension=0\nz = s32[] constant(0)\n"                      # dividend folds
    "zb = s32[2] broadcast(z), dimensions={}\nROOT r = s32[2] divide(i, zb)",
])
def test_does_not_hand_xla_a_constant_division_by_zero(body):
    """XLA divides constant operands while compiling and dies of SIGFPE on a zero divisor; it
    runs the same division on computed operands. Folding must not turn one into the other."""
    from hloenv import evaluate
    original = module_text(body)
    assert evaluate(original, repeats=1, min_repeats=1, warmup=1, cache=False).samples  # XLA compiles it
    folded, _ = fold(body)
    assert "iota(" in folded, folded
    assert evaluate(folded, repeats=1, min_repeats=1, warmup=1, cache=False).samples


def test_an_iota_folds_unless_an_integer_division_is_computed_from_it():
    assert fold("i = s32[3] iota(), iota_dimension=0\nROOT r = s32[3] negate(i)")[1] == 2
    text, rewrites = fold("a = s32[2] constant({7, 9})\nt = s32[] constant(3)\n"
                          "tb = s32[2] broadcast(t), dimensions={}\nROOT r = s32[2] divide(a, tb)")
    assert rewrites == 2 and root_constant(text) == "s32[2] {2, 3}"  # (constants: XLA folds them too)


MUL = ADD.replace("add {", "mul {").replace("add(a, b)", "multiply(a, b)")


@pytest.mark.parametrize("values,init", [
    ("{3.4e38, 2, -0.0}", "1"),     # 3.4e38 * 2 overflows first in XLA's order: NaN, not -0
    ("{1, inf}", "1"),              # infinities and NaN are never folded in a product
    ("{1e30, 1e30}", "1"),          # a partial product may overflow
    ("{1, 2}", "2"),                # an init value that is not the identity: undefined in HLO
])
def test_a_float_product_whose_value_depends_on_the_order_is_not_folded(values, init):
    n = values.count(",") + 1
    body = f"a = f32[{n}] constant({values})\ni = f32[] constant({init})\nROOT r = f32[] reduce(a, i), dimensions={{0}}, to_apply=mul"
    assert fold(body, MUL)[1] == 0


def test_a_float_product_folds_when_no_order_can_overflow_and_xla_agrees():
    body = "x = f32[] parameter(0)\na = f32[3] constant({1.5, -2, 1e-3})\ni = f32[] constant(1)\n" \
           "p = f32[] reduce(a, i), dimensions={0}, to_apply=mul\nROOT r = f32[] add(p, x)"
    folded, rewrites = fold(body, MUL)
    assert rewrites == 1
    result = compare(module_text(body, MUL), folded, disable_passes=["constant_folding"])
    assert result.equal, str(result)


_SPECIAL_VALUES = ["0", "-0", "-0.0", "1", "-1", "2", "-2", "0.5", "inf", "-inf", "nan", "3", "1e-30", "100", "-100"]


def _subnormal_result(text: str, dtype: str) -> bool:
    import numpy as np
    from hloenv.passes.algsimp.literals import NUMPY_TYPES, constant_array
    from hloenv.passes.constant_folding import _flushed_by_xla, fold as fold_value
    root = parse_hlo(text).entry.root
    with np.errstate(all="ignore"):
        value = np.asarray(fold_value(root, [constant_array(o) for o in root.operands])).astype(NUMPY_TYPES[dtype])
    return _flushed_by_xla(value, dtype)


def _special_grid_module(dtype: str, op: str, arity: int) -> str:
    if arity == 1:
        columns = [_SPECIAL_VALUES]
    else:
        pairs = [(a, b) for a in _SPECIAL_VALUES for b in _SPECIAL_VALUES]
        columns = [[a for a, _ in pairs], [b for _, b in pairs]]
    n = len(columns[0])
    body = "\n".join(f"c{i} = {dtype}[{n}] constant({{{', '.join(v)}}})" for i, v in enumerate(columns))
    args = ", ".join(f"c{i}" for i in range(arity))
    return module_text(f"{body}\nROOT r = {dtype}[{n}] {op}({args})")


@pytest.mark.parametrize("dtype", ["f32", pytest.param("f16", marks=pytest.mark.slow),
                                   pytest.param("bf16", marks=pytest.mark.slow), pytest.param("f64", marks=pytest.mark.slow)])
def test_folds_special_values_as_xla_computes_them(dtype):
    """Every float op folded on zeros of both signs, infinities, NaN and ordinary values gives what
    XLA's compiled code gives (its own constant folding off). XLA reads the token "-0" as the
    integer 0, so +0.0 (1 / -0 is inf there; only "-0.0" is negative), and a folded -0.0 prints
    as "-0.0"."""
    from hloenv.passes.constant_folding import _FLOAT_BINARY, _FLOAT_UNARY
    from hloenv.xla.tolerance import compare_arrays
    from hloenv import evaluate
    run = dict(return_outputs=True, warmup=1, repeats=1, min_repeats=1, cache=False,
               disable_passes=["constant_folding"])
    for op, arity in [*((op, 1) for op in sorted(_FLOAT_UNARY)), *((op, 2) for op in sorted(_FLOAT_BINARY))]:
        original = _special_grid_module(dtype, op, arity)
        folded, rewrites = fold(original.split("ENTRY e {\n")[1].rsplit("}", 1)[0])
        if rewrites == 0:  # left to XLA only for a subnormal result (exp(-100)), which XLA's code flushes
            assert _subnormal_result(original, dtype), (op, folded)
            continue
        expected, got = evaluate(original, **run).outputs[0], evaluate(folded, **run).outputs[0]
        assert compare_arrays(0, got, expected).equal, (op, [(i, expected[i], got[i]) for i in range(len(got))
                                                              if not compare_arrays(0, got[i:i + 1], expected[i:i + 1]).equal][:5])


def test_negative_zero_is_read_and_written_as_xla_does():
    import numpy as np
    from hloenv.altgraph.shape import parse_shape
    from hloenv.passes.algsimp.literals import format_literal, read_literal
    values = read_literal("{-0, -0.0, 0}", parse_shape("f32[3]"))
    assert np.signbit(values).tolist() == [False, True, False]
    assert format_literal(np.array([-0.0, 0.0], np.float32), "f32") == "{-0.0, 0}"


NAN_TEXT = "{nan, -nan, nan(0x1), -nan(0x3), 1}"
NAN_TYPES = {"f16": "s16", "bf16": "s16", "f32": "s32", "f64": "s64"}


def test_nan_signs_and_payloads_are_read_and_written_as_xla_does():
    """XLA's `-nan` has the sign bit set and `nan(0x1)` that mantissa: both were read and printed
    as `nan`, the quiet +NaN."""
    import numpy as np

    from hloenv import evaluate
    from hloenv.altgraph.shape import parse_shape
    from hloenv.passes.algsimp.literals import format_literal, read_literal
    lines = []
    for dtype, ints in NAN_TYPES.items():
        lines += [f"c_{dtype} = {dtype}[5] constant({NAN_TEXT})", f"b_{dtype} = {ints}[5] bitcast-convert(c_{dtype})"]
    roots = ", ".join(f"b_{d}" for d in NAN_TYPES)
    types = ", ".join(f"{i}[5]" for i in NAN_TYPES.values())
    text = module_text("\n".join(lines) + f"\nROOT r = ({types}) tuple({roots})")
    xla_bits = evaluate(text, return_outputs=True, repeats=1, min_repeats=1, warmup=0, cache=False).outputs
    for (dtype, ints), expected in zip(NAN_TYPES.items(), xla_bits):
        values = read_literal(NAN_TEXT, parse_shape(f"{dtype}[5]"))
        assert values.view(np.dtype(expected.dtype)).tolist() == expected.tolist(), dtype
        assert format_literal(values, dtype) == NAN_TEXT
        assert format_literal(values[1], dtype) == "-nan"


def test_a_folded_nan_keeps_the_sign_and_payload_xla_gives_it():
    # numpy, as XLA, flips a NaN's sign in negate and clears it in abs, payload kept; every NaN was
    # printed as nan, so bitcast-convert (and TOTALORDER compares, sorts) saw +NaN's bits
    body = """c = f32[] constant(nan)
n = f32[3] broadcast(c), dimensions={}
g = f32[3] negate(n)
q = f32[3] constant({-nan(0x3), nan(0x7), 1})
h = f32[3] negate(q)
a = f32[3] abs(q)
bg = s32[3] bitcast-convert(g)
bh = s32[3] bitcast-convert(h)
ba = s32[3] bitcast-convert(a)
ROOT r = (s32[3], s32[3], s32[3]) tuple(bg, bh, ba)"""
    folded, rewrites = fold(body)
    assert rewrites >= 3 and "{-nan, -nan, -nan}" in folded and "{nan(0x3), -nan(0x7), -1}" in folded
    result = compare(module_text(body), folded, rtol=0, atol=0)
    assert result.equal, str(result)


SUBNORMAL = """p = f32[] parameter(0)
a = f32[3] constant({1e-45, 1e-40, 1})
b = f32[3] constant({1e-45, 1e-40, 1})
t = f32[3] atan2(a, b)
m = f32[3] exponential-minus-one(a)
s = f32[] constant(1e-20)
q = f32[] multiply(s, s)
ROOT r = (f32[3], f32[3], f32[], f32[]) tuple(t, m, q, p)"""


def test_arithmetic_on_subnormals_is_left_to_xla_which_flushes_them():
    """XLA's CPU code reads and writes subnormals as zero; numpy (and so a fold) keeps them. The
    canonicalising passes folded atan2(1e-45, 1e-45) to 0.785 where XLA computes nan, and
    1e-20 * 1e-20 to 1e-40 where XLA computes 0."""
    folded, rewrites = fold(SUBNORMAL)
    assert rewrites == 0, folded
    result = compare(module_text(SUBNORMAL), folded, rtol=0, atol=0)
    assert result.equal, str(result)
    moved, rewrites = fold("a = f32[2] constant({1e-45, 1})\nROOT r = f32[2] reverse(a), dimensions={0}")
    assert rewrites == 1 and "constant({1, 1.4" in moved  # (moving values is no arithmetic: folded)
    # f16 is computed in f32, where its subnormals are normal numbers: folded, as XLA computes it
    half = "p = f16[] parameter(0)\na = f16[] constant(1e-07)\nb = f16[] constant(3)\nm = f16[] multiply(a, b)\n" \
           "ROOT r = (f16[], f16[]) tuple(m, p)"
    folded, rewrites = fold(half)
    assert rewrites == 1 and compare(module_text(half), folded, rtol=0, atol=0).equal
