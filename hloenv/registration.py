"""Gymnasium ids: `gym.make("hloenv/HloEnv-v0", hlo="model.hlo")` after `import hloenv`."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    # measured runtime reward: the same decisions can earn a different reward
    "hloenv/HloEnv-v0": {"reward": "runtime", "nondeterministic": True},
    # XLA cost-model reward: deterministic
    "hloenv/HloEnvCost-v0": {"reward": "cost", "nondeterministic": False},
}


def register_envs() -> None:
    for env_id, spec in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="hloenv.env:HloEnv", nondeterministic=spec["nondeterministic"],
                         kwargs={"reward": spec["reward"]})
