"""The agent protocol, the registry of agents by name, and the loop that runs one episode."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hloenv.altgraph.checks import did_you_mean
from hloenv.altgraph.module import Module
from hloenv.passes.base import qualified_name


@runtime_checkable
class Agent(Protocol):
    """Anything with `act(obs, info) -> action`. `reset(env)` (optional) is called at the start of
    each episode, once the environment is reset (its `np_random` seeded with the episode's seed), for
    agents that plan with it (`env.fork()`, cost model) or draw random choices."""

    def act(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray: ...


#: name -> factory(**options) -> Agent
AGENTS: dict[str, Callable[..., Agent]] = {}


def register_agent(name: str) -> Callable:
    """Decorator: make `factory(**options) -> Agent` available by name (`get_agent`, the CLI's
    `--agent`). A command line starts without your code: name the agent `module:name` or
    `path/to/file.py:name` there (`hloenv optimize m.hlo --agent my_agents.py:biggest-first`),
    and the module is imported first.

    Raises:
        ValueError: a name another agent has (a built-in's too: pick another name). Registering a
            factory of the same module and name again (a notebook cell run twice) replaces it.
    """
    from hloenv.agents.registry import LAZY_AGENTS  # (first: built-ins loaded later took names back)

    if not isinstance(name, str):  # (a bare @register_agent: the class itself, silently made a function)
        what = getattr(name, "__name__", type(name).__name__)
        raise TypeError(f"register_agent takes the agent's name: @register_agent(\"my-agent\") above "
                        f"{what}, not @register_agent alone")
    if not name or name != name.strip() or ":" in name:
        raise ValueError(f"agent name {name!r}: a non-empty name without surrounding spaces or ':' "
                         "(the command line reads 'file.py:name')")

    def deco(factory: Callable[..., Agent]) -> Callable[..., Agent]:
        # the name's owner: a registered factory, or the module a lazy agent is registered from
        owner = qualified_name(AGENTS[name]) if name in AGENTS else LAZY_AGENTS.get(name)
        if owner is not None and owner not in (qualified_name(factory), factory.__module__):
            raise ValueError(f"agent name {name!r} is taken by {owner}; give {qualified_name(factory)} "
                             "another name")
        AGENTS[name] = factory
        return factory
    return deco


def get_agent(name: str, **options: Any) -> Agent:
    """An agent by name (`random`, `original`, `all`, `xla`, `greedy`, `search`, `gnn`).

    Raises:
        ValueError: unknown name; TypeError: an option it does not take, or a factory that made
            something without `act(obs, info)`.
    """
    agent = agent_factory(name)(**options)
    if not callable(getattr(agent, "act", None)):
        raise TypeError(f"agent {name!r} made a {type(agent).__name__}, which has no method act(obs, info) "
                        "-> action (register a class or factory whose agents have one)")
    return agent


def agent_factory(name: str) -> Callable[..., Agent]:
    """What `get_agent(name, **options)` calls (importing a lazily registered agent first).

    Raises:
        ValueError: unknown name, or an agent whose extra is not installed.
    """
    import importlib

    from hloenv.agents.registry import LAZY_AGENTS  # importing it registers the built-in agents
    if name not in AGENTS and ":" in name:
        return _imported_agent(name)
    if name not in AGENTS and name in LAZY_AGENTS:
        try:
            importlib.import_module(LAZY_AGENTS[name])
        except ImportError as err:
            raise ValueError(f"agent {name!r} needs the learn extra (pip install 'hloenv[learn]'): "
                             f"{err}") from None
    if name not in AGENTS:
        known = sorted({*AGENTS, *LAZY_AGENTS})
        raise ValueError(f"unknown agent {name!r}{_did_you_mean(name)}; known: {', '.join(known)}")
    return AGENTS[name]


def parse_agent_options(name: str, pairs: list[str] | None) -> dict[str, Any]:
    """``["checkpoint=gnn.pt", "max_expansions=8"]`` -> keyword options of agent ``name``, each
    converted to the type of that parameter's default (int, float, bool, str; ``none`` -> None).
    What ``--agent-option KEY=VALUE`` on the command line becomes.

    Raises:
        ValueError: a pair without ``=``, an option the agent does not take (the message lists the
            ones it does), or a value that does not convert.
    """
    import inspect

    params = {p.name: p for p in inspect.signature(agent_factory(name)).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"agent option {pair!r}: expected KEY=VALUE")
        if key not in params:
            raise ValueError(f"agent {name!r} has no option {key!r}; it takes: "
                             f"{', '.join(params) or 'none'}")
        options[key] = _convert_option(name, key, text.strip(), params[key].default)
    return options


def _imported_agent(spec: str) -> Callable[..., Agent]:
    """The factory `module:name` or `file.py:name` registers when imported (see `register_agent`)."""
    import importlib
    import importlib.util
    from pathlib import Path

    where, _, name = spec.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise ImportError(f"no file {where}")
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            importlib.import_module(where)
    except ImportError as err:
        hint = ""
        if not where.endswith(".py") and Path(where.replace(".", "/") + ".py").is_file():
            hint = f" (for the file in this folder, name it {where.replace('.', '/')}.py:{name})"
        raise ValueError(f"agent {spec!r}: cannot import {where!r}: {err}{hint}") from None
    if name not in AGENTS:
        raise ValueError(f"agent {spec!r}: {where} registered no agent {name!r}{_did_you_mean(name)} "
                         f"(registered: {', '.join(sorted(AGENTS))})")
    return AGENTS[name]


def _did_you_mean(name: str) -> str:
    from hloenv.agents.registry import LAZY_AGENTS
    return did_you_mean(name, {*AGENTS, *LAZY_AGENTS})


def cli_agent_options(name: str, pairs: list[str] | None = None, budget: int | None = None) -> dict[str, Any]:
    """A command's ``--agent-option`` pairs and ``--budget`` as keyword options of agent ``name``
    (the budget is ``max_expansions`` for ``search``, ``budget`` for the others), checked by making
    the agent once, so a bad name, option or checkpoint fails before the command does any work.

    Raises:
        ValueError, TypeError, OSError: what `parse_agent_options` or the agent refuses (an
            unknown name or option, a bad value, a missing checkpoint).
    """
    pairs = list(pairs or [])
    if budget is not None:  # checked like any option: an agent without a budget says so
        pairs.append(f"{'max_expansions' if name == 'search' else 'budget'}={budget}")
    options = parse_agent_options(name, pairs)
    get_agent(name, **options)
    return options


def _convert_option(agent: str, key: str, text: str, default: Any) -> Any:
    if text.lower() == "none":
        return None
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError as err:
        raise ValueError(f"agent {agent!r} option {key}={text!r}: {err}") from None
    return text


def action_length(obs: dict[str, np.ndarray], info: dict[str, Any]) -> int:
    """The length of an action that can decide every observed alternatives node: the action space's
    (`max_alternatives`), or one entry per node where a round offers more nodes than that (the env
    accepts both; one of the space's length leaves the nodes past it as they are)."""
    return max(info["action_mask"].shape[0], len(obs["option_count"]))


def mask_from(info: dict[str, Any], obs: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """(mask [A_max, K] bool, number of live alternatives)."""
    return info["action_mask"], len(obs["alternative_index"])


@dataclass
class EpisodeResult:
    """What one episode produced."""

    module: Module
    total_reward: float
    steps: int
    seconds: float
    #: the last step's info (its action mask and observation-sized arrays: left out of the repr)
    info: dict[str, Any] = field(default_factory=dict, repr=False)
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def decisions(self) -> int:
        """How many options other than the original the episode chose."""
        return sum(len(h.get("choices", {})) for h in self.history)

    @property
    def stop_reason(self) -> str:
        """Why the episode ended ("no more alternatives", "step limit"; "" if not recorded)."""
        return self.info.get("stop_reason", "")

    def __repr__(self) -> str:
        reason = self.stop_reason
        return (f"EpisodeResult(module={self.module!r}, total_reward={self.total_reward:.6g}, steps={self.steps}, "
                f"seconds={self.seconds:.3f}, decisions={self.decisions}"
                + (f", stop_reason={reason!r}" if reason else "") + ")")


def run_episode(env: Any, agent: Agent, seed: int | None = 0) -> EpisodeResult:
    """Run `agent` on `env` until the episode ends; returns the final module and totals."""
    if not callable(getattr(agent, "act", None)):
        raise TypeError(f"an agent needs a method act(obs, info) -> action; {type(agent).__name__} has none "
                        "(hloenv.agents.get_agent(name) makes a built-in one)")
    t0 = time.perf_counter()
    base = getattr(env, "unwrapped", env)
    obs, info = env.reset(seed=seed)
    if hasattr(agent, "reset"):  # (after: an agent may draw from the episode's env.np_random)
        agent.reset(base)
    total, steps = 0.0, 0
    while True:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        steps += 1
        if terminated or truncated:
            break
    return EpisodeResult(base.module, total, steps, time.perf_counter() - t0, info, list(base.history))
