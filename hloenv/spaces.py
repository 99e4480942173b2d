"""A Gymnasium space for numpy arrays whose leading dimensions vary (graphs of any size)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces


class ArraySpace(spaces.Space[np.ndarray]):
    """Arrays of a fixed dtype and rank; a `None` in `shape` is a dimension of any size.

    `ArraySpace((None, 12), np.float32)` holds node-feature matrices of any node count. Batching in
    vector envs falls back to Gymnasium's generic rule for custom spaces (a tuple per env), so use
    vector envs with `shared_memory=False`.
    """

    def __init__(self, shape: Sequence[int | None], dtype: Any, low: float = -np.inf, high: float = np.inf,
                 seed: int | np.random.Generator | None = None, max_sample_size: int = 8):
        self.pattern = tuple(shape)
        self.low = low
        self.high = high
        self.max_sample_size = max_sample_size
        super().__init__(None, np.dtype(dtype), seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        if not isinstance(x, np.ndarray) or x.dtype != self.dtype or x.ndim != len(self.pattern):
            return False
        if any(p is not None and p != s for p, s in zip(self.pattern, x.shape)):
            return False
        if x.size and np.issubdtype(self.dtype, np.number):
            return bool(np.all(x >= self.low) and np.all(x <= self.high))
        return True

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        size = int(self.np_random.integers(0, self.max_sample_size + 1))
        shape = tuple(size if p is None else p for p in self.pattern)
        if np.issubdtype(self.dtype, np.integer):
            low = int(max(self.low, 0)) if np.isfinite(self.low) else 0
            high = int(min(self.high, low + 100)) if np.isfinite(self.high) else low + 100
            return self.np_random.integers(low, high + 1, size=shape).astype(self.dtype)
        low = self.low if np.isfinite(self.low) else -1.0
        high = self.high if np.isfinite(self.high) else 1.0
        return self.np_random.uniform(low, high, size=shape).astype(self.dtype)

    def __repr__(self) -> str:
        dims = ", ".join("N" if p is None else str(p) for p in self.pattern)
        return f"ArraySpace([{dims}], {self.dtype})"

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, ArraySpace) and self.pattern == other.pattern and self.dtype == other.dtype
                and self.low == other.low and self.high == other.high)


def random_action(action_mask: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """A uniformly random legal action from `info["action_mask"]`, one env's or a vector env's.

    A vector env's `action_space` is fixed when it is made (every entry up to `max_options`), while
    each node offers its own number of options: its `sample()` mostly picks options a node lacks,
    which `step` reads as the original (they are masked). Sample from the masks instead:

        obs, infos = envs.reset(seed=0)
        obs, rewards, term, trunc, infos = envs.step(hloenv.random_action(infos["action_mask"], rng))

    Args:
        action_mask: [max_alternatives, max_options] bool (one env), a stack of them [envs, ...],
            or a sequence of them (envs over different modules).
        rng: a numpy Generator or a seed.
    Returns:
        int64 actions, one row per env for a stack or sequence.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    masks = action_mask
    if not isinstance(masks, np.ndarray):  # (lists of lists: one mask or a stack, unless ragged)
        try:
            stacked = np.asarray(masks)
        except ValueError:  # ragged: envs over different modules
            stacked = None
        if stacked is not None and stacked.dtype != object:
            masks = stacked
    if isinstance(masks, np.ndarray) and masks.dtype != object:
        if masks.ndim == 2:
            return _sample_one(masks, rng)
        if masks.ndim != 3:
            raise ValueError(f"an action mask is [max_alternatives, max_options] bool (a stack of them: "
                             f"[envs, max_alternatives, max_options]), not {masks.dtype} {masks.shape}")
    rows = [_sample_one(np.asarray(m), rng) for m in masks]
    return np.stack(rows) if len({r.shape for r in rows}) <= 1 else np.array(rows, dtype=object)


def _sample_one(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"an action mask is [max_alternatives, max_options] bool, not {mask.dtype} {mask.shape}")
    counts = mask.sum(axis=1)
    if np.any(counts < 1):
        raise ValueError("an action mask row allows no option (each row allows option 0 at least)")
    # the k-th allowed option of each row, k uniform (an env's masks allow 0..count-1, but any
    # mask is read as it is)
    k = np.floor(rng.random(len(counts)) * counts).astype(np.int64)
    ranks = np.cumsum(mask, axis=1) - 1  # rank of each allowed option in its row
    return np.argmax(mask & (ranks == k[:, None]), axis=1).astype(np.int64)
