"""The worker process: compiles, runs and times HLO with jaxlib, one request at a time.

Started by :mod:`hloenv.xla.pool` as ``python -m hloenv.xla.worker``. Requests arrive on stdin,
replies leave on a private copy of stdout (fd 1 itself is pointed at stderr so stray prints
from XLA cannot corrupt the channel). Memory cap and CPU pinning are applied before jax is
imported, so every thread XLA creates inherits them. A crash here (XLA abort, segfault, OOM)
kills only this process; the pool turns it into an ``EvaluationError`` and starts a new one.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import threading
import time
from typing import Any

import numpy as np

from hloenv.xla import protocol
from hloenv.xla.inputs import flatten, inputs_from_specs
from hloenv.xla.targets import unsupported_from_error

_PRIME = """HloModule prime
ENTRY e {
  p = f32[4] parameter(0)
  ROOT r = f32[4] multiply(p, p)
}
"""
_OOM_MARKERS = ("RESOURCE_EXHAUSTED", "Out of memory", "out of memory", "bad_alloc",
                "Failed to allocate")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def compile_on(device: Any, text: str, overrides: list[tuple[str, Any]]) -> Any:
    """HLO text compiled by jaxlib for one device, with DebugOptions `overrides`: the loaded
    executable (`exe.hlo_modules()` holds XLA's optimized module). In this process: a crash here
    is this process's."""
    from jax._src.lib import xla_client
    from jaxlib import _hlo, _jax
    proto = _hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()
    options = xla_client.CompileOptions()
    options.env_option_overrides = list(overrides)
    return device.client.compile_and_load(_jax.mlir.hlo_to_stablehlo(proto), _jax.DeviceList((device,)), options)


class Runner:
    """Holds the PJRT client of one backend and serves requests."""

    def __init__(self, backend: str) -> None:
        import jax
        jax.config.update("jax_enable_x64", True)
        from jax._src.lib import xla_client
        from jaxlib import _hlo, _jax
        self.jax, self.xc, self._hlo, self._jax = jax, xla_client, _hlo, _jax
        if backend == "cpu":
            # jax fills LAPACK's function pointers lazily when it lowers a linalg op; HLO that
            # already calls lapack_*_ffi targets would otherwise jump to null (SIGSEGV).
            from jax._src.lax import linalg
            linalg.initialize_lapack()
        platform_name = "cuda" if backend == "gpu" else backend
        self.device = jax.devices(platform_name)[0]
        self.client = self.device.client
        self.backend = backend

    def prime(self) -> None:
        """Compile and run a tiny module once, so the first real request does not pay for
        XLA's one-time initialisation (LLVM, thread pools)."""
        exe = self.compile(_PRIME, [])
        x = self.jax.device_put(np.ones((4,), np.float32), self.device)
        for o in exe.execute([x]):
            o.block_until_ready()

    def describe(self) -> dict[str, Any]:
        """Device and library facts for the Evaluation and the cache key."""
        import jaxlib
        dev = self.device
        desc = f"{dev.platform}:{dev.device_kind}"
        if self.backend == "cpu":
            n = len(os.sched_getaffinity(0))
            desc += f" ({_cpu_model()}, {n} usable core{'s' if n != 1 else ''})"
        return {"device": desc, "jaxlib": jaxlib.__version__, "pid": os.getpid()}

    # -- compile and run ---------------------------------------------------------------------
    def compile(self, text: str, overrides: list[tuple[str, Any]]):
        return compile_on(self.device, text, overrides)

    def evaluate(self, req: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            exe = self.compile(req["text"], req["overrides"])
        except Exception as e:  # noqa: BLE001 - any XLA error is a reply, not a crash
            return _failure("compile_error", e)
        compile_s = time.perf_counter() - t0
        flat = _inputs(req)
        try:
            timed, outputs = self._warmed_up(exe, flat, req["warmup"], req["return_outputs"])
            samples: list[float] = []
            start = time.perf_counter()
            while len(samples) < req["repeats"] and (
                    len(samples) < req["min_repeats"]
                    or time.perf_counter() - start < req["time_budget"]):
                samples.append(timed())
        except Exception as e:  # noqa: BLE001
            return _failure("runtime_error", e)
        return {"ok": True, "compile_s": compile_s, "samples": samples, "outputs": outputs,
                "warmup": max(1, req["warmup"])}

    def paired(self, req: dict[str, Any]) -> dict[str, Any]:
        """Two executables on the same inputs, timed run for run in turn (A B, B A, A B, ...),
        so that whatever else the machine does falls on both alike. A failure says which one
        ("side": "a" or "b")."""
        exes, compile_s = [], []
        for side in ("a", "b"):
            t0 = time.perf_counter()
            try:
                exes.append(self.compile(req[f"text_{side}"], req[f"overrides_{side}"]))
            except Exception as e:  # noqa: BLE001
                return {**_failure("compile_error", e), "side": side}
            compile_s.append(time.perf_counter() - t0)
        flat = _inputs(req)
        timed = []
        for side, exe in zip("ab", exes):
            try:
                timed.append(self._warmed_up(exe, flat, req["warmup"], False)[0])
            except Exception as e:  # noqa: BLE001
                return {**_failure("runtime_error", e), "side": side}
        samples: tuple[list[float], list[float]] = ([], [])
        start = time.perf_counter()
        try:
            while len(samples[0]) < req["pairs"] and (
                    len(samples[0]) < req["min_pairs"] or time.perf_counter() - start < req["time_budget"]):
                first = len(samples[0]) % 2  # (who goes first alternates: no side always runs warm)
                for k in (first, 1 - first):
                    samples[k].append(timed[k]())
        except Exception as e:  # noqa: BLE001
            return _failure("runtime_error", e)
        return {"ok": True, "compile_s": compile_s, "samples_a": samples[0], "samples_b": samples[1],
                "warmup": max(1, req["warmup"])}

    def _warmed_up(self, exe: Any, flat: list, warmup: int, return_outputs: bool) -> tuple[Any, Any]:
        """Run `exe` `warmup` times (at least once); returns a function that times one more run
        (seconds) and the first run's outputs if asked for. Inputs are transferred outside the timed
        region; a module with input_output_alias donates them, so each run then gets fresh ones."""
        put = lambda: [self.jax.device_put(a, self.device) for a in flat]  # noqa: E731
        args = put()

        def run(args):
            outs = exe.execute(args)
            for o in outs:
                o.block_until_ready()
            return outs

        outs = run(args)
        outputs = [_to_numpy(o) for o in outs] if return_outputs else None
        donates = any(a.is_deleted() for a in args)
        del outs
        for _ in range(max(0, warmup - 1)):
            run(put() if donates else args)

        def timed() -> float:
            given = put() if donates else args
            t = time.perf_counter()
            run(given)
            return time.perf_counter() - t
        return timed, outputs

    def cost(self, req: dict[str, Any]) -> dict[str, Any]:
        try:
            hlo = self._hlo.hlo_module_from_text(req["text"])
            props = self._jax.hlo_module_cost_analysis(self.client, hlo)
        except Exception as e:  # noqa: BLE001
            return _failure("compile_error", e)
        return {"ok": True, "cost": {k: float(v) for k, v in props.items()}}


def _inputs(req: dict[str, Any]) -> list[np.ndarray]:
    """The request's inputs, flattened: the caller's own (checked there), or drawn from the seed."""
    given = req.get("inputs")
    return flatten(given if given is not None else inputs_from_specs(req["specs"], req["seed"]))


def _to_numpy(buffer: Any) -> np.ndarray:
    """A host copy of one output; a token (no data) becomes an empty bool array."""
    try:
        return np.asarray(buffer)
    except Exception as e:  # noqa: BLE001
        if "token" in str(e):
            return np.zeros((0,), np.bool_)
        raise


def _failure(status: str, error: BaseException) -> dict[str, Any]:
    message = f"{type(error).__name__}: {error}"
    targets = unsupported_from_error(message)
    if targets:
        return {"ok": False, "status": "unsupported", "targets": targets, "message": message}
    if isinstance(error, MemoryError) or any(m in message for m in _OOM_MARKERS):
        status = "oom"
    return {"ok": False, "status": status, "message": message}


#: how often a worker checks that the process that started it is alive (seconds)
PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent() -> None:
    """End this worker once the process that started it is gone, even in the middle of a run that
    never ends (a while loop forever): an idle worker sees its input close, a busy one did not, and
    outlived its parent at full load. Reparented, a process has another parent id."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="hloenv-parent-watch", daemon=True).start()


def _setup_process(memory_limit: int, cores: list[int]) -> None:
    if memory_limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    if cores:
        os.sched_setaffinity(0, cores)


def main() -> None:
    """Serve requests until stdin closes."""
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel_in = sys.stdin.buffer
    backend = os.environ.get("HLOENV_WORKER_BACKEND", "cpu")
    memory_limit = int(os.environ.get("HLOENV_WORKER_MEMORY", "0"))
    cores = [int(c) for c in os.environ.get("HLOENV_WORKER_CORES", "").split(",") if c]
    _setup_process(memory_limit, cores)
    _exit_with_parent()
    try:
        runner = Runner(backend)
        runner.prime()
    except Exception as e:  # noqa: BLE001
        protocol.send(channel_out, {"ok": False, "status": "backend_unavailable",
                                    "message": f"{type(e).__name__}: {e}"})
        return
    protocol.send(channel_out, {"ok": True, "hello": runner.describe()})
    handlers = {"evaluate": runner.evaluate, "paired": runner.paired, "cost": runner.cost,
                "ping": lambda req: {"ok": True}}
    while True:
        try:
            req = protocol.recv(channel_in)
        except protocol.ChannelClosed:
            return
        try:
            reply = handlers[req["op"]](req)
        except MemoryError as e:
            reply = _failure("oom", e)
        except Exception as e:  # noqa: BLE001 - report, keep serving
            reply = _failure("worker_error", e)
        protocol.send(channel_out, reply)


if __name__ == "__main__":
    main()
