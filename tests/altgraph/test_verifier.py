"""The verifier: every modelled opcode accepts a valid case and rejects a broken one at its line.

Corpus modules are real XLA output, so none may fail; the slice in tests/conftest.py runs always,
the full sweep is `pytest -m slow`.
"""

from __future__ import annotations

import random

import pytest

from hloenv import HloVerifyError, load_hlo, parse_hlo
from hloenv.altgraph.shape import Shape
from tests.conftest import corpus_params

ELIDED = {"module_0698.jit__lambda_.256.before_optimizations.txt",
          "module_0101.jit_accuracy.49.before_optimizations.txt"}

ADD = """
add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = f32[] add(x, y)
}
"""
ADD2 = """
add2 {
  a = f32[] parameter(0)
  b = s32[] parameter(1)
  c = f32[] parameter(2)
  d = s32[] parameter(3)
  e = f32[] add(a, c)
  f = s32[] add(b, d)
  ROOT t = (f32[], s32[]) tuple(e, f)
}
"""
LESS = """
less {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT c = pred[] compare(x, y), direction=LT
}
"""
NEG = """
neg {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}
"""
LOOP = """
cond {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(10)
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  one = s32[] constant(1)
  j = s32[] add(i, one)
  x = f32[4] get-tuple-element(s), index=1
  ROOT t = (s32[], f32[4]) tuple(j, x)
}
"""
BRANCHES = """
b0 {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}
b1 {
  x = f32[4] parameter(0)
  ROOT e = f32[4] exponential(x)
}
"""

def _hlo(body: str, extra: str = "") -> str:
    """A module whose entry computation has the given body lines."""
    lines = "\n".join("  " + line.strip() for line in body.strip().splitlines())
    return f"HloModule m\n{extra}\nENTRY main {{\n{lines}\n}}\n"


def _ok(body: str, extra: str = "") -> None:
    parse_hlo(_hlo(body, extra)).verify()


def _fails(body: str, bad: str, match: str, extra: str = "", comp: str = "main") -> HloVerifyError:
    """verify() raises HloVerifyError at the line of instruction `bad` (in computation `comp`)."""
    text = _hlo(body, extra)
    module = parse_hlo(text)
    with pytest.raises(HloVerifyError, match=match) as info:
        module.verify()
    err = info.value
    where = module.computation(comp)
    assert err.line == where.instruction(bad).line, str(err)
    assert err.column == 1
    assert f"instruction {bad!r}" in str(err) and f"computation {comp!r}" in str(err)
    return err


