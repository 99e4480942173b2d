"""defuse: replace every fusion instruction by its fused computation's instructions.

    before:  f { x = f32[4] parameter(0)  e = f32[4] exponential(x)  ROOT n = f32[4] negate(e) }
             ENTRY m { p = f32[4] parameter(0)  ROOT r = f32[4] fusion(p), kind=kLoop, calls=f }
    after:   ENTRY m { p = f32[4] parameter(0)  e = f32[4] exponential(p)  ROOT n = f32[4] negate(e) }

The inverse of the fusion passes, used to check fusion decisions exactly: fusing moves
instructions into fused computations and may duplicate a producer into several consumers, so a
module with any choice of fusions, defused and with its duplicates merged (`cse`), is the
module it came from (`same_program_unfused`). That check needs no compiler and no tolerance,
which numeric comparison cannot offer for programs whose outputs jump under rounding (an
eigen-solver whose eigenvector signs flip, a search that takes another branch).

Multi-output fusions leave `get-tuple-element(tuple(...))` behind, which `tuple-simplifier` folds.
The fused computations it inlined go once nothing calls them (left in, they grew the module: a
later `fusion` fused inside them, and `(fusion,defuse)*` doubled the module every round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hloenv.altgraph.alternatives import remove_uncalled_computations
from hloenv.altgraph.module import Module
from hloenv.passes.base import Pass, register, rewritable_computations
from hloenv.passes.call_inliner import inline_body
from hloenv.passes.rewriter import Rewriter

if TYPE_CHECKING:
    from hloenv.passes.env_pipeline import EnvPipeline


@register
@dataclass(frozen=True)
class Defuse(Pass):
    """Inline every fusion's body where the fusion was (fusions nested in bodies too)."""

    name = "defuse"
    makes_decisions = False  # an inverse for checking, not a decision: dry mode applies it
    reads_fused_bodies = True  # (it inlines them)

    def run(self, module: Module, rewriter: Rewriter) -> None:
        inlined: set[int] = set()  # ids of the bodies inlined
        while True:  # a body may hold fusions (nested): inlined, they are expanded next time round
            fusions = [inst for comp in rewritable_computations(module)
                       for inst in comp.instructions if inst.opcode == "fusion"]
            if not fusions:
                break
            for fusion in fusions:
                body = fusion.called["calls"][0]
                inlined.add(id(body))
                root = inline_body(body, list(fusion.operands), fusion.parent, rewriter)
                if not rewriter.replace(fusion, root, self.name):
                    raise AssertionError(f"defuse could not replace {fusion.name!r}")
                fusion.parent.remove(fusion)
        if inlined:  # the bodies nothing calls now go (left in, the next `fusion` fused inside them)
            remove_uncalled_computations(module, among=inlined)


#: What merges a defused module's duplicates and drops what fusing left unused.
MERGE_DUPLICATES = "tuple-simplifier,cse,dce"
#: Decision passes that only group instructions into fusions: `same_program_unfused` judges them.
GROUPING_PASSES = frozenset({"fusion", "multi-output-fusion", "fusion-merger"})


def judges(pipeline: "EnvPipeline") -> bool:
    """Can `same_program_unfused` judge an env episode under `pipeline` (final module against the
    canonical module)? Yes when its decisions only group instructions and its clean-up only
    merges duplicates and removes dead code (as the default pipeline's)."""
    from hloenv.passes.pipeline import parse_pipeline
    cleanup = {p.name for p in parse_pipeline(pipeline.cleanup).passes()}
    decisions = {p.name for p in pipeline.decision_passes()}
    return decisions <= GROUPING_PASSES and cleanup <= {p.name for p in parse_pipeline(MERGE_DUPLICATES).passes()}


def unfused_fingerprint(module: Module) -> str:
    """The fingerprint of a copy of `module` defused, duplicates merged, dead code removed and
    layouts dropped (fused computations carry none: XLA gives every buffer its default layout)."""
    from hloenv.passes.pipeline import parse_pipeline
    copy = module.clone()
    Defuse()(copy)
    for comp in copy.computations:  # before cse, which tells shapes apart by layout
        for inst in comp.instructions:
            inst.shape = inst.shape.without_layout()
    parse_pipeline(MERGE_DUPLICATES)(copy)
    return copy.fingerprint()


def same_program_unfused(a: Module, b: Module) -> bool:
    """Do `a` and `b` compute the same instructions once fusions are expanded and duplicates merged?

    Exact (no compiler, no tolerance): for `b` made from `a` by fusion decisions alone (`fusion`,
    `multi-output-fusion`, `fusion-merger`, any choices), True means the decisions compute what `a`
    computes. Rewrites that change instructions (algsimp, ...) make it False by design.
    """
    return unfused_fingerprint(a) == unfused_fingerprint(b)


def episode_is_exact(original: Module, final: Module, pipeline: "EnvPipeline") -> bool | None:
    """Is an env episode's `final` module, defused, `original` canonicalised by `pipeline`? None
    when `pipeline` decides more than fusions (`judges`), which this check cannot judge."""
    if not judges(pipeline):
        return None
    canonical = original.clone()
    pipeline.canonicalize_pipeline()(canonical)
    return unfused_fingerprint(canonical) == unfused_fingerprint(final)
