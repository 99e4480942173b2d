"""Corpus checks: a fast representative slice always; every module with ``-m slow``.

For every module: if it needs custom calls the CPU lacks, ``UnsupportedOnBackend``; if its text
has elided constants (``constant({...})``, two hloenv-tests modules), a ``ValueError`` (XLA would
run them as zeros); otherwise it evaluates under both pipelines and ``compare`` with its own file
text says equal.
"""

from __future__ import annotations

import pytest

import hloenv
from hloenv.xla import UnsupportedOnBackend, compare, evaluate
from hloenv.xla.targets import unsupported_targets

from .conftest import CORPUS

# Small and quick: both syntax eras, a tuple root, and a GPU-only custom call.
FAST_SLICE = (
    "hloenv-tests/fn_hlo.txt",
    "hloenv-tests/test_hlos/jax-md/module_0013.jit__lambda_.7.before_optimizations.txt",
    "hloenv-tests/test_hlos/ott/module_0164.jit_leaky_relu.74.before_optimizations.txt",
    "hloenv-tests/test_hlos/siren-jax/module_0010.jit__threefry_split.5.before_optimizations.txt",
)
QUICK = dict(repeats=2, min_repeats=1, time_budget=0.1, cache=False)


def _all_corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
                  if p.is_file() and p.name != "LICENSE")


def _check_module(rel: str) -> str:
    path = CORPUS / rel
    if not path.is_file():
        pytest.skip(f"shared corpus file not found: {path.resolve()}")
    text = path.read_text()
    if "constant({...})" in text:
        with pytest.raises(ValueError, match="elided"):
            evaluate(text, **QUICK)
        return "elided"
    module = hloenv.load_hlo(path)
    if unsupported_targets(module, "cpu"):
        with pytest.raises(UnsupportedOnBackend):
            evaluate(module, **QUICK)
        return "unsupported"
    for pipeline in ("xla-default", "env"):
        ev = evaluate(module, pipeline=pipeline, **QUICK)
        assert ev.sample_count >= 1 and ev.median > 0
    c = compare(module, text)
    assert c.equal, c.reason
    return "ok"


@pytest.mark.parametrize("rel", FAST_SLICE)
def test_fast_slice(rel):
    assert _check_module(rel) == ("unsupported" if "threefry" in rel else "ok")


@pytest.mark.slow
@pytest.mark.parametrize("rel", _all_corpus_files() or ["<corpus missing>"])
def test_every_corpus_module(rel):
    _check_module(rel)