# -- valid cases ------------------------------------------------------------------------------------
VALID = {
    "unary": "p = f32[2,3] parameter(0)\nROOT r = f32[2,3] exponential(p)",
    "unary-chain": """p = f32[4] parameter(0)
        a = f32[4] log(p)
        b = f32[4] logistic(a)
        c = f32[4] floor(b)
        d = f32[4] tanh(c)
        ROOT r = f32[4] rsqrt(d)""",
    "abs-complex": "p = c64[4] parameter(0)\nROOT r = f32[4] abs(p)",
    "real-imag": "p = c128[4] parameter(0)\nre = f64[4] real(p)\nROOT im = f64[4] imag(p)",
    "is-finite": "p = bf16[4] parameter(0)\nROOT r = pred[4] is-finite(p)",
    "not-popcnt-clz": "p = u32[4] parameter(0)\na = u32[4] not(p)\nb = u32[4] popcnt(a)\n"
                      "ROOT r = u32[4] count-leading-zeros(b)",
    "binary": "p = f32[2] parameter(0)\nq = f32[2] parameter(1)\na = f32[2] add(p, q)\n"
              "b = f32[2] power(a, q)\nc = f32[2] atan2(b, p)\nROOT r = f32[2] remainder(c, q)",
    "compare": "p = s32[2] parameter(0)\nROOT r = pred[2] compare(p, p), direction=GE",
    "logic": "p = pred[3] parameter(0)\nq = pred[3] and(p, p)\nROOT r = pred[3] xor(q, p)",
    "shift": "p = u8[3] parameter(0)\nROOT r = u8[3] shift-right-logical(p, p)",
    "complex": "p = f32[3] parameter(0)\nROOT r = c64[3] complex(p, p)",
    "select": "c = pred[3] parameter(0)\np = f32[3] parameter(1)\nROOT r = f32[3] select(c, p, p)",
    "clamp": "lo = f32[] parameter(0)\np = f32[3] parameter(1)\nROOT r = f32[3] clamp(lo, p, lo)",
    "convert": "p = f32[3] parameter(0)\nROOT r = s8[3] convert(p)",
    "bitcast-convert": "p = f32[3] parameter(0)\nb = u8[3,4] bitcast-convert(p)\n"
                       "c = f32[3] bitcast-convert(b)\nROOT r = s32[3] bitcast-convert(c)",
    "broadcast": "p = f32[3] parameter(0)\nROOT r = f32[2,3,4]{2,1,0} broadcast(p), dimensions={1}",
    "reshape": "p = f32[2,6] parameter(0)\nROOT r = f32[3,4] reshape(p)",
    "transpose": "p = f32[2,3,4] parameter(0)\nROOT r = f32[4,2,3] transpose(p), dimensions={2,0,1}",
    "slice": "p = f32[10,8] parameter(0)\nROOT r = f32[3,2] slice(p), slice={[1:10:3], [4:6]}",
    "dynamic-slice": "p = f32[10,8] parameter(0)\ni = s32[] parameter(1)\n"
                     "ROOT r = f32[2,8] dynamic-slice(p, i, i), dynamic_slice_sizes={2,8}",
    "dynamic-update-slice": "p = f32[10,8] parameter(0)\nu = f32[2,8] parameter(1)\ni = s32[] parameter(2)\n"
                            "ROOT r = f32[10,8] dynamic-update-slice(p, u, i, i)",
    "concatenate": "p = f32[2,3] parameter(0)\nq = f32[5,3] parameter(1)\n"
                   "ROOT r = f32[9,3] concatenate(p, q, p), dimensions={0}",
    "pad": "p = f32[3,4] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[6,9] pad(p, z), padding=1_2x-1_0_2",
    "iota": "ROOT r = s32[4,5] iota(), iota_dimension=1",
    "reverse": "p = f32[4,5] parameter(0)\nROOT r = f32[4,5] reverse(p), dimensions={0,1}",
    "tuple-gte": "p = f32[4] parameter(0)\nq = s32[] parameter(1)\nt = (f32[4], s32[]) tuple(p, q)\n"
                 "ROOT r = s32[] get-tuple-element(t), index=1",
    "dot": "a = f32[8,2,3] parameter(0)\nb = f32[8,3,5] parameter(1)\nROOT r = f32[8,2,5] dot(a, b), "
           "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}",
    "dot-mixed-precision": "a = bf16[2,3] parameter(0)\nb = bf16[3] parameter(1)\n"
                           "ROOT r = f32[2] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}",
    "convolution": "x = f32[1,8,8,4] parameter(0)\nk = f32[3,3,4,16] parameter(1)\n"
                   "ROOT r = f32[1,4,4,16] convolution(x, k), window={size=3x3 stride=2x2 pad=1_1x1_1}, "
                   "dim_labels=b01f_01io->b01f",
    "convolution-grouped": "x = f32[2,6,10] parameter(0)\nk = f32[3,2,6] parameter(1)\n"
                           "ROOT r = f32[2,6,4] convolution(x, k), window={size=3 rhs_dilate=3}, "
                           "dim_labels=bf0_0io->bf0, feature_group_count=3",
    "custom-call-unmodelled": "p = f32[4] parameter(0)\nROOT r = (f32[9], s32[]) custom-call(p), "
                              "custom_call_target=\"foo\"",
    "constant-literals": "a = f32[4] constant({1, -2.5, 1e-05, -inf})\nb = f32[] constant(-nan(0x7fffff))\n"
                         "c = u8[2,2] constant({ /*i0=0*/ {0, 255}, /*i0=1*/ {1, 2} })\n"
                         "d = pred[3] constant({true, false, 1})\ne = f32[0] constant({})\n"
                         "f = s8[] constant(-128)\nROOT t = (f32[4], f32[], u8[2,2], pred[3], f32[0], s8[]) "
                         "tuple(a, b, c, d, e, f)",
    "elementwise-attributes": "p = f32[4] parameter(0), sharding={replicated}\n"
                              "e = f32[4] exponential(p), metadata={op_name=\"e\"}, frontend_attributes={a=\"b\"}\n"
                              "r = f32[4] reduce-precision(e), exponent_bits=5, mantissa_bits=10\n"
                              "ROOT c = pred[4] compare(r, p), direction=LT, type=TOTALORDER",
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_valid(body: str) -> None:
    _ok(body)


def test_valid_calls() -> None:
    _ok("p = f32[4] parameter(0)\nz = f32[] constant(0)\nr1 = f32[] reduce(p, z), dimensions={0}, to_apply=add\n"
        "w = f32[2] reduce-window(p, z), window={size=3 stride=2 pad=0_1}, to_apply=add\n"
        "c = f32[4] call(p), to_apply=neg\n"
        "ROOT t = (f32[], f32[2], f32[4]) tuple(r1, w, c)", ADD + NEG)
    _ok("a = f32[2,3] parameter(0)\nb = s32[2,3] parameter(1)\nz = f32[] constant(0)\ny = s32[] constant(0)\n"
        "ROOT r = (f32[3], s32[3]) reduce(a, b, z, y), dimensions={0}, to_apply=add2", ADD2)
    _ok("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
        "ROOT w = (s32[], f32[4]) while(t), condition=cond, body=body", LOOP)
    _ok("c = pred[] parameter(0)\nx = f32[4] parameter(1)\n"
        "ROOT r = f32[4] conditional(c, x, x), true_computation=b0, false_computation=b1", BRANCHES)
    _ok("c = s32[] parameter(0)\nx = f32[4] parameter(1)\n"
        "ROOT r = f32[4] conditional(c, x, x), branch_computations={b0, b1}", BRANCHES)
    _ok("x = f32[4,5] parameter(0)\ny = f32[4,5] map(x, x), dimensions={0,1}, to_apply=add\n"
        "ROOT r = f32[4,5] all-reduce(y), replica_groups={}, to_apply=add", ADD)
    _ok("x = f32[4,5] parameter(0)\nROOT r = f32[4,5] sort(x), dimensions={1}, is_stable=true, to_apply=less", LESS)


def test_valid_gather_scatter() -> None:
    _ok("x = f32[5,4] parameter(0)\ni = s32[3,1] parameter(1)\n"
        "ROOT g = f32[3,4] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, "
        "index_vector_dim=1, slice_sizes={1,4}")
    _ok("x = f32[5,4] parameter(0)\ni = s32[3,1] parameter(1)\nu = f32[3,4] parameter(2)\n"
        "ROOT s = f32[5,4] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, "
        "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add", ADD)


def test_valid_2022_era_with_layout() -> None:
    text = ("HloModule m, entry_computation_layout={(f32[2]{0})->f32[2]{0}}\n\n"
            "ENTRY %main (p: f32[2]) -> f32[2] {\n"
            "  %p = f32[2]{0} parameter(0)\n"
            "  ROOT %n = f32[2]{0} negate(f32[2]{0} %p)\n}\n")
    parse_hlo(text).verify()


# -- failing cases ----------------------------------------------------------------------------------
FAILING = {
    "unary-type": ("p = s32[4] parameter(0)\nROOT r = s32[4] exponential(p)", "r", "floating-point"),
    "unary-shape": ("p = f32[4] parameter(0)\nROOT r = f32[5] negate(p)", "r", "does not match the inferred"),
    "unary-count": ("p = f32[4] parameter(0)\nROOT r = f32[4] negate(p, p)", "r", "expects 1 operands, got 2"),
    "is-finite-result": ("p = f32[4] parameter(0)\nROOT r = f32[4] is-finite(p)", "r", "pred\\[4\\]"),
    "popcnt-float": ("p = f32[4] parameter(0)\nROOT r = f32[4] popcnt(p)", "r", "integer"),
    "abs-complex-result": ("p = c64[4] parameter(0)\nROOT r = c64[4] abs(p)", "r", "inferred shape f32"),
    "binary-dims": ("p = f32[4] parameter(0)\nq = f32[1] parameter(1)\nROOT r = f32[4] add(p, q)",
                    "r", "implicit broadcast"),
    "binary-types": ("p = f32[4] parameter(0)\nq = s32[4] parameter(1)\nROOT r = f32[4] multiply(p, q)",
                     "r", "different element types"),
    "binary-count": ("p = f32[4] parameter(0)\nROOT r = f32[4] add(p, p, p)", "r", "expects 2 operands, got 3"),
    "binary-tuple-operand": ("p = (f32[4]) parameter(0)\nROOT r = f32[4] add(p, p)", "r", "must be an array"),
    "compare-result": ("p = f32[4] parameter(0)\nROOT r = f32[4] compare(p, p), direction=LT", "r", "pred"),
    "compare-direction": ("p = f32[4] parameter(0)\nROOT r = pred[4] compare(p, p), direction=LESS",
                          "r", "comparison direction"),
    "compare-missing-direction": ("p = f32[4] parameter(0)\nROOT r = pred[4] compare(p, p)",
                                  "r", "missing attribute 'direction'"),
    "shift-float": ("p = f32[4] parameter(0)\nROOT r = f32[4] shift-left(p, p)", "r", "integer"),
    "and-float": ("p = f32[4] parameter(0)\nROOT r = f32[4] and(p, p)", "r", "pred or an integer"),
    "complex-s32": ("p = s32[4] parameter(0)\nROOT r = c64[4] complex(p, p)", "r", "f32 or f64"),
    "select-pred": ("c = f32[3] parameter(0)\np = f32[3] parameter(1)\nROOT r = f32[3] select(c, p, p)",
                    "r", "predicate must be pred"),
    "select-branches": ("c = pred[3] parameter(0)\np = f32[3] parameter(1)\nq = s32[3] parameter(2)\n"
                        "ROOT r = f32[3] select(c, p, q)", "r", "branches differ"),
    "clamp-bounds": ("lo = f32[2] parameter(0)\np = f32[3] parameter(1)\nROOT r = f32[3] clamp(lo, p, lo)",
                     "r", "scalar or match"),
    "convert-dims": ("p = f32[3] parameter(0)\nROOT r = s32[4] convert(p)", "r", "does not match"),
    "convert-complex-real": ("p = c64[3] parameter(0)\nROOT r = f32[3] convert(p)", "r", "complex"),
    "bitcast-convert-width": ("p = f32[3] parameter(0)\nROOT r = u8[3] bitcast-convert(p)", "r",
                              "inferred shape u8\\[3,4\\]"),
    "broadcast-size": ("p = f32[3] parameter(0)\nROOT r = f32[2,4] broadcast(p), dimensions={1}",
                       "r", "operand dimension 0"),
    "broadcast-dims": ("p = f32[3] parameter(0)\nROOT r = f32[2,3] broadcast(p), dimensions={2}",
                       "r", "out of range"),
    "broadcast-missing": ("p = f32[3] parameter(0)\nROOT r = f32[2,3] broadcast(p)", "r",
                          "missing attribute 'dimensions'"),
    "broadcast-type": ("p = f32[3] parameter(0)\nROOT r = s32[2,3] broadcast(p), dimensions={1}",
                       "r", "does not match"),
    "reshape-count": ("p = f32[2,6] parameter(0)\nROOT r = f32[5,2] reshape(p)", "r", "cannot reshape"),
    "transpose-perm": ("p = f32[2,3] parameter(0)\nROOT r = f32[3,2] transpose(p), dimensions={1,1}",
                       "r", "not a permutation"),
    "transpose-result": ("p = f32[2,3] parameter(0)\nROOT r = f32[2,3] transpose(p), dimensions={1,0}",
                         "r", "inferred shape f32\\[3,2\\]"),
    "slice-bounds": ("p = f32[10] parameter(0)\nROOT r = f32[5] slice(p), slice={[6:11]}", "r", "invalid"),
    "slice-result": ("p = f32[10] parameter(0)\nROOT r = f32[5] slice(p), slice={[0:10:3]}", "r",
                     "inferred shape f32\\[4\\]"),
    "slice-rank": ("p = f32[10,2] parameter(0)\nROOT r = f32[5] slice(p), slice={[0:5]}", "r", "dimensions"),
    "dynamic-slice-size": ("p = f32[10] parameter(0)\ni = s32[] parameter(1)\n"
                           "ROOT r = f32[11] dynamic-slice(p, i), dynamic_slice_sizes={11}", "r", "exceeds"),
    "dynamic-slice-index-type": ("p = f32[10] parameter(0)\ni = f32[] parameter(1)\n"
                                 "ROOT r = f32[2] dynamic-slice(p, i), dynamic_slice_sizes={2}", "r", "integer"),
    "dynamic-slice-index-count": ("p = f32[10,2] parameter(0)\ni = s32[] parameter(1)\n"
                                  "ROOT r = f32[2,2] dynamic-slice(p, i), dynamic_slice_sizes={2,2}",
                                  "r", "2 scalar start indices"),
    "dynamic-update-slice-fit": ("p = f32[4] parameter(0)\nu = f32[5] parameter(1)\ni = s32[] parameter(2)\n"
                                 "ROOT r = f32[4] dynamic-update-slice(p, u, i)", "r", "does not fit"),
    "concatenate-dims": ("p = f32[2,3] parameter(0)\nq = f32[2,4] parameter(1)\n"
                         "ROOT r = f32[4,3] concatenate(p, q), dimensions={0}", "r", "differ outside"),
    "concatenate-result": ("p = f32[2,3] parameter(0)\nROOT r = f32[5,3] concatenate(p, p), dimensions={0}",
                           "r", "inferred shape f32\\[4,3\\]"),
    "pad-result": ("p = f32[3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[6] pad(p, z), padding=1_1_1",
                   "r", "inferred shape f32\\[7\\]"),
    "pad-value": ("p = f32[3] parameter(0)\nz = s32[] constant(0)\nROOT r = f32[5] pad(p, z), padding=1_1",
                  "r", "padding value"),
    "pad-rank": ("p = f32[3,2] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[5,2] pad(p, z), padding=1_1",
                 "r", "padding has 1 dimensions"),
    "iota-dim": ("ROOT r = s32[4] iota(), iota_dimension=1", "r", "out of range"),
    "iota-operands": ("p = s32[] parameter(0)\nROOT r = s32[4] iota(p), iota_dimension=0", "r",
                      "expects 0 operands"),
    "reverse-dim": ("p = f32[4] parameter(0)\nROOT r = f32[4] reverse(p), dimensions={1}", "r", "out of range"),
    "tuple-result": ("p = f32[4] parameter(0)\nROOT r = (f32[4], f32[3]) tuple(p, p)", "r", "does not match"),
    "gte-index": ("p = (f32[4], s32[]) parameter(0)\nROOT r = f32[4] get-tuple-element(p), index=2",
                  "r", "out of range"),
    "gte-type": ("p = (f32[4], s32[]) parameter(0)\nROOT r = f32[4] get-tuple-element(p), index=1",
                 "r", "does not match"),
    "gte-array": ("p = f32[4] parameter(0)\nROOT r = f32[4] get-tuple-element(p), index=0", "r", "must be a tuple"),
    "dot-contracting": ("a = f32[2,3] parameter(0)\nb = f32[4,5] parameter(1)\n"
                        "ROOT r = f32[2,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}",
                        "r", "contracting dimension sizes differ"),
    "dot-result": ("a = f32[8,2,3] parameter(0)\nb = f32[8,3,5] parameter(1)\nROOT r = f32[2,8,5] dot(a, b), "
                   "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}",
                   "r", "inferred shape f32\\[8,2,5\\]"),
    "dot-batch-count": ("a = f32[8,2,3] parameter(0)\nb = f32[3,5] parameter(1)\nROOT r = f32[8,2,5] dot(a, b), "
                        "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_contracting_dims={0}",
                        "r", "batch dimensions"),
    "conv-features": ("x = f32[1,8,8,4] parameter(0)\nk = f32[3,3,5,16] parameter(1)\n"
                      "ROOT r = f32[1,6,6,16] convolution(x, k), window={size=3x3}, dim_labels=b01f_01io->b01f",
                      "r", "input features"),
    "conv-result": ("x = f32[1,8,8,4] parameter(0)\nk = f32[3,3,4,16] parameter(1)\n"
                    "ROOT r = f32[1,8,8,16] convolution(x, k), window={size=3x3}, dim_labels=b01f_01io->b01f",
                    "r", "inferred shape f32\\[1,6,6,16\\]"),
    "conv-window": ("x = f32[1,8,8,4] parameter(0)\nk = f32[3,3,4,16] parameter(1)\n"
                    "ROOT r = f32[1,7,7,16] convolution(x, k), window={size=2x2}, dim_labels=b01f_01io->b01f",
                    "r", "window size 2"),
    "conv-labels": ("x = f32[1,8,8,4] parameter(0)\nk = f32[3,3,4,16] parameter(1)\n"
                    "ROOT r = f32[1,6,6,16] convolution(x, k), window={size=3x3}, dim_labels=b01f_01xo->b01f",
                    "r", "bad dimension labels"),
    "gather-result": ("x = f32[5,4] parameter(0)\ni = s32[3,1] parameter(1)\n"
                      "ROOT g = f32[4,3] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, "
                      "start_index_map={0}, index_vector_dim=1, slice_sizes={1,4}", "g", "inferred shape f32\\[3,4\\]"),
    "gather-slice-size": ("x = f32[5,4] parameter(0)\ni = s32[3,1] parameter(1)\n"
                          "ROOT g = f32[3,5] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, "
                          "start_index_map={0}, index_vector_dim=1, slice_sizes={1,5}", "g", "exceeds"),
    "parameter-gap": ("p = f32[4] parameter(0)\nq = f32[4] parameter(2)\nROOT r = f32[4] add(p, q)",
                      "q", "gap"),
    "parameter-duplicate": ("p = f32[4] parameter(0)\nq = f32[4] parameter(0)\nROOT r = f32[4] add(p, q)",
                            "q", "also used by 'p'"),
    # constants XLA's parser refuses (each was accepted, and the module failed only when compiled)
    "constant-count": ("ROOT c = f32[3] constant({1, 2})", "c", "the literal has 2 value\\(s\\); f32\\[3\\] holds 3"),
    "constant-int-inf": ("ROOT c = s32[] constant(-inf)", "c", "literal value '-inf' is not a s32 value"),
    "constant-int-fraction": ("ROOT c = s32[2] constant({1, 1.5})", "c", "'1.5' is not a s32 value"),
    "constant-int-range": ("ROOT c = s8[] constant(128)", "c", "128 is out of range for s8 \\(-128..127\\)"),
    "constant-float-word": ("ROOT c = f32[] constant(true)", "c", "'true' is not a f32 value"),
    # a finite value that rounds past the type's largest (65519 rounds to 65504 and is fine)
    "constant-f16-range": ("ROOT c = f16[3] constant({65519, 70000, inf})", "c", "70000 is out of range for f16"),
    "constant-f32-range": ("ROOT c = f32[] constant(3.5e38)", "c", "3.5e38 is out of range for f32"),
    "constant-f64-range": ("ROOT c = f64[] constant(1e309)", "c", "1e309 is out of range for f64"),
    "constant-bf16-range": ("ROOT c = bf16[] constant(-3.4e39)", "c", "-3.4e39 is out of range for bf16"),
    "constant-pred-two": ("ROOT c = pred[] constant(2)", "c", "'2' is not a pred value"),
    # an attribute another opcode takes, left on an elementwise op (XLA: "unexpected attribute")
    "elementwise-stray-attribute": ("p = f32[4] parameter(0)\nROOT r = f32[4] abs(p), dimensions={0}", "r",
                                    "attribute 'dimensions' does not apply to abs"),
    "compare-stray-attribute": ("p = f32[4] parameter(0)\nROOT r = pred[4] compare(p, p), direction=LT, "
                                "slice={[0:4]}", "r", "attribute 'slice' does not apply to compare"),
}
#: attributes left on other opcodes (each was accepted and refused by XLA when compiled)
STRAY_ATTRIBUTES = {
    "transpose-stray-attribute": ("p = f32[4,3] parameter(0)\nROOT r = f32[3,4] transpose(p), dimensions={1,0}, "
                                  "slice={[0:4]}", "r", "attribute 'slice' does not apply to transpose; it takes "
                                  "dimensions"),
    "broadcast-stray-attribute": ("p = f32[4] parameter(0)\nROOT r = f32[4,3] broadcast(p), dimensions={0}, "
                                  "kind=kLoop", "r", "attribute 'kind' does not apply to broadcast; it takes dimensions"),
    "tuple-stray-attribute": ("p = f32[4] parameter(0)\nROOT t = (f32[4]) tuple(p), index=0", "t",
                              "attribute 'index' does not apply to tuple$"),
    "abs-result-accuracy-is-not-taken": ("p = f32[4] parameter(0)\nROOT r = f32[4] abs(p), "
                                         "result_accuracy={mode=highest}", "r",
                                         "attribute 'result_accuracy' does not apply to abs"),
}
FAILING.update(STRAY_ATTRIBUTES)
#: names XLA's lexer reads as a type or keyword ("expects name"; each was accepted)
FAILING.update({
    f"reserved-name-{word}": (f"{word} = f32[4] parameter(0)\nROOT r = f32[4] negate({word})", word,
                              "is a word XLA's parser does not take as a name")
    for word in ("s2", "f32", "token", "true", "ROOT")})


@pytest.mark.parametrize("case", FAILING.values(), ids=FAILING.keys())
def test_invalid(case: tuple[str, str, str]) -> None:
    body, bad, match = case
    _fails(body, bad, match)


@pytest.mark.parametrize("case", STRAY_ATTRIBUTES.values(), ids=STRAY_ATTRIBUTES.keys())
def test_xla_refuses_the_stray_attributes_too(case: tuple[str, str, str]) -> None:
    from jaxlib import _hlo as xla_hlo
    body, _, _ = case
    with pytest.raises(Exception, match="unexpected attribute"):
        xla_hlo.hlo_module_from_text(_hlo(body))


def test_reserved_module_and_computation_names_are_refused_as_xla_refuses_them() -> None:
    from jaxlib import _hlo as xla_hlo
    for text, what in ((_hlo("p = f32[4] parameter(0)\nROOT r = f32[4] negate(p)").replace("HloModule m", "HloModule f32"),
                        "module name 'f32'"),
                       (_hlo("p = f32[4] parameter(0)\nROOT r = f32[4] negate(p)").replace("ENTRY main", "ENTRY s32"),
                        "computation name 's32'")):
        with pytest.raises(HloVerifyError, match=f"{what} is a word XLA's parser does not take as a name"):
            parse_hlo(text).verify()
        with pytest.raises(Exception, match="expects name"):
            xla_hlo.hlo_module_from_text(text)


def test_the_attribute_table_is_the_installed_jaxlibs() -> None:
    """`_xla_opcodes` was generated for this jaxlib: XLA's parser still allows exactly the
    attributes it lists and refuses the names it lists (regenerate with
    third_party/xla_opcodes/generate.py after a jaxlib upgrade)."""
    import importlib.util
    from pathlib import Path

    from hloenv.altgraph._xla_opcodes import XLA_GENERAL_ATTRIBUTES, XLA_OWN_ATTRIBUTES, XLA_RESERVED_NAMES
    path = Path(__file__).resolve().parents[2] / "third_party" / "xla_opcodes" / "generate.py"
    spec = importlib.util.spec_from_file_location("xla_opcodes_generate", path)
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for opcode in ("abs", "compare", "broadcast", "reduce", "fusion", "custom-call", "conditional", "tuple",
                   "constant", "parameter", "dot", "scatter"):
        assert set(generate.allowed_attributes(opcode)) == XLA_GENERAL_ATTRIBUTES | XLA_OWN_ATTRIBUTES[opcode], opcode
    assert set(generate.reserved_names()) == XLA_RESERVED_NAMES


def test_reduce_errors() -> None:
    _fails("p = f32[4,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[4] reduce(p, z), dimensions={1,1}, "
           "to_apply=add", "r", "duplicates", ADD)
    _fails("p = f32[4,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[3] reduce(p, z), dimensions={1}, "
           "to_apply=add", "r", "inferred shape f32\\[4\\]", ADD)
    _fails("p = f32[4,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[4] reduce(p, z, z), dimensions={1}, "
           "to_apply=add", "r", "in pairs", ADD)
    _fails("p = f32[4,3] parameter(0)\nz = f32[2] parameter(1)\nROOT r = f32[4] reduce(p, z), dimensions={1}, "
           "to_apply=add", "r", "must be a scalar", ADD)
    _fails("p = f32[4,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[4] reduce(p, z), dimensions={1}, "
           "to_apply=add2", "r", "takes 4 parameters, expected 2", ADD2)
    _fails("a = f32[2,3] parameter(0)\nb = s32[2,3] parameter(1)\nz = f32[] constant(0)\ny = s32[] constant(0)\n"
           "ROOT r = f32[3] reduce(a, b, z, y), dimensions={0}, to_apply=add2", "r", "\\(f32\\[3\\], s32\\[3\\]\\)",
           ADD2)
    _fails("p = f32[4] parameter(0)\nz = f32[] constant(0)\n"
           "ROOT w = f32[3] reduce-window(p, z), window={size=3 stride=2 pad=0_1}, to_apply=add",
           "w", "inferred shape f32\\[2\\]", ADD)
    _fails("p = f32[4] parameter(0)\nz = f32[] constant(0)\n"
           "ROOT w = f32[2] reduce-window(p, z), window={size=3x1}, to_apply=add", "w", "window has 2", ADD)


def test_call_errors() -> None:
    _fails("p = f32[3] parameter(0)\nROOT c = f32[4] call(p), to_apply=neg", "c", "parameter 0 has shape f32\\[4\\]",
           NEG)
    _fails("p = f32[4] parameter(0)\nROOT c = f32[4] call(p, p), to_apply=neg", "c", "takes 1 parameters", NEG)
    _fails("p = f32[4] parameter(0)\nROOT c = f32[5] call(p), to_apply=neg", "c", "does not match", NEG)


def test_alternatives_options_have_the_node_shape() -> None:
    ok = 'p = f32[4] parameter(0)\nn = f32[4] negate(p)\nROOT a = f32[4] alternatives(p, n), site="p", rules="original;r"'
    _ok(ok)
    _fails(ok.replace("n = f32[4] negate(p)", "n = f32[] constant(2)"), "a",
           r"option 1 \(n\) has shape f32\[\]; every option must have the node's shape f32\[4\]")


def test_fusion_needs_a_kind_as_xla_parser_does() -> None:
    from jaxlib import _hlo as xla_hlo
    body = "p = f32[4] parameter(0)\nROOT f = f32[4] fusion(p){}, calls=neg"
    _fails(body.format(""), "f", "kind must be one of kLoop, kInput, kOutput, kCustom, got no kind attribute", NEG)
    _fails(body.format(", kind=kFast"), "f", "got kind=kFast", NEG)
    with pytest.raises(Exception, match="Syntax error"):
        xla_hlo.hlo_module_from_text(_hlo(body.format(""), NEG))
    for kind in ("kLoop", "kInput", "kOutput", "kCustom"):
        parse_hlo(_hlo(body.format(f", kind={kind}"), NEG)).verify()


def test_while_errors() -> None:
    bad_body = LOOP.replace("ROOT t = (s32[], f32[4]) tuple(j, x)", "ROOT t = (s32[], f32[4], s32[]) tuple(j, x, j)")
    _fails("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
           "ROOT w = (s32[], f32[4]) while(t), condition=cond, body=body", "w", "body 'body' returns", bad_body)
    bad_cond = LOOP.replace("ROOT lt = pred[] compare(i, n), direction=LT", "ROOT lt = s32[] add(i, n)")
    _fails("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
           "ROOT w = (s32[], f32[4]) while(t), condition=cond, body=body", "w", "must return pred", bad_cond)
    _fails("i = s32[] constant(0)\nx = f32[3] parameter(0)\nt = (s32[], f32[3]) tuple(i, x)\n"
           "ROOT w = (s32[], f32[3]) while(t), condition=cond, body=body", "w", "condition 'cond' parameter 0", LOOP)


def test_conditional_errors() -> None:
    _fails("c = s32[] parameter(0)\nx = f32[3] parameter(1)\n"
           "ROOT r = f32[4] conditional(c, x, x), branch_computations={b0, b1}", "r", "branch 0 'b0' parameter 0",
           BRANCHES)
    _fails("c = pred[] parameter(0)\nx = f32[4] parameter(1)\n"
           "ROOT r = f32[4] conditional(c, x, x), branch_computations={b0, b1}", "r", "selector must be s32",
           BRANCHES)
    _fails("c = s32[] parameter(0)\nx = f32[4] parameter(1)\n"
           "ROOT r = f32[4] conditional(c, x), branch_computations={b0, b1}", "r", "one per branch", BRANCHES)
    mismatch = BRANCHES.replace("ROOT e = f32[4] exponential(x)", "ROOT e = s32[4] convert(x)")
    _fails("c = pred[] parameter(0)\nx = f32[4] parameter(1)\n"
           "ROOT r = f32[4] conditional(c, x, x), true_computation=b0, false_computation=b1", "r",
           "branch 'b1' returns", mismatch)


def test_sort_and_scatter_errors() -> None:
    _fails("x = f32[4,5] parameter(0)\nROOT r = f32[4,5] sort(x), dimensions={1}, to_apply=add", "r",
           "must return pred", ADD)
    _fails("x = f32[4,5] parameter(0)\nROOT r = f32[4,5] sort(x), dimensions={2}, to_apply=less", "r",
           "out of range", LESS)
    _fails("x = f32[5,4] parameter(0)\ni = s32[3,1] parameter(1)\nu = f32[2,4] parameter(2)\n"
           "ROOT s = f32[5,4] scatter(x, i, u), update_window_dims={1}, inserted_window_dims={0}, "
           "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add", "s", "update scatter dimensions",
           ADD)


def test_map_and_all_reduce_errors() -> None:
    _fails("x = f32[4] parameter(0)\ny = s32[4] parameter(1)\nROOT r = f32[4] map(x, y), dimensions={0}, "
           "to_apply=add", "r", "parameter 1 has shape f32\\[\\]", ADD)
    _fails("x = f32[4] parameter(0)\nROOT r = f32[4] map(x, x), dimensions={0}, to_apply=less", "r",
           "inferred shape pred\\[4\\]", LESS)
    _fails("x = f32[4] parameter(0)\nROOT r = f32[5] all-reduce(x), replica_groups={}, to_apply=add", "r",
           "does not match", ADD)


def test_error_in_called_computation_names_it() -> None:
    bad = NEG.replace("ROOT n = f32[4] negate(x)", "ROOT n = f32[5] negate(x)")
    _fails("p = f32[4] parameter(0)\nROOT c = f32[5] call(p), to_apply=neg", "n", "does not match", bad, comp="neg")


def test_entry_computation_layout_mismatch() -> None:
    text = ("HloModule m, entry_computation_layout={(f32[2]{0})->f32[3]{0}}\n\n"
            "ENTRY main {\n  p = f32[2] parameter(0)\n  ROOT n = f32[2] negate(p)\n}\n")
    with pytest.raises(HloVerifyError, match="entry_computation_layout") as info:
        parse_hlo(text).verify()
    assert info.value.line == 5


def test_verify_error_is_a_value_error_and_returns_module() -> None:
    module = parse_hlo(_hlo("p = f32[4] parameter(0)\nROOT r = f32[4] negate(p)"))
    assert module.verify() is module
    assert issubclass(HloVerifyError, ValueError)


def test_mutated_modules_raise_only_verify_errors() -> None:
    """Garbage attributes and shapes never escape as IndexError/KeyError/TypeError."""
    base = _hlo(VALID["convolution"].replace("ROOT r", "c") + "\n" + "\n".join([
        "z = f32[] constant(0)",
        "m = f32[1,4,16] reduce(c, z), dimensions={2}, to_apply=add",
        "s = f32[1,2,16] slice(m), slice={[0:1], [0:4:2], [0:16]}",
        "t = f32[16,2,1] transpose(s), dimensions={2,1,0}",
        "b = f32[16,2,1,3] broadcast(t), dimensions={0,1,2}",
        "g = f32[16,2,1] get-tuple-element(u), index=0",
        "u = (f32[16,2,1]) tuple(t)",
        "p2 = f32[16,2,3] pad(t, z), padding=0_0x0_0x1_1",
        "ROOT d = f32[16,2,2,16] dot(t, s), lhs_contracting_dims={2}, rhs_contracting_dims={0}",
    ]), ADD)
    parse_hlo(base).verify()
    garbage = ["{}", "{-1}", "{99}", "{0,0,0,0,0}", "x", "{[0:1]}", "{size=0}", "1_2_3x", "-5",
               "b01f_01io->bf", "{1,2", "99"]
    rng = random.Random(1)
    raised = 0
    for _ in range(400):
        module = parse_hlo(base)
        insts = [i for i in module.instructions() if i.opcode not in ("parameter", "constant")]
        inst = rng.choice(insts)
        if inst.attrs and rng.random() < 0.7:
            key = rng.choice([k for k, v in inst.attrs.items() if v is not None] or ["dimensions"])
            inst.set_attr(key, rng.choice(garbage))
        else:
            dims = tuple(rng.randrange(0, 4) for _ in range(rng.randrange(0, 4)))
            inst.shape = Shape(rng.choice(["f32", "s32", "pred"]), dims)
        try:
            module.verify()
        except HloVerifyError as err:
            raised += 1
            assert err.line > 0
    assert raised > 300


# -- the corpus -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", corpus_params())
def test_corpus_module_verifies(path) -> None:
    module = load_hlo(path, allow_elided=path.name in ELIDED)
    module.verify()
