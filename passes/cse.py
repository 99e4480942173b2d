"""cse: common-subexpression elimination.

    before:  a = f32[4] exponential(p)    b = f32[4] exponential(p)    ROOT r = f32[4] add(a, b)
    after:   a = f32[4] exponential(p)    ROOT r = f32[4] add(a, a)

Two instructions are the same when opcode, shape, attributes (metadata aside), literal and
operands (the same instructions, in order) are. Instructions with side effects, parameters, random
number generators and alternatives nodes are never merged. In dry mode each duplicate becomes
`alternatives(duplicate, canonical)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.alternatives import has_side_effect
from hloenv.altgraph.instruction import NON_SEMANTIC_ATTRS, Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.passes.base import Pass, register, rewritable_computations
from hloenv.passes.rewriter import Rewriter

_NEVER = frozenset({"parameter", ALTERNATIVES, "rng", "rng-bit-generator", "rng-get-and-update-state",
                    "custom-call", "after-all", "infeed", "recv", "send"})


def cse_key(inst: Instruction) -> tuple:
    # most instructions have no attributes and call nothing: no sorting for them
    attrs = tuple(sorted((k, v) for k, v in inst.attrs.items() if k not in NON_SEMANTIC_ATTRS and v is not None)) \
        if inst.attrs else ()
    called = tuple((k, tuple(id(c) for c in v)) for k, v in sorted(inst.called.items())) if inst.called else ()
    return (inst.opcode, inst.shape, inst.payload, attrs, called, tuple(inst.operands))  # operands by identity


@register
@dataclass(frozen=True)
class CommonSubexpressionElimination(Pass):
    name = "cse"

    def run(self, module: Module, rewriter: Rewriter) -> None:
        memo: dict[int, bool] = {}  # (side effects, by computation: CSE adds or removes none)
        for comp in rewritable_computations(module):
            seen: dict[tuple, Instruction] = {}
            for inst in list(comp.instructions):
                if inst.opcode in _NEVER or has_side_effect(inst, memo) or inst.control_predecessors:
                    continue
                key = cse_key(inst)
                first = seen.get(key)
                if first is None:
                    seen[key] = inst
                elif rewriter.dry:
                    rewriter.replace(inst, first, "cse")
                else:
                    rewriter.replace(inst, first, "cse")
