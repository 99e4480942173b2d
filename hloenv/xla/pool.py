"""Reusable worker processes with a memory cap, a timeout, and restart after a crash."""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NoReturn

from hloenv.xla import protocol
from hloenv.xla.errors import BackendUnavailable, EvaluationError

#: Seconds a new worker may take to import jax and create its client.
STARTUP_TIMEOUT = 120.0
_STDERR_KEEP = 4000  # characters of stderr tail in an EvaluationError
_STDERR_ROTATE = 8 << 20  # truncate a worker's stderr file beyond this size


def default_memory_limit() -> int:
    """Per-worker address-space cap: ``HLOENV_WORKER_MEMORY`` bytes, else 70% of RAM (<= 32 GiB)."""
    env = os.environ.get("HLOENV_WORKER_MEMORY")
    if env:
        return int(float(env))
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 16 << 30
    return int(min(total * 0.7, 32 << 30))


#: glibc malloc settings for workers (a user's own MALLOC_* values win). By default glibc maps
#: each block above its mmap threshold (32 MiB at most) afresh and unmaps it when freed, so a run
#: whose temporaries exceed it pays a page fault for every page it touches, every run; below it,
#: whether freed memory is kept depends on what the process allocated before. Measured on rlax's
#: XLA-like module (33 MB of temporaries): 8,570 faults and 62 ms a run in a fresh worker, 46 ms
#: in one that had run a 32 MB module first. Never mapping blocks alone and never trimming the
#: heap, a worker reuses what it freed (peak memory is unchanged; it is kept, not returned), and
#: a run's time no longer depends on the worker's history.
MALLOC_SETTINGS = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}


@dataclass(frozen=True)
class WorkerConfig:
    """What makes two workers interchangeable."""

    backend: str = "cpu"
    memory_limit: int = 0
    low_noise: bool = False


class Worker:
    """One worker process; ``call`` sends a request and returns the reply or raises."""

    def __init__(self, config: WorkerConfig, index: int = 0) -> None:
        self.config = config
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        self.start()

    def start(self) -> None:
        """Spawn the process; it imports jax in the background while the caller goes on."""
        env = dict(os.environ, HLOENV_WORKER_BACKEND=self.config.backend,
                   HLOENV_WORKER_MEMORY=str(self.config.memory_limit))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        for key, value in MALLOC_SETTINGS.items():
            env.setdefault(key, value)
        if self.config.backend == "cpu":
            env.setdefault("JAX_PLATFORMS", "cpu")
        if self.config.low_noise:
            cores = sorted(os.sched_getaffinity(0))
            env["HLOENV_WORKER_CORES"] = str(cores[self.index % len(cores)])
        self._stderr.seek(0)
        self._stderr.truncate()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hloenv.xla.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env=env, start_new_session=True)
        self.info = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, since: int = 0) -> str:
        """The last part of what the process wrote to stderr after offset ``since``."""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        start = max(since, size - _STDERR_KEEP)
        self._stderr.seek(start)
        return self._stderr.read().decode(errors="replace").strip()

    def kill(self) -> None:
        """Kill the process (and anything it started) and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def restart(self) -> None:
        self.kill()
        self.start()

    def _read(self, deadline: float | None) -> Any:
        """Wait for one reply; TimeoutError at ``deadline``, ChannelClosed if the process died."""
        fd = self.proc.stdout.fileno()
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if ready:
                return protocol.recv(self.proc.stdout)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError

    def poll_ready(self) -> bool:
        """Has the process finished starting? Never waits (reads the handshake if it is there)."""
        if self.info is not None and self.alive:
            return True
        if not self.alive:
            return False
        ready, _, _ = select.select([self.proc.stdout.fileno()], [], [], 0)
        if not ready:
            return False
        self.ensure_ready()
        return True

    def ensure_ready(self) -> dict[str, Any]:
        """Wait for the start-up handshake; returns device facts."""
        if self.info is not None and self.alive:
            return self.info
        if not self.alive:
            self.restart()
        try:
            hello = self._read(time.monotonic() + STARTUP_TIMEOUT)
        except (TimeoutError, protocol.ChannelClosed) as e:
            tail = self.stderr_tail()
            self.kill()
            raise EvaluationError("worker_error", f"worker failed to start ({type(e).__name__})"
                                  f"{self._memory_hint()}", tail) from None
        if not hello.get("ok"):
            self.kill()
            raise BackendUnavailable(f"backend {self.config.backend!r} unavailable in worker: "
                                     f"{hello.get('message')}{self._memory_hint()}")
        self.info = hello["hello"]
        return self.info

    def _memory_hint(self) -> str:
        """What to suspect when a worker with a memory cap fails to start: the cap itself (jax
        alone maps a few GB of address space)."""
        limit = self.config.memory_limit
        if not limit:
            return ""
        return (f"; the worker's memory cap is {limit / 2**30:.3g} GiB of address space "
                f"(memory_limit={limit}): too small for jax to start? the default is {default_memory_limit() / 2**30:.3g} GiB")

    def call(self, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send ``request``; return the reply dict. Crashes and timeouts raise EvaluationError
        and leave a fresh process starting in this worker's place."""
        return self.submit(request, timeout)()

    def submit(self, request: dict[str, Any], timeout: float | None) -> Callable[[], dict[str, Any]]:
        """Send ``request`` now; returns a function that waits for the reply (``call`` in two
        halves: the process works while the caller goes on). Call it exactly once."""
        self.ensure_ready()
        if self._stderr.seek(0, os.SEEK_END) > _STDERR_ROTATE:
            self._stderr.truncate(0)
        offset = self._stderr.seek(0, os.SEEK_END)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            protocol.send(self.proc.stdin, request)
        except BaseException as err:
            self._fail(err, offset, timeout)
        return lambda: self._receive(deadline, offset, timeout)

    def _receive(self, deadline: float | None, offset: int, timeout: float | None) -> dict[str, Any]:
        try:
            return self._read(deadline)
        except BaseException as err:
            self._fail(err, offset, timeout)

    def _fail(self, err: BaseException, offset: int, timeout: float | None) -> NoReturn:
        """Restart the process after ``err`` and raise what the caller should see."""
        if isinstance(err, TimeoutError):  # (checked first: a TimeoutError is an OSError too)
            self.restart()
            raise EvaluationError("timeout", f"no result within {timeout:g} s; worker killed "
                                  "and restarted") from None
        if isinstance(err, (protocol.ChannelClosed, BrokenPipeError, OSError)):
            code = self.proc.wait()
            tail = self.stderr_tail(offset)
            self.restart()
            raise _death_error(code, tail) from None
        # Interrupted mid-request (e.g. KeyboardInterrupt): the reply would arrive for the
        # wrong request later, so this process cannot be reused.
        self.restart()
        raise err


