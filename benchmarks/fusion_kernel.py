"""The greedy fusion kernel against its Python reference: XLA's greedy CPU fusion, same run.

    python benchmarks/fusion_kernel.py [--repeats 5] [FILE ...]

Per module (default: the env benchmarks' four large corpus modules), the env's canonical module,
then `--repeats` rounds alternating between `xla_clusters(comp, "cpu")` with the compiled kernel
(flags computed in Python included) and with `kernel=False` (the compiled reference,
`greedy.run_greedy`), over every computation the fusion pass works on. Prints the medians, the
ratio, and whether both made the same fusions. Needs a compiled install (`pip install -e .`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from corpus import files_or_defaults  # (benchmarks/corpus.py: scripts here import their neighbours)
from env_step import DEFAULT_FILES


def _fusions(plans) -> list[tuple[str, list[str]]]:
    return [(c.root.name, [m.name for m in c.members]) for plan in plans for c in plan.clusters]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    from hloenv import load_hlo
    from hloenv.altgraph.gcpause import gc_paused
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    from hloenv.passes.fusion import greedy_kernel
    from hloenv.passes.fusion.fuse import fusion_computations
    from hloenv.passes.fusion.instruction_fusion import xla_clusters
    if not greedy_kernel.available():
        print("the fusion kernel is not built here (pip install -e . with a C++ compiler; not HLOENV_NATIVE=0)")
        return 2
    files = files_or_defaults(args.files, DEFAULT_FILES)
    if not files:
        return 2
    print("| module | instructions | kernel ms | reference ms | reference / kernel | same fusions |")
    print("|---|---:|---:|---:|---:|---|")
    for path in files:
        module = load_hlo(path)
        DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(module)
        comps = fusion_computations(module)
        times: dict[bool, list[float]] = {True: [], False: []}
        made: dict[bool, list] = {}
        for _ in range(args.repeats):
            for kernel in (True, False):
                with gc_paused():
                    t0 = time.perf_counter()
                    plans = [xla_clusters(comp, "cpu", kernel=kernel) for comp in comps]
                    times[kernel].append(time.perf_counter() - t0)
                made[kernel] = _fusions(plans)
        fast, slow = statistics.median(times[True]), statistics.median(times[False])
        print(f"| {path.name} | {sum(len(c.instructions) for c in comps)} | {fast * 1e3:.1f} | {slow * 1e3:.1f} | "
              f"{slow / fast:.2f}x | {'yes' if made[True] == made[False] else 'NO'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
