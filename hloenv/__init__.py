"""hloenv: a reinforcement-learning graph-rewrite environment for XLA HLO."""

from __future__ import annotations

from hloenv import native

native.install()  # before any compiled module is imported: see hloenv/native.py

from hloenv.altgraph import (Computation, HloError, HloParseError, HloVerifyError, Instruction, Module,  # noqa: E402
                             Shape, load_hlo, parse_hlo)

__version__ = "0.1.0"

#: Names served from the XLA bridge on first use (it is heavier to import than the IR).
_XLA_EXPORTS = frozenset({
    "evaluate", "compare", "cost", "paired_timing", "Evaluation", "Comparison", "Cost", "PairedTiming", "EvaluationError",
    "BackendUnavailable", "UnsupportedOnBackend", "XlaBackendError", "make_inputs",
})

__all__ = [
    "Computation", "HloError", "HloParseError", "HloVerifyError", "Instruction", "Module", "Shape",
    "load_hlo", "parse_hlo", *sorted(_XLA_EXPORTS), "HloEnv", "replay", "EnvPipeline", "to_pyg", "to_networkx",
    "random_action",
]

from hloenv.registration import register_envs  # noqa: E402

register_envs()


_ENV_EXPORTS = {"HloEnv": "hloenv.env", "replay": "hloenv.env", "EnvPipeline": "hloenv.passes.env_pipeline",
                 "to_pyg": "hloenv.adapters", "to_networkx": "hloenv.adapters", "random_action": "hloenv.spaces"}


def __getattr__(name: str) -> object:
    if name in _XLA_EXPORTS:
        import hloenv.xla
        return getattr(hloenv.xla, name)
    if name in _ENV_EXPORTS:
        import importlib
        return getattr(importlib.import_module(_ENV_EXPORTS[name]), name)
    raise AttributeError(f"module 'hloenv' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazily served names too (`dir`, and so tab completion, lists them)."""
    return sorted({*globals(), *__all__})
