"""dce: remove instructions and computations nothing needs.

    before:  p = f32[4] parameter(0)     n = f32[4] negate(p)     ROOT r = f32[4] abs(p)
    after:   p = f32[4] parameter(0)     ROOT r = f32[4] abs(p)

Instructions with side effects and parameters are kept. A clean-up pass: it decides nothing, so
dry mode runs it for real.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.alternatives import remove_dead_instructions, remove_uncalled_computations
from hloenv.altgraph.module import Module
from hloenv.passes.base import Pass, register
from hloenv.passes.rewriter import Rewriter


@register
@dataclass(frozen=True)
class DeadCodeElimination(Pass):
    name = "dce"
    makes_decisions = False

    def run(self, module: Module, rewriter: Rewriter) -> None:
        memo: dict[int, bool] = {}  # (side effects, by computation: one scan of each reducer)
        removed = sum(remove_dead_instructions(c, memo) for c in module.computations)
        removed += remove_uncalled_computations(module)
        rewriter.rewrites += removed
        if removed:
            rewriter.log.append(("dce", f"{removed} removed"))
