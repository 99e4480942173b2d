"""HloEnv: Gymnasium API, episodes, determinism, failure as data, save/replay, vector envs."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hloenv
from hloenv.rewards import CostReward
from hloenv import EnvPipeline, HloEnv
from hloenv.registration import ENV_IDS
from tests.conftest import DATA, corpus_params

#: a pipeline made only of passes that exist in every checkout (fast, several decision rounds)
SMALL = EnvPipeline(canonicalize="call-inliner,(tuple-simplifier,cse,dce)*",
                    decisions=("reshape-mover", "transpose-folding", "cse"), cleanup="cse,dce")
BLOCK = DATA / "transformer_block.hlo"


def make(**kw) -> HloEnv:
    kw.setdefault("pipeline", SMALL)
    return HloEnv(BLOCK, **kw)


def run_episode(env: HloEnv, seed: int, policy=None):
    obs, info = env.reset(seed=seed)
    rewards = []
    while True:
        action = policy(obs, info) if policy else env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            return rewards, info


def test_check_env_passes():
    check_env(make(), skip_render_check=True)


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_registered_ids_make_and_pass_check_env(env_id):
    env = gym.make(env_id, hlo=str(BLOCK), pipeline=SMALL, reward="cost")
    assert env.spec.nondeterministic == ENV_IDS[env_id]["nondeterministic"]
    check_env(env.unwrapped, skip_render_check=True)


def test_observation_schema_and_mask():
    env = make()
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    n = obs["x"].shape[0]
    a = len(obs["alternative_index"])
    assert a == info["num_alternatives"] > 0
    assert obs["edge_index"].shape[0] == 2 and obs["edge_index"].max() < n
    assert np.all(obs["x"][obs["alternative_index"], 12] == 1)  # is_alternatives column
    assert obs["option_count"].sum() == len(obs["option_index"]) == len(obs["option_alternative"])
    mask = info["action_mask"]
    assert mask.shape == (env.max_alternatives, env.max_options)
    assert list(mask[:a].sum(axis=1)) == list(obs["option_count"]) and mask[a:, 1:].sum() == 0


def test_sampled_actions_are_legal_and_bad_ones_raise():
    env = make()
    with pytest.raises(RuntimeError, match="step\\(\\) before reset\\(\\)"):
        env.step(env.action_space.sample())
    env.reset(seed=0)
    for _ in range(5):
        assert env.action_space.contains(env.action_space.sample())
    with pytest.raises(ValueError, match="out of range: options are numbered 0 to 7"):
        env.step([8] * env.max_alternatives)
    with pytest.raises(ValueError, match="action\\[0\\] = -1 is out of range"):
        env.step([-1] * env.max_alternatives)
    with pytest.raises(ValueError, match="entries"):
        env.step([0, 0, 0, 0, 0, 0, 0][:1] * 99999)
    n = env.max_alternatives
    with pytest.raises(ValueError, match="must be integers"):
        env.step([0.5] * n)
    for bad in (["x"] * n, [None] * n, [True] * n):
        with pytest.raises(TypeError, match="must be integers"):
            env.step(bad)
    with pytest.raises(ValueError, match="must be integers: action\\[1\\] = nan"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (numpy warned of the NaN before the error)
            env.step([0.0, np.nan] + [0.0] * (n - 2))
    for bad in (None, {"site": 1}, "0" * n, {0, 1}):  # None and a mapping were "action has 1 entries"
        with pytest.raises(TypeError, match="action must be a sequence of option indices"):
            env.step(bad)
    with pytest.raises(ValueError, match="action must be a flat sequence"):
        env.step([[0], [0, 1]] + [[0]] * (n - 2))
    for shape in ((n, 1), (1, n)):  # (a column or a batch of one: read as flat before)
        with pytest.raises(ValueError, match=re.escape(f"not an array of shape {shape}")):
            env.step(np.ones(shape, np.int64))
    env.step([0.0] * n)  # whole floats are fine


def test_reset_refuses_options_it_would_ignore():
    env = make()
    for empty in (None, {}):  # (what Gymnasium's vector envs pass)
        env.reset(seed=0, options=empty)
    with pytest.raises(ValueError, match="takes no options, got \\['max_steps'\\]"):
        env.reset(seed=0, options={"max_steps": 3})


def test_cost_reward_is_seeded_deterministic():
    a = run_episode(make(), seed=3)
    b = run_episode(make(), seed=3)
    assert a[0] == b[0] and a[1]["stop_reason"] == "no more alternatives"


def test_episodes_with_the_same_seed_end_in_the_same_text():
    """Same seed, same actions: the same module, names included, in a later episode of the env and
    in another env over the module (both reuse the first round's graph, whose options' bodies used
    to take new names from it in every episode)."""
    def final_text(env):
        env.reset(seed=4)
        while True:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                return env.module.to_text()

    env = HloEnv(BLOCK, reward=lambda before, after, terminated: 0.0)
    first = final_text(env)
    assert "fusion" in first
    assert final_text(env) == first
    assert final_text(HloEnv(BLOCK, reward=lambda before, after, terminated: 0.0)) == first


def test_a_second_thread_in_one_env_is_refused_clearly():
    """One env stepped from two threads failed at random deep in a round (an IndexError; found by
    a user probe): a step or reset while another is under way is refused, and the env goes on."""
    import threading
    env = HloEnv(BLOCK, reward=lambda before, after, terminated: 0.0)
    env.reset(seed=0)
    inside, release = threading.Event(), threading.Event()
    real = env._next_round

    def slow_round(*args, **kwargs):
        inside.set()
        release.wait(30)
        return real(*args, **kwargs)
    env._next_round = slow_round
    worker = threading.Thread(target=lambda: env.step(env.action_space.sample()))
    worker.start()
    try:
        assert inside.wait(30)
        for call in (lambda: env.step(env.action_space.sample()), lambda: env.reset(seed=1)):
            with pytest.raises(RuntimeError, match="another thread is in reset\\(\\) or step\\(\\) of this env"):
                call()
    finally:
        release.set()
        worker.join(60)
    env._next_round = real
    fork = env.fork()
    env.reset(seed=2)
    fork.reset(seed=2)  # (its own lock)


def test_prefetched_cost_gives_the_same_rewards():
    """The env starts XLA's analysis of a step's module before its next dry round (`_prefetch`);
    collecting it later must give what an analysis on the spot gives."""
    inline = make()
    inline._prefetch = lambda module: None
    assert run_episode(make(), seed=5)[0] == run_episode(inline, seed=5)[0]


def test_a_step_dismantles_the_graph_it_leaves_only_if_nobody_else_saw_it():
    def step_through(env):
        before = env._graph
        _, _, terminated, truncated, _ = env.step(np.minimum(env.action_mask().sum(axis=1) - 1, 1))
        assert not (terminated or truncated), "the test needs three steps"
        return before

    env = make(max_steps=10)
    env.reset(seed=0)
    first = step_through(env)  # the first round's graph: kept for resets
    private = step_through(env)  # built by the env, never handed out: dismantled
    seen = env.graph
    step_through(env)
    assert first.computations and seen.computations and not private.computations
    assert seen.fingerprint() and first.fingerprint()


@pytest.mark.parametrize("max_steps", [2, 50])  # truncated, and run to the end
def test_episodes_leave_no_graph_for_the_garbage_collector(max_steps):
    import gc
    from hloenv.altgraph import Computation, Instruction, Module
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    gc.unfreeze()  # gc_paused freezes what graph work builds: let the collector see everything
    gc.collect()  # what earlier tests left
    env = make(max_steps=max_steps, pipeline=DEFAULT_ENV_PIPELINE)
    for seed in range(2):
        run_episode(env, seed)
    env.reset(seed=5)
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, (Module, Computation, Instruction))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []


def test_modules_handed_out_or_given_to_a_custom_reward_stay_whole():
    given = []

    def reward(before, after, terminated):
        given.append((after, after.fingerprint()))
        return 0.0

    env = make(reward=reward, max_steps=10)
    env.reset(seed=0)
    seen = []
    for _ in range(2):
        run_episode(env, seed=1)
        seen.append((env.module, env.module.fingerprint()))
    assert len(given) > 2
    assert all(m.fingerprint() == fp for m, fp in given + seen)


def test_random_episode_keeps_outputs():
    env = make()
    run_episode(env, seed=1)
    assert env.has_equal_output()


def test_all_original_choices_end_the_episode_quickly():
    env = make()
    rewards, info = run_episode(env, 0, policy=lambda obs, info: np.zeros(env.max_alternatives, dtype=np.int64))
    assert len(rewards) == len(SMALL.decisions) or info["stop_reason"] == "no more alternatives"
    assert env.module.fingerprint() == env.fork().module.fingerprint()


def test_step_limit_truncates():
    env = make(max_steps=1)
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(np.ones(env.max_alternatives, dtype=np.int64) * 0 + 0)
    assert terminated or truncated


def test_failure_is_data_not_death():
    def broken(before, after, terminated):
        raise RuntimeError("boom")

    class Flaky:
        deterministic = True
        calls = 0

        def reset(self, original, start):
            return {}

        def __call__(self, before, after, terminated):
            self.calls += 1
            if self.calls == 1:
                return -1.0, {"error": "XLA aborted (simulated)"}
            return 0.0, {}

    env = make(reward=Flaky())
    env.reset(seed=0)
    _, reward, *_, info = env.step(env.action_space.sample())
    assert reward == -1.0 and "aborted" in info["error"]
    _, reward, *_, info = env.step(env.action_space.sample()) if not env._done else (None, 0.0, None, None, {})
    assert "error" not in info


def test_save_and_replay_rebuild_the_same_module(tmp_path):
    env = make()
    run_episode(env, seed=5)
    env.save(tmp_path / "episode.json")
    again = hloenv.replay(tmp_path / "episode.json")
    assert again.module.fingerprint() == env.module.fingerprint()


def test_a_replayed_episode_goes_on_earning_the_saved_reward(tmp_path):
    # (it earned 0 whatever the saved env's reward: a resumed episode learned nothing)
    env = make(reward="cost", max_steps=10)
    env.reset(seed=3)
    env.step(env.action_space.sample())
    env.save(tmp_path / "mid.json")
    again = hloenv.replay(tmp_path / "mid.json")
    assert isinstance(again.reward_fn, CostReward)
    action = np.zeros(env.max_alternatives, dtype=np.int64)
    action[:1] = 1
    expected = env.fork().step(action)[1]
    assert expected != 0.0 and again.step(action)[1] == pytest.approx(expected)
    assert hloenv.replay(tmp_path / "mid.json", reward=lambda *a: 2.0).step(action)[1] == 2.0
    own = make(reward=lambda *a: 1.0, max_steps=10)  # a callable is not saved: replays earn 0
    run_episode(own, seed=3)
    own.save(tmp_path / "own.json")
    assert json.loads((tmp_path / "own.json").read_text())["reward"] is None
    assert hloenv.replay(tmp_path / "own.json").reward_fn.fn(None, None, True) == 0.0


def test_replay_of_a_broken_file_says_which_file_and_what(tmp_path):
    env = make()
    run_episode(env, seed=5)
    good = tmp_path / "episode.json"
    env.save(good)
    data = json.loads(good.read_text())
    assert data["history"], "the episode made decisions"
    first_id = next(iter(data["history"][0]["choices"]))
    cases = {
        "{not json": "not JSON: Expecting property name",
        "[1, 2]": 'no "format": "hloenv-episode/1"',
        json.dumps({**data, "fingerprint": None}): '"fingerprint" must be a string',
        json.dumps({**data, "hlo": "model.hlo"}): '"hlo" must be the module\'s HLO text',  # (was read as a path)
        json.dumps({**data, "finished": "yes"}): '"finished" must be true or false',
        json.dumps({**data, "history": [{"choices": {first_id: True}}]}): "history\\[0\\] must be",
        # a decision the round does not offer, or another pass's, was skipped without a word
        json.dumps({**data, "history": [{"choices": {"nowhere.1@x:fusion:operand0": 1}}]}):
            "history\\[0\\] chooses at 1 alternative\\(s\\) this round does not offer, such as 'nowhere",
        json.dumps({**data, "history": [{**data["history"][0], "pass": "cse"}]}):
            f"history\\[0\\] is a decision of 'cse', but this round's pass is '{data['history'][0]['pass']}'",
        json.dumps({**data, "history": data["history"] + [{"choices": {}}] * 40}): "the episode ended after",
        json.dumps({**data, "pipeline": {"decisions": ["fusion"]}}): '"pipeline" lacks canonicalize, cleanup',
        json.dumps({**data, "history": [[99]]}): "history\\[0\\] must be",
        json.dumps({**data, "history": [{"choices": {first_id: 99}}]}): f"history\\[0\\] chooses option 99 at '{first_id}', which has",
        json.dumps({**data, "max_steps": 0}): '"max_steps" must be a positive integer',
        json.dumps({**data, "reward": "speed"}): '"reward" must be "cost", "runtime" or null',
        json.dumps({**data, "backend": "tpu"}): '"backend" must be "cpu" or "gpu"',
        json.dumps({**data, "pipeline": {**data["pipeline"], "decisions": ["my-pass"]}}):
            "unknown pass 'my-pass'.*import the module that registers it",
    }
    for k, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"bad{k}.json"
        path.write_text(text)
        with pytest.raises(ValueError, match=f"{path.name}: .*{message}"):
            hloenv.replay(path)


def test_fork_is_independent():
    env = make()
    env.reset(seed=0)
    child = env.fork()
    child.step(child.action_space.sample())
    assert env._steps == 0 and child._steps == 1


def test_a_fork_has_its_own_random_state_and_samples_as_its_parent_would():
    """The fork shared its parent's action space (sampling from one moved the other) and got an
    unseeded generator (forks of identically seeded envs sampled differently)."""
    env = make()
    env.reset(seed=3)
    child = env.fork()
    assert child.action_space is not env.action_space
    assert np.array_equal(child.action_space.sample(), env.action_space.sample())
    assert child.np_random.integers(1 << 30) == env.np_random.integers(1 << 30)
    twin = make()
    twin.reset(seed=3)
    assert np.array_equal(twin.fork().action_space.sample(), make_fork_sample(3))


def make_fork_sample(seed: int) -> np.ndarray:
    env = make()
    env.reset(seed=seed)
    return env.fork().action_space.sample()


def test_steps_leave_graphs_intact_so_resets_and_forks_share_them():
    env = make()
    env.reset(seed=0)
    first = env.graph
    text = first.to_text()
    child = env.fork()
    for agent in (env, child):  # option 1 everywhere: every step changes the program
        while True:
            _, _, terminated, truncated, _ = agent.step(np.minimum(agent.action_mask().sum(axis=1) - 1, 1))
            if terminated or truncated:
                break
    assert env.module.fingerprint() != env._canonical.fingerprint()  # the episode rewrote something
    assert first.to_text() == text  # neither episode touched the first round's graph
    env.reset(seed=1)
    assert env.graph is first


def test_later_resets_give_the_first_rounds_observation_and_writes_to_it_do_not_stick():
    env = make()
    first, _ = env.reset(seed=0)
    expected = {k: v.copy() for k, v in first.items()}
    first["x"][:] = -1  # the agent's own copy
    run_episode(env, seed=1)
    again, _ = env.reset(seed=2)
    assert set(again) == set(expected)
    assert all(np.array_equal(again[k], expected[k]) for k in expected)


def test_bad_sources_are_typed_errors_that_say_what_was_expected():
    with pytest.raises(ValueError, match="empty string"):
        HloEnv("  ")
    with pytest.raises(TypeError, match="path, HLO text or a Module, not int"):
        HloEnv(42)
    with pytest.raises(FileNotFoundError, match="no HLO file at 'no/such/model.hlo'"):
        HloEnv("no/such/model.hlo")
    with pytest.raises(FileNotFoundError, match="HLO text starts with 'HloModule'"):
        HloEnv("garbage")


def test_paths_and_text_are_told_apart_by_one_rule(tmp_path):
    from hloenv.altgraph.parser import is_hlo_text
    braces = tmp_path / "{run}" / "model.hlo"  # (HloEnv read a path with braces as HLO text)
    braces.parent.mkdir()
    braces.write_text(BLOCK.read_text())
    assert HloEnv(str(braces), pipeline=SMALL).original.name == hloenv.load_hlo(BLOCK).name
    with pytest.raises(IsADirectoryError, match="is a folder: HloEnv takes one HLO file"):
        HloEnv(str(tmp_path))  # (was load_hlo's bare "[Errno 21] Is a directory")
    assert is_hlo_text("HloModule m, entry_computation_layout={()->f32[]} ENTRY ...")
    assert is_hlo_text("\ufeffHloModule m\n") and is_hlo_text("ENTRY e {\n}")
    assert not is_hlo_text(str(braces)) and not is_hlo_text("model.hlo")


def test_a_file_named_like_a_module_header_is_a_file(tmp_path, monkeypatch):
    """`HloModule_while.hlo` in the working folder was read as (broken) HLO text, and load_hlo
    refused the file as text (found by a user probe)."""
    monkeypatch.chdir(tmp_path)
    Path("HloModule_block.hlo").write_text(BLOCK.read_text())
    assert hloenv.load_hlo("HloModule_block.hlo").name == hloenv.load_hlo(BLOCK).name
    assert HloEnv("HloModule_block.hlo", pipeline=SMALL).original_text == HloEnv(BLOCK, pipeline=SMALL).original_text
    with pytest.raises(FileNotFoundError, match="use hloenv.parse_hlo"):
        hloenv.load_hlo("HloModule_missing.hlo")  # (no such file: read as text, as before)


WRONG_SHAPE = """HloModule m
ENTRY e {
  p = f32[2,3]{1,0} parameter(0)
  e = f32[2,3]{1,0} exponential(p)
  ROOT n = f32[2,4]{1,0} negate(e)
}
"""


def test_a_module_that_does_not_verify_is_refused_with_where(tmp_path):
    # (was accepted: an episode ran on it, reward 0, and XLA refused it when it was evaluated)
    path = tmp_path / "bad.hlo"
    path.write_text(WRONG_SHAPE)
    message = "line 5, col 1: computation 'e', instruction 'n' (negate): declared shape f32[2,4]"
    for source, where in ((WRONG_SHAPE, ""), (path, f"{path}: "), (str(path), f"{path}: "),
                          (hloenv.parse_hlo(WRONG_SHAPE), "")):
        with pytest.raises(hloenv.HloVerifyError, match=re.escape(where + message)):
            HloEnv(source)


@pytest.mark.parametrize("setting, error, message", [
    (dict(max_options=0), ValueError, "max_options must be at least 1, not 0"),
    (dict(max_options="8"), TypeError, "max_options must be an int, not '8'"),
    (dict(max_steps=0), ValueError, "max_steps must be at least 1"),
    (dict(max_alternatives=0), ValueError, "max_alternatives must be at least 1"),
    (dict(backend="tpu"), ValueError, "unknown backend 'tpu'"),
    (dict(pipeline="fusion"), TypeError, "pipeline must be an EnvPipeline"),
    (dict(render_mode="human"), ValueError, "unknown render_mode 'human'"),
    (dict(reward="gpu"), ValueError, re.escape("unknown reward 'gpu': use 'cost', 'runtime', a Reward or a "
                                               "callable (a backend is a keyword here: HloEnv(hlo, backend='gpu'))")),
])
def test_bad_settings_are_typed_errors_before_any_work(setting, error, message):
    with pytest.raises(error, match=message):
        HloEnv(DATA / "scan_rnn.hlo", **setting)


def test_a_reward_callable_that_cannot_take_the_three_arguments_is_refused_when_made():
    with pytest.raises(TypeError, match=r"reward .*<lambda>\(m\) cannot be called as fn\(before, after, terminated\)"):
        make(reward=lambda m: 0.0)
    make(reward=lambda *args, **kwargs: 0.0)  # (anything that binds three is fine)


@pytest.mark.parametrize("value, error, message", [
    ("0.5", TypeError, "returned '0.5' \\(str\\); expected a number"),
    (None, TypeError, "returned None \\(NoneType\\)"),
    (float("nan"), ValueError, "returned nan; expected a finite number"),
    (-float("inf"), ValueError, "returned -inf"),
])
def test_a_reward_callable_returning_a_non_number_says_so(value, error, message):
    env = make(reward=lambda before, after, terminated: value)
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.step(env.action_space.sample())


def test_a_step_that_raises_after_applying_its_action_needs_a_reset(tmp_path):
    calls = []

    def flaky(before, after, terminated):
        calls.append(terminated)
        if len(calls) == 1:
            raise ZeroDivisionError("user bug")
        return 1.0

    env = make(reward=flaky, max_steps=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):  # refused: nothing changes
        env.step(np.full(env.max_alternatives, env.max_options))
    action = env.action_space.sample()
    with pytest.raises(ZeroDivisionError, match="user bug"):
        env.step(action)
    # the env is past that action: the old observation's action must not meet the new graph
    with pytest.raises(RuntimeError, match=r"last step raised \(ZeroDivisionError: user bug\).*call reset\(\)"):
        env.step(action)
    with pytest.raises(RuntimeError, match=r"last step raised .* nothing to save; call reset\(\)"):
        env.save(tmp_path / "broken.json")  # (it wrote a history holding the step that raised)
    assert not (tmp_path / "broken.json").exists()
    rewards, _ = run_episode(env, seed=0)  # a reset starts afresh
    assert rewards and set(rewards) == {1.0}


@pytest.mark.parametrize("value", [np.float32(1.5), np.int64(2), True, 3])
def test_a_reward_callable_may_return_any_real_number(value):
    env = make(reward=lambda before, after, terminated: value)
    env.reset(seed=0)
    reward = env.step(env.action_space.sample())[1]
    assert type(reward) is float and reward == float(value)


def test_direct_api():
    env = make()
    env.reset(seed=0)
    env.run("fusion", dry=True)
    graph = env.get_graph()
    assert len(graph["alternative_index"]) > 0 and len(graph["option_count"]) == len(graph["alternative_index"])
    env.apply_alternatives([1] * len(graph["alternative_index"]))
    assert env.has_equal_output()


def test_the_original_hloenvs_calls_port_as_they_were_written():
    """Its apply_alternatives took rows of (node id, option); its evaluate the number of runs."""
    from tests.altgraph.test_alternatives import DUPLICATES
    env = HloEnv(DUPLICATES, pipeline=EnvPipeline("dce", ("cse",), "dce"))
    with pytest.raises(ValueError, match="no alternatives nodes to choose at: run a deciding pass in dry mode"):
        env.apply_alternatives([1, 1])  # (was "expected 0 choices" alone)
    with pytest.raises(TypeError, match="choices must be a sequence of option indices"):
        env.apply_alternatives(None)  # (the mechanism's own typed error, not "no len()")
    env.run("cse", dry=True)
    graph = env.get_graph()
    assert len(graph["alternative_index"]) >= 1
    rows = np.stack([graph["alternative_index"], np.ones_like(graph["alternative_index"])], axis=1)
    for bad, message in ((rows + [[10**6, 0]], "node 1000.* is not an alternatives node"),
                         (rows.astype(float), "integer rows of \\(node id, option index\\)"),
                         (np.concatenate([rows, rows[:1]]), "twice")):
        with pytest.raises(ValueError, match=message):
            env.apply_alternatives(bad)
    by_list = env.fork()
    by_list.apply_alternatives([1] * len(rows))
    env.apply_alternatives(rows)
    assert env.module.fingerprint() == by_list.module.fingerprint() and env.has_equal_output()
    result = env.evaluate(3)
    assert len(result.samples) == 3


def test_the_direct_api_is_its_own_workflow_step_and_save_need_a_reset_after_it(tmp_path):
    """After run()/apply_alternatives(), a step used the episode's last round (the dry run's graph
    was dropped: the next step ended the episode) and save() wrote a history replay could not
    redo ("chooses at 33 alternative(s) this round does not offer", or a fingerprint mismatch)."""
    env = make()
    env.run("cse")  # (before any reset: the direct API needs none)
    for change in (lambda: env.run("cse", dry=True), lambda: env.apply_alternatives({})):
        env.reset(seed=0)
        env.step(env.action_space.sample())
        change()
        for call, what in ((lambda: env.step(env.action_space.sample()), "step()"),
                           (lambda: env.save(tmp_path / "e.json"), "save()")):
            with pytest.raises(RuntimeError, match=f"{re.escape(what)} follows the episode's own rounds.*"
                                                   "run\\(\\) or apply_alternatives\\(\\)"):
                call()
    env.reset(seed=0)
    env.step(env.action_space.sample())
    env.save(tmp_path / "e.json")
    assert hloenv.replay(tmp_path / "e.json").module.fingerprint() == env.module.fingerprint()


def test_direct_api_takes_pass_objects_and_choices_by_name():
    from hloenv.altgraph.alternatives import alternatives_nodes
    from tests.altgraph.test_alternatives import DUPLICATES
    env = HloEnv(DUPLICATES, pipeline=EnvPipeline("dce", ("cse",), "dce"))
    env.reset(seed=0)
    result = env.run(hloenv.passes.get_pass("cse"), dry=True)  # (was "no attribute 'strip'")
    assert result.name == "cse" and result.rewrites >= 1
    first = alternatives_nodes(env.graph)[0]
    env.apply_alternatives({first.name: 1})  # (a mapping was turned into its list of keys)
    assert alternatives_nodes(env.graph) == [] and env.has_equal_output()
    assert env.run(hloenv.passes.parse_pipeline("cse,dce")).name == "pipeline"
    with pytest.raises(TypeError, match="run takes a pipeline string, a Pass or a Pipeline, not int"):
        env.run(3)


def test_from_jax():
    import jax.numpy as jnp
    env = HloEnv.from_jax(lambda x: jnp.tanh(x.reshape(8)) * 2.0, np.ones((2, 4), np.float32), pipeline=SMALL)
    obs, info = env.reset(seed=0)
    assert obs["x"].shape[0] > 0


def test_from_jax_keyword_arguments_are_env_settings_and_a_stray_one_says_so():
    x, y = np.ones((4, 8), np.float32), np.ones((8, 3), np.float32)
    # (was: jax's "f() missing 1 required positional argument: 'y'", from tracing without it)
    with pytest.raises(TypeError, match="from_jax: 'y' is not a setting of HloEnv .*give fn's arguments positionally"):
        HloEnv.from_jax(lambda x, y: x @ y, x, y=y)
    # (was jax's "Expected a callable value, got [[1. 1. ...]]", the whole array printed)
    with pytest.raises(TypeError, match=r"from_jax takes the function to trace first.*not a ndarray"):
        HloEnv.from_jax(x, y)


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_vector_envs_run_four_environments(vector):
    module = hloenv.load_hlo(BLOCK)  # an in-memory module: async envs get it pickled
    fns = [functools.partial(HloEnv, BLOCK if k % 2 else module, pipeline=SMALL) for k in range(4)]
    # spawn: the test process may have imported jax, which must not be forked
    envs = (gym.vector.SyncVectorEnv(fns) if vector == "sync"
            else gym.vector.AsyncVectorEnv(fns, shared_memory=False, context="spawn"))
    rng = np.random.default_rng(0)
    try:
        obs, infos = envs.reset(seed=0)
        for _ in range(3):
            actions = hloenv.random_action(infos["action_mask"], rng)  # (the vector space can't know)
            assert actions.shape == (4, envs.single_action_space.shape[0])
            obs, rewards, term, trunc, infos = envs.step(actions)
            assert rewards.shape == (4,)
    finally:
        envs.close()


def test_random_action_draws_legal_options_uniformly():
    env = make()
    _, info = env.reset(seed=0)
    mask = info["action_mask"]
    counts = mask.sum(axis=1)
    assert counts.min() < env.max_options  # a node with fewer options than the space allows
    rng = np.random.default_rng(1)
    for _ in range(20):
        action = hloenv.random_action(mask, rng)
        assert action.shape == (env.max_alternatives,) and np.all(action < counts) and np.all(action >= 0)
    picks = np.array([hloenv.random_action(mask, rng) for _ in range(200)])
    assert set(picks[:, int(np.argmax(counts))]) == set(range(int(counts.max())))  # every option drawn
    stacked = hloenv.random_action(np.stack([mask, mask]), 3)
    assert stacked.shape == (2, env.max_alternatives)
    assert np.array_equal(hloenv.random_action(mask, 7), hloenv.random_action(mask, 7))  # seeded
    with pytest.raises(ValueError, match="max_alternatives, max_options] bool"):
        hloenv.random_action(mask.astype(int))


def test_random_action_draws_only_what_a_mask_allows():
    """A mask is read as it is: with options 0 and 2 allowed, both come up and 1 never does."""
    rng = np.random.default_rng(0)
    picks = np.array([hloenv.random_action(np.array([[True, False, True]]), rng)[0] for _ in range(400)])
    assert set(picks) == {0, 2} and 120 < np.count_nonzero(picks == 2) < 280


def test_options_a_node_lacks_are_masked_and_keep_the_original():
    """Every action of the space is legal (a vector env's space, or a space sampled before a
    reset, offers options a node lacks): those entries, and entries past the nodes, keep the
    original, and the history records that."""
    env = make()
    _, info = env.reset(seed=0)
    counts = info["action_mask"].sum(axis=1)
    nodes = env._alternatives()
    action = np.where(np.arange(env.max_alternatives) < len(nodes), counts, env.max_options - 1)
    assert np.all(action < env.max_options)
    expected = env.fork()
    expected.step([0] * len(nodes))
    env.step(action)
    assert env.history[-1]["choices"] == {} and env.module.fingerprint() == expected.module.fingerprint()


def test_check_env_passes_with_the_default_pipeline():
    """Gymnasium's checker samples an action, resets and steps with it: the sample comes from the
    space of the state before the reset (a later round's)."""
    check_env(HloEnv(DATA / "mlp_train_step.hlo"), skip_render_check=True)


def test_random_action_takes_masks_as_lists_and_says_what_a_mask_is():
    rng = np.random.default_rng(0)
    # a list of lists is one mask (was read as a sequence of 1-d masks: "not bool (2,)")
    assert hloenv.random_action([[True, False], [True, False]], rng).tolist() == [0, 0]
    assert hloenv.random_action([[[True, False]], [[True, False]]], rng).tolist() == [[0], [0]]
    with pytest.raises(ValueError, match=r"\[envs, max_alternatives, max_options\]\), not bool \(2,\)"):
        hloenv.random_action(np.array([True, False]), rng)  # (said "not bool ()", a row's shape)


def test_max_options_cuts_options_and_prunes_what_they_leave_behind():
    from hloenv.altgraph.alternatives import alternatives_nodes, prune
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    env = make(max_options=2, pipeline=DEFAULT_ENV_PIPELINE)  # fusion offers up to 4 options here
    _, info = env.reset(seed=0)
    nodes = alternatives_nodes(env.graph)
    assert nodes and all(len(n.operands) <= 2 for n in nodes)
    assert all(len(n.attrs["hloenv_rules"].strip('"').split(";")) == len(n.operands) for n in nodes)  # rules cut too
    assert info["action_mask"].shape[1] == 2
    stats = prune(env.graph)  # the cut options are already gone from the graph
    assert (stats.instructions, stats.computations) == (0, 0)
    assert env.graph is env.graph and env._alternatives() == alternatives_nodes(env.graph)


def _trace(env: HloEnv, look: bool = False):
    """Rewards, info counts, observations and the final module of a seeded random episode, and
    whether each round ran in the step's module (`_module_in_graph`)."""
    obs, info = env.reset(seed=4)
    steps, in_place = [], []
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        in_place.append(env._module_in_graph)
        if look:
            env.module  # rebuilt from the graph: the episode must go on as if nobody looked
        steps.append((reward, info["instructions"], info["num_alternatives"],
                      {k: v.tobytes() for k, v in obs.items()}))
        if terminated or truncated:
            return steps, env.module.fingerprint(), in_place


@pytest.mark.parametrize("pipeline", [SMALL, hloenv.passes.env_pipeline.DEFAULT_ENV_PIPELINE], ids=["small", "default"])
def test_rounds_in_the_step_module_give_what_rounds_in_a_copy_give(pipeline):
    copying = make(pipeline=pipeline, max_steps=5)
    copying._round_in_place = False
    want_steps, want_module, in_place = _trace(copying)
    assert not any(in_place)
    for look in (False, True):
        steps, module, in_place = _trace(make(pipeline=pipeline, max_steps=5), look=look)
        assert any(in_place[:-1])  # (the last round has nothing to decide, or the step limit ends it)
        assert steps == want_steps and module == want_module


def test_a_fork_after_a_round_in_place_continues_like_its_parent():
    env = make(pipeline=hloenv.passes.env_pipeline.DEFAULT_ENV_PIPELINE, max_steps=4)
    env.reset(seed=0)
    env.step(np.minimum(env.action_mask().sum(axis=1) - 1, 1))
    assert env._module_in_graph
    child = env.fork()
    for agent in (env, child):
        agent.step(np.minimum(agent.action_mask().sum(axis=1) - 1, 1))
        assert not agent._module_in_graph  # a shared reward: rounds in copies from now on
    assert env.module.fingerprint() == child.module.fingerprint()
    assert env.module is not child.module


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_rounds_in_place_match_rounds_in_copies(path):
    """Three random steps with the cost reward on a corpus module: the same rewards and the same
    modules whether the rounds run in the step's module or in a copy of it."""
    module = hloenv.load_hlo(path, allow_elided=True)
    if module.has_elided_constants:
        pytest.skip("constants elided in the corpus file")
    runs = []
    for in_place in (True, False):
        env = HloEnv(module, max_steps=3)
        env._round_in_place = in_place
        env.reset(seed=1)
        trace = []
        while True:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            trace.append((reward, info.get("error"), info["num_alternatives"], env._module_in_graph))
            if terminated or truncated:
                break
        # every round that offers something ran in place (or, with copies, none did)
        assert all(t[3] == (in_place and t[2] > 0) for t in trace[:-1])
        runs.append(([t[:3] for t in trace], env.module.fingerprint()))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("pipeline,max_steps,seed,ending", [
    (SMALL, 1, 0, "truncated"), (SMALL, 3, 2, "terminated"),
    (hloenv.passes.env_pipeline.DEFAULT_ENV_PIPELINE, 1, 0, "truncated")], ids=["small-truncated", "small-terminated", "default"])
def test_the_step_limits_final_module_and_reward_are_the_cleaned_up_step_module(tmp_path, pipeline, max_steps, seed, ending):
    """The last step cleans up its module before its round (and has it analysed beside it): the
    episode must end as if the module had been cleaned up after the round, reward included."""
    from hloenv.altgraph.alternatives import select
    from hloenv.rewards import estimated_seconds
    from hloenv.xla import cost
    env = make(pipeline=pipeline, max_steps=max_steps)
    env.reset(seed=seed)
    while True:
        before, expected = env.module.clone(), env.graph.clone()
        action = env.action_space.sample()
        choice = env._choices(action)
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert env._steps == max_steps and (truncated if ending == "truncated" else terminated)
    select(expected, choice)
    assert env.pipeline.cleanup_pipeline()(expected).changed or pipeline is not SMALL  # (the case it is about)
    assert env.module.fingerprint() == expected.fingerprint()
    start = env.reward_fn._start
    costs = [estimated_seconds(c.flops, c.transcendentals, c.bytes_accessed) for c in (cost(before), cost(expected))]
    assert reward == pytest.approx((costs[0] - costs[1]) / start)
    env.save(tmp_path / "episode.json")
    assert hloenv.replay(tmp_path / "episode.json").module.fingerprint() == expected.fingerprint()


def test_a_module_with_nothing_to_decide_still_checks_actions_and_its_infos_are_its_own():
    env = HloEnv("HloModule m\nENTRY e {\n  p = f32[8] parameter(0)\n  c = f32[] constant(2)\n"
                 "  b = f32[8] broadcast(c), dimensions={}\n  ROOT r = f32[8] multiply(p, b)\n}\n")
    _, first = env.reset(seed=0)
    assert env._done and first["num_alternatives"] == 0
    for bad in (None, "junk", {"a": 1}):
        with pytest.raises(TypeError):
            env.step(bad)
    with pytest.raises(ValueError, match="entries"):
        env.step([0] * (env.max_alternatives + 1))
    with pytest.raises(ValueError, match="out of range"):
        env.step([8] * env.max_alternatives)
    *_, terminated, _, info = env.step([0] * env.max_alternatives)
    assert terminated
    assert info["cost_analysis"] == first["cost_analysis"] and info["cost_analysis"] is not first["cost_analysis"]
    check_env(env, skip_render_check=True)


def test_a_module_with_nothing_to_decide_still_calls_the_reward_at_its_end():
    """Its one step is the episode's last: a terminal reward (a runtime speedup) must see it. The
    reward was never called and the step earned 0 (found by a user probe)."""
    calls = []

    def reward(before, after, terminated):
        calls.append((before.instruction_count, after.instruction_count, terminated))
        return 0.25

    # the clean-up's dce removes `dead`: the final module is smaller than the start
    env = HloEnv("HloModule m\nENTRY e {\n  p = f32[8] parameter(0)\n  dead = f32[8] negate(p)\n"
                 "  ROOT r = f32[8] add(p, p)\n}\n", reward=reward,
                 pipeline=EnvPipeline(canonicalize="", decisions=("fusion",), cleanup="dce"))
    _, first = env.reset(seed=0)
    assert env._done and first["num_alternatives"] == 0
    _, got, terminated, _, _ = env.step(env.action_space.sample())
    assert (got, terminated) == (0.25, True)
    assert calls == [(3, 2, True)]


def test_replay_rebuilds_an_episode_longer_than_the_default_step_limit(tmp_path):
    """The step limit is saved: replay ran every episode with the default of 50 steps."""
    env = HloEnv(DATA / "rng_dropout.hlo", max_steps=200, reward=lambda *a: 0.0)
    env.reset(seed=0)
    one_at_a_time = np.zeros(env.max_alternatives, dtype=np.int64)
    one_at_a_time[0] = 1  # one rewrite a step: the pass runs again and again
    while not env.step(one_at_a_time)[2]:
        pass
    assert env._steps > 50
    env.save(tmp_path / "long.json")
    assert json.loads((tmp_path / "long.json").read_text())["max_steps"] == 200
    assert hloenv.replay(tmp_path / "long.json").module.fingerprint() == env.module.fingerprint()
    old_style = {k: v for k, v in json.loads((tmp_path / "long.json").read_text()).items() if k != "max_steps"}
    (tmp_path / "old.json").write_text(json.dumps(old_style))  # (saved before max_steps was)
    assert hloenv.replay(tmp_path / "old.json").module.fingerprint() == env.module.fingerprint()


def test_an_alternative_graph_is_refused_as_a_start(tmp_path):
    """It started, and every step earned the penalty (XLA knows no `alternatives` opcode)."""
    env = make()
    env.reset(seed=0)
    path = tmp_path / "graph.hlo"
    path.write_text(env.graph.to_text())
    with pytest.raises(ValueError, match=f"{path}: module .* is an alternative graph .*save env.module"):
        HloEnv(path)
    with pytest.raises(ValueError, match="is an alternative graph"):
        HloEnv(env.graph)


def test_has_equal_output_does_not_call_amplified_rounding_a_difference():
    """transformer_block with every first rewrite differs from the original at f32 tolerances in
    one element and is equal raised to f64: a correct rewrite, which has_equal_output called
    unequal."""
    env = HloEnv(BLOCK)
    env.reset()
    env.apply_alternatives([1] * len(env.get_graph()["alternative_index"]))
    assert env.has_equal_output()
    assert not env.has_equal_output(env.original_text.replace("add(", "subtract(", 1))


def test_an_action_with_one_entry_per_node_decides_every_node_past_max_alternatives():
    """An action of the space's length decides its first max_alternatives nodes; one entry per node
    (also accepted) decided only those too, dropping the rest without a word."""
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    capped, full = (make(max_alternatives=3, pipeline=DEFAULT_ENV_PIPELINE), make(pipeline=DEFAULT_ENV_PIPELINE))
    for env in (capped, full):
        obs, _ = env.reset(seed=0)
        env.step(obs["option_count"] - 1)  # (one entry per node: every node's last option)
    assert len(full.history[-1]["choices"]) > 3
    assert capped.history == full.history and capped.module.fingerprint() == full.module.fingerprint()
    obs, _ = capped.reset(seed=0)
    capped.step(np.full(3, 1))  # the space's length: three nodes decided, the rest kept
    assert capped.history[-1]["choices"] and len(capped.history[-1]["choices"]) <= 3


def test_copying_or_pickling_an_env_says_what_to_use_instead():
    import copy as copying
    import pickle
    env = make()
    with pytest.raises(TypeError, match="env.fork\\(\\) clones its state"):
        copying.deepcopy(env)
    with pytest.raises(TypeError, match="cannot be pickled .*env.save\\(path\\)"):
        pickle.dumps(env)


def test_replaying_a_file_whose_module_text_is_broken_names_the_file(tmp_path):
    env = make()
    env.reset(seed=0)
    path = tmp_path / "episode.json"
    env.save(path)
    data = json.loads(path.read_text())
    data["hlo"] = data["hlo"].replace(" add(", " ad(", 1)
    path.write_text(json.dumps(data))
    with pytest.raises(hloenv.HloParseError, match='episode.json, its "hlo": line .*unknown opcode .ad.'):
        hloenv.replay(path)
