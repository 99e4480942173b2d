"""One benchmark job: run an agent on one module and measure it against XLA's default pipeline.

The speedup is measured fresh for each row, the original under XLA's default pipeline and the
agent's module under the "env" pipeline timed run for run in one worker
(`hloenv.xla.paired_timing`), with a 90% interval (``speedup_low``, ``speedup_high``). No
runtime comes from the evaluation cache or from the agent: an agent that times candidates and
keeps the fastest (``search``) would otherwise report its luckiest measurement.

:func:`run_job` is a plain function of a picklable :class:`BenchJob`, so the same code runs in
this process, in a thread, or as a Ray task. It never raises: failures are rows with a status.

Statuses: ``ok``; ``mismatch`` (agent's module computes something else); ``env_pipeline_differs``
(outputs differ from XLA's default pipeline, but equal the original compiled with the same "env"
pipeline: XLA's pipelines disagree, the rewrites are sound); ``rounding`` (f32 outputs differ even
under the same pipeline, but with both modules raised to f64 they are equal: the program amplifies
rounding, the rewrites are sound); ``xla_fusion_differs`` (equal, in f32 or f64, only when XLA's fusion pass stays
off, so that fusion regions run instruction by instruction: the decisions compute the right
values, XLA's fused kernels do not reproduce them); ``unsupported`` (the
backend lacks a custom call); ``xla_error`` (XLA fails on the original); ``agent_error`` (the
episode failed); ``agent_xla_error`` (XLA fails on the agent's module); ``compare_error``;
``parse_error``; ``verify_error`` (the text parses, but is not a valid module: the error names the
line and instruction); ``timeout`` (an XLA step ran out of the job's time: a resumed bench runs
it again, so a larger ``--timeout`` can finish it). The error text says which XLA status (oom,
abort, ...) it was.

Rows also say whether the agent's module is ``exact``: defused, it is the canonical module
(`hloenv.passes.fusion.same_program_unfused`; no XLA, no tolerance; None when the pipeline decides
more than fusions). A ``mismatch`` row that is exact points at how XLA compiles the program,
not at the decisions.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

#: Key of the agent's module text in a job's row; the runner moves it to a file (``module_file``,
#: relative to the bench's output folder) before the row is recorded.
MODULE_TEXT = "_module_text"

#: Statuses whose agent module is sound (outputs equal, or equal under the same pipeline, or
#: equal in f64): their speedups count.
SOUND_STATUSES = ("ok", "env_pipeline_differs", "rounding", "xla_fusion_differs")

#: Status of a row whose module first passes this `hloenv.xla.verify` check.
_VERDICT_STATUS = {"equal": "ok", "equal-env": "env_pipeline_differs", "equal-f64": "rounding",
                   "equal-unfused": "xla_fusion_differs"}
#: What a sound status other than ok says in the row's ``error`` column, before the difference
#: XLA's default pipeline showed (which alone read as a failure).
_SOUND_NOTES = {"env_pipeline_differs": "equal when both are compiled with the env pipeline",
                "rounding": "equal once both run in f64", "xla_fusion_differs": "equal with XLA's fusion off"}
#: Row field that records each check's outcome.
_VERDICT_FIELDS = {"equal-env": "outputs_equal_same_pipeline",
                   "equal-f64": "outputs_equal_f64", "equal-unfused": "outputs_equal_unfused"}

#: Columns of the CSV/JSON tables, in order. Everything else in a row is run metadata.
TABLE_COLUMNS = ("module", "fingerprint", "agent", "instructions", "agent_instructions", "xla_default_runtime",
                 "agent_runtime", "speedup", "speedup_low", "speedup_high", "status", "error")


@dataclass(frozen=True)
class BenchJob:
    """Everything one module's run needs (plain data; HLO as text)."""

    name: str
    text: str = field(repr=False)
    fingerprint: str
    agent: str
    backend: str = "cpu"
    pipeline: dict[str, Any] | None = None
    cache_dir: str | None = None
    timeout: float = 900.0
    seed: int = 0
    low_noise: bool = False
    #: Keyword options of the agent (``--agent-option KEY=VALUE``), e.g. a gnn checkpoint.
    agent_options: dict[str, Any] = field(default_factory=dict)


def _row(job: BenchJob, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in TABLE_COLUMNS}
    row.update(module=job.name, fingerprint=job.fingerprint, agent=job.agent, backend=job.backend,
               status="ok", error="", seed=job.seed, low_noise=job.low_noise,
               agent_options=dict(job.agent_options))  # (the settings a re-run reuses it under)
    row.update(values)
    return row


def _error_text(err: BaseException) -> str:
    from hloenv.xla.errors import EvaluationError
    if isinstance(err, EvaluationError):
        text = f"[{err.status}] {err.message}"
        tail = [line for line in err.stderr_tail.splitlines() if line.strip()]
        checks = [line for line in tail if "Check failed" in line or "error" in line.lower()]
        if checks or tail:
            text += " | " + (checks or tail)[-1].strip()
    else:
        text = f"{type(err).__name__}: {err}"
    return " ".join(text.split())[:500]


