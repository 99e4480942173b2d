"""Parse speed: hloenv's parser against XLA's own (`jaxlib._hlo.hlo_module_from_text`), same run.

    python benchmarks/parse.py [--top 6] [--repeats 9] [FILE ...]

For each file (default: the largest modules in ../shared/corpus), both parsers run alternately
`--repeats` times; the table shows medians and the ratio ours/XLA (target: <= 1.0 for every file
over 5,000 instructions). Alternating and taking medians keeps a noisy shared machine from
favouring either side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from hloenv.altgraph.gcpause import collect_now

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus_files(top: int) -> list[Path]:
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix == ".txt" and p.name != "LICENSE"]
    return sorted(files, key=lambda p: p.stat().st_size)[-top:]


def measure(text: str, repeats: int) -> tuple[float, float, int]:
    import hloenv
    from jaxlib import _hlo
    ours, xla = [], []
    module = hloenv.parse_hlo(text, allow_elided=True)  # warm caches on both sides
    _hlo.hlo_module_from_text(text)
    for _ in range(repeats):
        collect_now()
        t0 = time.perf_counter()
        hloenv.parse_hlo(text, allow_elided=True)
        t1 = time.perf_counter()
        _hlo.hlo_module_from_text(text)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        xla.append(t2 - t1)
    return statistics.median(ours), statistics.median(xla), module.instruction_count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--top", type=int, default=6, help="how many of the largest corpus files")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    files = args.files or corpus_files(args.top)
    if not files:
        print(f"no files: pass some, or put the corpus at {CORPUS}")
        return 2
    print(f"{'file':58s} {'instrs':>7s} {'ours ms':>8s} {'XLA ms':>8s} {'ours/XLA':>8s} {'us/instr':>8s}")
    worst = 0.0
    for path in files:
        ours, xla, n = measure(path.read_text(), args.repeats)
        ratio = ours / xla
        if n > 5000:
            worst = max(worst, ratio)
        print(f"{path.name[:58]:58s} {n:7d} {ours * 1e3:8.1f} {xla * 1e3:8.1f} {ratio:8.2f} {ours / n * 1e6:8.2f}")
    print(f"worst ratio over files with > 5,000 instructions: {worst:.2f} (target <= 1.00)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
