"""The pass framework (rewriters, passes, pipelines) and one module per pass."""

from hloenv.passes.base import PASSES, Pass, PassResult, RewritePass, RewriteRule, get_pass, register
from hloenv.passes.pipeline import Pipeline, PipelineResult, parse_pipeline
from hloenv.passes.rewriter import RecordingRewriter, Rewriter

__all__ = [
    "PASSES", "Pass", "PassResult", "Pipeline", "PipelineResult", "RecordingRewriter", "RewritePass",
    "RewriteRule", "Rewriter", "get_pass", "parse_pipeline", "register",
]
