"""algsimp: XLA's algebraic simplifier, rule by rule (one small class per rule).

    before:  z = f32[] constant(0)    b = f32[4] broadcast(z), dimensions={}    ROOT r = f32[4] add(x, b)
    after:   ROOT x                    (dry mode: alternatives(r, x), rules "original;add-zero")

The rules live in one module per family (`arithmetic`, `shapes`, `compare_select`, `reduce_dot`);
`AlgebraicSimplifier.rules` collects them in dispatch order. Rules read constants through
`literals` and never look through `alternatives` nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.passes.algsimp import arithmetic, compare_select, reduce_dot, shapes
from hloenv.passes.base import RewritePass, RewriteRule, register

#: Every rule, in the order they are tried on an instruction.
RULES: tuple[RewriteRule, ...] = (*arithmetic.RULES, *shapes.RULES, *compare_select.RULES, *reduce_dot.RULES)


@register
@dataclass(frozen=True)
class AlgebraicSimplifier(RewritePass):
    """XLA's algebraic simplifier: local rewrites that keep every output value."""

    name = "algsimp"
    rules = RULES


def rule_names() -> list[str]:
    return [r.name for r in RULES]
