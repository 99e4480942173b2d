"""Regenerate the table of XLA pass names for the pinned jaxlib.

XLA silently ignores a misspelled name in ``xla_disable_hlo_passes``, so hloenv validates
``disable_passes=[...]`` against this table. The names are collected from XLA's own pass-pipeline
log (``TF_CPP_VMODULE=hlo_pass_pipeline=1``) while compiling a set of representative programs
(dense layers, convolutions, control flow, sorting, scatter/gather, linear algebra, FFT, RNG,
batch norm, complex numbers, pre-fused HLO), so every pass the CPU pipeline runs on them is seen.

Usage (from the repository root)::

    python third_party/xla_passes/generate.py            # writes hloenv/xla/cpu_passes.json (package data)

A pass that the representative programs never reach is not in the table; add a program that
reaches it and regenerate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "hloenv" / "xla" / "cpu_passes.json"  # package data

# The child process: compile representative programs with the pass-pipeline log switched on.
_CHILD = r'''
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
from jax._src.lib import xla_client as xc
from jaxlib import _hlo, _jax

def f32(*s): return jax.ShapeDtypeStruct(s, jnp.float32)

programs = {
  "mlp": (lambda x, w, b: jnp.tanh(jnp.maximum(x @ w + b, 0.0)).sum(axis=1), (f32(8, 16), f32(16, 4), f32(4))),
  "mlp_grad": (jax.grad(lambda w, x: jnp.sum(jax.nn.softmax(x @ w) ** 2)), (f32(16, 4), f32(8, 16))),
  "conv": (lambda x, k: jax.lax.conv_general_dilated(x, k, (1, 1), "SAME"), (f32(1, 3, 16, 16), f32(4, 3, 3, 3))),
  "conv_grad": (jax.grad(lambda k, x: jax.lax.conv_general_dilated(x, k, (2, 2), "VALID").sum()), (f32(4, 3, 3, 3), f32(2, 3, 16, 16))),
  "while": (lambda x: jax.lax.fori_loop(0, 10, lambda i, c: c * 1.01 + i, x), (f32(8),)),
  "cond": (lambda p, x: jax.lax.cond(p > 0, jnp.sin, jnp.cos, x), (jax.ShapeDtypeStruct((), jnp.int32), f32(8))),
  "scan": (lambda xs: jax.lax.scan(lambda c, x: (c + x, c * x), 0.0 * xs[0], xs), (f32(5, 3),)),
  "sort": (lambda x: (jnp.sort(x), jnp.argsort(x), jax.lax.top_k(x, 3)), (f32(16),)),
  "scatter_gather": (lambda x, i: x.at[i].add(1.0)[i[::-1]], (f32(16, 4), jax.ShapeDtypeStruct((5,), jnp.int32))),
  "linalg": (lambda a: (jnp.linalg.cholesky(a @ a.T + 4 * jnp.eye(4)), jnp.linalg.qr(a), jnp.linalg.eigh(a + a.T), jnp.linalg.svd(a), jnp.linalg.solve(a, a), jax.scipy.linalg.solve_triangular(a, a)), (f32(4, 4),)),
  "fft": (lambda x: jnp.fft.rfft(x).real + jnp.fft.fft(x.astype(jnp.complex64)).imag[:9], (f32(16),)),
  "rng": (lambda k: jax.random.normal(jax.random.wrap_key_data(k), (8,)), (jax.ShapeDtypeStruct((2,), jnp.uint32),)),
  "rng_bit": (lambda k: jax.lax.rng_bit_generator(k, (4, 4))[1], (jax.ShapeDtypeStruct((4,), jnp.uint32),)),
  "reduce_window": (lambda x: (jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"), jnp.cumsum(x, axis=1)), (f32(1, 8, 8, 3),)),
  "pool_grad": (jax.grad(lambda x: jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (2, 2), (2, 2), "VALID").sum()), (f32(8, 8),)),
  "complex_f64": (lambda x: jnp.abs(jnp.exp(1j * x.astype(jnp.float64))) + jax.nn.sigmoid(x), (f32(8),)),
  "dynamic": (lambda x, i: jax.lax.dynamic_update_slice(x, jax.lax.dynamic_slice(x, (i,), (2,)) * 2, (i,)), (f32(8), jax.ShapeDtypeStruct((), jnp.int32))),
  "reduce_precision": (lambda x: (x.astype(jnp.bfloat16) * 2).astype(jnp.float32).mean(), (f32(8, 8),)),
  "int_ops": (lambda x: (x // 3, x % 5, x >> 1, jnp.clip(x, 0, 4), jnp.bitwise_and(x, 7)), (jax.ShapeDtypeStruct((8,), jnp.int32),)),
}

client = jax.devices("cpu")[0].client
dev = client.local_devices()[0]

def compile_text(text):
    proto = _hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()
    client.compile_and_load(_jax.mlir.hlo_to_stablehlo(proto), _jax.DeviceList((dev,)), xc.CompileOptions())

for name, (fn, specs) in programs.items():
    text = jax.jit(fn).lower(*specs).as_text(dialect="hlo")
    compile_text(text)

# Pre-fused HLO (kLoop fusion with a reduce root) as in the environment's own output.
compile_text("""HloModule fused
add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = f32[] add(x, y)
}
fc {
  a = f32[8,4] parameter(0)
  e = f32[8,4] exponential(a)
  z = f32[] constant(0)
  ROOT r = f32[8] reduce(e, z), dimensions={1}, to_apply=add
}
ENTRY e {
  p = f32[8,4] parameter(0)
  ROOT f = f32[8] fusion(p), kind=kLoop, calls=fc
}
""")
print("compiled", len(programs) + 1, "programs")
'''

_PASS = re.compile(r"hlo_pass_pipeline\.cc:\d+\]\s+HLO pass (.+?)\s*$")
_PIPELINE = re.compile(r"Running HLO pass pipeline on module .*?: (.+?)\s*$")


def collect() -> tuple[list[str], list[str]]:
    """Compile the representative programs in a child process; return (passes, pipelines)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", TF_CPP_VMODULE="hlo_pass_pipeline=1",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        sys.exit(f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    passes: set[str] = set()
    pipelines: set[str] = set()
    for line in proc.stderr.splitlines():
        if m := _PASS.search(line):
            passes.add(m.group(1))
        elif m := _PIPELINE.search(line):
            pipelines.add(m.group(1))
    return sorted(passes), sorted(pipelines)


def main() -> None:
    """Write cpu_passes.json: the jaxlib version, the pass names and the pipeline names."""
    from importlib.metadata import version
    passes, pipelines = collect()
    table = {
        "jaxlib": version("jaxlib"),
        "backend": "cpu",
        "generated_by": "third_party/xla_passes/generate.py",
        "passes": passes,
        "pipelines": pipelines,
    }
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {OUT}: jaxlib {table['jaxlib']}, {len(passes)} passes, {len(pipelines)} pipelines")


if __name__ == "__main__":
    main()
