"""Public entry points: ``evaluate``, ``compare`` and ``cost``."""

from __future__ import annotations

import hashlib

import functools
import importlib.util
import os
import platform
import threading  # _COST_LOCK: the memo is shared by every thread
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from hloenv.altgraph import Module
from hloenv.altgraph.alternatives import alternatives_nodes
from hloenv.altgraph.checks import check_int, check_number
from hloenv.altgraph.errors import HloVerifyError
from hloenv.altgraph.lowering import has_fusions, lower_fusions
from hloenv.altgraph.precision import promote_floats
from hloenv.xla.cache import EvaluationCache, cache_key
from hloenv.xla.errors import BackendUnavailable, EvaluationError, UnsupportedOnBackend
from hloenv.xla.inputs import checked_inputs, parameter_specs
from hloenv.xla.passes import AS_WRITTEN_DISABLED_PASSES, ENV_XLA_OPTIONS, disabled_passes_for
from hloenv.xla.pool import get_pool
from hloenv.xla.results import Comparison, Cost, Evaluation, PairedTiming, summarize
from hloenv.xla.source import ModuleLike, _module_key, as_module, as_text_input, load_source
from hloenv.xla.targets import (BACKENDS, CALLBACK_DETAIL, HOST_TRANSFER_DETAIL, HOST_TRANSFERS, is_callback,
                                unsupported_targets)
from hloenv.xla.tolerance import compare_arrays

#: Default per-call time limit (compile + runs), seconds. Large modules compile for minutes.
DEFAULT_TIMEOUT = 900.0
_GPU_PLUGINS = ("jax_cuda13_plugin", "jax_cuda12_plugin", "jax_plugins.xla_cuda12",
                "jax_plugins.xla_cuda13")


@functools.lru_cache(maxsize=1)
def jaxlib_version() -> str:
    """The installed jaxlib version (read from package metadata, without importing jaxlib)."""
    try:
        return version("jaxlib")
    except PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=1)
def _host_description() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"cpu:{model}:{len(os.sched_getaffinity(0))}"


