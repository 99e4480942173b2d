"""The benchmark's per-module job as Ray remote tasks (Ray is optional: the ``ray`` extra)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hloenv.dataset.bench import BenchJob, run_job


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs Ray: pip install 'hloenv[ray]'") from None
    return ray


def run_on_ray(jobs: list[BenchJob], address: str, on_row: Callable[[dict[str, Any]], None],
               num_cpus: int | None = None) -> None:
    """Run every job as a Ray task and hand each row to ``on_row`` as it finishes.

    ``address`` is a cluster address (``ray://host:10001``, ``host:6379``, ``auto``) or
    ``"local"`` for a Ray instance started here (with ``num_cpus`` CPUs). A Ray instance this
    function started is shut down at the end; a running one is left alone.
    """
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=num_cpus or None, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
        started = True
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(run_job)
        pending = {task.remote(job): job for job in jobs}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as err:  # noqa: BLE001  (worker died, task lost: a row, not a crash)
                    row = {"module": job.name, "fingerprint": job.fingerprint, "agent": job.agent,
                           "backend": job.backend, "status": "ray_error",
                           "error": " ".join(f"{type(err).__name__}: {err}".split())[:500]}
                on_row(row)
    finally:
        if started:
            ray.shutdown()
