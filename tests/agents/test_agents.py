"""Agents: every built-in agent finishes an episode with a module equal in outputs to the original."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hloenv.agents import Agent, get_agent, run_episode
from tests.conftest import DATA
from tests.hloenv.test_env import make

CHEAP = ["random", "original", "all", "xla", "greedy"]


@pytest.mark.parametrize("name", CHEAP)
def test_agent_runs_and_keeps_outputs(name):
    env = make()
    result = run_episode(env, get_agent(name))
    assert result.steps >= 1 and result.module is env.module
    assert env.has_equal_output()


def test_search_agent_returns_a_verified_plan():
    env = make()
    agent = get_agent("search", beam_width=2, random_candidates=1, measure_top=2, max_expansions=12)
    result = run_episode(env, agent)
    assert agent.report.verified and agent.report.candidates_measured >= 1
    assert agent.report.speedup is not None and agent.report.speedup > 0
    assert env.has_equal_output()
    assert result.steps == len(agent.plan) or result.steps > 0
    # XLA's own decisions are always among the measured candidates, whatever the cost model says
    assert sum(row["xla_like"] for row in agent.report.table) == 1


def test_search_measures_the_xla_like_module_beside_the_cost_models_pick():
    env = make()
    agent = get_agent("search", beam_width=1, random_candidates=0, measure_top=1, max_expansions=3)
    run_episode(env, agent)
    rows = agent.report.table
    assert 1 <= len(rows) <= 2 and any(row["xla_like"] for row in rows)
    if len(rows) == 2:
        assert not rows[0]["xla_like"] and rows[1]["xla_like"]  # cheapest first, then XLA's


@pytest.mark.parametrize("confirmed", [False, True])
def test_search_keeps_xlas_decisions_unless_the_faster_candidate_is_faster_timed_against_them(confirmed, monkeypatch):
    """The fastest of separately timed candidates is partly the luckiest draw: it replaces the
    XLA-like plan only when a paired timing against it shows it faster beyond its interval."""
    from types import SimpleNamespace

    import hloenv.xla
    from hloenv.agents import search
    xla_like: set[str] = set()
    finish = search.SearchAgent._finish

    def remember_xla_like(self, start, agent):
        cand = finish(self, start, agent)
        if isinstance(agent, search.XlaAgent):
            xla_like.add(cand.env.module.fingerprint())
        return cand

    def timed(module, backend="cpu", pipeline="xla-default", **options):  # every other candidate: "faster"
        fast = pipeline == "env" and module.fingerprint() not in xla_like
        return SimpleNamespace(median=0.5 if fast else 1.0)
    monkeypatch.setattr(search.SearchAgent, "_finish", remember_xla_like)
    monkeypatch.setattr(hloenv.xla, "evaluate", timed)
    def paired(a, b, backend="cpu", pipeline="xla-default", **options):
        if pipeline == "xla-default":  # the report's speedup: the plan against XLA's default pipeline
            return SimpleNamespace(speedup=1.25, speedup_low=1.1, speedup_high=1.4)
        return SimpleNamespace(speedup=2.0 if confirmed else 1.01, speedup_low=1.5 if confirmed else 0.9,
                               speedup_high=2.5 if confirmed else 1.1)
    monkeypatch.setattr(hloenv.xla, "paired_timing", paired)
    agent = get_agent("search", beam_width=2, random_candidates=1, measure_top=2, max_expansions=12)
    run_episode(make(), agent)
    runtimes = {row["xla_like"]: row["runtime"] for row in agent.report.table}
    assert runtimes == {True: 1.0, False: 0.5} and agent.report.confirmation is not None
    assert agent.report.best_runtime == (0.5 if confirmed else 1.0)  # unconfirmed: XLA's own decisions
    # timed in turn against XLA's default pipeline, not the ratio of two separate medians (which
    # said 0.68x beside a confirmation of 1.19x; found by a user probe)
    assert agent.report.speedup == 1.25 and agent.report.speedup_interval == (1.1, 1.4)


def test_original_agent_changes_nothing_and_all_agent_rewrites():
    env = make()
    before = env._canonical.fingerprint()
    run_episode(env, get_agent("original"))
    original_fp = env.module.fingerprint()
    env2 = make()
    run_episode(env2, get_agent("all"))
    assert env2.module.fingerprint() != original_fp
    assert before  # canonical module exists


def test_unknown_agent_and_custom_agent_protocol():
    with pytest.raises(ValueError, match="unknown agent"):
        get_agent("nope")

    class Zero:
        def act(self, obs, info):
            return np.zeros(info["action_mask"].shape[0], dtype=np.int64)

    assert isinstance(Zero(), Agent)
    assert run_episode(make(), Zero()).total_reward == 0.0
    with pytest.raises(TypeError, match="an agent needs a method act.*str has none"):
        run_episode(make(), "random")  # (a name, not an agent)


def test_non_learning_agents_never_load_torch():
    import subprocess
    import sys
    code = ("import sys; from hloenv.agents import get_agent; "
            "[get_agent(n) for n in ('random', 'original', 'all', 'xla', 'greedy', 'search')]; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_agent_options_from_the_command_line_are_typed_and_checked():
    from hloenv.agents.base import parse_agent_options
    assert parse_agent_options("search", ["max_expansions=8", "low-noise=false"]) == {
        "max_expansions": 8, "low_noise": False}
    assert parse_agent_options("random", []) == {}
    with pytest.raises(ValueError, match="has no option 'budget'.*seed"):
        parse_agent_options("random", ["budget=3"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_agent_options("search", ["max_expansions"])
    with pytest.raises(ValueError, match="max_expansions='many'"):
        parse_agent_options("search", ["max_expansions=many"])


def test_registering_a_taken_agent_name_is_refused():
    from hloenv.agents import register_agent
    from hloenv.agents.base import AGENTS

    class Mine:
        def act(self, obs, info):
            return np.zeros(0, dtype=np.int64)

    for taken, owner in (("random", "hloenv.agents.simple.RandomAgent"), ("gnn", "hloenv.agents.gnn")):
        with pytest.raises(ValueError, match=f"agent name '{taken}' is taken by {owner}[.\\w]*; give .*Mine another"):
            register_agent(taken)(Mine)
    assert get_agent("random").__class__.__name__ == "RandomAgent"
    try:
        register_agent("test-mine")(Mine)
        register_agent("test-mine")(Mine)  # (the same factory again, a notebook cell run twice: fine)
        assert isinstance(get_agent("test-mine"), Mine)
    finally:
        AGENTS.pop("test-mine", None)


def test_a_bare_decorator_or_a_name_the_command_line_cannot_read_is_refused():
    from hloenv.agents import register_agent

    class Mine:
        def act(self, obs, info):
            return np.zeros(0, dtype=np.int64)

    with pytest.raises(TypeError, match='register_agent takes the agent\'s name: @register_agent\\("my-agent"\\) above Mine'):
        register_agent(Mine)  # (was: Mine silently became the decorator's inner function)
    for bad in ("", " mine", "file.py:mine"):
        with pytest.raises(ValueError, match="agent name"):
            register_agent(bad)


def test_an_agent_registered_before_the_built_ins_load_keeps_its_name():
    # (was: the built-ins, imported at the first get_agent, silently took 'random' back)
    import subprocess
    import sys
    code = ("from hloenv.agents.base import register_agent\n"
            "try:\n    register_agent('random')(dict)\nexcept ValueError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "agent name 'random' is taken by hloenv.agents.simple.RandomAgent" in out


def test_a_command_line_names_your_agent_by_file_or_module(tmp_path, monkeypatch):
    """register_agent promised the CLI's --agent, but a command line starts without your code."""
    from hloenv.agents.base import AGENTS, agent_factory
    (tmp_path / "my_agents_for_cli.py").write_text(
        "import numpy as np\nfrom hloenv.agents import register_agent\n\n"
        "@register_agent('zeros-for-cli')\nclass Zeros:\n"
        "    def act(self, obs, info):\n        return np.zeros(info['action_mask'].shape[0], dtype=np.int64)\n")
    monkeypatch.setattr("sys.path", [str(tmp_path), *__import__("sys").path])
    try:
        assert agent_factory(f"{tmp_path / 'my_agents_for_cli.py'}:zeros-for-cli").__name__ == "Zeros"
        assert agent_factory("my_agents_for_cli:zeros-for-cli").__name__ == "Zeros"
        with pytest.raises(ValueError, match="registered no agent 'other'"):
            agent_factory("my_agents_for_cli:other")
        with pytest.raises(ValueError, match="cannot import 'nowhere.py': no file"):
            agent_factory("nowhere.py:x")
        result = subprocess.run([sys.executable, "-m", "hloenv", "optimize", str(DATA / "mlp_train_step.hlo"),
                                 "--agent", f"{tmp_path / 'my_agents_for_cli.py'}:zeros-for-cli"],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    finally:
        AGENTS.pop("zeros-for-cli", None)


def test_agent_name_mistakes_get_hints(tmp_path, monkeypatch):
    from hloenv.agents.base import AGENTS, agent_factory, get_agent
    with pytest.raises(ValueError, match="unknown agent 'randon' \\(did you mean 'random'\\?\\)"):
        agent_factory("randon")
    (tmp_path / "mine_for_hints.py").write_text(
        "from hloenv.agents import register_agent\n\n"
        "@register_agent('biggest-for-hints')\nclass Biggest:\n    def act(self, obs, info):\n        return 0\n\n"
        "@register_agent('no-act-for-hints')\nclass NoAct:\n    pass\n")
    monkeypatch.chdir(tmp_path)  # (a console script does not put the current folder on sys.path)
    try:
        with pytest.raises(ValueError, match="name it mine_for_hints.py:biggest-for-hints"):
            agent_factory("mine_for_hints:biggest-for-hints")
        with pytest.raises(ValueError, match="no agent 'bigest-for-hints' \\(did you mean 'biggest-for-hints'"):
            agent_factory("mine_for_hints.py:bigest-for-hints")
        with pytest.raises(TypeError, match="made a NoAct, which has no method act"):  # (a traceback mid-run)
            get_agent("mine_for_hints.py:no-act-for-hints")
    finally:
        AGENTS.pop("biggest-for-hints", None)
        AGENTS.pop("no-act-for-hints", None)


def test_an_episode_result_prints_in_one_line():
    """Printing `run_episode`'s result (as the README's snippet does) dumped the last info's
    action mask and arrays, tens of kilobytes."""
    import hloenv
    from hloenv.agents import get_agent, run_episode
    from tests.conftest import DATA
    result = run_episode(hloenv.HloEnv(DATA / "convnet_forward.hlo"), get_agent("random"))
    text = repr(result)
    assert len(text) < 300 and "\n" not in text and "steps=" in text and "action_mask" not in text
    assert result.decisions == sum(len(h["choices"]) for h in result.history)  # (the names it prints)
    assert result.stop_reason == result.info["stop_reason"]


@pytest.mark.parametrize("name", CHEAP)
def test_agents_run_where_a_round_offers_more_nodes_than_the_action_space(name):
    """max_alternatives below a round's node count (vector envs over several modules need one
    action space): the xla agent indexed past its action and crashed."""
    env = make(max_alternatives=3)
    obs, info = env.reset(seed=0)
    assert len(obs["option_count"]) > 3  # (what the test is about)
    result = run_episode(env, get_agent(name))
    assert result.steps >= 1 and env.has_equal_output()


def test_the_xla_agent_decides_every_node_in_one_step_whatever_max_alternatives():
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    capped, full = (make(max_alternatives=3, pipeline=DEFAULT_ENV_PIPELINE), make(pipeline=DEFAULT_ENV_PIPELINE))
    for env in (capped, full):
        obs, info = env.reset(seed=0)
        env.step(get_agent("xla").act(obs, info))
    assert len(full.history[-1]["choices"]) > 3  # (what the test is about: more than the cap fused)
    assert capped.history == full.history and capped.module.fingerprint() == full.module.fingerprint()


def test_the_readmes_agent_runs_with_a_small_action_space():
    class BiggestFirst:  # (README, "Adding an agent")
        def act(self, obs, info):
            return obs["option_count"] - 1

    env = make(max_alternatives=3)
    assert run_episode(env, BiggestFirst()).steps >= 1 and env.has_equal_output()
