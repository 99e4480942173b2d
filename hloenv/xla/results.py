"""Result types: Evaluation, PairedTiming, Comparison (with one OutputDiff per output), Cost."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

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


@dataclass
class PairedTiming:
    """Two modules timed in turn on the same inputs in one worker (`hloenv.xla.paired_timing`).

    ``a`` and ``b`` are their evaluations (never from the cache; ``a.samples[k]`` and
    ``b.samples[k]`` are pair k, timed one right after the other). ``speedup`` is the median of
    the pairs' ratios A/B (above 1: B is faster); ``speedup_low`` and ``speedup_high`` are the
    order statistics of those ratios that hold their median with at least 90% confidence
    (distribution-free: each ratio is above the median with probability one half; with 5 pairs,
    the smallest and largest ratio, 94%). A wide interval says the machine moved under the
    measurement, and a speedup whose interval holds 1 is no speedup.
    """

    a: Evaluation
    b: Evaluation

    #: the confidence the interval has at least (with fewer than 5 pairs it cannot: min and max)
    CONFIDENCE: ClassVar[float] = 0.90

    def _ratios(self) -> list[float]:
        return sorted(x / y for x, y in zip(self.a.samples, self.b.samples) if y > 0)

    @property
    def speedup(self) -> float:
        ratios = self._ratios()
        return float(np.median(ratios)) if ratios else float("nan")

    @property
    def pairs(self) -> int:
        return min(len(self.a.samples), len(self.b.samples))

    @property
    def speedup_low(self) -> float:
        return self._interval()[0]

    @property
    def speedup_high(self) -> float:
        return self._interval()[1]

    def _interval(self) -> tuple[float, float]:
        ratios = self._ratios()
        n = len(ratios)
        if n == 0:
            return float("nan"), float("nan")
        # [r(j), r(n+1-j)] misses the median when j or more ratios fall on one side of it:
        # probability 2 * P(Binomial(n, 1/2) <= j - 1); take the largest j that keeps it small
        j, tail = 0, 0.0
        while j < n // 2 and tail + math.comb(n, j) / 2 ** n <= (1 - self.CONFIDENCE) / 2:
            tail += math.comb(n, j) / 2 ** n
            j += 1
        j = max(j, 1)
        return ratios[j - 1], ratios[n - j]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able), with the speedup and its interval."""
        low, high = self._interval()
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "speedup": self.speedup,
                "speedup_low": low, "speedup_high": high, "pairs": self.pairs}


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
