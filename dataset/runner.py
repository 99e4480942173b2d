"""``run_bench``: an agent over every module of a dataset, resumable, locally or on Ray."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hloenv.dataset.bench import MODULE_TEXT, SOUND_STATUSES, BenchJob, run_job
from hloenv.dataset.dataset import Dataset
from hloenv.dataset.errors import DatasetError
from hloenv.dataset.names import file_name_part
from hloenv.dataset.tables import (AGENTS_CSV, AGENTS_MD, RunKey, append_result, compare_agents, format_agent_comparison,
                                   format_summary, read_results, row_key, run_key, summarize,
                                   write_agent_comparison, write_tables)

Log = Callable[[str], None]
#: Statuses of rows that are run again on a re-run: the run failed, not the module (an agent's
#: error is the agent's, which its author fixes before running the same command again; a
#: timeout is the setting's, which its user raises).
RETRIED = frozenset({"ray_error", "bench_error", "agent_error", "timeout"})


@dataclass
class BenchReport:
    """What a benchmark run produced: rows in dataset order (skipped files last) and files."""

    out: Path
    rows: list[dict[str, Any]]
    computed: int
    reused: int
    summary: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Progress:
    """One line per finished module: count, status, failures so far, elapsed and ETA."""

    def __init__(self, total: int, log: Log) -> None:
        self.total, self.log = total, log
        self.done = self.failures = 0
        self.t0 = time.perf_counter()

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        if row.get("status") not in SOUND_STATUSES:
            self.failures += 1
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        speed = f"{row['speedup']:.3f}x" if isinstance(row.get("speedup"), float) else "-"
        self.log(f"[{self.done}/{self.total}] {row.get('status', '?'):<15} {speed:>8}  "
                 f"{row.get('module')}  | failures {self.failures}, elapsed {_clock(elapsed)}, "
                 f"ETA {_clock(eta)}")
        lines = str(row.get("error") or "").strip().splitlines()
        if row.get("status") not in SOUND_STATUSES and lines:  # (it was in the tables only)
            self.log(f"    {lines[0][:240]}{' ...' if len(lines[0]) > 240 else ''}")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def resolve_dataset(dataset: Dataset | str | os.PathLike) -> Dataset:
    """A Dataset, a path, or ``"default"`` (the bundled modules)."""
    from hloenv.dataset.load import default, load
    if isinstance(dataset, Dataset):
        return dataset
    if str(dataset) == "default":
        return default()
    return load(dataset)


def _why_empty(ds: Dataset) -> str:
    if ds.problems:
        first = ds.problems[0]
        return (f"none of its {len(ds.problems)} HLO files could be read (first: {first.source}: "
                f"{first.kind}, {first.message})")
    from hloenv.dataset.reader import HLO_SUFFIXES
    return f"no HLO files (by ending: {', '.join(HLO_SUFFIXES)})"


def run_bench(dataset: Dataset | str | os.PathLike, agent: str, out: str | os.PathLike, *,
              backend: str = "cpu", workers: int = 1, ray: str | None = None,
              limit: int | None = None, timeout: float = 900.0, seed: int = 0,
              cache_dir: str | os.PathLike | None = None, plots: bool = True,
              low_noise: bool = False, agent_options: dict[str, Any] | None = None,
              rerun: bool = False, log: Log | None = None) -> BenchReport:
    """Run ``agent`` on every module (the first ``limit``) and write tables and plots to ``out``.

    Each finished module's row is appended to ``out/results.jsonl`` at once; a re-run skips the
    modules already there with the same agent, backend, seed, timing mode and agent options
    (`tables.run_key`), unless ``rerun``; rows of other settings stay in the file and out of
    the tables. Rows whose run failed (``RETRIED``: an agent's error too) are run again. An agent
    is known by its name, not its code: after changing an agent, pass ``rerun``. ``ray``
    is a Ray address or ``"local"``; otherwise ``workers`` threads share that many XLA worker processes. ``low_noise``
    times everything (and the agent's own measurements, where it takes the option) in workers
    pinned to one core each. ``agent_options`` are keyword options of the agent (a gnn checkpoint,
    a search budget).

    Raises:
        ValueError: Unknown agent or backend.
        ImportError: ``ray`` given but Ray is not installed.
        DatasetError: the dataset holds no module that could be read, or `out` cannot be made.
    """
    from hloenv.agents import get_agent
    from hloenv.altgraph.checks import check_int, check_number
    from hloenv.dataset.pipeline_check import available_pipeline
    from hloenv.xla.api import check_backend, jaxlib_version
    from hloenv.xla.cache import default_cache_dir

    log = log or (lambda line: print(line, flush=True))
    agent = agent_spec(agent)
    agent_options = dict(agent_options or {})
    get_agent(agent, **agent_options)  # unknown name or bad option -> error before any work
    check_backend(backend)
    check_int("workers", workers, 1)
    check_int("limit", limit, 1, may_be_none=True)  # (limit=0 ran every module)
    check_number("timeout", timeout, above=True)
    check_int("seed", seed)
    if ray:  # (before the output folder is made and the modules are read)
        from hloenv.dataset.distributed import import_ray
        import_ray()
    ds = resolve_dataset(dataset)
    if not ds.entries:  # (nothing to run: say why instead of writing empty tables)
        raise DatasetError(f"{dataset}: {_why_empty(ds)}")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # (a file in the way)
        raise DatasetError(f"cannot make the output folder {out}: {err.strerror or err}") from None
    (out / "dataset.txt").write_text(ds.report() + "\n")
    pipeline, missing = available_pipeline()
    notes = []
    if missing:
        notes.append(f"env pipeline: passes not registered yet, left out: {', '.join(missing)}; "
                     f"running {pipeline.to_dict()}")
        log("note: " + notes[-1])
    entries = ds.entries if limit is None else ds.entries[:limit]
    cache = str(Path(cache_dir) if cache_dir else default_cache_dir())
    done = {} if rerun else {k: r for k, r in read_results(out).items() if r.get("status") not in RETRIED}

    def key(entry: Any) -> RunKey:
        return run_key(entry.fingerprint, agent, backend, seed, low_noise, agent_options)
    jobs = [BenchJob(e.name, e.text(), e.fingerprint, agent, backend, pipeline.to_dict(), cache,
                     timeout, seed, low_noise, agent_options) for e in entries if key(e) not in done]
    reused = len(entries) - len(jobs)
    unread = f" (and {len(ds.problems)} files that could not be read)" if ds.problems else ""
    log(f"bench: {len(entries)} modules{unread} from {ds.root or 'dataset'}, agent {agent!r}, backend "
        f"{backend}; {reused} already in {out / 'results.jsonl'}, {len(jobs)} to run"
        + (f" on Ray ({ray})" if ray else f" with {workers} worker(s)"))
    progress = Progress(len(jobs), log)

    def record(row: dict[str, Any]) -> None:
        save_module(out, row)
        append_result(out, row)
        done[row_key(row)] = row
        progress.update(row)

    if ray:
        from hloenv.dataset.distributed import run_on_ray
        run_on_ray(jobs, ray, record, num_cpus=workers if ray == "local" else None)
    else:
        _run_local(jobs, workers, backend, record)

    rows = [done[key(e)] for e in entries]
    rows += [{"module": _relative(p.source, ds.root), "status": p.kind, "error": p.message}
             for p in ds.problems]
    meta = {"dataset": ds.root, "agent": agent, "backend": backend, "pipeline": pipeline.to_dict(),
            "passes_left_out": missing, "jaxlib": jaxlib_version(), "limit": limit,
            "seed": seed, "timeout": timeout, "low_noise": low_noise, "agent_options": agent_options}
    files = list(write_tables(out, rows, meta))
    if plots:
        try:
            from hloenv.dataset.plots import write_plots
            files += write_plots(out, rows, f"{agent} on {Path(ds.root).name or 'dataset'}")
        except ImportError:
            notes.append("plots skipped: matplotlib is not installed (pip install 'hloenv[plot]')")
            log("note: " + notes[-1])
    summary = summarize(rows)
    log("summary: " + format_summary(summary))
    comparison = compare_agents(_same_settings(read_results(out).values(), backend, seed, low_noise),
                                {e.fingerprint for e in entries})
    if comparison is not None:  # (other agents' rows for these modules are in OUT too)
        settings = f"backend {backend}, seed {seed}, {'low-noise' if low_noise else 'normal'} timing"
        files += write_agent_comparison(out, comparison, settings)
        log(format_agent_comparison(comparison) + f" [{settings}]")
    else:  # (a comparison of other settings would sit beside this run's tables unmarked)
        for stale in (out / AGENTS_MD, out / AGENTS_CSV):
            stale.unlink(missing_ok=True)
    log("wrote " + ", ".join(str(f) for f in files))
    return BenchReport(out, rows, len(jobs), reused, summary, files, notes)


def agent_spec(agent: str) -> str:
    """One spelling per agent file, so rows resume and compare as one agent: `./mine.py:a` and
    `mine.py:a` are `mine.py:a` (registered names and `module:name` are left as they are)."""
    path, sep, name = agent.rpartition(":") if isinstance(agent, str) else ("", "", "")
    if sep and path.endswith(".py"):
        return f"{os.path.normpath(path)}:{name}"
    return agent


def _same_settings(rows: Iterable[dict[str, Any]], backend: str, seed: int, low_noise: bool) -> list[dict[str, Any]]:
    """The rows measured as this run measures (another backend, seed or timing mode: other numbers)."""
    return [r for r in rows if r.get("backend") == backend and r.get("seed", 0) == seed
            and bool(r.get("low_noise", False)) == bool(low_noise)]


#: Where a bench keeps its agent's modules, inside its output folder.
MODULES_DIR = "modules"


def save_module(out: Path, row: dict[str, Any]) -> None:
    """Move the agent's module text out of ``row`` into ``out/modules/<module>.<agent>.s<seed>.hlo``
    (hloenv's form, fusions included: `hloenv compare ORIGINAL FILE` and `hloenv.load_hlo` read
    it) and name the file in ``row["module_file"]``."""
    text = row.pop(MODULE_TEXT, None)
    if text is None:
        return
    options = row.get("agent_options") or {}
    tag = "." + hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:8] \
        if options else ""
    name = file_name_part(str(row.get("module", "module")).replace("/", "__"))
    agent = file_name_part(str(row.get("agent")))  # (an agent given as path/to/file.py:name)
    path = Path(MODULES_DIR) / f"{name}.{agent}.s{row.get('seed')}{tag}.hlo"
    (out / MODULES_DIR).mkdir(exist_ok=True)
    (out / path).write_text(text)
    row["module_file"] = path.as_posix()


def _relative(source: str, root: str) -> str:
    try:
        return Path(source).relative_to(root).as_posix()
    except ValueError:
        return source


def _run_local(jobs: list[BenchJob], workers: int, backend: str,
               record: Callable[[dict[str, Any]], None]) -> None:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            record(run_job(job))
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from hloenv.xla.pool import get_pool
    get_pool(backend, size=workers)  # one XLA worker process per thread
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_job, job) for job in jobs]
        for future in as_completed(futures):
            record(future.result())

