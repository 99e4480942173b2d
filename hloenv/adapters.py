"""Observation adapters: PyTorch Geometric `Data` and networkx graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from hloenv.observation import EDGE_FEATURES, NODE_FEATURES


def to_pyg(obs: dict[str, np.ndarray]) -> Any:
    """A `torch_geometric.data.Data` with the observation's arrays as tensors.

    Batching with `torch_geometric.data.Batch` offsets `edge_index`, `alternative_index` and
    `option_index` by the node count and `option_alternative` by the alternatives count of the
    graphs before it, so per-graph indices stay right in a batch. Needs the `learn` extra.
    """
    import torch
    from torch_geometric.data import Data

    class HloData(Data):
        def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
            if key == "option_alternative":
                return int(self.alternative_index.numel())
            return super().__inc__(key, value, *args, **kwargs)

    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in obs.items()}
    return HloData(**tensors, num_nodes=int(obs["x"].shape[0]))


def to_networkx(obs: dict[str, np.ndarray]) -> Any:
    """A networkx MultiDiGraph: node attributes from `NODE_FEATURES`, edge attributes from
    `EDGE_FEATURES`, and `is_option_of` on option nodes."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    x = obs["x"]
    for i in range(x.shape[0]):
        graph.add_node(i, **{name: float(x[i, j]) for j, name in enumerate(NODE_FEATURES)})
    src, dst = obs["edge_index"]
    for e in range(src.shape[0]):
        graph.add_edge(int(src[e]), int(dst[e]),
                       **{name: float(obs["edge_attr"][e, j]) for j, name in enumerate(EDGE_FEATURES)})
    for node, alt in zip(obs["option_index"], obs["option_alternative"]):
        graph.nodes[int(node)].setdefault("is_option_of", []).append(int(obs["alternative_index"][alt]))
    return graph
