"""Which custom-call targets a backend lacks: a fast scan before compiling, and XLA's error text."""

from __future__ import annotations

import re
from typing import Any

#: The backends hloenv drives ("gpu" needs the CUDA PJRT plugin).
BACKENDS = ("cpu", "gpu")
# Target-name prefixes that only one platform registers. Unknown targets are left to XLA: its
# "No registered implementation" error is recognised by :func:`unsupported_from_error`.
_GPU_ONLY = ("cuda_", "cublas", "cusolver", "cusparse", "cudnn", "__cudnn", "__cublas", "cu_",
             "hipsolver", "hipblas", "rocm_", "hip_", "triton", "__triton", "__gpu", "gpu_",
             "mosaic_gpu")
_CPU_ONLY = ("lapack_", "ducc_", "cpu_")
# Host callbacks (jax.debug.print, pure_callback, io_callback): they call a Python function of the
# process that traced the module, by an index only that process knows. Run anywhere else, the
# XLA worker dies (SIGSEGV), on every backend.
_CALLBACKS = ("xla_ffi_python_", "xla_python_", "xla_ffi_partitioned_python_")
CALLBACK_DETAIL = ("a Python host callback (jax.debug.print, pure_callback, io_callback) calls a "
                   "function of the process that traced the module, which no other process has")

# Host transfers: an infeed waits for data the host pushes, an outfeed for the host to read, a
# send or recv for its peer. No worker does either, so such a module would wait until the timeout
# (15 minutes by default): it is refused up front, named by opcode.
HOST_TRANSFERS = ("infeed", "outfeed", "send", "recv")
HOST_TRANSFER_DETAIL = ("infeed, outfeed, send and recv wait for the host or a peer to transfer data, "
                        "which no evaluation worker does")

# e.g. "No registered implementation for untyped custom call to X for Host"
_NO_IMPL = re.compile(r"No registered implementation for (?:\w+ )*custom call to ['\"]?([\w.\-]+)",
                      re.IGNORECASE)


def _strip(raw: str) -> str:
    return raw.strip().strip('"')


def custom_call_targets(module: Any) -> list[str]:
    """Distinct custom-call targets in ``module``, in first-seen order."""
    seen: dict[str, None] = {}
    for inst in module.instructions():
        if inst.opcode == "custom-call":
            raw = inst.attrs.get("custom_call_target")
            if raw:
                seen.setdefault(_strip(raw), None)
    return list(seen)


def host_transfers(module: Any) -> list[str]:
    """The host-transfer opcodes (`HOST_TRANSFERS`) ``module`` uses, in first-seen order."""
    seen: dict[str, None] = {}
    for inst in module.instructions():
        if inst.opcode in HOST_TRANSFERS:
            seen.setdefault(inst.opcode, None)
    return list(seen)


def unsupported_targets(module: Any, backend: str) -> list[str]:
    """Custom-call targets of ``module`` that ``backend`` is known to lack, then the host transfers
    it uses (no backend runs those here: see `HOST_TRANSFERS`)."""
    lacking = (_GPU_ONLY if backend == "cpu" else _CPU_ONLY) + _CALLBACKS
    return [t for t in custom_call_targets(module) if t.lower().startswith(lacking)] + host_transfers(module)


def is_callback(target: str) -> bool:
    return target.lower().startswith(_CALLBACKS)


def unsupported_from_error(message: str) -> list[str]:
    """Targets named by an XLA "no registered implementation" error, else an empty list."""
    return sorted(set(_NO_IMPL.findall(message)))
