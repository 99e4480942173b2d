"""Baseline agents: random, original (never rewrite), all (always rewrite), xla (XLA's heuristic)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hloenv.agents.base import action_length, register_agent


class RandomAgent:
    """Uniform over the legal options of every alternatives node."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        mask = info["action_mask"]
        counts = mask.sum(axis=1)
        return (self.rng.random(len(counts)) * counts).astype(np.int64)


class OriginalAgent:
    """Keeps every original: the module stays as XLA's front end produced it."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        return np.zeros(info["action_mask"].shape[0], dtype=np.int64)


class AllAgent:
    """Always takes the first proposed rewrite (option 1) where there is one."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        return (info["action_mask"].sum(axis=1) > 1).astype(np.int64)


class XlaAgent:
    """Picks what XLA's own heuristic would (`obs["option_xla"]`); the original where unknown."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        counts = obs["option_count"]
        action = np.zeros(action_length(obs, info), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        xla = obs["option_xla"]
        for k, (start, count) in enumerate(zip(starts, counts)):
            picks = np.flatnonzero(xla[start:start + count])
            if picks.size:
                action[k] = picks[0]
        return action


register_agent("random")(RandomAgent)
register_agent("original")(OriginalAgent)
register_agent("all")(AllAgent)
register_agent("xla")(XlaAgent)
