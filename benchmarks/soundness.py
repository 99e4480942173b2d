"""Fusion soundness over corpus modules: every choice vector must keep the module's outputs.

For each module: canonicalise it as the env does, run `fusion` in dry mode, then for the
all-original, all-rewrite (option 1 everywhere), XLA-like and N random choice vectors select,
prune, check that the result defused is the canonical module (`same_program_unfused`: exact, no
XLA; column "exact") and compare its outputs with the canonical module's, everything compiled
with the "env" pipeline.
A vector that differs at f32 tolerances is re-checked with both modules raised to f64
(`compare(..., precision="f64")`): equal there means the f32 difference is rounding that the
program amplified. Still different: the vector is compared once more (f32, then f64) with XLA's fusion pass off,
so its fusion regions run instruction by instruction; equal there means the decisions compute the
right values and XLA's fused kernels do not reproduce them. Different there is a wrong rewrite.

    python benchmarks/soundness.py ../shared/corpus/harvested/*.hlo.txt --random 3

A long run (the harvested corpus with 20 random vectors takes hours) can be spread over several
sittings with `--rows FILE`: each finished module's row is appended to FILE as one JSON line, and
modules already in FILE (same seed and vector count) are reported from it instead of re-run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import hloenv
from hloenv.altgraph.alternatives import alternatives_nodes, select
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import unfused_fingerprint, xla_like_choices
from hloenv.xla import EvaluationError, UnsupportedOnBackend
from hloenv.xla.api import VERIFY_CHECKS, verify
from hloenv.xla.targets import unsupported_targets
from hloenv.xla.tolerance import compare_arrays


def choice_vectors(dry: hloenv.Module, n_random: int, seed: int) -> dict[str, list[int]]:
    counts = [len(node.operands) for node in alternatives_nodes(dry)]
    rng = np.random.default_rng(seed)
    vectors = {"original": [0] * len(counts), "all": [1 if c > 1 else 0 for c in counts],
               "xla": xla_like_choices(dry)}
    for k in range(n_random):
        vectors[f"random{k}"] = [int(rng.integers(c)) for c in counts]
    return vectors


def outputs(module: hloenv.Module) -> list[np.ndarray]:
    return hloenv.evaluate(module, pipeline="env", return_outputs=True, warmup=1, repeats=1,
                           min_repeats=1, cache=False).outputs


def check_module(path: Path, n_random: int, seed: int) -> dict:
    row = {"module": path.name.split(".hlo")[0][:44], "sites": 0, "exact": 0, "equal": 0, "rounding": 0,
           "xla_fusion": 0, "wrong": [], "errors": []}
    try:
        base = hloenv.load_hlo(path)
    except hloenv.HloError as err:
        row["skipped"] = f"not loaded: {str(err).splitlines()[0][:60]}"
        return row
    if unsupported_targets(base, "cpu"):
        row["skipped"] = "not runnable on CPU"
        return row
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(base)
    dry = base.clone()
    get_pass("fusion")(dry, dry=True)
    vectors = choice_vectors(dry, n_random, seed)
    row["sites"] = len(vectors["original"])
    try:
        reference = outputs(base)
    except UnsupportedOnBackend:
        row["skipped"] = "not runnable on CPU"
        return row
    exact = unfused_fingerprint(base)
    for name, choices in vectors.items():
        candidate = dry.clone()
        select(candidate, choices)
        row["exact"] += unfused_fingerprint(candidate) == exact
        try:
            got = outputs(candidate)
            bad = [d for d in (compare_arrays(i, a, b) for i, (a, b) in enumerate(zip(reference, got)))
                   if not d.equal] if len(got) == len(reference) else ["count"]
            if not bad:
                row["equal"] += 1
                continue
            # the checks of `verify` after its f32 ones (done above against the env pipeline)
            verdict = verify(base, candidate, checks=VERIFY_CHECKS[2:])
            if verdict == "equal-f64":
                row["rounding"] += 1
            elif verdict == "equal-unfused":
                row["xla_fusion"] += 1
            else:
                row["wrong"].append(name)
        except EvaluationError as e:
            row["errors"].append(f"{name}: {e.status}")
    return row


def load_rows(path: Path, n_random: int, seed: int) -> dict[str, dict]:
    """Rows of modules already checked with this `--random` and `--seed`, keyed by resolved path."""
    if not path.exists():
        return {}
    rows = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise SystemExit(f"{path}:{number}: not a JSON row ({err.msg}); remove the line to re-check it")
        if row.get("random") == n_random and row.get("seed") == seed:
            rows[row["path"]] = row
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path, help="HLO files or folders")
    ap.add_argument("--random", type=int, default=20, help="random choice vectors per module")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=Path, help="JSON-lines file of finished modules: appended to, "
                    "and read back to skip modules already checked with the same seed and --random")
    args = ap.parse_args(argv)
    done = load_rows(args.rows, args.random, args.seed) if args.rows else {}
    print("| module | sites | vectors | exact (defused) | equal (f32) | rounding only (equal in f64) | "
          "XLA's fused kernels differ (equal unfused) | wrong | errors | s |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|---:|")
    files = [f for p in args.files for f in (sorted(x for x in p.rglob("*.txt") if x.name != "LICENSE")
                                             if p.is_dir() else [p])]
    skipped = 0
    total = {"vectors": 0, "exact": 0, "equal": 0, "rounding": 0, "xla_fusion": 0, "wrong": 0, "errors": 0}
    for path in files:
        t0 = time.perf_counter()
        if str(path.resolve()) in done:
            row = done[str(path.resolve())]
        else:
            row = check_module(path, args.random, args.seed)
            row["seconds"] = time.perf_counter() - t0
            if args.rows:
                with args.rows.open("a") as out:
                    out.write(json.dumps({"path": str(path.resolve()), "random": args.random,
                                          "seed": args.seed, **row}) + "\n")
        if row.get("skipped"):
            skipped += 1
            print(f"| {row['module']} | skipped: {row['skipped']} |", flush=True)
            continue
        n = row["equal"] + row["rounding"] + row["xla_fusion"] + len(row["wrong"]) + len(row["errors"])
        for key, value in (("vectors", n), ("exact", row.get("exact", 0)), ("equal", row["equal"]), ("rounding", row["rounding"]),
                           ("xla_fusion", row["xla_fusion"]),
                           ("wrong", len(row["wrong"])), ("errors", len(row["errors"]))):
            total[key] += value
        print(f"| {row['module']} | {row['sites']} | {n} | {row.get('exact', '?')} | {row['equal']} | {row['rounding']} | "
              f"{row['xla_fusion']} | "
              f"{', '.join(row['wrong']) or '-'} | {'; '.join(row['errors']) or '-'} | "
              f"{row['seconds']:.0f} |", flush=True)
    print(f"\ntotal: {total['vectors']} vectors over {len(files) - skipped} modules ({skipped} skipped): {total['exact']} exact, {total['equal']} equal, "
          f"{total['rounding']} rounding only, {total['xla_fusion']} equal only unfused, {total['wrong']} wrong, {total['errors']} errors")
    return 1 if total["wrong"] or total["exact"] < total["vectors"] else 0


if __name__ == "__main__":
    sys.exit(main())
