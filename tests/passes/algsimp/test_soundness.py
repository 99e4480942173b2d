"""Soundness over the corpus: `algsimp,constant-folding,dce` applied for real computes what the
original computes (XLA, same random inputs). A small slice always runs; the rest is slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from hloenv import load_hlo
from hloenv.passes import Pipeline
from hloenv.passes.algsimp import AlgebraicSimplifier
from hloenv.passes.constant_folding import ConstantFolding
from hloenv.passes.dce import DeadCodeElimination
from hloenv.xla import UnsupportedOnBackend, compare

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
#: Small CPU-runnable modules on which algsimp and constant-folding fire.
FAST = {
    "hloenv-tests/test_hlos/GANs-JAX/module_0029.jit__one_hot.13.before_optimizations.txt",
    "hloenv-tests/test_hlos/jax-md/module_0190.jit_safe_mask.61.before_optimizations.txt",
    "hloenv-tests/test_hlos/Toy-neural-network-in-jax/module_0093.jit_loss.44.before_optimizations.txt",
}


def _params() -> list:
    files = sorted(p for p in CORPUS.rglob("*.txt") if p.name != "LICENSE") if CORPUS.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    out = []
    for path in files:
        rel = path.relative_to(CORPUS).as_posix()
        out.append(pytest.param(path, id=path.name[:60], marks=[] if rel in FAST else [pytest.mark.slow]))
    return out


def pipeline() -> Pipeline:
    """`algsimp,constant-folding,dce`, run to a fixed point."""
    return Pipeline([AlgebraicSimplifier(), ConstantFolding(), DeadCodeElimination()], fixed_point=True)


@pytest.mark.parametrize("path", _params())
def test_simplified_module_computes_the_same(path):
    original = load_hlo(path, allow_elided=True)
    if original.has_elided_constants:
        pytest.skip("constants elided in the corpus file: its outputs are not defined")
    module = load_hlo(path)
    result = pipeline()(module)
    module.verify()
    try:
        comparison = compare(original, module, timeout=900)
    except UnsupportedOnBackend as err:
        pytest.skip(f"not runnable on CPU: {err}")
    assert comparison.equal, f"{result.rewrites} rewrites: {comparison}"
