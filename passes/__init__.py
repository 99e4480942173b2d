"""The pass framework (rewriters, passes, pipelines) and one module per pass."""

from typing import Any

from hloenv.passes.base import Pass, PassResult, RewritePass, RewriteRule, get_pass, register
from hloenv.passes.pipeline import Pipeline, PipelineResult, parse_pipeline
from hloenv.passes.rewriter import RecordingRewriter, Rewriter

__all__ = [
    "PASSES", "Pass", "PassResult", "Pipeline", "PipelineResult", "RecordingRewriter", "RewritePass",
    "RewriteRule", "Rewriter", "get_pass", "parse_pipeline", "register",
]


def __getattr__(name: str) -> Any:
    """`PASSES` (name -> pass class) with the built-in passes registered: they load on first use
    (it was empty until the first `get_pass`)."""
    if name == "PASSES":
        from hloenv.passes import base
        base._load_builtin_passes()
        return base.PASSES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
