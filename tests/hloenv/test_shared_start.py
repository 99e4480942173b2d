"""Envs over the same module share its canonical module and first dry round, and nothing else."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from hloenv import HloEnv
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.shared_start import forget_shared_starts
from tests.conftest import DATA
from tests.hloenv.test_env import BLOCK, SMALL, make


def _episode(env: HloEnv, seed: int) -> tuple[list, str]:
    """(per step: reward and observation bytes, final module fingerprint) of a seeded random episode."""
    obs, _ = env.reset(seed=seed)
    trace = [{k: v.tobytes() for k, v in obs.items()}]
    while True:
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trace.append((reward, {k: v.tobytes() for k, v in obs.items()}))
        if terminated or truncated:
            return trace, env.module.fingerprint()


def test_envs_over_the_same_module_share_its_canonical_module_and_first_round():
    a = make()
    b = HloEnv(BLOCK.read_text(), pipeline=SMALL)  # the same module, given as text
    assert b._canonical is a._canonical
    a.reset(seed=0)
    b.reset(seed=1)
    assert b.graph is a.graph  # the first round ran once, in `a`


def test_other_pipelines_options_or_modules_start_on_their_own():
    a = make()
    assert make(max_options=2)._canonical is not a._canonical
    assert make(pipeline=DEFAULT_ENV_PIPELINE)._canonical is not a._canonical
    other = BLOCK.read_text().replace("HloModule ", "HloModule renamed_", 1)
    assert HloEnv(other, pipeline=SMALL)._canonical is not a._canonical


def _cse_again():
    """A deciding pass defined anew on each call (as a notebook cell run twice defines it)."""
    from dataclasses import dataclass

    from hloenv.passes.cse import CommonSubexpressionElimination

    @dataclass(frozen=True)
    class CseAgain(CommonSubexpressionElimination):
        name = "test-cse-again"
    return CseAgain


def test_a_pass_registered_again_starts_afresh():
    from hloenv.passes import register
    from hloenv.passes.base import PASSES
    from hloenv.passes.env_pipeline import EnvPipeline

    pipeline = EnvPipeline(canonicalize="dce", decisions=("test-cse-again",), cleanup="dce")
    try:
        first = register(_cse_again())
        a = make(pipeline=pipeline)
        assert make(pipeline=pipeline)._start is a._start
        second = register(_cse_again())  # (the same name and qualified name: it replaces the first)
        assert second is not first and PASSES["test-cse-again"] is second
        b = make(pipeline=pipeline)
        assert b._start is not a._start
        assert type(b._decision_passes[0]) is second
    finally:
        PASSES.pop("test-cse-again", None)


def test_sharing_changes_no_episode():
    """Episodes in envs that share a start (the first one included, which ran the first round)
    equal those of an env that starts on its own; and none of them touched what they share."""
    forget_shared_starts()
    first = make(pipeline=DEFAULT_ENV_PIPELINE, max_steps=4)
    second = make(pipeline=DEFAULT_ENV_PIPELINE, max_steps=4)
    first.reset(seed=0)
    shared_text = (first.graph.to_text(), first._canonical.to_text())
    runs = [_episode(env, seed) for seed in (0, 1) for env in (first, second)]
    forget_shared_starts()
    alone = make(pipeline=DEFAULT_ENV_PIPELINE, max_steps=4)
    assert alone._canonical is not first._canonical
    expected = [_episode(alone, seed) for seed in (0, 1)]
    assert runs == [expected[0], expected[0], expected[1], expected[1]]
    assert len(runs[0][0]) > 2  # several steps: rounds in place ran after the shared first round
    first.reset(seed=0)
    assert (first.graph.to_text(), first._canonical.to_text()) == shared_text


def test_a_shared_start_goes_with_the_last_env_holding_it():
    import weakref
    env = make(max_options=3)
    env.reset(seed=0)
    start = weakref.ref(env._start)
    other = make(max_options=3)
    del env
    gc.collect()
    assert start() is other._start  # still held by `other`
    del other
    gc.collect()
    assert start() is None
    assert make(max_options=3)._start is not None  # and a new env makes a new one


def test_envs_made_and_reset_in_threads_at_once_share_one_first_round():
    forget_shared_starts()
    envs: list[HloEnv] = []
    obs: list[dict] = []
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        env = make(max_options=5)
        o, _ = env.reset(seed=0)
        envs.append(env)
        obs.append(o)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(envs) == 3
    assert len({id(e._canonical) for e in envs}) == 1
    assert len({id(e.graph) for e in envs}) == 1
    assert all(np.array_equal(o["x"], obs[0]["x"]) and np.array_equal(o["edge_index"], obs[0]["edge_index"])
               for o in obs)


def test_sharing_can_be_switched_off():
    from hloenv import shared_start
    a = make(max_options=6)
    shared_start.ENABLED = False
    try:
        b = make(max_options=6)
    finally:
        shared_start.ENABLED = True
    assert b._canonical is not a._canonical
    assert make(max_options=6)._canonical is a._canonical


def test_episodes_in_threads_at_once_equal_episodes_alone(monkeypatch):
    """Envs in threads step from the same first round at once: the fused computations their
    steps share with it (`hloenv.altgraph.sharing`) are counted under a lock and never changed,
    so every episode is the one an env alone would run."""
    forget_shared_starts()
    alone = make(pipeline=DEFAULT_ENV_PIPELINE, max_steps=4)
    expected = [_episode(alone, seed) for seed in (0, 1)]
    from hloenv.altgraph import clone, sharing
    held: list[int] = []

    def hold(comps):
        comps = list(comps)
        held.append(len(comps))
        sharing.hold(comps)
    monkeypatch.setattr(clone, "hold", hold)
    forget_shared_starts()
    envs = [make(pipeline=DEFAULT_ENV_PIPELINE, max_steps=4) for _ in range(3)]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = [_episode(envs[k], seed) for seed in (0, 1, 0)]
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(results[k] == [expected[0], expected[1], expected[0]] for k in range(3))
    assert sum(held) > 0  # (steps shared fused computations)


def _edit_in_place(module):
    """What a user might do to env.graph or env.module: reroute a maximum's users to its operand."""
    victim = [i for i in module.instructions() if i.opcode == "maximum"][-1]
    victim.replace_all_uses_with(victim.operands[0])


@pytest.mark.parametrize("edited", ["graph", "module"])
def test_an_edit_in_place_of_a_shared_module_is_not_where_other_envs_start(edited):
    """env.graph and env.module are read-only, but nothing stopped an edit, and every later env
    over the module started from it (found by a user probe: episodes of all originals came out
    unequal to the module)."""
    import warnings
    path = DATA / "convnet_forward.hlo"
    first = HloEnv(path)
    first.reset(seed=0)
    _edit_in_place(getattr(first, edited))
    with pytest.warns(UserWarning, match="changed in place; they are read-only"):
        second = HloEnv(path)
    second.reset(seed=0)
    while True:
        _, _, terminated, truncated, _ = second.step(np.zeros(second.max_alternatives, dtype=np.int64))
        if terminated or truncated:
            break
    assert second.has_equal_output()
    with pytest.warns(UserWarning, match="changed in place"):  # the edited env starts again too
        first.reset(seed=1)
    assert first.module.fingerprint() == second._canonical.fingerprint()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HloEnv(path).reset(seed=0)  # (once made afresh, no more warnings)
        first.reset(seed=2)
