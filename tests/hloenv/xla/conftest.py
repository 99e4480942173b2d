"""Shared fixtures for the XLA bridge tests: a private cache dir and small HLO modules."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"

MLP = """HloModule mlp

ENTRY main {
  x = f32[4,8] parameter(0)
  w = f32[8,3] parameter(1)
  b = f32[3] parameter(2)
  d = f32[4,3] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  bb = f32[4,3] broadcast(b), dimensions={1}
  s = f32[4,3] add(d, bb)
  z = f32[] constant(0)
  zb = f32[4,3] broadcast(z), dimensions={}
  ROOT r = f32[4,3] maximum(s, zb)
}
"""

# Same parameters as MLP, different computation (minimum instead of maximum).
MLP_WRONG = MLP.replace("maximum(s, zb)", "minimum(s, zb)")

# A kOutput dot+add fusion: handed to XLA as is, its CPU dot emitter CHECK-fails and aborts.
ABORTS = """HloModule aborts
fc {
  a = f32[8,8] parameter(0)
  b = f32[8,8] parameter(1)
  c = f32[8,8] parameter(2)
  d = f32[8,8] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT s = f32[8,8] add(d, c)
}
ENTRY e {
  p = f32[8,8] parameter(0)
  q = f32[8,8] parameter(1)
  r = f32[8,8] parameter(2)
  ROOT f = f32[8,8] fusion(p, q, r), kind=kOutput, calls=fc
}
"""

# A multi-output kLoop fusion: handed to XLA as is, it aborts after layout assignment.
MULTI_OUTPUT_FUSION = """HloModule multi
fc {
  a = f32[8,4] parameter(0)
  e = f32[8,4] exponential(a)
  n = f32[8,4] negate(a)
  ROOT t = (f32[8,4], f32[8,4]) tuple(e, n)
}
ENTRY e {
  p = f32[8,4] parameter(0)
  f = (f32[8,4], f32[8,4]) fusion(p), kind=kLoop, calls=fc
  g0 = f32[8,4] get-tuple-element(f), index=0
  g1 = f32[8,4] get-tuple-element(f), index=1
  ROOT r = f32[8,4] add(g0, g1)
}
"""

# A while loop of 2e9 iterations: runs far past any test timeout.
RUNS_FOREVER = """HloModule forever
cond {
  s = (s32[], f32[64]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(2000000000)
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  s = (s32[], f32[64]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  x = f32[64] get-tuple-element(s), index=1
  one = s32[] constant(1)
  j = s32[] add(i, one)
  y = f32[64] sine(x)
  ROOT t = (s32[], f32[64]) tuple(j, y)
}
ENTRY e {
  p = f32[64] parameter(0)
  z = s32[] constant(0)
  t = (s32[], f32[64]) tuple(z, p)
  w = (s32[], f32[64]) while(t), condition=cond, body=body
  ROOT r = f32[64] get-tuple-element(w), index=1
}
"""

# Needs 6.4 GB for its output: beyond a 2 GiB memory cap.
TOO_BIG = """HloModule too_big
ENTRY e {
  p = f32[] parameter(0)
  ROOT b = f32[40000,40000] broadcast(p), dimensions={}
}
"""

# Tuple and token parameters, f64, complex, bool, ints, bf16; a nested tuple root.
MIXED = """HloModule mixed
ENTRY e {
  p0 = (f32[4], s32[3]) parameter(0)
  tok = token[] parameter(1)
  p2 = f64[3] parameter(2)
  p3 = c64[2] parameter(3)
  p4 = pred[5] parameter(4)
  p5 = bf16[2,2] parameter(5)
  p6 = u8[6] parameter(6)
  a = f32[4] get-tuple-element(p0), index=0
  b = s32[3] get-tuple-element(p0), index=1
  c = f32[4] add(a, a)
  d = f64[3] multiply(p2, p2)
  e = c64[2] multiply(p3, p3)
  n = pred[5] not(p4)
  f = bf16[2,2] negate(p5)
  inner = (f32[4], s32[3]) tuple(c, b)
  ROOT r = ((f32[4], s32[3]), f64[3], c64[2], pred[5], bf16[2,2], u8[6], token[]) tuple(inner, d, e, n, f, p6, tok)
}
"""

# A GPU-only custom call, as in the corpus's threefry modules.
GPU_ONLY = """HloModule gpu_only
ENTRY e {
  k = u32[2] parameter(0)
  ROOT c = u32[2] custom-call(k), custom_call_target="cuda_threefry2x32"
}
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test caches under its own tmp dir, never in ~/.cache."""
    d = tmp_path / "cache"
    monkeypatch.setenv("HLOENV_CACHE_DIR", str(d))
    return d


def corpus_files(sub: str = "") -> list[Path]:
    """Corpus HLO files (skips the test when the shared corpus is absent)."""
    root = CORPUS / sub
    if not root.is_dir():
        pytest.skip(f"shared corpus not found at {root.resolve()}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "LICENSE")
