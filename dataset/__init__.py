"""Datasets of HLO modules: loading (folders, archives, protos), harvesting from JAX programs,
other frontends, deterministic splits, and batch benchmarking of agents (``hloenv bench``).

    ds = hloenv.dataset.load("corpus/")          # or .tar / .tar.gz / .zip / one file
    print(ds.report())
    train, test = ds.split(test_fraction=0.2, seed=0)
"""

from __future__ import annotations

from hloenv.dataset.archive import ArchiveLimits, iter_archive, safe_extract
from hloenv.dataset.dataset import Dataset, Entry, Problem, Split
from hloenv.dataset.errors import (DatasetError, FrontendUnavailable, HarvestError,
                                   UnsafeArchiveError)
from hloenv.dataset.frontends import load_mlir, stablehlo_to_hlo, tf_hlo_text
from hloenv.dataset.harvest import HarvestResult, from_jax, harvest
from hloenv.dataset.load import default, load
from hloenv.dataset.splits import split_of

__all__ = [
    "ArchiveLimits", "Dataset", "DatasetError", "Entry", "FrontendUnavailable", "HarvestError",
    "HarvestResult", "Problem", "Split", "UnsafeArchiveError", "default", "from_jax", "harvest",
    "iter_archive", "load", "load_mlir", "safe_extract", "split_of", "stablehlo_to_hlo",
    "tf_hlo_text",
]
