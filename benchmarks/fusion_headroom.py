"""Headroom and fidelity of the `fusion` pass over the CPU-runnable corpus.

Per module: alternatives offered by a dry run of each pass that records decisions (on the canonical
module; `multi-output-fusion` and `fusion-merger` on it fused as XLA would), and the median runtime
(env pipeline) of all-original, xla-like, all-fused and 3 random choice vectors of the `fusion`
pass, next to XLA's default pipeline on the original. Headroom (issue 4): the spread, worst / best
of those six runtimes. Fidelity: xla-like vs xla-default within 5%, geometric mean, each module's
ratio measured by `hloenv.paired_timing` (both timed in turn in one worker, fresh, with a 90%
interval). `--low-noise` times in workers pinned to one core.

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
from hloenv.altgraph.alternatives import alternatives_nodes
from hloenv.altgraph.selected import selected_copy
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import xla_like_choices

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


#: Passes that record decisions in dry mode, counted on the canonical module...
UNFUSED_PASSES = ("fusion", "algsimp", "cse", "reshape-mover", "transpose-folding")
#: ...and on the module fused as XLA would (they work on fusions).
FUSED_PASSES = ("multi-output-fusion", "fusion-merger")


def offered_by(name: str, module) -> int:
    """Alternatives nodes a dry run of pass `name` leaves on a copy of `module`."""
    trial = module.clone()
    get_pass(name)(trial, dry=True)
    return len(alternatives_nodes(trial))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="modules (default: the corpus, smallest first)")
    ap.add_argument("--limit", type=int, default=0, help="at most N modules (smallest first)")
    ap.add_argument("--raw", action="store_true", help="do not canonicalise before the dry run")
    ap.add_argument("--low-noise", action="store_true", help="time in workers pinned to one core each")
    args = ap.parse_args()
    files = args.files or sorted((p for p in CORPUS.rglob("*.txt") if p.name != "LICENSE"),
                                 key=lambda p: p.stat().st_size)
    cols = ["original", "xla-like", "all-fused", "rand0", "rand1", "rand2"]
    passes = [*UNFUSED_PASSES, *FUSED_PASSES]
    print(f"{'module':44} " + " ".join(f"{p[:12]:>12}" for p in passes) + f" {'dry s':>6} {'xla-def':>9} "
          + " ".join(f"{c:>9}" for c in cols) + f" {'spread':>6}")
    ratios, spreads, offered, done = [], [], {p: 0 for p in passes}, 0
    for path in files:
        if args.limit and done >= args.limit:
            break
        base = hloenv.load_hlo(path, allow_elided=True)
        if base.has_elided_constants:
            continue
        try:
            ref = hloenv.evaluate(base, pipeline="xla-default", low_noise=args.low_noise)
        except hloenv.UnsupportedOnBackend:
            continue
        dry = base.clone()
        if not args.raw:
            DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(dry)
        counts = [offered_by(name, dry) for name in UNFUSED_PASSES]
        t0 = time.perf_counter()
        get_pass("fusion")(dry, dry=True)
        dry_s = time.perf_counter() - t0
        nodes = alternatives_nodes(dry)
        xla = xla_like_choices(dry)
        fused = selected_copy(dry, xla)
        counts += [offered_by(name, fused) for name in FUSED_PASSES]
        for name, n in zip(passes, counts):
            offered[name] += n
        rng = random.Random(0)
        vectors = [[0] * len(nodes), xla, [len(n.operands) - 1 for n in nodes]]
        vectors += [[rng.randrange(len(n.operands)) for n in nodes] for _ in range(3)]
        times = []
        for v in vectors:
            chosen = selected_copy(dry, v)
            try:
                times.append(hloenv.evaluate(chosen, pipeline="env", low_noise=args.low_noise).median)
            except hloenv.EvaluationError as err:
                times.append(float("nan"))
                print(f"  ! {path.name}: {str(err)[:100]}")
        done += 1
        try:  # fidelity: the XLA-like module against XLA's default pipeline, timed in turn (paired)
            pair = hloenv.paired_timing(base, selected_copy(dry, xla), pipeline="xla-default", pipeline_b="env",
                                        low_noise=args.low_noise)
            ratios.append(1 / pair.speedup)
            print(f"  fidelity {path.name[:40]}: xla-like / xla-default {1 / pair.speedup:.3f} "
                  f"(90% interval {1 / pair.speedup_high:.3f}-{1 / pair.speedup_low:.3f})")
        except hloenv.EvaluationError as err:
            print(f"  ! {path.name}: fidelity: {str(err)[:100]}")
        measured = [t for t in times if t == t]
        spread = max(measured) / min(measured) if measured else float("nan")
        if measured:
            spreads.append(spread)
        print(f"{path.name[:44]:44} " + " ".join(f"{c:12d}" for c in counts) + f" {dry_s:6.2f} "
              f"{ref.median * 1e3:8.3f}m " + " ".join(f"{t * 1e3:8.3f}m" for t in times)
              + f" {spread:6.2f}", flush=True)
    if spreads:
        gs = math.exp(sum(math.log(r) for r in spreads) / len(spreads))
        print(f"\nalternatives offered over {done} modules: "
              + ", ".join(f"{p} {n}" for p, n in offered.items()))
        print(f"headroom: worst / best of the six vectors, geometric mean {gs:.2f}x, max {max(spreads):.2f}x; "
              f"{sum(r >= 1.10 for r in spreads)} of {len(spreads)} modules spread 10% or more")
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\nfidelity: xla-like / xla-default geometric mean over {len(ratios)} modules = {gm:.3f} "
              f"({'within' if abs(gm - 1) <= 0.05 else 'outside'} 5%)")


if __name__ == "__main__":
    main()
