"""The XLA bridge: compile, run, time and compare modules through jaxlib, in worker processes.

``evaluate`` times a module, ``paired_timing`` times two against each other run for run (what a
speedup is measured with), ``compare`` checks two modules agree on the same inputs, ``cost``
asks XLA's HloCostAnalysis without compiling. Nothing here imports jax in the caller's process.
"""

from __future__ import annotations

from hloenv.xla.api import compare, cost, cost_async, evaluate, paired_timing, verify, warm_up
from hloenv.xla.errors import (BackendUnavailable, EvaluationError, UnsupportedOnBackend,
                               XlaBackendError)
from hloenv.xla.inputs import make_inputs
from hloenv.xla.passes import ENV_DISABLED_PASSES
from hloenv.xla.results import Comparison, Cost, Evaluation, OutputDiff, PairedTiming

__all__ = [
    "BackendUnavailable", "Comparison", "Cost", "ENV_DISABLED_PASSES", "Evaluation",
    "EvaluationError", "OutputDiff", "PairedTiming", "UnsupportedOnBackend", "XlaBackendError", "compare", "cost",
    "cost_async", "verify", "evaluate", "make_inputs", "paired_timing", "warm_up",
]
