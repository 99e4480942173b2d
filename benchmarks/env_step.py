"""Env speed: `reset` and mean `step` time (cost reward) against XLA compiling the same module.

    python benchmarks/env_step.py [--top 4] [--steps 5] [FILE ...]

Per module (default: the largest corpus modules that run on CPU), in one run: XLA's compile time
of the module (bare jaxlib, in process, default pipeline), then HloEnv's reset time and the mean
time of `--steps` random steps with the cost reward. Target: reset and step each at most 5% of
XLA's compile time. Prints steps per second too, and the time of a later `reset` (an env keeps
its first dry round, so every reset after the first clones it instead of redoing it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
DEFAULT_FILES = ["harvested/transformers__t5_small_seq2seq_train_step.hlo.txt",
                 "harvested/haiku__resnet50_train_step.hlo.txt",
                 "harvested/transformers__whisper_tiny_seq2seq_forward.hlo.txt",
                 "harvested/flax__nnx_vit_train_step.hlo.txt"]


def xla_compile_seconds(text: str) -> float:
    import jax
    from jax._src.lib import xla_client as xc
    from jaxlib import _hlo, _jax
    client = jax.devices("cpu")[0].client
    dev = client.local_devices()[0]
    proto = _hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()
    t0 = time.perf_counter()
    client.compile_and_load(_jax.mlir.hlo_to_stablehlo(proto), _jax.DeviceList((dev,)), xc.CompileOptions())
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args(argv)
    files = args.files or [CORPUS / f for f in DEFAULT_FILES if (CORPUS / f).exists()]
    if not files:
        print(f"no files: pass some, or put the corpus at {CORPUS}")
        return 2
    from hloenv import HloEnv, load_hlo
    from hloenv.xla import warm_up
    warm_up()
    print(f"{'module':46s} {'instrs':>7s} {'XLA compile s':>13s} {'reset s':>8s} {'step s':>8s} "
          f"{'reset/XLA':>9s} {'step/XLA':>9s} {'steps/s':>8s} {'alts':>6s} {'reset again s':>13s} {'/XLA':>6s}")
    for path in files:
        module = load_hlo(path)
        text = module.to_text()
        compile_s = xla_compile_seconds(text)
        env = HloEnv(module, reward="cost", max_steps=args.steps)
        t0 = time.perf_counter()
        obs, info = env.reset(seed=0)
        reset_s = time.perf_counter() - t0
        alts = info["num_alternatives"]
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            obs, _, term, trunc, info = env.step(env.action_space.sample())
            times.append(time.perf_counter() - t0)
            if term or trunc:
                break
        step_s = float(np.mean(times))
        t0 = time.perf_counter()
        env.reset(seed=1)
        again_s = time.perf_counter() - t0
        print(f"{path.name[:46]:46s} {module.instruction_count:7d} {compile_s:13.2f} {reset_s:8.2f} {step_s:8.2f} "
              f"{reset_s / compile_s:9.1%} {step_s / compile_s:9.1%} {1 / step_s:8.2f} {alts:6d} "
              f"{again_s:13.2f} {again_s / compile_s:6.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
