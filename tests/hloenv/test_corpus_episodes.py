"""Issue 5: a random-policy episode on every CPU-runnable corpus module keeps its outputs.

Two checks: XLA runs the final module (`verify`, CPU-runnable modules with constants), and the final
module, defused, is the canonical module (`same_program_unfused`: exact, every module, GPU-only
ones too). The CI slice runs always; the rest is marked slow (`benchmarks/random_episodes.py`
prints the whole table).
"""

from __future__ import annotations

import pytest

import hloenv
from hloenv.agents import get_agent, run_episode
from hloenv.env import HloEnv
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline
from hloenv.passes.fusion.defuse import unfused_fingerprint
from hloenv.xla import verify
from hloenv.xla.targets import unsupported_targets
from tests.altgraph.test_corpus import ELIDED
from tests.conftest import corpus_params


@pytest.mark.parametrize("path", corpus_params())
def test_random_policy_episode_keeps_outputs(path):
    if path.name in ELIDED:
        pytest.skip("constants elided in the corpus file: its outputs are not defined")
    original = hloenv.load_hlo(path)
    if unsupported_targets(original, "cpu"):
        pytest.skip("not runnable on CPU (GPU-only custom calls)")
    env = HloEnv(original, reward=lambda before, after, terminated: 0.0)
    episode = run_episode(env, get_agent("random"), seed=0)
    assert episode.info["stop_reason"]
    assert verify(original, episode.module, timeout=900), "the random episode changed the outputs"


ALL_FUSION_DECISIONS = EnvPipeline(decisions=("fusion", "multi-output-fusion", "fusion-merger"))


@pytest.mark.parametrize("pipeline", [DEFAULT_ENV_PIPELINE, ALL_FUSION_DECISIONS], ids=["default", "all-fusion"])
@pytest.mark.parametrize("path", corpus_params())
def test_random_policy_episode_is_exact(path, pipeline):
    """Pipelines that decide fusions only: the final module defused is the canonical one."""
    original = hloenv.load_hlo(path, allow_elided=True)
    canonical = original.clone()
    pipeline.canonicalize_pipeline()(canonical)
    env = HloEnv(original, reward=lambda before, after, terminated: 0.0, pipeline=pipeline)
    episode = run_episode(env, get_agent("random"), seed=0)
    assert episode.info["stop_reason"]
    assert unfused_fingerprint(episode.module) == unfused_fingerprint(canonical)
