"""greedy: per alternatives node, the option that most lowers XLA's cost-model estimate.

One coordinate-descent sweep per step: starting from "keep every original", each node in turn
tries its options with the decisions made so far and keeps the cheapest. Each try costs one cost
analysis (no compile); after `budget` tries the remaining nodes keep their originals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hloenv.agents.base import register_agent
from hloenv.altgraph.alternatives import alternatives_nodes
from hloenv.altgraph.checks import check_int
from hloenv.altgraph.module import Module
from hloenv.altgraph.selected import selected_copy
from hloenv.rewards import estimated_seconds


def estimated_cost(module: Module, backend: str = "cpu") -> float:
    """XLA's cost analysis of `module` folded into estimated seconds (inf when XLA fails)."""
    from hloenv.xla import cost
    try:
        c = cost(module, backend)
    except Exception:  # a module XLA rejects is never the cheapest
        return float("inf")
    return estimated_seconds(c.flops, c.transcendentals, c.bytes_accessed)


def cost_of_choices(graph: Module, choices: list[int], backend: str = "cpu") -> float:
    """The estimate of the module `choices` pick (copied without the options it drops)."""
    return estimated_cost(selected_copy(graph, choices), backend)


class GreedyAgent:
    """Greedy over the cost model; `budget` cost evaluations per step."""

    def __init__(self, budget: int = 256, backend: str = "cpu"):
        check_int("GreedyAgent budget", budget, 1)
        self.budget = budget
        self.backend = backend
        self.env: Any = None

    def reset(self, env: Any) -> None:
        self.env = env

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        if self.env is None:
            raise RuntimeError("GreedyAgent needs reset(env) before act() (run_episode does this)")
        graph = self.env.graph
        nodes = alternatives_nodes(graph)[:info["action_mask"].shape[0]]
        choices = [0] * len(alternatives_nodes(graph))
        best_cost = cost_of_choices(graph, choices, self.backend)
        tries = 0
        for k, node in enumerate(nodes):
            if tries >= self.budget:
                break
            best_option = 0
            for option in range(1, len(node.operands)):
                trial = list(choices)
                trial[k] = option
                c = cost_of_choices(graph, trial, self.backend)
                tries += 1
                if c < best_cost:
                    best_cost, best_option = c, option
            choices[k] = best_option
        action = np.zeros(info["action_mask"].shape[0], dtype=np.int64)
        action[:len(nodes)] = choices[:len(nodes)]
        return action


register_agent("greedy")(GreedyAgent)
