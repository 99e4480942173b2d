"""A sync vector env's start: 4 envs over one module made and reset, with and without shared starts.

    python benchmarks/vector_env.py [--envs 4] [--repeat 2] [FILE ...]

Per module (default: the two largest CPU-runnable corpus modules), in one run, alternating:
`gym.vector.SyncVectorEnv` of `--envs` HloEnvs (cost reward) constructed and reset, once with
every env starting on its own and once with envs sharing the canonical module and the first dry
round (`hloenv.shared_start`, the default). Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np

from corpus import files_or_defaults  # (benchmarks/corpus.py: scripts here import their neighbours)
DEFAULT_FILES = ["harvested/transformers__t5_small_seq2seq_train_step.hlo.txt",
                 "harvested/haiku__resnet50_train_step.hlo.txt"]


def _start_seconds(path: Path, envs: int, shared: bool) -> float:
    import gymnasium as gym
    from hloenv import HloEnv
    from hloenv import shared_start
    from hloenv.altgraph.gcpause import collect_now
    shared_start.forget_shared_starts()
    shared_start.ENABLED = shared
    collect_now()
    try:
        t0 = time.perf_counter()
        vec = gym.vector.SyncVectorEnv([functools.partial(HloEnv, path, reward="cost") for _ in range(envs)])
        vec.reset(seed=0)
        seconds = time.perf_counter() - t0
        vec.close()
        return seconds
    finally:
        shared_start.ENABLED = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--envs", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    files = files_or_defaults(args.files, DEFAULT_FILES)
    if not files:
        return 2
    from hloenv.xla import warm_up
    warm_up()
    print(f"{'module':42s} {'envs':>4s} {'alone s':>8s} {'shared s':>8s} {'shared/alone':>12s}")
    for path in files:
        alone, shared = [], []
        for _ in range(args.repeat):
            alone.append(_start_seconds(path, args.envs, shared=False))
            shared.append(_start_seconds(path, args.envs, shared=True))
        a, s = float(np.median(alone)), float(np.median(shared))
        print(f"{path.name[:42]:42s} {args.envs:4d} {a:8.2f} {s:8.2f} {s / a:12.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
