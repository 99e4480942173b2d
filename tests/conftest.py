"""Shared fixtures: the project's own small modules, and the corpus beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
DATA = REPO / "hloenv" / "data"

#: A few fast, varied corpus modules that CI always checks (both eras, tuples, calls, custom calls).
CORPUS_SLICE = [
    "hloenv-tests/fn_hlo.txt",
    "hloenv-tests/hlo_test.txt",
    "hloenv-tests/test_hlos/BayesNewton/1649161870141180.module_1898.jit__cho_solve__38.9.before_optimizations.txt",
    "hloenv-tests/test_hlos/jaxrl/module_0140.jit_qr.53.before_optimizations.txt",
    "harvested/haiku__mobilenetv1_forward.hlo.txt",
    "harvested/lineax__gmres_and_cg_solves.hlo.txt",
]


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix == ".txt" and p.name != "LICENSE")


def corpus_params(slow_for_rest: bool = True) -> list:
    """pytest params over the corpus: the slice runs always, the rest is marked slow."""
    files = corpus_files()
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    params = []
    for path in files:
        rel = path.relative_to(CORPUS).as_posix()
        marks = [] if rel in CORPUS_SLICE or not slow_for_rest else [pytest.mark.slow]
        params.append(pytest.param(path, id=rel.split("/")[-1][:60], marks=marks))
    return params


def bundled_modules() -> list[Path]:
    return sorted(DATA.glob("*.hlo"))
