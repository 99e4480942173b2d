"""The GNN policy: acts legally, trains (loss falls on a module where choices matter), checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch_geometric", reason="needs the learn extra (torch, torch-geometric)")

from hloenv import EnvPipeline  # noqa: E402
from hloenv.agents import get_agent, run_episode  # noqa: E402
import torch  # noqa: E402

from hloenv.agents.gnn import PolicyNet, load_checkpoint, save_checkpoint  # noqa: E402
from hloenv.agents.train import train  # noqa: E402
from tests.hloenv.test_env import make  # noqa: E402

#: duplicated expensive work: taking cse's rewrite lowers XLA's cost estimate, keeping it does not
DUPLICATED = """HloModule dup
ENTRY e {
  p = f32[256,256] parameter(0)
  a = f32[256,256] exponential(p)
  b = f32[256,256] exponential(p)
  c = f32[256,256] tanh(p)
  d = f32[256,256] tanh(p)
  s = f32[256,256] add(a, b)
  t = f32[256,256] add(c, d)
  ROOT r = f32[256,256] multiply(s, t)
}
"""
CSE_ONLY = EnvPipeline(canonicalize="dce", decisions=("cse",), cleanup="dce")


def test_gnn_agent_acts_legally():
    env = make()
    with pytest.warns(UserWarning, match="untrained policy"):
        agent = get_agent("gnn", greedy=False)
    result = run_episode(env, agent)
    assert result.steps >= 1 and env.has_equal_output()


def test_training_lowers_the_loss_and_saves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "dup.hlo"
    path.write_text(DUPLICATED)
    ckpt = tmp_path / "gnn.pt"
    result = train([path], iterations=12, holdout=0.0, lr=1e-2, hidden=16, layers=2, max_steps=4,
                   pipeline=CSE_ONLY, out=ckpt, compare_baselines=False, log=lambda *_: None)
    first, last = np.mean(result.losses[:3]), np.mean(result.losses[-3:])
    assert last < first, result.losses
    net = load_checkpoint(ckpt)
    assert net.config == {"hidden": 16, "layers": 2}
    assert result.seconds > 0


@pytest.mark.parametrize("settings, error, message", [
    (dict(holdout=10.0), ValueError, "holdout must be below 1"),  # (was "no trainable modules")
    (dict(holdout=0.99), ValueError, "holdout 0.99 leaves none of the 2 modules to train on"),
    (dict(lr=-1.0), ValueError, "lr must be more than 0, not -1.0"),  # (was torch's, after loading)
    (dict(hidden=0), ValueError, "hidden must be at least 1, not 0"),  # (trained a constant policy)
    (dict(iterations=-1), ValueError, "iterations must be at least 0"),
])
def test_training_settings_it_cannot_use_are_refused_before_any_work(tmp_path, settings, error, message):
    for name in ("a.hlo", "b.hlo"):
        (tmp_path / name).write_text(DUPLICATED)
    with pytest.raises(error, match=message):
        train([tmp_path], pipeline=CSE_ONLY, out=tmp_path / "gnn.pt", log=lambda *_: None, **settings)
    assert not (tmp_path / "gnn.pt").exists()


def test_training_data_it_cannot_find_is_a_clean_error_and_the_checkpoint_folder_is_made(tmp_path, capsys):
    from hloenv.agents.train import main
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "nope")]) == 2
    assert "no HLO file or folder at" in capsys.readouterr().err  # (was a traceback: "no trainable modules")
    assert main([str(tmp_path / "empty")]) == 2
    assert "a folder with no HLO files" in capsys.readouterr().err
    path = tmp_path / "dup.hlo"
    path.write_text(DUPLICATED)
    out = tmp_path / "new" / "folder" / "gnn.pt"  # (torch.save failed after the first iteration)
    assert main([str(path), "--iterations", "1", "--holdout", "0", "--hidden", "8", "--layers", "1",
                 "--out", str(out)]) == 0
    assert load_checkpoint(out).config == {"hidden": 8, "layers": 1}


def test_a_checkpoint_that_is_missing_or_not_one_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="GNN checkpoint .*nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load_checkpoint(tmp_path)
    hlo = tmp_path / "model.hlo"
    hlo.write_text("HloModule m\n")
    with pytest.raises(ValueError, match="model.hlo is not a torch checkpoint"):
        load_checkpoint(hlo)
    other = tmp_path / "other.pt"
    torch.save({"weights": [1, 2]}, other)
    with pytest.raises(ValueError, match="not one save_checkpoint wrote"):
        load_checkpoint(other)
    ckpt = tmp_path / "gnn.pt"
    save_checkpoint(PolicyNet(hidden=8, layers=1), ckpt)
    data = torch.load(ckpt, weights_only=False)
    data["config"]["hidden"] = 16  # (weights of another size)
    torch.save(data, ckpt)
    with pytest.raises(ValueError, match="does not fit this version's PolicyNet"):
        load_checkpoint(ckpt)
