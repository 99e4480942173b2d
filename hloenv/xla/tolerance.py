"""Element-wise comparison of output buffers with per-dtype tolerances."""

from __future__ import annotations

import numpy as np

from hloenv.xla.results import OutputDiff

#: (rtol, atol) by numpy dtype name; an element passes when |a - b| <= atol + rtol * |b|.
#: f32 allows ~1e-3 relative: reordered accumulation moved corpus outputs by ~3e-4.
DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "complex128": (1e-7, 1e-9),
    "float32": (1e-3, 1e-5),
    "complex64": (1e-3, 1e-5),
    "float16": (1e-2, 1e-3),
    "bfloat16": (2e-2, 1e-2),
}
_LOW_PRECISION = (5e-2, 5e-2)  # fp8 and other tiny float types


def tolerance_for(dtype: np.dtype, rtol: float | None = None,
                  atol: float | None = None) -> tuple[float, float]:
    """``(rtol, atol)`` for ``dtype``, with explicit values taking precedence."""
    d_rtol, d_atol = DEFAULT_TOLERANCES.get(np.dtype(dtype).name, _LOW_PRECISION)
    return (d_rtol if rtol is None else rtol), (d_atol if atol is None else atol)


def _is_exact(dtype: np.dtype) -> bool:
    return dtype.kind in "biu" or dtype.name in ("int4", "uint4", "int2", "uint2")


def compare_arrays(index: int, a: np.ndarray, b: np.ndarray, rtol: float | None = None,
                   atol: float | None = None) -> OutputDiff:
    """Compare one output of A with B's (B is the reference for relative error)."""
    a, b = np.asarray(a), np.asarray(b)
    dtype_name = a.dtype.name
    if a.shape != b.shape or a.dtype != b.dtype:
        return OutputDiff(index, dtype_name, tuple(a.shape), False,
                          reason=f"shape/dtype differ: {a.dtype}{list(a.shape)} vs "
                                 f"{b.dtype}{list(b.shape)}")
    if a.size == 0:
        return OutputDiff(index, dtype_name, tuple(a.shape), True)
    if _is_exact(a.dtype):
        ai, bi = a.astype(np.int64), b.astype(np.int64)
        diff = np.abs(ai - bi)
        bad = int(np.count_nonzero(diff))
        max_abs = float(diff.max())
        rel = diff / np.maximum(np.abs(bi), 1)
        return OutputDiff(index, dtype_name, tuple(a.shape), bad == 0, max_abs, float(rel.max()),
                          bad, 0.0, 0.0, "" if bad == 0 else f"{bad} integer elements differ")
    r, t = tolerance_for(a.dtype, rtol, atol)
    wide = np.complex128 if a.dtype.kind == "c" else np.float64
    aw, bw = a.astype(wide), b.astype(wide)
    nan_a, nan_b = np.isnan(aw), np.isnan(bw)
    nan_bad = int(np.count_nonzero(nan_a != nan_b))
    finite = ~(nan_a | nan_b)
    inf_bad = int(np.count_nonzero(finite & (np.isinf(aw) | np.isinf(bw)) & (aw != bw)))
    both = finite & np.isfinite(aw) & np.isfinite(bw)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(both, np.abs(aw - bw), 0.0)
    ref = np.abs(bw)
    close = err <= t + r * np.where(both, ref, 0.0)
    bad = int(np.count_nonzero(both & ~close)) + nan_bad + inf_bad
    max_abs = float(err.max())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = np.where(both & (err > 0), err / np.maximum(ref, np.finfo(np.float64).tiny), 0.0)
    reasons = []
    if nan_bad:
        reasons.append(f"NaN positions differ at {nan_bad} elements")
    if inf_bad:
        reasons.append(f"infinities differ at {inf_bad} elements")
    if bad - nan_bad - inf_bad:
        reasons.append(f"{bad - nan_bad - inf_bad} elements outside rtol={r:g}, atol={t:g}")
    return OutputDiff(index, dtype_name, tuple(a.shape), bad == 0, max_abs, float(rel.max()), bad,
                      r, t, "; ".join(reasons))
