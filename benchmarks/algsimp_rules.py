"""Which algsimp rules fire on the corpus, and how fast the pass is.

Runs `algsimp` in dry mode (and `constant-folding`, dry) over every module in ../shared/corpus and
prints, per rule, the number of sites it fires on and the number of modules; then, for contrast, how
often each fires when `algsimp,constant-folding,dce` is applied for real to a fixed point (rules
then also fire on what earlier rewrites exposed); then total times, with the time to parse the
same modules as the reference.

    python benchmarks/algsimp_rules.py [CORPUS_DIR]
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import hloenv
from hloenv.passes import Pipeline
from hloenv.passes.algsimp import AlgebraicSimplifier, rule_names
from hloenv.passes.constant_folding import ConstantFolding
from hloenv.passes.dce import DeadCodeElimination

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
LARGEST = "harvested/transformers__t5_small_seq2seq_train_step.hlo.txt"


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else CORPUS
    files = sorted(p for p in root.rglob("*.txt") if p.name != "LICENSE")
    if not files:
        print(f"no corpus at {root}")
        return 1
    sites: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    real: Counter[str] = Counter()
    parse_s = algsimp_s = fold_s = 0.0
    instructions = 0
    algsimp, folding = AlgebraicSimplifier(), ConstantFolding()
    for path in files:
        t0 = time.perf_counter()
        module = hloenv.load_hlo(path, allow_elided=True)
        parse_s += time.perf_counter() - t0
        instructions += module.instruction_count
        for pass_, slot in ((algsimp, "algsimp"), (folding, "fold")):
            result = pass_(module, dry=True)
            if slot == "algsimp":
                algsimp_s += result.seconds
            else:
                fold_s += result.seconds
            fired = Counter(rule for rule, _ in result.log or [])
            sites.update(fired)
            modules.update(fired.keys())
        module = hloenv.load_hlo(path, allow_elided=True)
        fixed = Pipeline([algsimp, folding, DeadCodeElimination()], fixed_point=True)(module)
        for result in fixed.results:
            real.update(rule for rule, _ in result.log or [] if rule != "dce")
    print(f"{len(files)} modules, {instructions} instructions")
    print(f"{'rule':40s} {'sites':>7s} {'modules':>8s} {'real':>7s}")
    for name in sorted({*rule_names(), "constant-folding"}, key=lambda n: (-sites[n], -real[n], n)):
        print(f"{name:40s} {sites[name]:7d} {modules[name]:8d} {real[name]:7d}")
    print(f"rules firing anywhere: {sum(1 for n in rule_names() if sites[n])} of {len(rule_names())} in dry mode, "
          f"{sum(1 for n in rule_names() if real[n])} applied for real")
    print(f"parse (reference)       {parse_s:7.3f} s")
    print(f"algsimp dry             {algsimp_s:7.3f} s  ({algsimp_s / parse_s:.2f}x parse)")
    print(f"constant-folding dry    {fold_s:7.3f} s  ({fold_s / parse_s:.2f}x parse)")

    big = root / LARGEST
    if big.is_file():
        t0 = time.perf_counter()
        module = hloenv.load_hlo(big)
        parse_big = time.perf_counter() - t0
        count = module.instruction_count
        result = algsimp(module, dry=True)
        print(f"largest ({count} instructions): algsimp dry {result.seconds:.3f} s, "
              f"{result.rewrites} alternatives; parse {parse_big:.3f} s ({result.seconds / parse_big:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