def _gpu_plugin_available() -> bool:
    for name in _GPU_PLUGINS:
        try:
            if importlib.util.find_spec(name) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def check_backend(backend: str) -> None:
    """A ValueError for a backend hloenv does not know; BackendUnavailable for "gpu" without the
    CUDA plugin (before any work, rather than as an evaluation failure later)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "gpu" and not _gpu_plugin_available():
        raise BackendUnavailable("backend 'gpu' needs the CUDA PJRT plugin "
                                 "(pip install 'jax[cuda12]'); none is installed")


def _check_limits(timeout: Any, memory_limit: Any) -> None:
    check_number("timeout", timeout, above=True, may_be_none=True)
    check_int("memory_limit", memory_limit, 1, may_be_none=True)


def _parameter_difference(a: list, b: list) -> str:
    """Where two parameter lists (`parameter_specs`) first differ, readably."""
    def text(spec: Any) -> str:
        kind, dtype, dims = spec if isinstance(spec, tuple) and len(spec) == 3 else ("", str(spec), ())
        return f"{dtype}[{','.join(map(str, dims))}]" if kind == "array" else str(spec)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"parameter {i} is {text(x)} in A, {text(y)} in B"
    return f"A takes {len(a)} parameters, B {len(b)}"


def _load(source: ModuleLike) -> tuple[Module, str | None]:
    """(module, HLO text to compile): user text is compiled as given; for a Module the text is
    None and printed only when a compile needs it (a cache hit never prints)."""
    module, text = load_source(source)
    _refuse_alternative_graph(module)
    return module, text


def _refuse_alternative_graph(module: Module) -> None:
    """XLA knows no `alternatives` opcode: an alternative graph is refused here, saying what to do
    (it failed in XLA's parser with "Unknown opcode: alternatives")."""
    nodes = alternatives_nodes(module)
    if nodes:
        raise ValueError(f"module {module.name!r} is an alternative graph ({len(nodes)} alternatives nodes, "
                         f"e.g. {nodes[0].name}): choose the options first (env.module, or "
                         "hloenv.altgraph.selected.selected_copy(graph, choices))")


def compile_text(module: Module, text: str | None) -> str:
    """The HLO text XLA compiles for ``module``: as given, or, when it holds fusion decisions,
    lowered to fenced regions (XLA mis-handles pre-built fused computations; see
    ``hloenv.altgraph.lowering``)."""
    if has_fusions(module):
        return lower_fusions(module).to_text()
    return text if text is not None else module.to_text()


def _option_value(value: Any) -> bool | int | float | str:
    """DebugOptions values as XLA takes them: bools as bools (not "false"), numbers, strings."""
    if isinstance(value, (bool, int, float)):
        return value
    return str(value)


def xla_overrides(module: Module, pipeline: str, xla_options: Mapping[str, Any] | None,
                  disable_passes: Iterable[str] | None, low_noise: bool) -> list[tuple[str, Any]]:
    """The DebugOptions overrides one evaluation compiles with, sorted by flag name."""
    options = dict(ENV_XLA_OPTIONS) if pipeline == "env" else {}
    options.update((k, _option_value(v)) for k, v in (xla_options or {}).items())
    extra = list(disable_passes or ())
    user_disabled = options.pop("xla_disable_hlo_passes", "")
    extra += [p for p in user_disabled.split(",") if p]
    disabled = disabled_passes_for(pipeline, has_fusions(module), extra)
    if disabled:
        options["xla_disable_hlo_passes"] = ",".join(disabled)
    if low_noise:
        options["xla_cpu_multi_thread_eigen"] = False
    return sorted(options.items())


def _raise_failure(reply: dict[str, Any], backend: str, *modules: Module) -> None:
    """The error of a failed worker reply. When XLA could not compile a module our verifier
    refuses, the message starts with the verifier's, which names the line and instruction (XLA's
    StableHLO path said "Failed to parse using StableHLO ... forward incompatibility" for a
    shape error)."""
    if reply.get("status") == "unsupported":
        raise UnsupportedOnBackend(backend, reply.get("targets", []), "XLA has no implementation")
    status, message = reply.get("status", "worker_error"), reply.get("message", "?")
    if status == "compile_error":
        for mod in modules:
            try:
                mod.verify()
            except HloVerifyError as err:
                message = f"{type(err).__name__}: {err}\n(XLA: {message})"
                break
    raise EvaluationError(status, message)


def evaluate(module: ModuleLike, backend: str = "cpu", pipeline: str = "xla-default",
             xla_options: Mapping[str, Any] | None = None,
             disable_passes: Iterable[str] | None = None, seed: int = 0, *,
             warmup: int = 2, repeats: int = 20, min_repeats: int = 3, time_budget: float = 1.0,
             low_noise: bool = False, return_outputs: bool = False,
             timeout: float | None = DEFAULT_TIMEOUT, memory_limit: int | None = None,
             cache: bool = True, cache_dir: str | os.PathLike | None = None,
             inputs: Sequence[Any] | None = None) -> Evaluation:
    """Compile ``module`` with XLA in a worker process, run it on seeded inputs, and time it.

    Args:
        module: A Module, HLO text or a path to an HLO file.
        backend: ``"cpu"`` or ``"gpu"`` (needs the CUDA plugin).
        pipeline: ``"xla-default"`` (XLA's full pipeline) or ``"env"`` (XLA's versions of the
            environment's own decisions switched off; see ``ENV_DISABLED_PASSES``).
        xla_options: Any DebugOptions flags, e.g. ``{"xla_cpu_enable_fast_math": True}``.
        disable_passes: XLA pass names to switch off, checked against the pinned jaxlib's table.
        seed: Seed of the inputs (see :func:`make_inputs`).
        warmup: Untimed runs before timing (at least 1).
        repeats: Stop after this many timed runs ... (0: compile and run the warmup only; the
            timing figures are then nan)
        min_repeats: ... or, once this many are done, when ``time_budget`` seconds are used.
        time_budget: Seconds of timed runs to aim for.
        low_noise: Run in a worker pinned to one core with single-threaded Eigen.
        return_outputs: Fill ``Evaluation.outputs`` (never served from the cache).
        timeout: Seconds for compile plus runs; past it the worker is killed.
        memory_limit: Worker address-space cap in bytes (default: see ``default_memory_limit``).
        cache: Read and write the disk cache.
        cache_dir: Cache root (default ``$HLOENV_CACHE_DIR`` or ``~/.cache/hloenv``).
        inputs: Your own inputs instead of seeded ones: one value per parameter (a tuple for a
            tuple parameter; see `hloenv.xla.inputs.checked_inputs`), e.g. where a loop's trip
            count depends on the data. Such an evaluation is not cached.

    Raises:
        EvaluationError: Compile or run failed, or the worker crashed, ran out of memory or time.
        UnsupportedOnBackend: The module needs custom calls the backend lacks.
        BackendUnavailable: The backend is not installed here.
        ValueError: Unknown pipeline or pass name, elided constants in the text, or a count,
            seed or number of seconds out of range (negative; a timeout of 0).
        TypeError: One of those that is not an int (a number for seconds).
    """
    check_backend(backend)
    for name, count in (("warmup", warmup), ("repeats", repeats), ("min_repeats", min_repeats), ("seed", seed)):
        check_int(name, count)
    check_number("time_budget", time_budget)
    _check_limits(timeout, memory_limit)
    mod, text = _load(module)
    given = checked_inputs(inputs, parameter_specs(mod))
    return _evaluate(mod, text, backend, pipeline, xla_options, disable_passes, seed, warmup,
                     repeats, min_repeats, time_budget, low_noise, return_outputs, timeout,
                     memory_limit, cache and given is None, cache_dir, given)


def _refuse_unsupported(mod: Module, backend: str) -> None:
    """UnsupportedOnBackend when `mod` calls custom-call targets `backend` lacks."""
    missing = unsupported_targets(mod, backend)
    if missing:
        detail = (CALLBACK_DETAIL if any(map(is_callback, missing)) else
                  HOST_TRANSFER_DETAIL if all(t in HOST_TRANSFERS for t in missing) else
                  "found by scanning custom-call targets")
        raise UnsupportedOnBackend(backend, missing, detail)


def _evaluation(mod: Module, backend: str, pipeline: str, samples: list[float], warmup_runs: int,
                compile_time: float, info: dict[str, Any], options: dict[str, Any], seed: int, key: str = "",
                outputs: list | None = None) -> Evaluation:
    """An Evaluation of `mod` from a worker's timed runs (`info`: the worker's description)."""
    median, fastest, iqr = summarize(samples)
    return Evaluation(
        module_name=mod.name, backend=backend, pipeline=pipeline, median=median, min=fastest, iqr=iqr,
        samples=samples, warmup_runs=warmup_runs, compile_time=compile_time, device=info["device"],
        jaxlib_version=info.get("jaxlib", jaxlib_version()), options=options, seed=seed, key=key,
        cached=False, outputs=outputs)


def _same_parameters(ma: Module, mb: Module) -> list:
    """The parameter specs both modules take; ValueError saying how they differ otherwise."""
    specs_a, specs_b = parameter_specs(ma), parameter_specs(mb)
    if specs_a != specs_b:
        raise ValueError(f"modules take different parameters: {_parameter_difference(specs_a, specs_b)}")
    return specs_a


def _evaluate(mod: Module, text: str | None, backend: str, pipeline: str,
              xla_options: Mapping[str, Any] | None, disable_passes: Iterable[str] | None,
              seed: int, warmup: int, repeats: int, min_repeats: int, time_budget: float,
              low_noise: bool, return_outputs: bool, timeout: float | None,
              memory_limit: int | None, cache: bool,
              cache_dir: str | os.PathLike | None, inputs: list | None = None) -> Evaluation:
    _refuse_unsupported(mod, backend)
    overrides = xla_overrides(mod, pipeline, xla_options, disable_passes, low_noise)
    pool = get_pool(backend, memory_limit, low_noise)
    device_key = _host_description() if backend == "cpu" else pool.info()["device"]
    timing = {"warmup": max(1, int(warmup)), "repeats": max(0, int(repeats)),
              "min_repeats": max(0, min(int(min_repeats), int(repeats))),
              "time_budget": float(time_budget)}
    key = cache_key({"module": _module_key(mod), "backend": backend, "pipeline": pipeline,
                     "overrides": overrides, "seed": seed, "timing": timing,
                     "low_noise": low_noise, "jaxlib": jaxlib_version(), "device": device_key})
    store = EvaluationCache(cache_dir) if cache else None
    if store is not None and not return_outputs:
        hit = store.get(key)
        if hit is not None:
            try:
                result = Evaluation.from_dict(hit)
                result.cached = True
                return result
            except TypeError:
                pass  # an entry from another schema: recompute
    text = compile_text(mod, text)
    request = {"op": "evaluate", "text": text, "specs": parameter_specs(mod), "seed": seed, "inputs": inputs,
               "overrides": overrides, "return_outputs": return_outputs, **timing}
    reply, info = pool.call(request, timeout)
    if not reply.get("ok"):
        _raise_failure(reply, backend, mod)
    result = _evaluation(mod, backend, pipeline, reply["samples"], reply["warmup"], reply["compile_s"], info,
                         {"xla_options": dict(overrides), "low_noise": low_noise, **timing}, seed, key,
                         reply["outputs"])
    if store is not None:
        try:
            store.put(key, result.to_dict())
        except OSError as e:  # an unwritable cache must not lose a finished evaluation
            warnings.warn(f"hloenv: could not write the evaluation cache: {e}", stacklevel=3)
    return result


#: Tolerances of ``compare(..., precision="f64")`` (see there).
F64_ORACLE_RTOL, F64_ORACLE_ATOL = 1e-5, 1e-7


#: Opcodes whose values differ from run to run of the same executable.
_DRAWN_PER_RUN = frozenset({"rng", "rng-get-and-update-state"})


def compare(a: ModuleLike, b: ModuleLike, backend: str = "cpu", pipeline: str = "xla-default",
            seed: int = 0, *, rtol: float | None = None, atol: float | None = None,
            xla_options: Mapping[str, Any] | None = None,
            disable_passes: Iterable[str] | None = None, pipeline_b: str | None = None,
            timeout: float | None = DEFAULT_TIMEOUT,
            memory_limit: int | None = None, precision: str = "native",
            inputs: Sequence[Any] | None = None) -> Comparison:
    """Run ``a`` and ``b`` on the same seeded inputs (or ``inputs``, as for :func:`evaluate`)
    and compare every output buffer.

    Floats pass when ``|a - b| <= atol + rtol * |b|`` (per-dtype defaults in
    ``tolerance.DEFAULT_TOLERANCES``), NaN positions must agree, integers and booleans must be
    equal. ``pipeline_b`` (default: ``pipeline``) lets B compile differently from A.

    ``precision="f64"`` runs both modules with every narrower float raised to f64 (same input
    values; see ``hloenv.altgraph.precision``) and compares at ``F64_ORACLE_RTOL``/``_ATOL``
    (100x tighter than f32's defaults, not f64's: a constant folded before the raise keeps its
    f32 rounding, ~6e-8 relative, and the program may amplify that). Use it to decide
    whether a rewrite is wrong: a program that amplifies rounding can move f32 outputs past any
    tolerance under a correct rewrite, but not its f64 outputs.

    Raises:
        ValueError: The modules take different parameters.
        EvaluationError, UnsupportedOnBackend, BackendUnavailable: As for :func:`evaluate`.
    """
    check_backend(backend)
    check_int("seed", seed)
    check_number("rtol", rtol, may_be_none=True)
    check_number("atol", atol, may_be_none=True)
    _check_limits(timeout, memory_limit)
    if precision not in ("native", "f64"):
        raise ValueError(f"unknown precision {precision!r}; expected 'native' or 'f64'")
    ma, text_a = _load(a)
    mb, text_b = _load(b)
    for module in (ma, mb):
        drawn = next((i for i in module.instructions() if i.opcode in _DRAWN_PER_RUN), None)
        if drawn is not None:
            raise ValueError(f"module {module.name!r} uses {drawn.opcode} ({drawn.name}), whose values XLA draws "
                             "anew on every run: its outputs cannot be compared (jax.random's threefry and "
                             "rbg generators are deterministic)")
    if precision == "f64":
        ma, text_a, mb, text_b = promote_floats(ma), None, promote_floats(mb), None
        rtol = F64_ORACLE_RTOL if rtol is None else rtol
        atol = F64_ORACLE_ATOL if atol is None else atol
    specs = _same_parameters(ma, mb)
    given = checked_inputs(inputs, specs)

    def outputs(mod: Module, text: str | None, pipe: str) -> list:
        ev = _evaluate(mod, text, backend, pipe, xla_options, disable_passes, seed, 1, 0, 0, 0.0,
                       False, True, timeout, memory_limit, False, None, given)
        return ev.outputs or []

    out_a = outputs(ma, text_a, pipeline)
    out_b = outputs(mb, text_b, pipeline_b or pipeline)
    if len(out_a) != len(out_b):
        return Comparison(False, [], seed, ma.name, mb.name,
                          f"output counts differ: {len(out_a)} vs {len(out_b)}")
    diffs = [compare_arrays(i, x, y, rtol, atol) for i, (x, y) in enumerate(zip(out_a, out_b))]
    bad = [d.index for d in diffs if not d.equal]
    reason = f"outputs {bad} differ" if bad else ""
    return Comparison(not bad, diffs, seed, ma.name, mb.name, reason)


def paired_timing(a: ModuleLike, b: ModuleLike, backend: str = "cpu", pipeline: str = "xla-default",
                  seed: int = 0, *, pipeline_b: str | None = None, warmup: int = 2, pairs: int = 20,
                  min_pairs: int = 5, time_budget: float = 2.0, low_noise: bool = False,
                  xla_options: Mapping[str, Any] | None = None,
                  disable_passes: Iterable[str] | None = None,
                  timeout: float | None = DEFAULT_TIMEOUT, memory_limit: int | None = None,
                  inputs: Sequence[Any] | None = None) -> PairedTiming:
    """Time ``a`` against ``b``: both compiled in one worker, then run in turn on the same seeded
    inputs (A B, B A, A B, ...) until ``pairs`` pairs, or ``min_pairs`` and ``time_budget``
    seconds. What a speedup should be measured with: load on the machine, clock and cache state
    fall on both alike, where two `evaluate` calls (or a cached one and a fresh one) can each
    catch a different moment. Never read from or written to the cache (a fresh measurement is
    the point); ``result.speedup`` is the median of the pairs' time ratios A/B, with an
    interval that holds it with at least 90% confidence (``speedup_low``, ``speedup_high``; see
    `PairedTiming`).

    ``pipeline`` compiles A, ``pipeline_b`` (default: ``pipeline``) B; other arguments as for
    :func:`evaluate`.

    Raises:
        ValueError: The modules take different parameters, or as for :func:`evaluate`.
        EvaluationError: Compile or run failed (the message says which module), or the worker
            crashed, ran out of memory or time.
        UnsupportedOnBackend, BackendUnavailable: As for :func:`evaluate`.
    """
    check_backend(backend)
    for name, count in (("warmup", warmup), ("pairs", pairs), ("min_pairs", min_pairs), ("seed", seed)):
        check_int(name, count)
    check_number("time_budget", time_budget)
    _check_limits(timeout, memory_limit)
    (ma, text_a), (mb, text_b) = _load(a), _load(b)
    specs = _same_parameters(ma, mb)
    pipelines = (pipeline, pipeline_b or pipeline)
    request: dict[str, Any] = {"op": "paired", "specs": specs, "seed": seed, "warmup": max(1, warmup),
                               "inputs": checked_inputs(inputs, specs),
                               "pairs": max(1, pairs), "min_pairs": max(1, min(min_pairs, pairs)),
                               "time_budget": float(time_budget)}
    for side, mod, text, pipe in (("a", ma, text_a, pipelines[0]), ("b", mb, text_b, pipelines[1])):
        _refuse_unsupported(mod, backend)
        request[f"overrides_{side}"] = xla_overrides(mod, pipe, xla_options, disable_passes, low_noise)
        request[f"text_{side}"] = compile_text(mod, text)
    reply, info = get_pool(backend, memory_limit, low_noise).call(request, timeout)
    if not reply.get("ok"):
        if reply.get("side") in ("a", "b"):
            reply = {**reply, "message": f"module {reply['side'].upper()} "
                     f"({(ma, mb)[reply['side'] == 'b'].name!r}): {reply.get('message', '?')}"}
        _raise_failure(reply, backend, *{"a": (ma,), "b": (mb,)}.get(reply.get("side"), ()))
    a, b = (_evaluation(mod, backend, pipe, reply[f"samples_{s}"], reply["warmup"], reply["compile_s"][k], info,
                        {"xla_options": dict(request[f"overrides_{s}"]), "low_noise": low_noise, "paired": True}, seed)
            for k, (s, mod, pipe) in enumerate((("a", ma, pipelines[0]), ("b", mb, pipelines[1]))))
    return PairedTiming(a, b)


#: ``verify``'s checks in order: (verdict, ``compare`` options; B always compiles with "env").
VERIFY_CHECKS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("equal", {"pipeline": "xla-default"}),
    ("equal-env", {"pipeline": "env"}),
    ("equal-f64", {"pipeline": "env", "precision": "f64"}),
    ("equal-unfused", {"pipeline": "env", "disable_passes": AS_WRITTEN_DISABLED_PASSES}),
    ("equal-unfused", {"pipeline": "env", "precision": "f64",
                       "disable_passes": AS_WRITTEN_DISABLED_PASSES}),
)