def _death_error(code: int, tail: str) -> EvaluationError:
    """Classify how a worker died from its exit code and the end of its stderr."""
    oom = any(m in tail for m in ("bad_alloc", "Out of memory", "out of memory",
                                  "RESOURCE_EXHAUSTED", "Cannot allocate memory",
                                  "Failed to allocate"))
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if oom or sig == signal.SIGKILL:
            return EvaluationError("oom", f"worker killed by {name} (out of memory)", tail)
        if sig == signal.SIGABRT:
            return EvaluationError("abort", "XLA aborted the worker process (SIGABRT)", tail)
        return EvaluationError("crash", f"worker crashed with {name}", tail)
    if code in (134,):
        return EvaluationError("oom" if oom else "abort", f"worker exited with {code}", tail)
    return EvaluationError("oom" if oom else "crash", f"worker exited with code {code}", tail)


class _Pending:
    """A request sent to a pool's worker whose reply nobody has read yet (`WorkerPool.submit`)."""

    def __init__(self, pool: "WorkerPool", worker: Worker, receive: Callable[[], dict[str, Any]]) -> None:
        self._pool, self._worker, self._receive = pool, worker, receive
        self._lock = threading.Lock()
        self._outcome: tuple[bool, Any] | None = None

    def collect(self) -> None:
        """Read the reply (or the failure) and give the worker back to the pool; idempotent."""
        with self._lock:
            if self._outcome is not None:
                return
            try:
                self._outcome = (True, self._receive())
            except BaseException as err:
                self._outcome = (False, err)
            finally:
                self._pool._release(self._worker, parked=self)

    def __call__(self) -> dict[str, Any]:
        self.collect()
        ok, value = self._outcome  # type: ignore[misc]
        if not ok:
            raise value
        return value


