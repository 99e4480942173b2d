"""Observation adapters: PyTorch Geometric `Data` and networkx graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from hloenv.observation import EDGE_FEATURES, NODE_FEATURES, OBSERVATION_KEYS


def to_pyg(obs: dict[str, np.ndarray]) -> Any:
    """A `hloenv.adapters.HloData` (a `torch_geometric.data.Data`) with the observation's arrays
    as tensors.

    Batching with `torch_geometric.data.Batch` offsets `edge_index`, `alternative_index` and
    `option_index` by the node count and `option_alternative` by the alternatives count of the
    graphs before it, so per-graph indices stay right in a batch. It pickles (DataLoader workers,
    `torch.save`). Needs the `learn` extra.
    """
    import torch
    _check_observation(obs, "to_pyg")
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in obs.items()}
    return _hlo_data_class()(**tensors, num_nodes=int(obs["x"].shape[0]))


_HLO_DATA: type | None = None


def _hlo_data_class() -> type:
    """`HloData`, made once (torch_geometric is imported only when it is first needed)."""
    global _HLO_DATA
    if _HLO_DATA is None:
        from torch_geometric.data import Data

        class HloData(Data):
            """An observation as a PyG graph; batches offset `option_alternative` by alternatives."""

            def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
                if key == "option_alternative":
                    return int(self.alternative_index.numel())
                return super().__inc__(key, value, *args, **kwargs)

        HloData.__module__, HloData.__qualname__ = __name__, "HloData"  # (pickle finds it here)
        _HLO_DATA = HloData
    return _HLO_DATA


def __getattr__(name: str) -> Any:  # `hloenv.adapters.HloData`, made on first use (unpickling too)
    if name == "HloData":
        return _hlo_data_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_observation(obs: Any, who: str) -> None:
    """A clear error for anything that is not an `HloEnv` observation."""
    if not isinstance(obs, dict):
        raise TypeError(f"{who} takes an HloEnv observation (a dict of numpy arrays), not {type(obs).__name__}")
    missing = [k for k in OBSERVATION_KEYS if k not in obs]
    if missing:
        raise ValueError(f"{who}: not an HloEnv observation, missing {', '.join(missing)}")
    bad = [k for k in OBSERVATION_KEYS if not isinstance(obs[k], np.ndarray)]
    if bad:
        raise TypeError(f"{who}: observation entries must be numpy arrays; {', '.join(bad)} are not")


def to_networkx(obs: dict[str, np.ndarray]) -> Any:
    """A networkx MultiDiGraph: node attributes from `NODE_FEATURES`, edge attributes from
    `EDGE_FEATURES`, and `is_option_of` on option nodes."""
    import networkx as nx

    _check_observation(obs, "to_networkx")
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
