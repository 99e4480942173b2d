"""call-inliner: replace `call` instructions by the body of the computation they call.

    before:  f { x = f32[4] parameter(0)  ROOT n = f32[4] negate(x) }
             ENTRY e { p = f32[4] parameter(0)  ROOT c = f32[4] call(p), to_apply=f }
    after:   ENTRY e { p = f32[4] parameter(0)  ROOT n.1 = f32[4] negate(p) }

The callee stays in the module while another caller uses it; dce removes it when none does.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.alternatives import SITE_ATTR
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.order import topological_sort
from hloenv.passes.base import RewritePass, RewriteRule, register
from hloenv.passes.rewriter import Rewriter


def inline_body(callee: Computation, args: list[Instruction], into: Computation, rewriter: Rewriter) -> Instruction:
    """Copy `callee` into `into` with its parameters replaced by `args`; returns the copied root."""
    topological_sort(callee)  # an earlier inline in this pass may have appended to it
    mapping: dict[int, Instruction] = {}
    for inst in callee.instructions:
        if inst.opcode == "parameter":
            mapping[id(inst)] = args[inst.parameter_number]
            continue
        copy = rewriter.create(into, inst.opcode, inst.shape, [mapping[id(op)] for op in inst.operands],
                               dict(inst.attrs) if inst.attrs else None, payload=inst.payload,
                               called={k: list(v) for k, v in inst.called.items()} or None, name=inst.name)
        for pred in inst.control_predecessors:
            copy.add_control_predecessor(mapping[id(pred)])
        if inst.opcode == ALTERNATIVES:  # (a dry run's node in the callee: its copy decides at the
            # copied site, so each inlined copy is its own decision with its own identity)
            copy.set_attr(SITE_ATTR, f'"{copy.operands[0].name}"')
        mapping[id(inst)] = copy
    return mapping[id(callee.root)]


class InlineCall(RewriteRule):
    """`c = call(args), to_apply=f` => the instructions of f applied to args."""

    name = "inline-call"
    opcodes = frozenset({"call"})

    def match_and_rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        callees = inst.called.get("to_apply") or inst.called.get("calls")
        if not callees or len(callees) != 1:
            return False
        callee = callees[0]
        if callee is inst.parent or len(callee.parameters) != len(inst.operands):
            return False
        if any(i.opcode in ("send", "recv", "infeed", "outfeed") for i in callee.instructions):
            return False
        root = inline_body(callee, list(inst.operands), inst.parent, rewriter)
        return rewriter.replace(inst, root, self.name)


@register
@dataclass(frozen=True)
class CallInliner(RewritePass):
    name = "call-inliner"
    rules = (InlineCall(),)
