"""The environment's pipeline, in XLA's CPU order: canonicalise for real, decide in dry mode, clean up.

    canonicalize (applied):  call-inliner, (algsimp, constant-folding, tuple-simplifier,
                             reshape-mover, transpose-folding, cse, dce) to a fixed point
    decisions (dry rounds):  fusion      (each round: dry run -> agent's choice -> prune)
    cleanup (applied):       tuple-simplifier, cse, dce

Passes are looked up by name when a stage is built; an unknown name fails with the known ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.passes.base import Pass, get_pass
from hloenv.passes.pipeline import Pipeline, parse_pipeline


@dataclass(frozen=True)
class EnvPipeline:
    """Three stages as pipeline strings; `decisions` lists the passes an agent decides, in order."""

    canonicalize: str = ("call-inliner,(algsimp,constant-folding,tuple-simplifier,reshape-mover,"
                         "transpose-folding,cse,dce)*")
    decisions: tuple[str, ...] = ("fusion",)
    cleanup: str = "tuple-simplifier,cse,dce"

    def canonicalize_pipeline(self) -> Pipeline:
        return parse_pipeline(self.canonicalize, "canonicalize")

    def cleanup_pipeline(self) -> Pipeline:
        return parse_pipeline(self.cleanup, "cleanup")

    def decision_passes(self) -> list[Pass]:
        return [get_pass(name) for name in self.decisions]

    def to_dict(self) -> dict:
        return {"canonicalize": self.canonicalize, "decisions": list(self.decisions), "cleanup": self.cleanup}

    @classmethod
    def from_dict(cls, data: dict) -> "EnvPipeline":
        return cls(data["canonicalize"], tuple(data["decisions"]), data["cleanup"])


DEFAULT_ENV_PIPELINE = EnvPipeline()
