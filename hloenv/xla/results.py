"""Result types: Evaluation, Comparison (with one OutputDiff per output), Cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class Evaluation:
    """One module compiled and timed on one backend.

    Times are in seconds. ``samples`` are the timed runs after warm-up; ``median``, ``min`` and
    ``iqr`` summarise them. ``outputs`` holds the output buffers (tuple roots flattened) when
    they were asked for. ``cached`` says the numbers came from the disk cache.
    """

    module_name: str
    backend: str
    pipeline: str
    median: float
    min: float
    iqr: float
    samples: list[float] = field(repr=False)
    warmup_runs: int
    compile_time: float
    device: str
    jaxlib_version: str
    options: dict[str, Any]
    seed: int
    key: str = ""
    cached: bool = False
    outputs: list[np.ndarray] | None = field(default=None, repr=False)

    @property
    def sample_count(self) -> int:
        """Number of timed runs."""
        return len(self.samples)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able); outputs are left out."""
        d = asdict(self)
        d.pop("outputs")
        d["sample_count"] = self.sample_count
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evaluation:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d.pop("sample_count", None)
        return cls(**d)


def summarize(samples: list[float]) -> tuple[float, float, float]:
    """``(median, min, iqr)`` of timing samples; NaNs when there are none."""
    if not samples:
        return float("nan"), float("nan"), float("nan")
    a = np.asarray(samples, dtype=np.float64)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return float(med), float(a.min()), float(q3 - q1)


@dataclass
class OutputDiff:
    """How one output buffer of module A differs from module B's."""

    index: int
    dtype: str
    shape: tuple[int, ...]
    equal: bool
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    mismatches: int = 0
    rtol: float = 0.0
    atol: float = 0.0
    reason: str = ""


@dataclass
class Comparison:
    """Outputs of two modules on the same inputs; ``equal`` when every output matches."""

    equal: bool
    outputs: list[OutputDiff]
    seed: int
    a: str = ""
    b: str = ""
    reason: str = ""

    def __bool__(self) -> bool:
        return self.equal

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able)."""
        return asdict(self)


@dataclass(frozen=True)
class Cost:
    """XLA's HloCostAnalysis totals for a module (no compile, no run)."""

    flops: float
    transcendentals: float
    bytes_accessed: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
