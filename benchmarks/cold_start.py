"""Cold start: a fresh Python process up to the env's first observation, against a fresh process
up to XLA's compiled executable of the same module.

    python benchmarks/cold_start.py [--repeat 3] [FILE ...]

Ours: `import hloenv`, `load_hlo`, `HloEnv(module)` (canonicalising passes; the cost reward starts
XLA's worker process, which imports jax meanwhile) and the first `reset` (first dry round, the
starting module's cost from the worker). XLA's: `import jax`, parse the same text and compile it
(bare jaxlib, CPU, default pipeline), what any JAX program pays before its first step. Each side
runs `--repeat` times in new processes, alternating; medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from corpus import files_or_defaults  # (benchmarks/corpus.py: scripts here import their neighbours)
DEFAULT_FILES = ["harvested/transformers__whisper_tiny_seq2seq_forward.hlo.txt",
                 "harvested/haiku__resnet50_train_step.hlo.txt"]

OURS = """
import json, sys, time
t0 = time.perf_counter()
import hloenv
module = hloenv.load_hlo(sys.argv[1])
t1 = time.perf_counter()
env = hloenv.HloEnv(module, reward="cost")
t2 = time.perf_counter()
env.reset(seed=0)
t3 = time.perf_counter()
print(json.dumps({"import+load": t1 - t0, "new env": t2 - t1, "first reset": t3 - t2, "total": t3 - t0}))
"""

XLA = """
import json, sys, time
t0 = time.perf_counter()
import jax
jax.devices("cpu")
t1 = time.perf_counter()
sys.path.insert(0, sys.argv[2])
from env_step import xla_compile_seconds  # the bare-jaxlib compile env_step.py times
xla_compile_seconds(open(sys.argv[1]).read())
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "compile": t2 - t1, "total": t2 - t0}))
"""


def _run(code: str, path: Path) -> dict[str, float]:
    env = dict(os.environ)
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(Path(__file__).resolve().parent)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    files = files_or_defaults(args.files, DEFAULT_FILES)
    if not files:
        return 2
    print(f"{'module':42s} {'import+load s':>13s} {'new env s':>9s} {'first reset s':>13s} {'ours s':>7s} "
          f"{'jax import s':>12s} {'XLA compile s':>13s} {'XLA s':>6s} {'ours/XLA':>8s}")
    for path in files:
        ours, xla = [], []
        for _ in range(args.repeat):
            ours.append(_run(OURS, path))
            xla.append(_run(XLA, path))
        o = {k: statistics.median(r[k] for r in ours) for k in ours[0]}
        x = {k: statistics.median(r[k] for r in xla) for k in xla[0]}
        print(f"{path.name[:42]:42s} {o['import+load']:13.2f} {o['new env']:9.2f} {o['first reset']:13.2f} "
              f"{o['total']:7.2f} {x['import']:12.2f} {x['compile']:13.2f} {x['total']:6.2f} "
              f"{o['total'] / x['total']:8.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
