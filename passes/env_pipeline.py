"""The environment's pipeline, in XLA's CPU order: canonicalise for real, decide in dry mode, clean up.

    canonicalize (applied):  call-inliner, (algsimp, constant-folding, tuple-simplifier,
                             reshape-mover, transpose-folding, cse, dce) to a fixed point
    decisions (dry rounds):  fusion      (each round: dry run -> agent's choice -> prune)
    cleanup (applied):       tuple-simplifier, cse, dce

Passes are looked up by name when a stage is built; an unknown name fails with the known ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.passes.base import Pass
from hloenv.passes.pipeline import Pipeline, parse_pipeline


@dataclass(frozen=True)
class EnvPipeline:
    """Three stages as pipeline strings; `decisions` lists the passes an agent decides, in order
    (names, with options if any: `("fusion{backend=gpu}",)`)."""

    canonicalize: str = ("call-inliner,(algsimp,constant-folding,tuple-simplifier,reshape-mover,"
                         "transpose-folding,cse,dce)*")
    decisions: tuple[str, ...] = ("fusion",)
    cleanup: str = "tuple-simplifier,cse,dce"

    def __post_init__(self) -> None:
        """The stages' types are checked when the pipeline is made; their pass names by `check`
        (HloEnv calls it before any work: a bad cleanup used to fail on an episode's last step).
        A pipeline naming passes this process lacks can still be made, read and reduced
        (`hloenv.dataset.pipeline_check`)."""
        for stage in ("canonicalize", "cleanup"):
            text = getattr(self, stage)
            if not isinstance(text, str):
                raise TypeError(f"EnvPipeline {stage} must be a pipeline string such as \"cse,dce\", "
                                f"not {type(text).__name__}")
        decisions = self.decisions
        if isinstance(decisions, str):
            raise TypeError(f"EnvPipeline decisions is a sequence of pass names: decisions=({decisions!r},), "
                            f"not the string {decisions!r}")
        if not isinstance(decisions, (tuple, list)) or not all(isinstance(d, str) for d in decisions):
            raise TypeError(f"EnvPipeline decisions must be a sequence of pass names such as (\"fusion\",), "
                            f"not {decisions!r:.60}")
        object.__setattr__(self, "decisions", tuple(decisions))

    def check(self) -> "EnvPipeline":
        """Every stage parses and names registered passes (ValueError naming the stage otherwise)."""
        self.canonicalize_pipeline()
        self.cleanup_pipeline()
        self.decision_passes()
        return self

    def canonicalize_pipeline(self) -> Pipeline:
        return parse_pipeline(self.canonicalize, "canonicalize")

    def cleanup_pipeline(self) -> Pipeline:
        return parse_pipeline(self.cleanup, "cleanup")

    def decision_passes(self) -> list[Pass]:
        """The decision passes, each named alone or with options (`"fusion{backend=gpu}"`)."""
        return [_decision_pass(spec) for spec in self.decisions]

    def to_dict(self) -> dict:
        return {"canonicalize": self.canonicalize, "decisions": list(self.decisions), "cleanup": self.cleanup}

    @classmethod
    def from_dict(cls, data: dict) -> "EnvPipeline":
        return cls(data["canonicalize"], data["decisions"], data["cleanup"])  # (a JSON list: made a tuple)


def decision_name(spec: str) -> str:
    """The pass name of a decision: `"fusion{backend=gpu}"` -> `"fusion"`."""
    return spec.split("{", 1)[0].strip()


def _decision_pass(spec: str) -> Pass:
    steps = parse_pipeline(spec, "decisions").steps
    if len(steps) != 1 or not isinstance(steps[0], Pass):
        raise ValueError(f"EnvPipeline decisions: {spec!r} is not one pass (each decision is a pass "
                         "name, with options in braces if any)")
    chosen = steps[0]
    if not chosen.makes_decisions:  # (its round offered nothing: the episode ended at once)
        raise ValueError(f"EnvPipeline decisions: {chosen.name!r} decides nothing (dry mode applies it); "
                         "put it in canonicalize or cleanup")
    return chosen


DEFAULT_ENV_PIPELINE = EnvPipeline()