class WorkerPool:
    """A fixed number of interchangeable workers; thread-safe ``call`` on any free one."""

    def __init__(self, config: WorkerConfig, size: int = 1) -> None:
        self.config = config
        self.size = max(1, size)
        self._workers: list[Worker] = []
        self._free: list[Worker] = []
        #: submitted requests whose replies nobody has read: their workers are busy until then
        self._parked: list[_Pending] = []
        self._cond = threading.Condition()

    def _acquire(self) -> Worker:
        while True:
            with self._cond:
                if self._free:
                    return self._free.pop()
                if len(self._workers) < self.size:
                    w = Worker(self.config, len(self._workers))
                    self._workers.append(w)
                    return w
                parked = self._parked[0] if self._parked else None
                if parked is None:
                    self._cond.wait()
                    continue
            parked.collect()  # a reply left unread: read it for its owner, then reuse the worker

    def _release(self, worker: Worker, parked: _Pending | None = None) -> None:
        with self._cond:
            if parked is not None:
                self._parked = [p for p in self._parked if p is not parked]
            self._free.append(worker)
            self._cond.notify()

    def start(self, count: int | None = None) -> None:
        """Spawn workers now, up to `count` (default: the pool's size), without waiting for them:
        they import jax in the background while the caller goes on (`warm` waits)."""
        target = self.size if count is None else min(count, self.size)
        with self._cond:
            while len(self._workers) < target:
                w = Worker(self.config, len(self._workers))
                self._workers.append(w)
                self._free.append(w)
                self._cond.notify()

    def ready(self) -> bool:
        """Would a request start at once: is a free worker there and done starting? Never waits."""
        with self._cond:  # taken while polled: no request may read a handshake at the same time
            free, self._free = self._free, []
        try:
            return any(w.poll_ready() for w in free)
        except (EvaluationError, BackendUnavailable):
            return False  # a worker that failed to start: the next request says why
        finally:
            with self._cond:
                self._free.extend(free)
                self._cond.notify_all()

    def warm(self) -> dict[str, Any]:
        """Start every worker and wait until each is ready; returns one worker's device facts."""
        taken = [self._acquire() for _ in range(self.size)]
        try:
            infos = [w.ensure_ready() for w in taken]
        finally:
            for w in taken:
                self._release(w)
        return infos[0]

    def info(self) -> dict[str, Any]:
        """Device facts of a ready worker (starting one if needed)."""
        w = self._acquire()
        try:
            return w.ensure_ready()
        finally:
            self._release(w)

    def call(self, request: dict[str, Any], timeout: float | None) -> tuple[dict[str, Any], dict]:
        """Run ``request`` on a free worker; returns ``(reply, worker device facts)``."""
        w = self._acquire()
        try:
            info = w.ensure_ready()
            return w.call(request, timeout), info
        finally:
            self._release(w)

    def submit(self, request: dict[str, Any], timeout: float | None) -> Callable[[], dict[str, Any]]:
        """Send ``request`` to a free worker now and return a function that waits for its reply
        (raising as ``call`` would). The worker stays busy until the reply is read: by that
        function, or by a later request that needs the worker (the reply is kept for its owner)."""
        w = self._acquire()
        try:
            w.ensure_ready()
            receive = w.submit(request, timeout)
        except BaseException:
            self._release(w)
            raise
        pending = _Pending(self, w, receive)
        with self._cond:
            self._parked.append(pending)
        return pending

    def close(self) -> None:
        """Kill every worker."""
        with self._cond:
            for w in self._workers:
                w.kill()
            self._workers.clear()
            self._free.clear()


_POOLS: dict[WorkerConfig, WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(backend: str = "cpu", memory_limit: int | None = None, low_noise: bool = False,
             size: int | None = None) -> WorkerPool:
    """The shared pool for this configuration (created on first use).

    ``size`` defaults to ``HLOENV_XLA_WORKERS`` or 1; it only applies when the pool is created.
    """
    config = WorkerConfig(backend, default_memory_limit() if memory_limit is None else memory_limit,
                          low_noise)
    with _POOLS_LOCK:
        pool = _POOLS.get(config)
        if pool is None:
            n = size if size is not None else int(os.environ.get("HLOENV_XLA_WORKERS", "1"))
            pool = _POOLS[config] = WorkerPool(config, n)
        return pool


def shutdown() -> None:
    """Kill every worker of every shared pool."""
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


atexit.register(shutdown)
