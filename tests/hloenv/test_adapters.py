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
