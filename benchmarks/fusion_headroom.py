"""Headroom and fidelity of the `fusion` pass over the CPU-runnable corpus.

Per module: alternatives offered by a dry run of `fusion`, and the median runtime (env pipeline) of
all-original, xla-like, all-fused and 3 random choice vectors, next to XLA's default pipeline on the
original. Fidelity (issue 4): xla-like vs xla-default within 5%, geometric mean.

    python benchmarks/fusion_headroom.py --limit 5
    python benchmarks/fusion_headroom.py ../shared/corpus/harvested/haiku__mobilenetv1_forward.hlo.txt

As in the environment, each module is first canonicalised (the env pipeline's applied passes:
algsimp, cse, ... for real), since the "env" XLA pipeline switches XLA's own versions of those off.
`--raw` skips that.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path

import hloenv
from hloenv.altgraph.alternatives import alternatives_nodes, select
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import xla_like_choices

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="modules (default: the corpus, smallest first)")
    ap.add_argument("--limit", type=int, default=0, help="at most N modules (smallest first)")
    ap.add_argument("--raw", action="store_true", help="do not canonicalise before the dry run")
    args = ap.parse_args()
    files = args.files or sorted((p for p in CORPUS.rglob("*.txt") if p.name != "LICENSE"),
                                 key=lambda p: p.stat().st_size)
    cols = ["original", "xla-like", "all-fused", "rand0", "rand1", "rand2"]
    print(f"{'module':44} {'alts':>5} {'dry s':>6} {'xla-def':>9} " + " ".join(f"{c:>9}" for c in cols))
    ratios, done = [], 0
    for path in files:
        if args.limit and done >= args.limit:
            break
        base = hloenv.load_hlo(path, allow_elided=True)
        if base.has_elided_constants:
            continue
        try:
            ref = hloenv.evaluate(base, pipeline="xla-default")
        except hloenv.UnsupportedOnBackend:
            continue
        dry = base.clone()
        if not args.raw:
            DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(dry)
        t0 = time.perf_counter()
        get_pass("fusion")(dry, dry=True)
        dry_s = time.perf_counter() - t0
        nodes = alternatives_nodes(dry)
        rng = random.Random(0)
        vectors = [[0] * len(nodes), xla_like_choices(dry), [len(n.operands) - 1 for n in nodes]]
        vectors += [[rng.randrange(len(n.operands)) for n in nodes] for _ in range(3)]
        times = []
        for v in vectors:
            chosen = dry.clone()
            select(chosen, v)
            try:
                times.append(hloenv.evaluate(chosen, pipeline="env").median)
            except hloenv.EvaluationError as err:
                times.append(float("nan"))
                print(f"  ! {path.name}: {str(err)[:100]}")
        done += 1
        if times[1] == times[1]:
            ratios.append(times[1] / ref.median)
        print(f"{path.name[:44]:44} {len(nodes):5d} {dry_s:6.2f} {ref.median * 1e3:8.3f}m "
              + " ".join(f"{t * 1e3:8.3f}m" for t in times), flush=True)
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\nfidelity: xla-like / xla-default geometric mean over {len(ratios)} modules = {gm:.3f} "
              f"({'within' if abs(gm - 1) <= 0.05 else 'outside'} 5%)")


if __name__ == "__main__":
    main()
