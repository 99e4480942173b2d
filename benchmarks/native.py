"""What the compiled build buys: the same work compiled and as pure Python, same run.

    python benchmarks/native.py [--rounds 3] [--steps 5] [FILE ...]

Per module (default: the largest corpus modules that run on CPU), `--rounds` pairs of fresh
processes, one importing hloenv's compiled modules (the greedy fusion kernel included) and one
with `HLOENV_NATIVE=0` (every module from its .py, the kernel's Python reference instead of it),
alternating so the machine's drift hits both alike. Each process times the env's
reset work phase by phase (as `benchmarks/dry_run.py` does: canonicalize, fusion dry run, prune,
observation), then `HloEnv(module)` + `reset` and the mean of `--steps` seeded random steps with
the cost reward (as `benchmarks/env_step.py` does). Prints medians and pure / compiled ratios
(above 1: the build is faster). Needs a compiled install (`pip install -e .` with Cython and a C
compiler); says so and stops when the modules run as pure Python either way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from corpus import files_or_defaults  # (benchmarks/corpus.py: scripts here import their neighbours)
from env_step import DEFAULT_FILES, timed_steps

COLUMNS = ("canonicalize", "fusion dry", "prune", "observation", "new env + reset", "mean step")


def measure(path: Path, steps: int) -> dict[str, float]:
    """One process's seconds for each of COLUMNS on `path` (run in the child)."""
    import numpy as np
    from dry_run import env_reset_phases
    from hloenv import HloEnv, load_hlo
    from hloenv.altgraph.gcpause import collect_now
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    from hloenv.xla import warm_up
    module = load_hlo(path)
    warm_up()
    phases, _ = env_reset_phases(module, DEFAULT_ENV_PIPELINE)
    out = {p: phases[p] for p in COLUMNS[:4]}
    collect_now()
    t0 = time.perf_counter()
    env = HloEnv(module, reward="cost", max_steps=steps)
    env.reset(seed=0)
    out["new env + reset"] = time.perf_counter() - t0
    env.action_space.seed(0)
    out["mean step"] = float(np.mean(timed_steps(env, steps)))
    return out


def _child(path: Path, steps: int, native: bool) -> dict[str, float]:
    env = dict(os.environ, HLOENV_NATIVE="1" if native else "0")
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import native; from hloenv import native as n; "
            "r = native.measure(__import__('pathlib').Path(sys.argv[2]), int(sys.argv[3])); "
            "r['compiled'] = len(n.in_use()); print(json.dumps(r))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(path), str(steps)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--rounds", type=int, default=3, help="process pairs per module (medians are printed)")
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args(argv)
    files = files_or_defaults(args.files, DEFAULT_FILES)
    if not files:
        return 2
    print("| module | " + " | ".join(f"{c} s compiled / pure (ratio)" for c in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for path in files:
        runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for native in (True, False):
                runs[native].append(_child(path, args.steps, native))
        if not all(r["compiled"] for r in runs[True]):
            print("the compiled modules are not in use (no build, or HLOENV_NATIVE=0): nothing to compare")
            return 2
        cells = []
        for column in COLUMNS:
            fast = statistics.median(r[column] for r in runs[True])
            slow = statistics.median(r[column] for r in runs[False])
            cells.append(f"{fast:.3f} / {slow:.3f} ({slow / fast:.2f}x)")
        print(f"| {path.name[:42]} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n1-minute load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
