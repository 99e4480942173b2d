"""Observation adapters: PyTorch Geometric `Data` and networkx graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from hloenv.observation import EDGE_FEATURES, NODE_FEATURES, OBSERVATION_KEYS


def to_pyg(obs: dict[str, np.ndarray]) -> Any:
    """A `hloenv.adapters.HloData` (a `torch_geometric.data.Data`) with the observation's arrays
    as tensors.

    Batching with `torch_geometric.data.Batch` offsets `edge_index`, `alternative_index` and
    `option_index` by the node count, `option_alternative` by the alternatives count and
    `node_computation` by the computations of the graphs before it, so per-graph indices stay
    right in a batch (the computation id in `x`'s column stays each graph's own). It pickles (DataLoader workers,
    `torch.save`). Its tensors share memory with `obs` (`torch.from_numpy`): clone one to edit it.
    Needs the `learn` extra.
    """
    torch = _learn_import("torch")
    _check_observation(obs, "to_pyg")
    # (keys a user added go along: arrays as tensors, anything else as it is)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
               for k, v in obs.items()}
    return _hlo_data_class()(**tensors, num_nodes=int(obs["x"].shape[0]))


_HLO_DATA: type | None = None


def _learn_import(name: str) -> Any:
    """`import name`, or an ImportError that says which extra brings it."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(f"hloenv.to_pyg needs the learn extra (pip install 'hloenv[learn]'): "
                          f"{err}") from None


def _hlo_data_class() -> type:
    """`HloData`, made once (torch_geometric is imported only when it is first needed)."""
    global _HLO_DATA
    if _HLO_DATA is None:
        Data = _learn_import("torch_geometric.data").Data

        class HloData(Data):
            """An observation as a PyG graph; batches offset `option_alternative` by alternatives."""

            def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
                if key == "option_alternative":
                    return int(self.alternative_index.numel())
                if key == "node_computation":  # (ids stay apart: grouping by computation keeps graphs apart)
                    return int(value.max()) + 1 if value.numel() else 0
                return super().__inc__(key, value, *args, **kwargs)

        HloData.__module__, HloData.__qualname__ = __name__, "HloData"  # (pickle finds it here)
        _HLO_DATA = HloData
    return _HLO_DATA


def __getattr__(name: str) -> Any:  # `hloenv.adapters.HloData`, made on first use (unpickling too)
    if name == "HloData":
        return _hlo_data_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Each array's shape in the schema: N nodes, E edges, A alternatives nodes, O options.
_SCHEMA_SHAPES = {"x": ("N", len(NODE_FEATURES)), "node_opcode": ("N",), "node_computation": ("N",),
                  "edge_index": (2, "E"), "edge_attr": ("E", len(EDGE_FEATURES)), "alternative_index": ("A",),
                  "option_count": ("A",), "option_index": ("O",), "option_alternative": ("O",),
                  "option_xla": ("O",)}


def _check_observation(obs: Any, who: str) -> None:
    """A clear error for anything that is not an `HloEnv` observation (the schema of
    `hloenv.observation`): missing keys, arrays of the wrong rank, width, length or kind, and
    node or alternative ids out of range, which would otherwise make nodes without features or
    a graph with the wrong edges."""
    if not isinstance(obs, dict):
        raise TypeError(f"{who} takes an HloEnv observation (a dict of numpy arrays), not {type(obs).__name__}")
    missing = [k for k in OBSERVATION_KEYS if k not in obs]
    if missing:
        raise ValueError(f"{who}: not an HloEnv observation, missing {', '.join(missing)}")
    bad = [k for k in OBSERVATION_KEYS if not isinstance(obs[k], np.ndarray)]
    if bad:
        hint = ""
        if all(isinstance(obs[k], tuple) for k in bad):  # a vector env's: per-env tuples
            hint = (f" (they are tuples, as a vector env gives: one per env; take env i's observation "
                    f"with {{k: v[i] for k, v in obs.items()}})")
        raise TypeError(f"{who}: observation entries must be numpy arrays; {', '.join(bad)} are not{hint}")
    x, edges = obs["x"], obs["edge_index"]
    sizes = {"N": x.shape[0] if x.ndim == 2 else None, "E": edges.shape[1] if edges.ndim == 2 else None,
             "A": len(obs["alternative_index"]), "O": len(obs["option_index"])}
    for key, schema in _SCHEMA_SHAPES.items():
        shape = tuple(sizes.get(d, d) for d in schema)
        if obs[key].shape != shape:
            known = ", ".join(f"{d}={v}" for d, v in sizes.items() if v is not None and d in schema)
            raise ValueError(f"{who}: observation {key!r} has shape {list(obs[key].shape)}; the schema says "
                             f"[{', '.join(map(str, schema))}]" + (f" ({known})" if known else ""))
    n, a, o = sizes["N"], sizes["A"], sizes["O"]
    for key in _SCHEMA_SHAPES:
        features = key in ("x", "edge_attr", "option_xla")
        if not np.issubdtype(obs[key].dtype, np.number if features else np.integer):
            raise TypeError(f"{who}: observation {key!r} holds {obs[key].dtype} values; the schema says "
                            f"{'numbers' if features else 'integer ids'}")
    for key, bound, what in (("edge_index", n, "node"), ("alternative_index", n, "node"),
                             ("option_index", n, "node"), ("option_alternative", a, "alternative")):
        ids = obs[key]
        if ids.size and (ids.min() < 0 or ids.max() >= bound):
            wrong = ids[(ids < 0) | (ids >= bound)].flat[0]
            raise ValueError(f"{who}: observation {key!r} holds {what} id {wrong}, out of range for "
                             f"{bound} {what}s")
    if int(obs["option_count"].sum()) != o:
        raise ValueError(f"{who}: observation 'option_count' adds up to {int(obs['option_count'].sum())}, "
                         f"but there are {o} options")


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