def run_job(job: BenchJob) -> dict[str, Any]:
    """The table row of one module (see the module docstring for statuses)."""
    t0 = time.perf_counter()
    try:
        row = _run(job)
    except Exception as err:  # noqa: BLE001  (a bug must not end the benchmark)
        row = _row(job, status="bench_error", error=_error_text(err),
                   traceback=traceback.format_exc(limit=5))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _run(job: BenchJob) -> dict[str, Any]:
    from hloenv.altgraph import HloParseError, HloVerifyError, parse_hlo
    from hloenv.xla import UnsupportedOnBackend, XlaBackendError, evaluate, paired_timing
    from hloenv.xla.api import VERIFY_CHECKS
    from hloenv.xla.targets import unsupported_targets

    try:
        module = parse_hlo(job.text, job.name).verify()  # (XLA's refusal named no line)
    except HloVerifyError as err:
        return _row(job, status="verify_error", error=_error_text(err))
    except HloParseError as err:
        return _row(job, status="parse_error", error=_error_text(err))
    row = _row(job, instructions=module.instruction_count)
    missing = unsupported_targets(module, job.backend)
    if missing:
        row.update(status="unsupported", error=f"backend {job.backend!r} lacks {', '.join(missing)}")
        return row
    options = {"timeout": job.timeout, "seed": job.seed, "low_noise": job.low_noise}
    try:  # (does XLA compile and run the original? cached: a re-run asks again for free)
        base = evaluate(module, job.backend, pipeline="xla-default", repeats=0, cache_dir=job.cache_dir,
                        **options)
    except UnsupportedOnBackend as err:
        row.update(status="unsupported", error=_error_text(err))
        return row
    except XlaBackendError as err:
        row.update(status=_failure_status(err, "xla_error"), error=_error_text(err))
        return row
    row.update(xla_default_compile=base.compile_time)
    try:
        episode = _episode(module, job)
    except Exception as err:  # noqa: BLE001
        # (the agent's code, or a pass of the user's: its last frames say where; results.jsonl only)
        row.update(status="agent_error", error=_error_text(err),
                   traceback="".join(traceback.format_exception(err, limit=-6))[-3000:])
        return row
    chosen = episode.module
    row[MODULE_TEXT] = chosen.to_text()  # (the runner saves it beside the tables: `module_file`)
    row.update(agent_instructions=chosen.instruction_count, steps=episode.steps,
               episode_seconds=round(episode.seconds, 3),
               stop_reason=episode.info.get("stop_reason", ""), exact=_exact(module, chosen, job))
    try:
        timing = paired_timing(module, chosen, job.backend, "xla-default", pipeline_b="env", **options)
    except XlaBackendError as err:
        row.update(status=_failure_status(err, "agent_xla_error"), error=_error_text(err))
        return row
    speedup = timing.speedup
    row.update(xla_default_runtime=timing.a.median, agent_runtime=timing.b.median,
               speedup=speedup if 0 < speedup < float("inf") else None, speedup_low=timing.speedup_low,
               speedup_high=timing.speedup_high, timing_pairs=timing.pairs)
    try:
        equal, reason = _compare(module, chosen, job, VERIFY_CHECKS[0][1])
    except (XlaBackendError, ValueError) as err:
        row.update(status=_failure_status(err, "compare_error"), error=_error_text(err))
        return row
    row["outputs_equal"] = equal
    if not equal:
        status = _classify_difference(module, chosen, job, row)
        note = _SOUND_NOTES.get(status)
        if status == "rounding":
            note += _rounding_errors(module, chosen, job, row)
        row.update(status=status, error=f"sound ({note}); under XLA's default pipeline: {reason}" if note else reason)
    return row


def _failure_status(err: Exception, status: str) -> str:
    """``timeout`` for an XLA step that ran out of time (the setting's fault, not the module's or
    the agent's: a resumed bench runs it again), else ``status``."""
    from hloenv.xla import EvaluationError
    return "timeout" if isinstance(err, EvaluationError) and err.status == "timeout" else status


