"""Deterministic train/test assignment from a module's fingerprint and a seed."""

from __future__ import annotations

from hashlib import blake2b
from numbers import Integral, Real


def unit_hash(fingerprint: str, seed: int = 0) -> float:
    """A number in [0, 1) fixed by ``fingerprint`` and ``seed`` (stable across processes)."""
    if not isinstance(fingerprint, str):
        raise TypeError(f"fingerprint must be a str, not {fingerprint!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral):  # (the seed is hashed as text:
        raise TypeError(f"seed must be an int, not {seed!r}")     # 1, 1.0 and True split apart)
    seed = int(seed)
    digest = blake2b(f"{seed}:{fingerprint}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def split_of(fingerprint: str, test_fraction: float = 0.2, seed: int = 0) -> str:
    """``"test"`` for about ``test_fraction`` of all fingerprints, else ``"train"``."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, Real):
        raise TypeError(f"test_fraction must be a number in [0, 1], not {test_fraction!r}")
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    return "test" if unit_hash(fingerprint, seed) < test_fraction else "train"
