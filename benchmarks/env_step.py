"""Env speed: `reset` and mean `step` time (cost reward) against XLA compiling the same module.

    python benchmarks/env_step.py [--steps 5] [--repeat 3] [FILE ...]

Per module (default: the largest corpus modules that run on CPU), in one run: XLA's compile time
of the module (bare jaxlib, in process, default pipeline), then HloEnv's reset time and the mean
time of `--steps` random steps with the cost reward. Target: reset and step each at most 5% of
XLA's compile time. "new env" is `HloEnv(module)` itself (a copy of the module and the
canonicalising passes); "first reset" is new env + the first `reset` (the first dry round), the
honest cost of starting on a module. Each module runs `--repeat` times from scratch (this machine is
shared and noisy); every column is the median. Prints steps per second too, and the time of a later `reset`
(an env keeps its first dry round, so every later reset reuses it instead of redoing it). "loop
s/step" is a training loop's view: `--episodes` more episodes of at most `--steps` random steps,
resets and all (and whatever garbage collection they cause), divided by the steps taken.
"another env" is one more `HloEnv(module)` + `reset` while the first is alive, as in a sync
vector env or a script comparing agents on one module: envs over the same module share
the canonical module and the first dry round (`hloenv.shared_start`); every run starts without
them, so "first reset" is always the cold figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from corpus import files_or_defaults  # (benchmarks/corpus.py: scripts here import their neighbours)
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


def timed_steps(env, steps: int) -> list[float]:
    """Seconds of each of up to `steps` random steps (samples of the action space), until the
    episode ends."""
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        times.append(time.perf_counter() - t0)
        if terminated or truncated:
            break
    return times


def _one_run(module, text: str, steps: int, episodes: int) -> tuple[float, ...]:
    """XLA compile, new env, first reset, mean step, later reset, loop time per step, another env
    (seconds) and the alternatives."""
    from hloenv import HloEnv
    from hloenv.altgraph.gcpause import collect_now
    from hloenv.shared_start import forget_shared_starts
    compile_s = xla_compile_seconds(text)
    forget_shared_starts()  # a cold start: nothing from the previous run
    collect_now()  # the previous run's garbage is not this run's cost
    t0 = time.perf_counter()
    env = HloEnv(module, reward="cost", max_steps=steps)
    new_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, info = env.reset(seed=0)
    reset_s = time.perf_counter() - t0
    alts = info["num_alternatives"]
    times = timed_steps(env, steps)
    t0 = time.perf_counter()
    env.reset(seed=1)
    again_s = time.perf_counter() - t0
    taken = 0
    t0 = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed=2 + episode)
        while True:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            taken += 1
            if term or trunc:
                break
    loop_s = (time.perf_counter() - t0) / max(taken, 1)
    t0 = time.perf_counter()
    HloEnv(module, reward="cost", max_steps=steps).reset(seed=0)
    another_s = time.perf_counter() - t0
    return compile_s, new_s, reset_s, float(np.mean(times)), again_s, loop_s, another_s, alts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=3, help="episodes of the training-loop column")
    ap.add_argument("--repeat", type=int, default=3,
                    help="whole runs per module (XLA compile included); medians are printed")
    args = ap.parse_args(argv)
    files = files_or_defaults(args.files, DEFAULT_FILES)
    if not files:
        return 2
    from hloenv import load_hlo
    from hloenv.xla import warm_up
    warm_up()
    print(f"{'module':42s} {'instrs':>6s} {'XLA compile s':>13s} {'new env s':>9s} {'reset s':>7s} "
          f"{'first reset/XLA':>15s} {'step s':>6s} {'step/XLA':>8s} {'steps/s':>7s} {'alts':>5s} "
          f"{'later reset s':>13s} {'/XLA':>6s} {'loop s/step':>11s} {'/XLA':>6s} {'another env s':>13s} {'/XLA':>6s}")
    for path in files:
        module = load_hlo(path)
        text = module.to_text()
        runs = [_one_run(module, text, args.steps, args.episodes) for _ in range(args.repeat)]
        compile_s, new_s, reset_s, step_s, again_s, loop_s, another_s, alts = (
            float(np.median(col)) for col in zip(*runs))
        print(f"{path.name[:42]:42s} {module.instruction_count:6d} {compile_s:13.2f} {new_s:9.2f} {reset_s:7.2f} "
              f"{(new_s + reset_s) / compile_s:15.1%} {step_s:6.2f} {step_s / compile_s:8.1%} {1 / step_s:7.2f} "
              f"{alts:5.0f} {again_s:13.2f} {again_s / compile_s:6.1%} {loop_s:11.2f} {loop_s / compile_s:6.1%} "
              f"{another_s:13.2f} {another_s / compile_s:6.1%}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