def _rounding_errors(original: Any, chosen: Any, job: BenchJob, row: dict[str, Any]) -> str:
    """Which side rounding moved: each f32 result's distance from the f64 one (the original
    raised to f64), as the largest difference over the largest f64 value, per output, the
    worst output. Recorded as ``xla_default_f32_error`` (the original under XLA's default
    pipeline) and ``agent_f32_error`` (the agent's module under "env"); the note says both, as
    "outputs differ" alone reads as the agent's fault when XLA's own result is the one further
    off. Empty when they cannot be measured."""
    import numpy as np

    from hloenv.altgraph.precision import promote_floats
    from hloenv.xla import XlaBackendError, evaluate

    run = {"repeats": 0, "return_outputs": True, "cache": False, "seed": job.seed, "timeout": job.timeout}
    try:
        reference = evaluate(promote_floats(original), job.backend, pipeline="env", **run).outputs or []
        results = [evaluate(m, job.backend, pipeline=p, **run).outputs or []
                   for m, p in ((original, "xla-default"), (chosen, "env"))]
    except (XlaBackendError, ValueError):
        return ""

    def error(outputs: list) -> float | None:
        worst = 0.0
        for got, ref in zip(outputs, reference):
            if np.asarray(ref).dtype.kind not in "fc" or np.asarray(ref).size == 0:
                continue
            ref64, got64 = np.asarray(ref, np.complex128), np.asarray(got, np.complex128)
            finite = np.isfinite(ref64) & np.isfinite(got64)
            scale = float(np.max(np.abs(ref64[finite]), initial=0.0))
            if scale > 0:
                worst = max(worst, float(np.max(np.abs(got64[finite] - ref64[finite]), initial=0.0)) / scale)
        return worst if len(outputs) == len(reference) else None
    xla_error, agent_error = (error(r) for r in results)
    if xla_error is None or agent_error is None:
        return ""
    row.update(xla_default_f32_error=xla_error, agent_f32_error=agent_error)
    kinds = sorted({str(np.asarray(o).dtype) for o in results[0] if np.asarray(o).dtype.kind in "fcV"})
    precision = "/".join(_SHORT_DTYPES.get(k, k) for k in kinds) or "f32"  # (a bf16 program is no f32 one)
    return (f"; in {precision}, off the f64 result by {agent_error:.2g} (agent's module) and {xla_error:.2g} "
            "(the original under XLA's default pipeline), largest difference over largest value")


#: numpy's names of float dtypes -> HLO's
_SHORT_DTYPES = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
                 "complex64": "c64", "complex128": "c128"}


def _exact(original: Any, chosen: Any, job: BenchJob) -> bool | None:
    """Is the agent's module, defused, the canonical module (`same_program_unfused`: exact, no XLA)?
    None when the pipeline decides more than fusions, which that check cannot judge."""
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline
    from hloenv.passes.fusion.defuse import episode_is_exact

    pipeline = EnvPipeline.from_dict(job.pipeline) if job.pipeline else DEFAULT_ENV_PIPELINE
    return episode_is_exact(original, chosen, pipeline)


def _classify_difference(original: Any, chosen: Any, job: BenchJob, row: dict[str, Any]) -> str:
    """Outputs differ under XLA's default pipeline: our rewrites, or XLA? The rest of `verify`'s
    checks in its order (same pipeline, f64, as written); the first that passes names the status.
    Each check's outcome is recorded in ``row``."""
    from hloenv.xla import XlaBackendError
    from hloenv.xla.api import VERIFY_CHECKS

    for verdict, options in VERIFY_CHECKS[1:]:
        try:
            passed, _ = _compare(original, chosen, job, options)
        except (XlaBackendError, ValueError):
            passed = False
        field = _VERDICT_FIELDS[verdict]
        row[field] = row.get(field, False) or passed  # the as-written check runs twice: f32, f64
        if passed:
            return _VERDICT_STATUS[verdict]
    return "mismatch"


def _episode(module: Any, job: BenchJob) -> Any:
    """Run the agent on an env over ``module`` (measured reward off: the bench measures itself)."""
    from hloenv.agents import run_episode
    from hloenv.agents.base import agent_factory
    from hloenv.env import HloEnv
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline

    pipeline = EnvPipeline.from_dict(job.pipeline) if job.pipeline else DEFAULT_ENV_PIPELINE
    env = HloEnv(module, reward=lambda before, after, terminated: 0.0, pipeline=pipeline,
                 backend=job.backend)
    make = agent_factory(job.agent)
    return run_episode(env, make(**_agent_options(make, job)), seed=job.seed)


def _agent_options(make: Any, job: BenchJob) -> dict[str, Any]:
    """Options the bench passes on to the agent: the job's own, ``low_noise`` to agents that
    measure runtimes and ``seed`` to agents that take one (unless the job set them)."""
    import inspect
    options = dict(job.agent_options)
    takes = inspect.signature(make).parameters
    if job.low_noise and "low_noise" in takes:
        options.setdefault("low_noise", True)
    if "seed" in takes:  # (--seed is the inputs' and the agent's: `random` drew the same choices every seed)
        options.setdefault("seed", job.seed)
    return options


def _compare(original: Any, chosen: Any, job: BenchJob, options: dict[str, Any]) -> tuple[bool, str]:
    """``hloenv.compare`` with one of ``verify``'s option sets (agent's module under "env"),
    memoised in the evaluation cache so a resumed or distributed re-run does not recompile."""
    from hloenv.xla import compare
    from hloenv.xla.api import jaxlib_version
    from hloenv.xla.cache import EvaluationCache, cache_key

    key = cache_key({"bench-compare": 6, "a": original.fingerprint(), "b": chosen.fingerprint(),
                     "options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
                     "backend": job.backend, "seed": job.seed, "jaxlib": jaxlib_version()})
    store = EvaluationCache(job.cache_dir)
    hit = store.get(key)
    if hit is not None:
        return bool(hit["equal"]), hit["reason"]
    result = compare(original, chosen, job.backend, pipeline_b="env", seed=job.seed,
                     timeout=job.timeout, **options)
    store.put(key, {"equal": result.equal, "reason": result.reason})
    return result.equal, result.reason