def verify(original: ModuleLike, rewritten: ModuleLike, backend: str = "cpu", seed: int = 0, *,
           timeout: float | None = DEFAULT_TIMEOUT,
           checks: Iterable[tuple[str, dict[str, Any]]] = VERIFY_CHECKS,
           inputs: Sequence[Any] | None = None) -> str:
    """Does ``rewritten`` (compiled with the "env" pipeline) compute what ``original`` computes?

    Returns the first of ``checks`` that passes, or ``""`` when none does:
      - ``"equal"``: equal to ``original`` under XLA's default pipeline (f32 tolerances);
      - ``"equal-env"``: equal to ``original`` compiled the same way ("env" pipeline): XLA's two
        pipelines disagree on this program, the rewrites do not;
      - ``"equal-f64"``: equal with both raised to f64: the f32 difference is rounding that the
        program amplifies, not a wrong rewrite;
      - ``"equal-unfused"``: equal (f32, else f64) with XLA's fusion and algebraic rewrites off
        (``AS_WRITTEN_DISABLED_PASSES``), so that both modules run as written, instruction by
        instruction: what the decisions compute is right, and only XLA's fused kernels or its own
        rewrites inside a region compute differently (seen: a threefry region inside a while
        loop, where XLA's default pipeline disagrees with its unfused code the same way).

    Fusion decisions also have an exact check that needs no XLA and no tolerance:
    `hloenv.passes.fusion.same_program_unfused`, the one to trust where XLA's two pipelines
    disagree on the untouched module (as on evosax's CMA-ES).

    ``inputs``: your own, instead of seeded ones (as for :func:`evaluate`).

    Raises:
        EvaluationError, UnsupportedOnBackend, BackendUnavailable, ValueError: As for
            :func:`compare`.
    """
    for name, options in checks:
        if compare(original, rewritten, backend, seed=seed, pipeline_b="env", timeout=timeout, inputs=inputs,
                   **options).equal:
            return name
    return ""


