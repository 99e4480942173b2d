"""Compare and select rules: each fires where it should and not where it must not."""

from __future__ import annotations

from hloenv.passes.algsimp import compare_select
from tests.passes.algsimp.helpers import rule_tests

AB = "p = pred[4] parameter(0)\na = f32[4] parameter(1)\nb = f32[4] parameter(2)\n"

FIRES = [
    ("compare-same-integer", "x = s32[4] parameter(0)\nROOT r = pred[4] compare(x, x), direction=GE",
     r"pred\[\] constant\(true\)[\s\S]*ROOT \S+ = pred\[4\] broadcast"),
    ("compare-same-integer", "x = u8[] parameter(0)\nROOT r = pred[] compare(x, x), direction=LT",
     r"ROOT \S+ = pred\[\] constant\(false\)"),
    ("select-constant-predicate", AB + "tc = pred[] constant(true)\nt = pred[4] broadcast(tc), dimensions={}\n"
     "ROOT r = f32[4] select(t, a, b)", r"ROOT a = "),
    ("select-constant-predicate", AB + "t = pred[4] constant({0, 0, 0, 0})\nROOT r = f32[4] select(t, a, b)", r"ROOT b = "),
    ("select-same-branches", AB + "ROOT r = f32[4] select(p, a, a)", r"ROOT a = "),
    ("select-not-predicate", AB + "n = pred[4] not(p)\nROOT r = f32[4] select(n, a, b)",
     r"ROOT \S+ = f32\[4\] select\(p, b, a\)"),
]

NOT_FIRES = [
    ("compare-same-integer", "x = f32[4] parameter(0)\nROOT r = pred[4] compare(x, x), direction=EQ"),  # NaN
    ("compare-same-integer", "x = s32[4] parameter(0)\ny = s32[4] parameter(1)\nROOT r = pred[4] compare(x, y), direction=EQ"),
    ("select-constant-predicate", AB + "ROOT r = f32[4] select(p, a, b)"),
    ("select-constant-predicate", AB + "t = pred[4] constant({0, 1, 0, 0})\nROOT r = f32[4] select(t, a, b)"),
    ("select-same-branches", AB + "ROOT r = f32[4] select(p, a, b)"),
    ("select-not-predicate", AB + "ROOT r = f32[4] select(p, a, b)"),
]


test_fires, test_does_not_fire, test_every_rule_has_both_tests = rule_tests(compare_select.RULES, FIRES, NOT_FIRES)
