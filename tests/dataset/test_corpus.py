"""All of ../shared/corpus (both subfolders): every file is accounted for, with backend compatibility."""

from __future__ import annotations

from pathlib import Path

import pytest

from hloenv.dataset import load

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")]


def test_whole_corpus_reports_every_module_with_backend_compatibility():
    ds = load(CORPUS)
    files = sorted(str(p) for p in CORPUS.rglob("*.txt"))
    accounted = [e.source for e in ds] + [d for e in ds for d in e.duplicates] + [p.source for p in ds.problems]
    assert sorted(accounted) == files  # each file once: a module, a duplicate, or a skipped file
    assert {p.kind for p in ds.problems} <= {"elided_constants"}
    assert all(e.backends or e.tags["unsupported"] for e in ds)

    harvested = [e for e in ds if e.name.startswith("harvested/")]
    assert len(harvested) == 20 and all(e.runs_on("cpu") for e in harvested)
    lapack = {e.name.split("/")[1].split("__")[0] for e in harvested if not e.runs_on("gpu")}
    assert lapack == {"numpyro", "evosax", "lineax"}  # CPU-only lapack_*_ffi custom calls

    old = [e for e in ds if e.name.startswith("hloenv-tests/")]
    gpu_only = [e for e in old if e.backends == ("gpu",)]
    assert len(gpu_only) >= 25
    assert all(any(t.startswith(("cuda", "cublas", "cusolver")) for t in e.tags["custom_call_targets"])
               for e in gpu_only)
    report = ds.report()
    assert all(e.name[-40:] in report for e in ds)
    assert f"{len(ds)} modules" in report
