"""HloEnv: the Gymnasium environment over an HLO module's alternative graph.

An episode: `reset` loads the module, applies the canonicalising passes and runs the first
decision pass in dry mode; the observation is the alternative graph. Each `step(action)` picks
one option per alternatives node, prunes, and runs the next dry round. A decision pass is re-run
while the agent keeps accepting rewrites from it; the episode terminates when no decision pass
offers anything more (then the clean-up passes run), and truncates at `max_steps`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hloenv.altgraph.alternatives import (RULES_ATTR, alternative_id, alternatives_nodes, dismantle,
                                          merge_identical_options, option_rules, prune)
from hloenv.altgraph.checks import check_int
from hloenv.altgraph.errors import HloParseError, HloVerifyError
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.parser import is_hlo_text, load_hlo, parse_hlo
from hloenv.altgraph.selected import selected_copy
from hloenv.altgraph.sharing import FUSED, FUSED_AND_CALLEES
from hloenv.observation import EDGE_FEATURES, NODE_FEATURES, build_observation
from hloenv.passes.base import Pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline
from hloenv.passes.pipeline import Pipeline, parse_pipeline
from hloenv.rewards import CostReward, Reward, RuntimeReward, checked_reset, checked_step, make_reward
from hloenv.shared_start import forget_shared_start, shared_start, warn_edited
from hloenv.spaces import ArraySpace

ModuleSource = str | Path | Module


def _load(source: ModuleSource) -> tuple[Module, str, str | None]:
    """(the module, its text, the file it came from or None); an alternative graph is refused."""
    module, text, path = _read(source)
    nodes = alternatives_nodes(module)
    if nodes:
        where = f"{path}: " if path else ""
        raise ValueError(f"{where}module {module.name!r} is an alternative graph ({len(nodes)} alternatives "
                         f"nodes, e.g. {nodes[0].name}): an episode starts from a program; choose its options "
                         "first (hloenv.altgraph.selected.selected_copy(graph, choices), or save env.module "
                         "rather than env.graph)")
    return module, text, path


def _read(source: ModuleSource) -> tuple[Module, str, str | None]:
    if isinstance(source, str) and not source.strip():
        raise ValueError("HloEnv got an empty string: pass a path to an HLO file, HLO text or a Module")
    if not isinstance(source, (str, Path, Module)):
        raise TypeError(f"HloEnv takes a path, HLO text or a Module, not {type(source).__name__}")
    if isinstance(source, Module):
        return source.clone(), source.to_text(), None
    if isinstance(source, Path) or not is_hlo_text(source):
        if not Path(source).exists():
            raise FileNotFoundError(f"no HLO file at {str(source)!r} (HloEnv reads a string as a path unless "
                                    "it is HLO text: HLO text starts with 'HloModule')")
        if Path(source).is_dir():
            raise IsADirectoryError(f"{source} is a folder: HloEnv takes one HLO file (hloenv bench and "
                                    "hloenv.dataset.load take folders)")
        module = load_hlo(source)
        return module, module.to_text(), str(source)
    module = parse_hlo(source)
    return module, module.to_text(), None


def _check_settings(pipeline: Any, max_steps: Any, max_alternatives: Any, max_options: Any, backend: Any,
                    render_mode: Any, render_modes: list[str]) -> None:
    """A clear error for each setting `HloEnv` cannot use (before any work is done)."""
    if not isinstance(pipeline, EnvPipeline):
        raise TypeError(f"pipeline must be an EnvPipeline (e.g. EnvPipeline(decisions=(\"fusion\",))), "
                        f"not {type(pipeline).__name__}")
    pipeline.check()  # (its pass names: a bad cleanup failed on an episode's last step)
    counts = {"max_steps": max_steps, "max_options": max_options, "max_alternatives": max_alternatives}
    for name, value in counts.items():  # (max_alternatives=None: the canonical module's size)
        check_int(name, value, 1, may_be_none=name == "max_alternatives")
    from hloenv.xla.api import check_backend
    check_backend(backend)  # (unknown: ValueError; GPU without its plugin: BackendUnavailable, not a penalty a step)
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"unknown render_mode {render_mode!r}; expected None or one of {render_modes}")


class HloEnv(gym.Env[dict, np.ndarray]):
    """Choose among the rewrites XLA-style passes propose, one alternatives node at a time.

    Args:
        hlo: a path to an HLO file (text or .pb), HLO text, or a Module.
        reward: "cost" (dense, deterministic: XLA's cost model), "runtime" (measured speedup over
            XLA's default pipeline at the end), a `hloenv.rewards.Reward`, or a callable
            `fn(before, after, terminated) -> float`.
        pipeline: the stages (`hloenv.passes.env_pipeline.EnvPipeline`).
        max_steps: truncate after this many steps.
        max_alternatives: length of the action vector (default: instructions of the canonical
            module, an upper bound on alternatives per round).
        max_options: options per alternatives node offered to the agent (extra ones are dropped).
        backend: "cpu" or "gpu" for the cost model and runtime measurements.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, hlo: ModuleSource, reward: str | Reward | Callable = "cost",
                 pipeline: EnvPipeline = DEFAULT_ENV_PIPELINE, max_steps: int = 50,
                 max_alternatives: int | None = None, max_options: int = 8, backend: str = "cpu",
                 render_mode: str | None = None):
        _check_settings(pipeline, max_steps, max_alternatives, max_options, backend, render_mode,
                        self.metadata["render_modes"])
        self.original, self.original_text, path = _load(hlo)
        self.pipeline = pipeline
        self._use_reward(make_reward(reward, backend), reward)
        self.max_steps = max_steps
        self.max_options = max_options
        self.backend = backend
        self.render_mode = render_mode
        self._decision_passes = pipeline.decision_passes()
        #: what a step's program shares with the graph it is chosen from (`hloenv.altgraph.sharing`)
        self._share = FUSED_AND_CALLEES if all(p.leaves_embedded_alone for p in self._decision_passes) else FUSED
        start = getattr(self.reward_fn, "start", None)
        if start is not None:  # e.g. XLA's worker: it imports jax while the passes below run
            start()
        #: the canonical module and first dry round, shared with every env over the same module
        try:
            self._start = shared_start(self.original, self.original_text, pipeline, max_options)
        except HloVerifyError as err:  # (the file's name in the message, as a parse error has it)
            raise err.with_source(path) if path and not err.source else err from None
        self._canonical = self._start.canonical
        n = max_alternatives or max(1, self._canonical.instruction_count)
        self.max_alternatives = n
        self.observation_space = spaces.Dict({
            "x": ArraySpace((None, len(NODE_FEATURES)), np.float32),
            "node_opcode": ArraySpace((None,), np.int64, 0),
            "node_computation": ArraySpace((None,), np.int64, 0),
            "edge_index": ArraySpace((2, None), np.int64, 0),
            "edge_attr": ArraySpace((None, len(EDGE_FEATURES)), np.float32),
            "alternative_index": ArraySpace((None,), np.int64, 0),
            "option_count": ArraySpace((None,), np.int64, 1, max_options),
            "option_index": ArraySpace((None,), np.int64, 0),
            "option_alternative": ArraySpace((None,), np.int64, 0),
            "option_xla": ArraySpace((None,), np.float32, 0, 1),
        })
        self.action_space = spaces.MultiDiscrete(np.full(n, max_options, dtype=np.int64))
        self._nodes: list[Instruction] | None = None
        self._was_reset = False  # (Gymnasium's order: reset before the first step)
        self._off_episode = False  # (the direct API changed the module since reset: see `save`)
        #: why the last step raised after it had begun to change the state (see `step`), else None
        self._broken_by: str | None = None
        #: graphs and modules the env built and has not handed out (see `_discard`); at most the
        #: current graph and module, and what a step is about to discard
        self._owned: list[Module] = []
        #: True when the current dry round ran in the step's module object itself (no copy; see
        #: `_next_round`): `_module` is then the graph, and the module is rebuilt from it on demand
        self._module_in_graph = False
        self._module_instructions = 0  # the module's size while it is in the graph
        #: False once forked: envs sharing a reward must not change modules it may print again
        self._round_in_place = True
        #: held by `reset` and `step` (an env is one agent's: see `_one_thread`)
        self._busy = threading.Lock()
        #: the episode's final module, cleaned up ahead of the last step's round (see `_step`)
        self._final: Module | None = None
        self.module = self._canonical
        self.graph = self._module
        self.history: list[dict[str, Any]] = []
        self._stage = 0
        self._steps = 0
        self._done = False
        self._episode_info: dict[str, Any] = {}

    # -- construction helpers --------------------------------------------------------------------
    def _use_reward(self, reward_fn: Reward, spec: Any) -> None:
        """Earn `reward_fn` (made from `spec` by `make_reward`) from now on."""
        self.reward_fn = reward_fn
        #: the reward's name, for `save` ("cost", "runtime"; None for a Reward or a callable)
        self._reward_name = spec if isinstance(spec, str) else None
        #: our own rewards keep no module they are given, so the env may dismantle old ones
        self._reward_keeps_modules = not isinstance(reward_fn, (CostReward, RuntimeReward))

    @classmethod
    def from_jax(cls, fn: Callable, *example_args: Any, **env_kwargs: Any) -> "HloEnv":
        """An env over the unoptimized HLO of `jax.jit(fn)` on `example_args` (positional: keyword
        arguments are the env's settings, as for `HloEnv(...)`)."""
        import inspect
        if not callable(fn):
            raise TypeError(f"from_jax takes the function to trace first, then its example arguments: "
                            f"HloEnv.from_jax(f, x, ...), not a {type(fn).__name__}")
        settings = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "hlo")]
        unknown = [name for name in env_kwargs if name not in settings]
        if unknown:
            raise TypeError(f"from_jax: {', '.join(map(repr, unknown))} is not a setting of HloEnv "
                            f"({', '.join(settings)}); give fn's arguments positionally")
        from hloenv.data.generate import hlo_text_of
        return cls(hlo_text_of(fn, *example_args), **env_kwargs)

    @property
    def module(self) -> Module:
        """The current program (no alternatives nodes): the episode's decisions so far applied.

        Read-only, like `graph`: the env builds a new one at each step.
        """
        module = self._current_module()
        self._disown(module)
        self._start.hand_out(module)  # (the canonical module, at the start of an episode)
        return module

    @module.setter
    def module(self, module: Module) -> None:
        self._module = module
        self._module_in_graph = False

    def _current_module(self) -> Module:
        """The current program, rebuilt from the graph (every original kept) if the dry round
        ran in it; the rebuilt module then is the current one."""
        if self._module_in_graph:
            nodes = self._alternatives()
            self.module = self._own(selected_copy(self._graph, [0] * len(nodes), nodes=nodes))
        return self._module

    def _own(self, module: Module) -> Module:
        """Note that the env has just built `module` and nobody else has seen it; returns it."""
        self._owned.append(module)
        return module

    def _disown(self, module: Module) -> None:
        """`module` has been seen outside (or is gone): the env must not dismantle it."""
        self._owned = [m for m in self._owned if m is not module]

    @property
    def graph(self) -> Module:
        """The current alternative graph (the module itself once the episode is over).

        Read-only: the env never changes a graph in place (a step builds the chosen program with
        `selected_copy`), so the first round's graph is shared by every later `reset`, and by
        every env over the same module in this process (`hloenv.shared_start`), instead of
        copied. To edit one, `clone()` it first.
        """
        self._disown(self._graph)
        self._start.hand_out(self._graph)  # (the first round's graph)
        return self._graph

    @graph.setter
    def graph(self, graph: Module) -> None:
        self._graph = graph
        self._nodes = None

    def _alternatives(self) -> list[Instruction]:
        """`alternatives_nodes(self.graph)`, kept until the graph is replaced or changed in place
        (one scan of every instruction per step instead of one per use)."""
        if self._nodes is None:
            self._nodes = alternatives_nodes(self._graph)
        return self._nodes

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode at the module's first decision round: (observation, info). `seed`
        seeds `np_random` and the action space's sampling; there are no `options` (an empty
        mapping or None, as Gymnasium's vector envs pass)."""
        if options:
            raise ValueError(f"HloEnv.reset takes no options, got {sorted(map(str, options))} "
                             "(env settings are HloEnv(...) arguments)")
        with self._one_thread("reset()"):
            super().reset(seed=seed)
            with gc_paused():  # graph work: see gcpause (collections here would scan the whole graph)
                return self._reset()

    @contextlib.contextmanager
    def _one_thread(self, call: str) -> Iterator[None]:
        """Refuse a `reset` or `step` while another thread is inside one of this env (two threads
        stepping one env failed at random, e.g. an IndexError deep in a round). Envs over one module
        may run in threads of their own: they share only what nobody changes."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError(f"HloEnv.{call} while another thread is in reset() or step() of this env: an "
                               "env is not thread-safe; give each thread its own HloEnv (envs over one "
                               "module share their canonical module and first round) or env.fork() one")
        try:
            yield
        finally:
            self._busy.release()

    def _reset(self):
        if not self._start.intact():  # (a user edited env.graph or env.module)
            warn_edited()
            forget_shared_start(self._start)
            self._start = shared_start(self.original, self.original_text, self.pipeline, self.max_options)
            self._canonical = self._start.canonical
        self._was_reset = True
        self._off_episode = False
        self._broken_by = None
        # shared, not cloned: nothing changes the episode's starting module or a graph in place (a
        # step copies what it selects; `_finish` clones before its clean-up), and the cost reward
        # recognises the same object at every reset instead of printing it again
        last = (self._module, self._graph)
        self.module = self._canonical
        self._final = None
        self.history = []
        self._stage = 0
        self._steps = 0
        self._done = False
        self._episode_info = {}
        start = self._module
        with self._start.lock:  # the first dry round depends only on the canonical module
            if self._start.first_round is not None:
                self._stage, self.graph = self._start.first_round
            else:
                self._prefetch(start)
                if not self._next_round():
                    self._start.first_round = (self._stage, self._graph)
                    self._disown(self._graph)  # shared now: no env may dismantle it
        obs = self._get_obs()  # (while XLA's worker may still be estimating the start: see `_step`)
        self._episode_info = {**checked_reset(self.reward_fn, self.reward_fn.reset(self.original, start)),
                              **self._episode_info}
        self._discard(*last)
        return obs, self._get_info()

    def step(self, action: Sequence[int] | np.ndarray):
        """Apply `action` (one option per alternatives node), prune, run the next decision round:
        (observation, reward, terminated, truncated, info). An action that is refused (a
        `TypeError` or `ValueError`) changes nothing. A step that raises once under way (a reward
        callable raising, an interrupt) leaves the env past its choices with no observation to act
        on: every later `step` raises until `reset`, so no action meets a graph it was not chosen for."""
        if self._broken_by is not None:
            raise RuntimeError(f"the last step raised ({self._broken_by}) after applying its action, so "
                               "there is no observation of where the env is now: call reset()")
        decided = len(self.history)
        with self._one_thread("step()"), gc_paused():
            try:
                return self._step(action)
            except BaseException as err:
                if len(self.history) != decided:  # the choices were applied (or being applied)
                    self._broken_by = f"{type(err).__name__}: {err}"
                raise

    def _step(self, action: Sequence[int] | np.ndarray):
        if not self._was_reset:
            raise RuntimeError("step() before reset(): call reset() first")
        self._check_on_episode("step()")
        if self._done:
            if self._steps == 0:  # nothing to decide in this module: the first step ends it,
                self._choices(action)  # (still an action of the space)
                self._steps = 1  # earning what its final module earns (a terminal reward sees it)
                return self._get_obs(), self._earn(self._canonical, True), True, False, self._get_info()
            raise RuntimeError("step() after the episode ended: call reset()")
        choices = self._choices(action)
        before = self._module  # (while in the graph: the object the reward has seen as `after`)
        nodes = self._alternatives()
        self.history.append({"pass": self._decision_passes[self._stage].name,
                             "choices": {alternative_id(n): c for n, c in zip(nodes, choices) if c}})
        old = self._graph
        # (its fused computations are the graph's own, frozen: `hloenv.altgraph.sharing`)
        self.module = self.graph = self._own(selected_copy(old, choices, nodes=nodes, share=self._share))
        self._steps += 1
        if not any(choices):
            self._stage += 1  # the agent took nothing from this pass: move on
        if self._steps >= self.max_steps:
            # the episode ends with this step whatever the round finds (it only tells terminated
            # from truncated): the final module is this one cleaned up, so clean it up now and let
            # the reward's work on it run beside the round, which may then run in this module
            self._final = self._own(self._module.clone())
            self.pipeline.cleanup_pipeline()(self._final)
            self._prefetch(self._final)
            in_place = True
        else:
            # the reward's work on it runs beside the next dry round, which may run in the module
            # itself when the reward has kept what it needs of it
            in_place = self._prefetch(self._module) and self._round_in_place and not self._reward_keeps_modules
        self._discard(old)  # (after the prefetch: the reward's worker starts on the module first)
        terminated = self._next_round(in_place)
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            self._finish("step limit")
        # the observation first: a reward computed elsewhere (the cost reward's XLA worker, which
        # has had the module since the round began) gets this much more time to finish beside us
        obs = self._get_obs()
        reward = self._earn(before, terminated or truncated)
        self._owned = [m for m in self._owned if m is self._module or m is self._graph]
        return obs, reward, terminated, truncated, self._get_info()

    def _earn(self, before: Module, terminal: bool) -> float:
        """The reward for going from `before` to the current module (checked), its info entries
        noted; `before` is discarded unless the reward may hold what it is given."""
        reward, extra = checked_step(self.reward_fn, self.reward_fn(before, self._module, terminal))
        if self._reward_keeps_modules:
            self._disown(self._module)  # the reward may hold it
        else:
            self._discard(before)  # (never the canonical module: resets start from it)
        self._episode_info.update(extra)
        if "error" not in extra:
            self._episode_info.pop("error", None)
        return reward

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._graph.to_text()
        return None

    # -- episode logic ---------------------------------------------------------------------------
    def _next_round(self, in_place: bool = False) -> bool:
        """Run dry decision passes until one offers alternatives; True when none is left.

        With `in_place` (the caller vouches nobody needs the module as it is: the env built it
        this step and the reward has printed it), a round runs in the module object itself instead
        of a copy: a round that offers nothing leaves it the same program (its dead options
        pruned), and one that offers alternatives makes it the graph (`_module_in_graph`).
        """
        while self._stage < len(self._decision_passes):
            here = in_place and self._module is not self._canonical and any(m is self._module for m in self._owned)
            size = self._module.instruction_count
            graph = self._module if here else self._module.clone()
            self._decision_passes[self._stage](graph, dry=True)
            # duplicates go first, so the options cut to `max_options` are distinct ones; then
            # one prune clears what the merge and the cut left behind
            merge_identical_options(graph)
            self._limit_options(alternatives_nodes(graph))
            prune(graph, merge=False)
            nodes = alternatives_nodes(graph)
            if nodes:
                self.graph = graph if here else self._own(graph)
                self._nodes = nodes  # (`_alternatives()` of the new graph: no second scan)
                self._module_in_graph, self._module_instructions = here, size
                return False
            if not here:
                dismantle(graph)  # nothing to decide in it: a plain copy of the module
            self._stage += 1
        self._finish("no more alternatives")
        return True

    def _discard(self, *done: Module) -> None:
        """Dismantle the graphs and modules in `done`, which the env no longer needs, when nothing
        else can hold them: built by the env (a step's module, a dry round's graph), never handed
        out (`module`, `graph`, `fork`, a reward that keeps what it is given) and not kept (the
        current ones, the canonical module and the first round's graph, which resets reuse). Their
        reference cycles would otherwise wait for a full collection, which scans everything alive
        (0.5-1 s on resnet50, every few steps)."""
        kept = [self._canonical, self._graph, self._module]
        if self._start.first_round is not None:
            kept.append(self._start.first_round[1])
        for module in done:
            if any(m is module for m in self._owned) and not any(k is module for k in kept):
                with gc_paused():
                    dismantle(module)
                self._disown(module)

    def _prefetch(self, module: Module) -> bool:
        """Hand `module` to the reward's `prefetch`; True if the reward no longer needs it as it is."""
        prefetch = getattr(self.reward_fn, "prefetch", None)
        return prefetch is not None and prefetch(module) is True

    def _finish(self, reason: str) -> None:
        if not self._done:
            old, old_graph = self._module, self._graph
            self.module = self.graph = self._final_module()
            self._discard(old, old_graph)  # not given to the reward, which gets the final module
            self._done = True
            self._episode_info["stop_reason"] = reason

    def _final_module(self) -> Module:
        """The current module cleaned up: made ahead of the round at the step limit, or now (on a
        copy: the canonical module is kept for the next reset, and a step's module may be out for
        the reward, which recognises modules by identity). A clean-up that changes nothing keeps
        the module the reward has seen."""
        if self._final is not None:
            final, self._final = self._final, None
            return final
        if self._module_in_graph:  # a module rebuilt from the graph is a copy already
            final = self._current_module()
            self.pipeline.cleanup_pipeline()(final)
            return final
        final = self._own(self._module.clone())
        if self.pipeline.cleanup_pipeline()(final).changed or self._module is self._canonical:
            return final
        self._discard(final)
        return self._module

    def _limit_options(self, nodes: list[Instruction]) -> None:
        """Keep the first `max_options` options of each node (the caller prunes what is cut off)."""
        for node in nodes:
            if len(node.operands) > self.max_options:
                for op in node.operands[self.max_options:]:
                    op.users = [u for u in op.users if u is not node]
                rules = option_rules(node)[:self.max_options]
                node.operands = node.operands[:self.max_options]
                node.set_attr(RULES_ATTR, '"' + ";".join(rules) + '"')

    def _choices(self, action: Sequence[int] | np.ndarray) -> list[int]:
        nodes = self._alternatives()
        if action is None or isinstance(action, (Mapping, str, bytes, set)):
            raise TypeError(f"action must be a sequence of option indices (one per alternatives node), "
                            f"not {type(action).__name__}")
        try:
            given = np.asarray(action)
        except ValueError as err:  # ragged nesting
            raise ValueError(f"action must be a flat sequence of option indices (one per alternatives "
                             f"node): {str(err).splitlines()[0]}") from None
        if given.ndim > 1:  # (a batch of actions, or a policy's output left in a column)
            raise ValueError(f"action must be a flat sequence of option indices (one per alternatives "
                             f"node), not an array of shape {given.shape}")
        flat = given.reshape(-1)
        if flat.size not in (len(nodes), self.max_alternatives):
            raise ValueError(f"action has {flat.size} entries; expected {len(nodes)} (one per alternatives "
                             f"node) or {self.max_alternatives} (the action space)")
        if not np.issubdtype(flat.dtype, np.integer):
            if not np.issubdtype(flat.dtype, np.floating):
                raise TypeError(f"action entries must be integers (one option index per alternatives "
                                f"node), got {flat.dtype} values such as {flat[:1].tolist()}")
            whole = np.isfinite(flat)
            whole[whole] = np.mod(flat[whole], 1) == 0
            if not whole.all():
                bad = int(np.flatnonzero(~whole)[0])
                raise ValueError(f"action entries must be integers: action[{bad}] = {flat[bad]}")
            flat = flat.astype(np.int64)
        outside = (flat < 0) | (flat >= self.max_options)
        if outside.any():
            bad = int(np.flatnonzero(outside)[0])
            raise ValueError(f"action[{bad}] = {flat[bad]} is out of range: options are numbered 0 to "
                             f"{self.max_options - 1} (the action space; max_options={self.max_options})")
        # An option a node lacks, and any entry past the nodes, is masked in info["action_mask"] and
        # keeps the original. `action_space` follows this step's options (its samples are uniform
        # over them), but an action sampled from an earlier step's space, or from a vector env's
        # (fixed when it is made, every entry up to max_options), must be legal too. An action of
        # the space's length decides its first max_alternatives nodes (the rest keep the original);
        # one entry per node decides every node, those past max_alternatives too.
        decided = len(nodes) if flat.size == len(nodes) else self.max_alternatives
        return [int(flat[k]) if k < decided and flat[k] < len(node.operands) else 0
                for k, node in enumerate(nodes)]

    # -- observation and info --------------------------------------------------------------------
    def _get_obs(self) -> dict[str, np.ndarray]:
        first = self._start.first_round
        if first is not None and self._graph is first[1]:
            if self._start.first_obs is None:
                self._start.first_obs = build_observation(self._graph)
            return {k: v.copy() for k, v in self._start.first_obs.items()}  # the caller may write to them
        return build_observation(self._graph)

    def action_mask(self) -> np.ndarray:
        """[max_alternatives, max_options] bool: which option of which node is legal now."""
        mask = np.zeros((self.max_alternatives, self.max_options), dtype=bool)
        mask[:, 0] = True
        if not self._done:
            for k, node in enumerate(self._alternatives()[:self.max_alternatives]):
                mask[k, :len(node.operands)] = True
        # The action space follows the legal options, seeded from the env so sampling is reproducible.
        self.action_space = spaces.MultiDiscrete(mask.sum(axis=1).astype(np.int64),
                                                 seed=int(self.np_random.integers(2**31)))
        return mask

    def _get_info(self) -> dict[str, Any]:
        nodes = [] if self._done else self._alternatives()
        # (a copy each time, nested dicts too: an info must not change with a later one)
        info = {k: dict(v) if isinstance(v, dict) else v for k, v in self._episode_info.items()}
        info.update({
            "action_mask": self.action_mask(),
            "num_alternatives": len(nodes),
            "alternatives_truncated": max(0, len(nodes) - self.max_alternatives),
            "pass": self._decision_passes[self._stage].name if not self._done else None,
            "steps": self._steps,
            "instructions": self._module_instructions if self._module_in_graph else self._module.instruction_count,
        })
        return info

    # -- state -----------------------------------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> "HloEnv":
        raise TypeError("an HloEnv is not copied with copy.deepcopy: env.fork() clones its state "
                        "(for search), env.save(path) and hloenv.replay(path) store and rebuild it")

    def __reduce_ex__(self, protocol: Any):
        raise TypeError("an HloEnv cannot be pickled (it holds locks and an XLA worker): env.save(path) "
                        "and hloenv.replay(path) store and rebuild it; vector envs take a function "
                        "that makes one")

    def fork(self) -> "HloEnv":
        """An independent copy of this env in its current state (for search), random state included."""
        module = self._current_module()
        self._round_in_place = False  # the reward is shared now: see `_next_round`
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._busy = threading.Lock()
        other.module = module.clone()
        other.graph = other.module if self._graph is module else self._graph  # read-only: shared
        self._owned, other._owned = [], []  # what they hold is shared now
        other.history = [dict(h) for h in self.history]
        other._episode_info = dict(self._episode_info)
        # its own copies: sampling from the fork must not move this env's random state, and a
        # fork of a seeded env samples reproducibly (it got a fresh unseeded generator)
        other.action_space = copy.deepcopy(self.action_space)
        other._np_random = copy.deepcopy(self._np_random)
        return other

    def save(self, path: str | Path) -> None:
        """Write what `hloenv.replay` needs to rebuild this episode's module (JSON).

        Raises:
            RuntimeError: the module was changed with the direct API since `reset` (`run`,
                `apply_alternatives`), which the episode's history does not hold, or the last
                step raised after applying its action (until `reset`).
        """
        self._check_on_episode("save()")
        if self._broken_by is not None:  # (its history holds a step whose round never finished)
            raise RuntimeError(f"the last step raised ({self._broken_by}) after applying its action: the env "
                               "is not where an episode's history can take it, so there is nothing to save; "
                               "call reset()")
        data = {"format": "hloenv-episode/1", "hlo": self.original_text, "pipeline": self.pipeline.to_dict(),
                "max_options": self.max_options, "max_steps": self.max_steps, "history": self.history,
                "finished": self._done, "reward": self._reward_name, "backend": self.backend,
                "fingerprint": self._current_module().fingerprint()}
        Path(path).write_text(json.dumps(data, indent=1))

    def _check_on_episode(self, what: str) -> None:
        if self._off_episode:
            raise RuntimeError(f"{what} follows the episode's own rounds, but the module was changed with "
                               "run() or apply_alternatives() since reset(): the history cannot hold that "
                               "(call reset() to start an episode again)")

    # -- HloEnv-style direct API (its own workflow: `step` and `save` need a `reset` after it) ----
    def run(self, pipeline: str | Pass | Pipeline, dry: bool = False):
        """Run passes on the current module (`"algsimp,cse"`, a Pass or a Pipeline), in dry mode
        or for real."""
        if isinstance(pipeline, str):
            pipeline = parse_pipeline(pipeline)
        elif not isinstance(pipeline, (Pass, Pipeline)):
            raise TypeError(f"run takes a pipeline string, a Pass or a Pipeline, not {type(pipeline).__name__}")
        target = self._current_module().clone()
        result = pipeline(target, dry=dry)
        if dry:
            self.graph = target
        else:
            self.module = self.graph = target
        self._off_episode = True
        return result

    def get_graph(self) -> dict[str, np.ndarray]:
        """The current alternative graph as observation arrays."""
        return self._get_obs()

    def apply_alternatives(self, choices: Sequence[int] | Mapping[str, int] | np.ndarray) -> None:
        """Pick options on the current alternative graph without stepping the episode: one index
        per alternatives node, {node name or alternative id: index}, or, as the original HloEnv
        took them, rows of (node id in `get_graph()`'s `alternative_index`, index). Nodes not
        named keep the original."""
        nodes = alternatives_nodes(self.graph)
        if isinstance(choices, np.ndarray) and choices.ndim == 2:
            choices = self._choices_by_node_id(choices, nodes)
        self.module = self.graph = selected_copy(self.graph, choices, nodes=nodes)
        self._off_episode = True

    def _choices_by_node_id(self, rows: np.ndarray, nodes: list[Instruction]) -> dict[str, int]:
        """{node name: index} from rows of (node id in the observation, option index)."""
        if rows.shape[1] != 2 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"choices as an array are one index per alternatives node, or integer rows of "
                             f"(node id, option index); not an array of shape {rows.shape} ({rows.dtype})")
        by_id = dict(zip(self._get_obs()["alternative_index"].tolist(), nodes))
        out: dict[str, int] = {}
        for node_id, option in rows.tolist():
            node = by_id.get(node_id)
            if node is None:
                raise ValueError(f"choices row ({node_id}, {option}): node {node_id} is not an alternatives "
                                 f"node (get_graph()['alternative_index'] lists them: "
                                 f"{sorted(by_id)[:5]}{' ...' if len(by_id) > 5 else ''})")
            if node.name in out:
                raise ValueError(f"choices name node {node_id} twice")
            out[node.name] = option
        return out

    def evaluate(self, repeats: int | None = None, **kwargs: Any):
        """Compile and time the current module with XLA (`hloenv.evaluate`, env pipeline);
        `env.evaluate(100)` times 100 runs, as the original HloEnv's did."""
        from hloenv.xla import evaluate
        kwargs.setdefault("pipeline", "env")
        if repeats is not None:
            kwargs["repeats"] = kwargs["min_repeats"] = repeats
        return evaluate(self._current_module(), self.backend, **kwargs)

    def has_equal_output(self, other: Module | str | None = None, *, inputs: Sequence[Any] | None = None,
                         timeout: float | None = None, **kwargs: Any) -> bool:
        """Does the current module compute what `other` (default: the original) computes?

        By `hloenv.xla.verify`: equal at f32 tolerances, else compiled the same way, else raised to
        f64 (an f32 difference that is rounding the program amplifies is not a wrong rewrite),
        else run as written. Other keyword arguments (`rtol`, `precision`, ...) ask
        `hloenv.compare` for that one comparison instead.

        `inputs`: your own inputs (one value per parameter, as for `hloenv.evaluate`) instead of
        seeded ones (floats from N(0, 1), integers from [0, 5)), where what the program does
        depends on the data: a loop that runs until it converges may never end on seeded inputs.
        `timeout`: seconds for each XLA compile and run (default 900)."""
        from hloenv.xla import compare, verify
        from hloenv.xla.api import DEFAULT_TIMEOUT
        reference = other if other is not None else self.original_text
        limit = DEFAULT_TIMEOUT if timeout is None else timeout
        if not kwargs:
            return bool(verify(reference, self._current_module(), self.backend, timeout=limit, inputs=inputs))
        kwargs.setdefault("pipeline_b", "env")
        return compare(reference, self._current_module(), self.backend, timeout=limit, inputs=inputs,
                       **kwargs).equal


