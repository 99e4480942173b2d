"""Reduce and dot rules: each fires where it should and not where it must not."""

from __future__ import annotations

from hloenv.passes.algsimp import reduce_dot
from tests.passes.algsimp.helpers import ADD, rule_tests

MAX = ADD.replace("add {", "max {").replace("add(a, b)", "maximum(b, a)")
MUL_S32 = """mul {
  a = s32[] parameter(0)
  b = s32[] parameter(1)
  ROOT s = s32[] multiply(a, b)
}
"""
DOT = "lhs_contracting_dims={1}, rhs_contracting_dims={0}"

FIRES = [
    ("reduce-no-dimensions", "x = f32[4] parameter(0)\nz = f32[] constant(0)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={}, to_apply=add", r"ROOT x = ", ADD),
    ("reduce-degenerate-to-reshape", "x = f32[1,4] parameter(0)\nz = f32[] constant(0)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={0}, to_apply=add", r"ROOT \S+ = f32\[4\] reshape\(x\)", ADD),
    ("reduce-degenerate-to-reshape", "x = f32[1,4,1] parameter(0)\nz = f32[] constant(-inf)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={0,2}, to_apply=max", r"ROOT \S+ = f32\[4\] reshape\(x\)", MAX),
    ("reduce-degenerate-to-reshape", "x = s32[4,1] parameter(0)\no = s32[] constant(1)\n"
     "ROOT r = s32[4] reduce(x, o), dimensions={1}, to_apply=mul", r"ROOT \S+ = s32\[4\] reshape\(x\)", MUL_S32),
    ("reduce-empty", "x = f32[0,3] parameter(0)\nz = f32[] parameter(1)\n"
     "ROOT r = f32[3] reduce(x, z), dimensions={0}, to_apply=add", r"ROOT \S+ = f32\[3\] broadcast\(z\)", ADD),
    ("dot-to-multiply", f"a = f32[4,1] parameter(0)\nb = f32[1,3] parameter(1)\nROOT d = f32[4,3] dot(a, b), {DOT}",
     r"f32\[4\] reshape\(a\)[\s\S]*ROOT \S+ = f32\[4,3\] multiply", ""),
    ("dot-to-multiply", "a = f32[2,4] parameter(0)\nb = f32[2,3] parameter(1)\n"
     "ROOT d = f32[2,4,3] dot(a, b), lhs_batch_dims={0}, rhs_batch_dims={0}",
     r"ROOT \S+ = f32\[2,4,3\] multiply", ""),
]

NOT_FIRES = [
    ("reduce-no-dimensions", "x = f32[4] parameter(0)\nz = f32[] constant(1)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={}, to_apply=add", ADD),  # init is not add's identity
    ("reduce-degenerate-to-reshape", "x = f32[2,4] parameter(0)\nz = f32[] constant(0)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={0}, to_apply=add", ADD),
    ("reduce-degenerate-to-reshape", "x = f32[1,4] parameter(0)\nz = f32[] constant(0)\n"
     "ROOT r = f32[4] reduce(x, z), dimensions={0}, to_apply=max", MAX),  # 0 is not max's identity
    ("reduce-empty", "x = f32[2,3] parameter(0)\nz = f32[] parameter(1)\n"
     "ROOT r = f32[3] reduce(x, z), dimensions={0}, to_apply=add", ADD),
    ("dot-to-multiply", f"a = f32[4,2] parameter(0)\nb = f32[2,3] parameter(1)\nROOT d = f32[4,3] dot(a, b), {DOT}", ""),
    ("dot-to-multiply", f"a = bf16[4,1] parameter(0)\nb = bf16[1,3] parameter(1)\nROOT d = f32[4,3] dot(a, b), {DOT}", ""),
]


test_fires, test_does_not_fire, test_every_rule_has_both_tests = rule_tests(reduce_dot.RULES, FIRES, NOT_FIRES)
