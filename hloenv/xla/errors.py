"""Typed errors of the XLA evaluation backend; all derive from :class:`XlaBackendError`."""

from __future__ import annotations


class XlaBackendError(Exception):
    """Base class of every error raised by :mod:`hloenv.xla`."""


class EvaluationError(XlaBackendError):
    """Compiling or running a module failed, or its worker process died.

    Attributes:
        status: One of ``"compile_error"``, ``"runtime_error"``, ``"abort"``, ``"crash"``,
            ``"oom"``, ``"timeout"``, ``"worker_error"``.
        message: What went wrong, in one or a few lines.
        stderr_tail: The last lines the worker wrote to stderr (XLA's own log), if any.
    """

    def __init__(self, status: str, message: str, stderr_tail: str = "") -> None:
        self.status = status
        self.message = message
        self.stderr_tail = stderr_tail
        text = f"[{status}] {message}"
        if stderr_tail:
            text += "\n--- worker stderr (tail) ---\n" + stderr_tail
        super().__init__(text)


class BackendUnavailable(XlaBackendError):
    """The requested backend cannot be used here (e.g. ``"gpu"`` without the CUDA plugin)."""


class UnsupportedOnBackend(XlaBackendError):
    """The module needs something the backend lacks, typically a custom-call target.

    Attributes:
        backend: The backend that was asked for.
        targets: The custom-call targets (or other features) the backend lacks.
    """

    def __init__(self, backend: str, targets: list[str] | tuple[str, ...], detail: str = "") -> None:
        self.backend = backend
        self.targets = tuple(targets)
        text = f"module cannot run on backend {backend!r}: needs {', '.join(self.targets) or '?'}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)