def replay(path: str | Path, reward: str | Reward | Callable | None = None) -> HloEnv:
    """Rebuild an env from `env.save(path)` by replaying its decisions; its module has the same
    fingerprint as the saved one (checked). Its later steps earn `reward`: by default the saved
    env's ("cost", "runtime"), or 0 if that was a Reward or a callable, which a file cannot hold.
    The replayed steps themselves earn nothing (they are not run against the reward)."""
    data = _read_episode(path)
    # (a file from before "max_steps" was saved: room for every decision it holds)
    max_steps = data.get("max_steps", len(data["history"]) + 1)
    backend = data.get("backend", "cpu")
    reward = reward if reward is not None else data.get("reward")
    later = make_reward(reward, backend) if reward is not None else None  # (before the replay's work)
    try:
        pipeline = EnvPipeline.from_dict(data["pipeline"]).check()
    except ValueError as err:
        raise ValueError(f"{path}: {err} (a pass of your own: import the module that registers it "
                         "before replaying)") from None
    try:
        env = HloEnv(data["hlo"], pipeline=pipeline, backend=backend,
                     max_options=data["max_options"], max_steps=max_steps, reward=lambda *a: 0.0)
    except HloParseError as err:  # (HloVerifyError too) its module's text, inside the episode file
        raise type(err)(err.reason, err.line, err.column, f"{path}, its \"hlo\"") from None
    env.reset()
    for k, entry in enumerate(data["history"]):
        if env._done:
            raise ValueError(f"{path}: history[{k}] cannot be replayed: the episode ended after "
                             f"{k} decision{'s' if k != 1 else ''}")
        here = env._decision_passes[env._stage].name
        if entry.get("pass", here) != here:
            raise ValueError(f"{path}: history[{k}] is a decision of {entry['pass']!r}, but this round's "
                             f"pass is {here!r}")
        nodes = alternatives_nodes(env.graph)
        wanted = entry["choices"]
        ids = [alternative_id(n) for n in nodes]
        unknown = sorted(set(wanted) - set(ids))
        if unknown:  # (a saved history names only alternatives its round offered)
            raise ValueError(f"{path}: history[{k}] chooses at {len(unknown)} alternative(s) this round does "
                             f"not offer, such as {unknown[0]!r}")
        counts = {alternative_id(n): len(n.operands) for n in nodes}
        beyond = next(((i, c) for i, c in wanted.items() if not 0 <= c < counts[i]), None)
        if beyond is not None:
            raise ValueError(f"{path}: history[{k}] chooses option {beyond[1]} at {beyond[0]!r}, which has "
                             f"{counts[beyond[0]]} options")
        try:
            env.step([wanted.get(i, 0) for i in ids])
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"{path}: history[{k}] cannot be replayed: {err}") from None
    if data.get("finished") and not env._done:
        env._finish("replayed")
    if env.module.fingerprint() != data["fingerprint"]:
        raise ValueError(f"{path}: replay produced a different module (fingerprint mismatch)")
    if later is not None:
        env._use_reward(later, reward)
        env._episode_info.update(checked_reset(later, later.reset(env.original, env._canonical)))
    return env


