"""Rewards for HloEnv: XLA's cost model (dense, deterministic), measured runtime, or your own.

A reward is called after each step with the module before and after the step's choices and
returns (reward, info entries). `failure_penalty` is what a step earns when XLA fails on the
module (abort, timeout): the failure is reported in `info["error"]`, the env keeps going.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hloenv.altgraph.module import Module

#: Rough CPU roofline used to turn XLA's cost analysis into one number (seconds).
PEAK_FLOPS = 50e9
PEAK_BYTES_PER_SECOND = 20e9
TRANSCENDENTAL_FLOPS = 20.0


def estimated_seconds(flops: float, transcendentals: float, bytes_accessed: float) -> float:
    """XLA cost analysis folded into one estimate: compute time plus memory time."""
    return (flops + TRANSCENDENTAL_FLOPS * transcendentals) / PEAK_FLOPS + bytes_accessed / PEAK_BYTES_PER_SECOND


class Reward(Protocol):
    """What HloEnv calls; `deterministic` says whether the same decisions always earn the same reward.

    A reward may also define `start()`, which the env calls when it is made (before its
    canonicalising passes), to start slow resources in the background, and `prefetch(module)`: the
    env calls it with a step's module (and at reset with the starting module) before its next dry
    round, so slow work such as XLA's analysis can start early and run beside the round. A
    `prefetch` that returns True has kept all it needs of the module: the env may then run the
    round in that module object itself (no copy) and later passes the same object, changed, as
    `after` and as the next step's `before`, which the reward recognises by identity only.
    """

    deterministic: bool

    def reset(self, original: Module, start: Module) -> dict[str, Any]: ...

    def __call__(self, before: Module, after: Module, terminated: bool) -> tuple[float, dict[str, Any]]: ...


@dataclass
class CostReward:
    """Dense: the drop in XLA's estimated cost this step, relative to the episode's starting cost."""

    backend: str = "cpu"
    deterministic: bool = True
    failure_penalty: float = -1.0
    _start: float = field(default=1.0, init=False, repr=False)
    #: (module object, estimate) of the last module estimated: a step's "before" is the previous
    #: step's "after", so it is not fingerprinted and analysed twice
    _last: tuple[Any, tuple[float, dict[str, float]]] | None = field(default=None, init=False, repr=False)
    #: the same for the episode's starting module (an env starts every episode from one object)
    _first: tuple[Any, tuple[float, dict[str, float]]] | None = field(default=None, init=False, repr=False)

    #: (module object, waiter) of an analysis `prefetch` started and nobody has collected yet
    _pending: tuple[Any, Callable[[], Any]] | None = field(default=None, init=False, repr=False)
    #: (module object, its text when prefetched), newest first: the module may change afterwards
    _printed: list[tuple[Any, str]] = field(default_factory=list, init=False, repr=False)
    #: how many prefetched texts are kept (envs sharing one reward each need their latest)
    PRINTED_KEPT = 8

    def start(self) -> None:
        """Start XLA's worker process now: it imports jax (seconds) while the env canonicalises."""
        from hloenv.xla.pool import get_pool
        get_pool(self.backend).start(1)  # one is all a step's analysis needs

    def prefetch(self, module: Module) -> bool:
        """Start estimating `module` in XLA's worker; `estimate(module)` collects it. The env
        calls this before its next dry round, so XLA's analysis and our pass run side by side.
        The module is printed now, so it may change afterwards (returns True): `estimate` knows
        it by identity. A worker still starting is not waited for (the estimate asks later, with
        the kept text)."""
        if self._last is not None and self._last[0] is module:
            return True
        text = module.to_text()
        self._printed = [(module, text), *self._printed[:self.PRINTED_KEPT - 1]]
        from hloenv.xla.pool import get_pool
        if not get_pool(self.backend).ready():
            return True
        from hloenv.xla import cost_async
        self._pending = (module, cost_async(module, self.backend, printed=text))
        return True

    def estimate(self, module: Module) -> tuple[float, dict[str, float]]:
        if self._last is not None and self._last[0] is module:
            return self._last[1]
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] is module:
            c = pending[1]()
        else:
            from hloenv.xla import cost
            printed = next((text for m, text in self._printed if m is module), None)
            c = cost(module, self.backend, printed=printed)
        result = estimated_seconds(c.flops, c.transcendentals, c.bytes_accessed), c.to_dict()
        self._last = (module, result)
        return result

    def reset(self, original: Module, start: Module) -> dict[str, Any]:
        try:
            if self._first is not None and self._first[0] is start:
                self._last = self._first
            else:
                self._first = (start, self.estimate(start))
            self._start, raw = self._first[1]
        except Exception as err:  # XLA failure on the starting module: report, keep a neutral scale
            self._start = 1.0
            return {"error": f"cost: {err}"}
        self._start = self._start or 1.0
        return {"cost": self._start, "cost_analysis": dict(raw)}  # each reset: its own info

    def __call__(self, before: Module, after: Module, terminated: bool) -> tuple[float, dict[str, Any]]:
        try:
            old, _ = self.estimate(before)
            new, raw = self.estimate(after)
        except Exception as err:
            return self.failure_penalty, {"error": f"cost: {err}"}
        return (old - new) / self._start, {"cost": new, "cost_analysis": dict(raw)}


