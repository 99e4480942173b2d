"""Fingerprints: name-independent, sensitive to every semantic change, stable across processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hloenv import parse_hlo
from tests.altgraph.test_parser import NEW_STYLE, OLD_STYLE

BASE = """HloModule m
add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = f32[] add(x, y)
}
ENTRY e {
  p = f32[4,8]{1,0} parameter(0)
  q = f32[4,8]{1,0} parameter(1)
  d = f32[4,8]{1,0} subtract(p, q)
  z = f32[] constant(0)
  ROOT r = f32[4]{0} reduce(d, z), dimensions={1}, to_apply=add
}
"""


def fp(text: str) -> str:
    return parse_hlo(text).fingerprint()


def test_names_order_and_metadata_do_not_matter():
    renamed = """HloModule other_name
sum_fn.1 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
ENTRY main {
  Arg_0 = f32[4,8]{1,0} parameter(0)
  Arg_1 = f32[4,8]{1,0} parameter(1)
  diff = f32[4,8]{1,0} subtract(Arg_0, Arg_1)
  zero = f32[] constant(0)
  ROOT out = f32[4]{0} reduce(diff, zero), dimensions={1}, to_apply=sum_fn.1
}
"""
    assert fp(renamed) == fp(BASE)
    reordered = BASE.replace("  z = f32[] constant(0)\n", "").replace("  p = f32", "  z = f32[] constant(0)\n  p = f32")
    assert fp(reordered) == fp(BASE)
    assert fp(BASE.replace("subtract(p, q)", 'subtract(p, q), metadata={op_name="x"}')) == fp(BASE)


@pytest.mark.parametrize("old, new", [
    ("subtract(p, q)", "subtract(q, p)"),          # operand order
    ("subtract(p, q)", "add(p, q)"),               # opcode
    ("constant(0)", "constant(1)"),                # constant value
    ("dimensions={1}", "dimensions={0}"),          # attribute
    ("ROOT s = f32[] add(x, y)", "ROOT s = f32[] maximum(x, y)"),  # called computation
    ("d = f32[4,8]{1,0}", "d = f32[4,8]{0,1}"),    # layout
    ("parameter(0)\n  q", "parameter(1)\n  q"),    # parameter number (with q swapped below)
])
def test_semantic_changes_change_the_fingerprint(old, new):
    changed = BASE.replace(old, new, 1)
    if old.startswith("parameter(0)"):
        changed = changed.replace("q = f32[4,8]{1,0} parameter(1)", "q = f32[4,8]{1,0} parameter(0)")
    assert changed != BASE and fp(changed) != fp(BASE)


SHARED = """HloModule m
ENTRY e {
  p = f32[4] parameter(0)
  x1 = f32[4] exponential(p)
  x2 = f32[4] exponential(p)
  u = f32[4] add(x1, OPERAND_U)
  v = f32[4] add(x2, OPERAND_V)
  ROOT r = (f32[4], f32[4]) tuple(u, v)
}
"""


def test_sharing_is_part_of_the_fingerprint():
    # one exp used twice vs two equal exps: same values, different programs (cse tells them apart)
    a = fp(SHARED.replace("OPERAND_U", "x1").replace("OPERAND_V", "x2"))
    b = fp(SHARED.replace("OPERAND_U", "x2").replace("OPERAND_V", "x1"))
    c = fp(SHARED.replace("OPERAND_U", "x1").replace("OPERAND_V", "x1"))
    assert len({a, b, c}) == 3


def test_print_parse_and_clone_keep_the_fingerprint():
    for text in (BASE, OLD_STYLE, NEW_STYLE):
        m = parse_hlo(text)
        assert parse_hlo(m.to_text()).fingerprint() == m.fingerprint() == m.clone().fingerprint()


def test_stable_across_processes_and_hash_seeds():
    code = "import sys, hloenv; print(hloenv.parse_hlo(sys.stdin.read()).fingerprint())"
    outs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], input=BASE, capture_output=True, text=True,
                                env=env, check=True).stdout.strip())
    assert outs == {fp(BASE)}


def test_golden_value():
    # Pins the hash function itself: if this changes on purpose, every on-disk cache key changes too.
    assert fp(BASE) == GOLDEN


GOLDEN = "03eb7ac7b41c866606090d43fbed0e28"