def _read_episode(path: str | Path) -> dict[str, Any]:
    """The contents of an `env.save` file, checked: ValueError naming the file and what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not an hloenv episode file (not JSON: {err.msg} at line {err.lineno}, "
                         f"column {err.colno})") from None
    if not isinstance(data, dict) or data.get("format") != "hloenv-episode/1":
        raise ValueError(f"{path}: not an hloenv episode file (no \"format\": \"hloenv-episode/1\")")
    expected = {"hlo": (str, "a string"), "pipeline": (dict, "an object"), "max_options": (int, "an integer"),
                "history": (list, "a list"), "fingerprint": (str, "a string")}
    for key, (kind, what) in expected.items():
        if not isinstance(data.get(key), kind):
            raise ValueError(f"{path}: \"{key}\" must be {what}, found {data.get(key)!r:.60}")
    if not is_hlo_text(data["hlo"]):
        raise ValueError(f"{path}: \"hlo\" must be the module's HLO text, found {data['hlo']!r:.60}")
    max_steps = data.get("max_steps", 1)
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ValueError(f"{path}: \"max_steps\" must be a positive integer, found {max_steps!r:.60}")
    if data.get("reward") not in (None, "cost", "runtime"):
        raise ValueError(f"{path}: \"reward\" must be \"cost\", \"runtime\" or null, found {data['reward']!r:.60}")
    from hloenv.xla.targets import BACKENDS
    if data.get("backend", "cpu") not in BACKENDS:
        raise ValueError(f"{path}: \"backend\" must be {' or '.join(map(json.dumps, BACKENDS))}, "
                         f"found {data['backend']!r:.60}")
    if not isinstance(data.get("finished", False), bool):
        raise ValueError(f"{path}: \"finished\" must be true or false, found {data['finished']!r:.60}")
    missing = [k for k in ("canonicalize", "decisions", "cleanup") if k not in data["pipeline"]]
    if missing:
        raise ValueError(f"{path}: \"pipeline\" lacks {', '.join(missing)}")
    for k, entry in enumerate(data["history"]):
        choices = entry.get("choices") if isinstance(entry, dict) else None
        if not isinstance(choices, dict) or not all(isinstance(c, int) and not isinstance(c, bool)
                                                    for c in choices.values()):
            raise ValueError(f"{path}: history[{k}] must be {{\"choices\": {{alternative id: option index}}}}, "
                             f"found {entry!r:.80}")
        if not isinstance(entry.get("pass", ""), str):
            raise ValueError(f"{path}: history[{k}][\"pass\"] must be a pass name, found {entry['pass']!r:.60}")
    return data