@dataclass
class RuntimeReward:
    """Sparse: at the end of the episode, log(speedup) of the final module (compiled with the "env"
    pipeline, so the agent's decisions are what runs) over XLA's default pipeline on the original.
    Measurements are cached by fingerprint, so repeated modules cost nothing. The final module
    failing to run earns `failure_penalty`; where the original cannot be measured either (the
    baseline's error is in `info["error"]`), every episode earns 0."""

    backend: str = "cpu"
    deterministic: bool = False
    failure_penalty: float = -1.0
    low_noise: bool = False
    _baseline: float | None = field(default=None, init=False, repr=False)
    #: why the episode's baseline could not be measured (tried again at the next reset)
    _baseline_error: str | None = field(default=None, init=False, repr=False)

    def reset(self, original: Module, start: Module) -> dict[str, Any]:
        from hloenv.xla import evaluate
        if self._baseline is None:
            try:
                self._baseline = evaluate(original, self.backend, pipeline="xla-default", low_noise=self.low_noise).median
            except Exception as err:
                self._baseline_error = f"baseline: {err}"
                return {"error": self._baseline_error}
        self._baseline_error = None
        return {"xla_runtime": self._baseline}

    def prefetch(self, module: Module) -> bool:
        """Nothing to start; True: this reward reads only the finished module (after the
        episode's clean-up), never a step's, so the env may run a round in a step's module."""
        return True

    def __call__(self, before: Module, after: Module, terminated: bool) -> tuple[float, dict[str, Any]]:
        if not terminated:
            return 0.0, {}
        from hloenv.xla import evaluate
        try:
            runtime = evaluate(after, self.backend, pipeline="env", low_noise=self.low_noise).median
        except Exception as err:
            if self._baseline_error:  # the original does not run either: nothing to hold against the agent
                return 0.0, {"error": f"{self._baseline_error}; runtime: {err}"}
            return self.failure_penalty, {"error": f"runtime: {err}"}
        if not self._baseline:  # (no baseline: no speedup, whether the agent's module runs or not)
            return 0.0, {"runtime": runtime, **({"error": self._baseline_error} if self._baseline_error else {})}
        speedup = self._baseline / runtime
        return math.log(speedup), {"runtime": runtime, "xla_runtime": self._baseline, "speedup": speedup}


@dataclass
class CallableReward:
    """Wraps `fn(before, after, terminated) -> float`."""

    fn: Callable[[Module, Module, bool], float]
    deterministic: bool = False

    def reset(self, original: Module, start: Module) -> dict[str, Any]:
        return {}

    def __post_init__(self) -> None:
        try:
            signature = inspect.signature(self.fn)
        except (TypeError, ValueError):  # (some builtins have none: found out at the first step)
            return
        try:
            signature.bind(None, None, None)
        except TypeError:
            raise TypeError(f"reward {_callable_name(self.fn)}{signature} cannot be called as "
                            "fn(before, after, terminated) (two Modules and a bool)") from None

    def __call__(self, before: Module, after: Module, terminated: bool) -> tuple[float, dict[str, Any]]:
        value = self.fn(before, after, terminated)
        return _finite_number(value, f"reward {_callable_name(self.fn)} returned"), {}


def _finite_number(value: Any, said: str) -> float:
    """`value` as a float, if it is a finite number; else an error that starts with `said`
    ("reward f returned")."""
    if not isinstance(value, numbers.Real):  # (bools and numpy's numbers are Real too)
        raise TypeError(f"{said} {value!r:.80} ({type(value).__name__}); expected a number")
    if not math.isfinite(value):
        raise ValueError(f"{said} {value!r}; expected a finite number")
    return float(value)


def checked_step(reward_fn: Reward, result: Any) -> tuple[float, dict[str, Any]]:
    """What a Reward's `__call__` returned, checked as a callable's number is: (a finite number, a
    dict of info). A bare float, None or a NaN reached the agent or failed in the env's unpacking
    without naming the reward."""
    name = type(reward_fn).__qualname__
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"reward {name} returned {result!r:.80} ({type(result).__name__}); a Reward's "
                        "__call__ returns (reward, info dict), e.g. (0.5, {}) (a plain function returns the number)")
    value, info = result
    value = _finite_number(value, f"reward {name} returned the reward")
    if not isinstance(info, Mapping):
        raise TypeError(f"reward {name} returned the info {info!r:.80} ({type(info).__name__}); expected a dict")
    return value, info  # type: ignore[return-value]


def checked_reset(reward_fn: Reward, info: Any) -> dict[str, Any]:
    """What a Reward's `reset` returned, checked: a dict of info for `reset`'s info."""
    if not isinstance(info, Mapping):
        raise TypeError(f"reward {type(reward_fn).__qualname__}.reset returned {info!r:.80} "
                        f"({type(info).__name__}); expected a dict (empty if it has nothing to report)")
    return info  # type: ignore[return-value]


def _callable_name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def make_reward(spec: str | Reward | Callable, backend: str = "cpu") -> Reward:
    if spec == "cost":
        return CostReward(backend)
    if spec == "runtime":
        return RuntimeReward(backend)
    if isinstance(spec, str):
        hint = ""
        if spec.lower() in ("cpu", "gpu", "cuda"):  # (the original HloEnv's second argument)
            hint = f" (a backend is a keyword here: HloEnv(hlo, backend={spec.lower().replace('cuda', 'gpu')!r}))"
        raise ValueError(f"unknown reward {spec!r}: use 'cost', 'runtime', a Reward or a callable{hint}")
    if hasattr(spec, "reset") and hasattr(spec, "deterministic"):
        return spec  # type: ignore[return-value]
    if callable(spec):
        return CallableReward(spec)
    raise TypeError(f"reward must be 'cost', 'runtime', a Reward or a callable, not {type(spec).__name__}")
