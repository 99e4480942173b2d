"""Issue 5's end-to-end check: a random-policy episode on every CPU-runnable corpus module ends
with a module that computes what the original computes.

For each module: `HloEnv` (default pipeline, reward off), the `random` agent, then two checks.
"exact": the final module, defused, is the canonical module (`same_program_unfused`; no XLA, so
GPU-only modules and modules with elided constants are checked too). "verdict":
`hloenv.xla.verify(original, final)`, which names the first check that passes (equal under XLA's
default pipeline, under the same "env" pipeline, in f64, or with XLA's fused kernels off).

    python benchmarks/random_episodes.py ../shared/corpus --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import hloenv
from hloenv.agents import get_agent, run_episode
from hloenv.env import HloEnv
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion.defuse import episode_is_exact
from hloenv.xla import EvaluationError, UnsupportedOnBackend, verify
from hloenv.xla.targets import unsupported_targets


def corpus_modules(roots: list[Path]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        files += sorted(p for p in root.rglob("*.txt") if p.name != "LICENSE") if root.is_dir() else [root]
    return files


def run_one(path: Path, seed: int) -> dict:
    row = {"module": path.name[:60], "instructions": 0, "steps": 0, "decisions": 0, "exact": "",
           "verdict": "", "s": 0.0}
    t0 = time.perf_counter()
    try:
        original = hloenv.load_hlo(path, allow_elided=True)
    except hloenv.HloError as err:
        row["verdict"] = f"skipped: {type(err).__name__}"
        return row
    row["instructions"] = original.instruction_count
    env = HloEnv(original, reward=lambda before, after, terminated: 0.0)
    episode = run_episode(env, get_agent("random"), seed=seed)
    row["steps"], row["decisions"] = episode.steps, sum(len(d["choices"]) for d in episode.history)
    row["exact"] = "yes" if episode_is_exact(original, episode.module, DEFAULT_ENV_PIPELINE) else "NO"
    if original.has_elided_constants:
        row["verdict"] = "skipped: constants elided"
    elif unsupported_targets(original, "cpu"):
        row["verdict"] = "skipped: not runnable on CPU"
    else:
        try:
            row["verdict"] = verify(original, episode.module, timeout=900) or "DIFFERENT"
        except (EvaluationError, UnsupportedOnBackend) as err:
            row["verdict"] = f"error: {str(err).splitlines()[0][:80]}"
    row["s"] = time.perf_counter() - t0
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help="corpus folders or files")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print("| module | instructions | steps | rewrites chosen | exact | verdict | s |\n|---|---:|---:|---:|---|---|---:|")
    verdicts: dict[str, int] = {}
    exact: dict[str, int] = {}
    for path in corpus_modules(args.paths):
        row = run_one(path, args.seed)
        key = row["verdict"].split(":")[0]
        verdicts[key] = verdicts.get(key, 0) + 1
        exact[row["exact"]] = exact.get(row["exact"], 0) + 1
        print(f"| {row['module']} | {row['instructions']} | {row['steps']} | {row['decisions']} | "
              f"{row['exact']} | {row['verdict']} | {row['s']:.0f} |", flush=True)
    print("\nverify: " + ", ".join(f"{n} {k}" for k, n in sorted(verdicts.items())))
    print(f"exact: {exact.get('yes', 0)} of {sum(n for k, n in exact.items() if k)}")
    return 1 if verdicts.get("DIFFERENT") or verdicts.get("error") or exact.get("NO") else 0


if __name__ == "__main__":
    sys.exit(main())
