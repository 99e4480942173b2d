"""Observation adapters: networkx always, PyG when the `learn` extra is installed."""

from __future__ import annotations

import numpy as np
import pytest

from hloenv import to_networkx, to_pyg
from tests.hloenv.test_env import make


def test_to_networkx_matches_the_arrays():
    obs, _ = make().reset(seed=0)
    g = to_networkx(obs)
    assert g.number_of_nodes() == obs["x"].shape[0] and g.number_of_edges() == obs["edge_index"].shape[1]
    alt = int(obs["alternative_index"][0])
    options = [n for n, d in g.nodes(data=True) if alt in d.get("is_option_of", [])]
    assert len(options) == obs["option_count"][0] and g.nodes[alt]["is_alternatives"] == 1.0


def test_to_pyg_batches_with_offsets():
    pytest.importorskip("torch_geometric", reason="needs the learn extra (torch, torch-geometric)")
    from torch_geometric.data import Batch
    obs, _ = make().reset(seed=0)
    d = to_pyg(obs)
    assert d.num_nodes == obs["x"].shape[0] and tuple(d.edge_index.shape) == obs["edge_index"].shape
    batch = Batch.from_data_list([d, d])
    n, a = obs["x"].shape[0], len(obs["alternative_index"])
    assert batch.alternative_index[a:].tolist() == (obs["alternative_index"] + n).tolist()
    assert batch.option_index[len(obs["option_index"]):].tolist() == (obs["option_index"] + n).tolist()
    assert batch.option_alternative[len(obs["option_index"]):].tolist() == (obs["option_alternative"] + a).tolist()
    assert np.array_equal(batch.edge_index[:, obs["edge_index"].shape[1]:].numpy(), obs["edge_index"] + n)
    # computation ids stay apart too (they collided: grouping by computation mixed graphs; a probe)
    c = int(obs["node_computation"].max()) + 1
    assert batch.node_computation[n:].tolist() == (obs["node_computation"] + c).tolist()


def test_to_pyg_data_pickles_and_unpickles_in_a_fresh_process(tmp_path):
    """DataLoader workers and `torch.save` pickle the graphs: `HloData` is found by its module."""
    pytest.importorskip("torch_geometric", reason="needs the learn extra (torch, torch-geometric)")
    import pickle
    import subprocess
    import sys
    obs, _ = make().reset(seed=0)
    d = to_pyg(obs)
    assert type(d) is type(to_pyg(obs))  # one class, not one per call
    again = pickle.loads(pickle.dumps(d))
    assert again.edge_index.tolist() == d.edge_index.tolist()
    path = tmp_path / "data.pkl"
    path.write_bytes(pickle.dumps(d))
    code = ("import pickle, sys; d = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(type(d).__module__, type(d).__name__, d.num_nodes)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["hloenv.adapters", "HloData", str(obs["x"].shape[0])]


def test_adapters_reject_what_is_not_an_observation():
    obs, _ = make().reset(seed=0)
    with pytest.raises(TypeError, match="takes an HloEnv observation"):
        to_networkx("x")
    with pytest.raises(ValueError, match="missing x, node_opcode"):
        to_networkx({"edge_index": obs["edge_index"]})
    with pytest.raises(TypeError, match="must be numpy arrays; x"):
        to_networkx({**obs, "x": obs["x"].tolist()})
    batched = {k: (v, v) for k, v in obs.items()}  # (a vector env's: per-env tuples)
    with pytest.raises(TypeError, match=r"they are tuples, as a vector env gives.*\{k: v\[i\] for k, v in obs.items\(\)\}"):
        to_networkx(batched)
    assert to_networkx({k: v[1] for k, v in batched.items()}).number_of_nodes() == len(obs["x"])


def test_to_pyg_rejects_what_is_not_an_observation():
    pytest.importorskip("torch_geometric", reason="needs the learn extra (torch, torch-geometric)")
    with pytest.raises(TypeError, match="to_pyg takes an HloEnv observation"):
        to_pyg(1)
    with pytest.raises(ValueError, match="to_pyg: not an HloEnv observation, missing"):
        to_pyg({"x": np.zeros((1, 20), np.float32)})


def _changed(obs, **arrays):
    return {**{k: v.copy() for k, v in obs.items()}, **arrays}


def test_adapters_reject_arrays_that_break_the_schema():
    """Each was taken: networkx made nodes without features (an edge to node 10000, `x` cut
    short) or failed with an unpacking or index error; PyG built a graph of the wrong shape."""
    obs, _ = make().reset(seed=0)
    edges, n = obs["edge_index"], obs["x"].shape[0]
    out_of_range = edges.copy()
    out_of_range[1, 3] = n
    cases = [
        (_changed(obs, edge_index=out_of_range), ValueError, f"'edge_index' holds node id {n}, out of range for {n} nodes"),
        (_changed(obs, edge_index=-edges), ValueError, "holds node id -"),
        (_changed(obs, x=obs["x"][:10]), ValueError, "'node_opcode' has shape .*the schema says \\[N\\] \\(N=10\\)"),
        (_changed(obs, edge_index=edges.T.copy()), ValueError, "'edge_index' has shape .*the schema says \\[2, E\\]"),
        (_changed(obs, edge_attr=obs["edge_attr"][:-1]), ValueError, "'edge_attr' has shape"),
        (_changed(obs, edge_index=edges.astype(np.float64)), TypeError, "'edge_index' holds float64 values"),
        (_changed(obs, x=np.array(1.0)), ValueError, "'x' has shape \\[\\]"),
        (_changed(obs, option_alternative=obs["option_alternative"] + 1000), ValueError, "alternative id 10"),
        (_changed(obs, option_count=obs["option_count"] + 1), ValueError, "'option_count' adds up to"),
    ]
    adapters = [to_networkx]
    try:
        import torch_geometric  # noqa: F401
        adapters.append(to_pyg)
    except ImportError:
        pass
    for bad, kind, message in cases:
        for adapter in adapters:
            with pytest.raises(kind, match=message):
                adapter(bad)


def test_to_pyg_carries_keys_a_user_added():
    pytest.importorskip("torch_geometric", reason="needs the learn extra (torch, torch-geometric)")
    obs, _ = make().reset(seed=0)
    d = to_pyg({**obs, "y": np.ones(3, np.float32), "name": "model.hlo"})  # (a str was torch's TypeError)
    assert d.y.tolist() == [1.0, 1.0, 1.0] and d.name == "model.hlo"


def test_to_pyg_without_the_learn_extra_says_which_extra(monkeypatch):
    import sys
    import hloenv.adapters as adapters
    monkeypatch.setitem(sys.modules, "torch", None)  # (None in sys.modules: the import fails)
    monkeypatch.setitem(sys.modules, "torch_geometric.data", None)
    monkeypatch.setattr(adapters, "_HLO_DATA", None)
    with pytest.raises(ImportError, match=r"needs the learn extra \(pip install 'hloenv\[learn\]'\)"):
        adapters.to_pyg({})