_COST_MEMO: OrderedDict[str, Cost] = OrderedDict()
_COST_MEMO_SIZE = 4096
_COST_LOCK = threading.Lock()


def cost(module: ModuleLike, backend: str = "cpu", *, timeout: float | None = 120.0,
         printed: str | None = None) -> Cost:
    """XLA's HloCostAnalysis of ``module``: flops, transcendentals, bytes accessed.

    No compile: the module is only parsed by XLA. Runs in the shared worker (an XLA CHECK on a
    malformed module cannot take the caller down) and is memoised by the exact text XLA reads
    (printing is needed for a miss anyway and costs a third of the structural fingerprint).
    ``printed``: ``module.to_text()``, when the caller has it already.
    """
    return cost_async(module, backend, timeout=timeout, printed=printed)()


def cost_async(module: ModuleLike, backend: str = "cpu", *,
               timeout: float | None = 120.0, printed: str | None = None) -> Callable[[], Cost]:
    """Start `cost` and return a function that waits for its result (or raises its error).

    The module is printed and sent now (so it may change afterwards); XLA's analysis runs in the
    worker process while the caller goes on, e.g. with the env's next dry round: two cores
    instead of one waiting on the other. Until the result is collected the worker is busy; a
    request that needs it reads the result first and keeps it for the returned function.
    ``printed``: ``module.to_text()``, when the caller has it already (then not printed again).
    """
    check_backend(backend)
    if printed is not None and isinstance(module, Module):
        text = printed
    else:
        mod, text = _load(module)
        text = text if text is not None else mod.to_text()
    key = hashlib.blake2b(f"{backend}\n{text}".encode(), digest_size=20).hexdigest()
    with _COST_LOCK:
        hit = _COST_MEMO.get(key)
        if hit is not None:
            _COST_MEMO.move_to_end(key)
    if hit is not None:
        return lambda: hit
    receive = get_pool(backend).submit({"op": "cost", "text": text}, timeout)

    def wait() -> Cost:
        reply = receive()
        if not reply.get("ok"):
            _raise_failure(reply, backend)
        c = reply["cost"]
        result = Cost(flops=c.get("flops", 0.0), transcendentals=c.get("transcendentals", 0.0),
                      bytes_accessed=c.get("bytes accessed", 0.0))
        with _COST_LOCK:
            _COST_MEMO[key] = result
            if len(_COST_MEMO) > _COST_MEMO_SIZE:
                _COST_MEMO.popitem(last=False)
        return result
    return wait


def warm_up(backend: str = "cpu", low_noise: bool = False,
            memory_limit: int | None = None) -> dict[str, Any]:
    """Start the worker pool now (so the first ``evaluate`` does not pay for jax's import)."""
    check_backend(backend)
    return get_pool(backend, memory_limit, low_noise).warm()


