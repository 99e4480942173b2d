"""Rewards: what each earns, and what a failed measurement earns."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

import hloenv.xla
from hloenv import load_hlo
from hloenv.rewards import RuntimeReward
from tests.conftest import DATA


def _runtime_reward(monkeypatch, baseline_fails: bool, final_fails: bool) -> tuple[float, dict, dict]:
    """(reward, its info, the reset's info) of a RuntimeReward episode whose evaluations are stubs."""
    def evaluate(module, backend, pipeline, low_noise=False):
        if (baseline_fails if pipeline == "xla-default" else final_fails):
            raise RuntimeError(f"cannot run under {pipeline}")
        return SimpleNamespace(median=2.0 if pipeline == "xla-default" else 1.0)

    monkeypatch.setattr(hloenv.xla, "evaluate", evaluate)
    module = load_hlo(DATA / "mlp_train_step.hlo")
    reward = RuntimeReward()
    started = reward.reset(module, module)
    value, info = reward(module, module, True)
    return value, info, started


def test_the_runtime_reward_is_the_log_speedup(monkeypatch):
    value, info, started = _runtime_reward(monkeypatch, False, False)
    assert value == pytest.approx(math.log(2.0)) and info["speedup"] == 2.0 and started == {"xla_runtime": 2.0}


def test_a_final_module_that_fails_earns_the_penalty(monkeypatch):
    value, info, _ = _runtime_reward(monkeypatch, False, True)
    assert value == -1.0 and info["error"].startswith("runtime: cannot run under env")


@pytest.mark.parametrize("final_fails", [False, True])
def test_without_a_baseline_every_episode_earns_nothing(monkeypatch, final_fails):
    """The original itself cannot be measured: 0 whether the agent's module runs or not (an
    unknown custom call earned -1 and a baseline compile error 0; found by a user probe)."""
    value, info, started = _runtime_reward(monkeypatch, True, final_fails)
    assert value == 0.0 and started == {"error": "baseline: cannot run under xla-default"}
    assert info["error"].startswith("baseline: cannot run under xla-default")
    assert ("runtime: cannot run under env" in info["error"]) == final_fails
    assert ("runtime" in info) != final_fails


class _Returns:
    """A Reward class whose `__call__` returns `step` and whose `reset` returns `reset_info`."""
    deterministic = True

    def __init__(self, step):
        self.step, self.reset_info = step, {}

    def reset(self, original, start):
        return self.reset_info

    def __call__(self, before, after, terminated):
        return self.step


@pytest.mark.parametrize("step, error, match", [
    (0.5, TypeError, r"reward _Returns returned 0.5 \(float\); a Reward's __call__ returns \(reward, info dict\)"),
    ((float("nan"), {}), ValueError, "reward _Returns returned the reward nan; expected a finite number"),
    (("0.5", {}), TypeError, r"returned the reward '0.5' \(str\); expected a number"),
    ((None, {}), TypeError, "expected a number"),
    ((0.5, None), TypeError, r"returned the info None \(NoneType\); expected a dict"),
])
def test_a_reward_class_returning_no_finite_reward_and_dict_is_told_so(step, error, match):
    """As a reward function's number is checked: a bare float failed to unpack in the env without
    naming the reward, a NaN reached the agent, a numeric string became a float."""
    from hloenv import HloEnv
    env = HloEnv(DATA / "mlp_train_step.hlo", reward=_Returns(step))
    env.reset(seed=0)
    with pytest.raises(error, match=match):
        env.step(env.action_space.sample())
    good = HloEnv(DATA / "mlp_train_step.hlo", reward=_Returns((1, {"mine": 2})))
    good.reset(seed=0)
    _, reward, _, _, info = good.step(good.action_space.sample())
    assert reward == 1.0 and info["mine"] == 2


def test_a_reward_class_whose_reset_returns_no_dict_is_told_so():
    from hloenv import HloEnv
    env = HloEnv(DATA / "mlp_train_step.hlo", reward=_Returns((0.0, {})))
    env.reset(seed=0)
    env.reward_fn.reset_info = None
    with pytest.raises(TypeError, match=r"reward _Returns.reset returned None \(NoneType\); expected a dict"):
        env.reset(seed=0)
