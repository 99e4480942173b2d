"""gnn: a graph neural network policy over the alternative graph (torch + torch-geometric).

    nodes:   embedding(opcode) + linear(normalised node features)
    layers:  `layers` x GraphSAGE message passing over operand edges in both directions
    head:    per option, an MLP of [h(alternatives node), h(option node), is-original]
             -> one logit; a softmax over each node's options gives its choice distribution

`GnnAgent` samples (or, with `greedy=True`, takes the arg-max of) this distribution. Training is
`python -m hloenv.agents.train` (REINFORCE on the cost reward). Needs the `learn` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import SAGEConv
from torch_geometric.utils import softmax

from hloenv.agents.base import register_agent
from hloenv.altgraph.checks import check_int
from hloenv.altgraph.opcodes import OPCODES
from hloenv.observation import NODE_FEATURES

#: node feature columns fed to the linear encoder (the opcode column gets its own embedding)
_FEATURE_COLUMNS = [i for i, name in enumerate(NODE_FEATURES) if name not in ("opcode", "computation")]


class PolicyNet(nn.Module):
    """Scores every option of every alternatives node."""

    def __init__(self, hidden: int = 64, layers: int = 3):
        check_int("hidden", hidden, 1)
        check_int("layers", layers, 0)  # (0: no message passing, each node on its own features)
        super().__init__()
        self.config = {"hidden": hidden, "layers": layers}
        self.opcode = nn.Embedding(len(OPCODES) + 1, hidden)
        self.features = nn.Linear(len(_FEATURE_COLUMNS), hidden)
        self.convs = nn.ModuleList([SAGEConv(hidden, hidden) for _ in range(layers)])
        self.head = nn.Sequential(nn.Linear(2 * hidden + 1, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits, one per option (aligned with `obs["option_index"]`)."""
        x = obs["x"][:, _FEATURE_COLUMNS]
        x = torch.sign(x) * torch.log1p(torch.abs(x))  # dims and counts span many magnitudes
        h = self.opcode(obs["node_opcode"]) + self.features(x)
        edges = obs["edge_index"]
        both = torch.cat([edges, edges.flip(0)], dim=1)
        for conv in self.convs:
            h = h + torch.relu(conv(h, both))
        alt_nodes = obs["alternative_index"][obs["option_alternative"]]
        first = torch.zeros_like(obs["option_alternative"], dtype=torch.float32)
        starts = torch.cumsum(obs["option_count"], 0) - obs["option_count"]
        first[starts] = 1.0
        z = torch.cat([h[alt_nodes], h[obs["option_index"]], first.unsqueeze(1)], dim=1)
        return self.head(z).squeeze(1)


def to_tensors(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in obs.items()}


def option_log_probs(net: PolicyNet, obs: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probabilities per option, option -> alternative index), softmax within each node."""
    t = to_tensors(obs)
    logits = net(t)
    group = t["option_alternative"]
    probs = softmax(logits, group)
    return torch.log(probs + 1e-12), group


def sample_action(net: PolicyNet, obs: dict[str, np.ndarray], action_len: int, rng: np.random.Generator,
                  greedy: bool = False) -> tuple[np.ndarray, torch.Tensor]:
    """(action vector, summed log-probability of the chosen options)."""
    action = np.zeros(action_len, dtype=np.int64)
    if len(obs["alternative_index"]) == 0:
        return action, torch.zeros(())
    logp, group = option_log_probs(net, obs)
    counts = obs["option_count"]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    p = np.exp(logp.detach().numpy())
    chosen_rows = []
    for k, (start, count) in enumerate(zip(starts, counts)):
        if k >= action_len:
            break
        probs = p[start:start + count]
        probs = probs / probs.sum()
        pick = int(np.argmax(probs)) if greedy else int(rng.choice(count, p=probs))
        action[k] = pick
        chosen_rows.append(start + pick)
    total = logp[torch.as_tensor(chosen_rows, dtype=torch.long)].sum()
    return action, total


def save_checkpoint(net: PolicyNet, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    torch.save({"config": net.config, "state": net.state_dict(), "extra": extra or {}}, path)


def load_checkpoint(path: str | Path) -> PolicyNet:
    """The policy `save_checkpoint` (or `python -m hloenv.agents.train`) wrote to `path`.

    Raises:
        FileNotFoundError: no such file. IsADirectoryError: a folder.
        ValueError: a file that is not such a checkpoint (what it lacks is named).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"GNN checkpoint {path} is a folder, not a file written by save_checkpoint")
    if not path.exists():
        raise FileNotFoundError(f"GNN checkpoint {path} does not exist (train one: python -m hloenv.agents.train)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001  (torch raises pickle, zip and runtime errors alike)
        raise ValueError(f"GNN checkpoint {path} is not a torch checkpoint: {type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}") from None
    if not isinstance(data, dict) or not {"config", "state"} <= data.keys():
        raise ValueError(f"GNN checkpoint {path} is a torch file but not one save_checkpoint wrote "
                         "(it needs 'config' and 'state')")
    try:
        net = PolicyNet(**data["config"])
        net.load_state_dict(data["state"])
    except (TypeError, RuntimeError) as err:
        raise ValueError(f"GNN checkpoint {path} does not fit this version's PolicyNet: "
                         f"{str(err).splitlines()[0]}") from None
    net.eval()
    return net


class GnnAgent:
    """Acts with a trained PolicyNet (or an untrained one, for testing)."""

    def __init__(self, checkpoint: str | Path | None = None, greedy: bool = True, seed: int = 0,
                 net: PolicyNet | None = None):
        if net is None and not checkpoint:  # (`--agent gnn` alone ran random weights without a word)
            import warnings
            warnings.warn("GnnAgent without checkpoint= acts with an untrained policy (random weights); "
                          "train one with python -m hloenv.agents.train and pass checkpoint=PATH",
                          UserWarning, stacklevel=2)
        self.net = net or (load_checkpoint(checkpoint) if checkpoint else PolicyNet())
        self.greedy = greedy
        self.rng = np.random.default_rng(seed)

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        with torch.no_grad():
            action, _ = sample_action(self.net, obs, info["action_mask"].shape[0], self.rng, self.greedy)
        return action


register_agent("gnn")(GnnAgent)

__all__ = ["GnnAgent", "PolicyNet", "load_checkpoint", "sample_action", "save_checkpoint"]
