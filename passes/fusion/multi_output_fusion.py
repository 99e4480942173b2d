"""multi-output-fusion: fuse siblings that share an operand, or a producer with a consumer, into one
fusion that returns a tuple; users read it through get-tuple-element.

Sibling (both read `x`; neither reaches the other; same loop shape):
    before:  a = f32[8] fusion(x, y), calls=f1          b = f32[8] fusion(x), calls=f2
    after:   m = (f32[8], f32[8]) fusion(x, y), kind=kLoop, calls=f12   (root: tuple(a', b'))
             a.gte = f32[8] get-tuple-element(m), index=0   b.gte = ... index=1
Producer-consumer (p has other users, so plain fusion would duplicate it):
    before:  p = f32[8] fusion(x), calls=f1    c = f32[8] add(p, y)    d = f32[8] negate(p)
    after:   m = (f32[8], f32[8]) fusion(x, y), calls=f1c (root: tuple(c', p'))  c, p read m

Rules (XLA GPU's GpuMultiOutputFusion; XLA's CPU pipeline has no multi-output fusion):
- legal: both are single-output loop fusions or elementwise instructions (a reduce may also be a
  producer-consumer root), no dynamic-update-slice roots, equal loop shapes (a reduce's loop shape is
  its input's), and no path between them (siblings), or no other operand of the consumer reachable
  from the producer (producer-consumer): never a cycle.
- XLA's heuristic on top: a sibling pair needs a fusion among the two and no scalar-constant shared
  operand; a producer must have more than one user and not transpose; at most
  MAX_OPERANDS_AND_OUTPUTS_PER_FUSION operands plus outputs. (XLA's GPU performance model is not
  modelled.) Options XLA on GPU would take get the rule suffix `:xla` when `backend="gpu"`.

Real mode applies the heuristic's candidates greedily, each instruction joining at most one
multi-output fusion per run (a pair is re-checked for legality on the graph as rewritten so far).
Dry mode records each candidate pair as two alternatives (at each original output, its
get-tuple-element), but at most `max_sibling_options` sibling pairs per instruction (the first
legal ones in XLA's order): an operand read by n instructions makes n(n-1)/2 legal pairs (165,713 in
t5-small's unfused training step, whose dry run then did not finish in 8 minutes), while the env
offers an agent at most `max_options` (8) per alternatives node anyway. With `backend="gpu"`, the
pairs XLA's run would take are offered past the cap too, each once (a pair of siblings sharing
two operands is one option), and exactly they get the `:xla` suffix, so `xla_like_choices` picks
what real mode fuses (short of its re-check: dry mode has no rewritten graph to re-check on).
Multi-output fusions compile only with the env pipeline (layout-assignment disabled).
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.passes.base import Pass, register
from hloenv.passes.fusion import fusibility as fz
from hloenv.passes.fusion.fuse import (ClusterGraph, build_fusion, depends_on, fusion_computations,
                                       get_tuple_elements, remove_dead)
from hloenv.passes.fusion.instruction_fusion import XLA_SUFFIX
from hloenv.passes.rewriter import Rewriter


def _root_of(inst: Instruction) -> Instruction:
    return inst.called_computations[0].root if inst.opcode == "fusion" else inst


def mof_root_ok(inst: Instruction, graph: ClusterGraph, allow_reduce: bool) -> fz.FusionDecision:
    """XLA IsFusibleAsMultiOutputFusionRoot, limited to what XLA on CPU compiles from text."""
    if inst.shape.is_tuple or not fz.is_fusible(inst, graph):
        return fz.forbid("not fusible as a multi-output fusion root")
    if inst.opcode == "fusion":
        if not fz.is_loop_fusion(inst, graph):
            return fz.forbid("not a loop fusion")
        if _root_of(inst).opcode == "dynamic-update-slice":
            return fz.forbid("can't fuse multiple DUSs")
        return fz.ALLOW
    if fz.is_elementwise(inst) or (allow_reduce and inst.opcode == "reduce"):
        return fz.ALLOW
    return fz.forbid("not fusible as a multi-output fusion root")


def loop_shape(inst: Instruction) -> tuple[int, ...]:
    """The iteration space: the output shape, or a reduce's input shape."""
    root = _root_of(inst)
    if root.opcode == "reduce":
        return root.operands[0].shape.dims
    return inst.shape.dims


def operand_budget_ok(a: Instruction, b: Instruction) -> fz.FusionDecision:
    # XLA FusionFitsInBudget: operands plus outputs of the new fusion
    ops = {id(o) for o in a.operands} | {id(o) for o in b.operands}
    ops.discard(id(a))
    ops.discard(id(b))
    if len(ops) + 2 > fz.MAX_OPERANDS_AND_OUTPUTS_PER_FUSION:
        return fz.forbid("Number of operands and output buffers is larger than allowed budget per fusion")
    return fz.ALLOW


def sibling_legal(a: Instruction, b: Instruction, graph: ClusterGraph) -> fz.FusionDecision:
    for inst in (a, b):
        if not (d := mof_root_ok(inst, graph, allow_reduce=False)):
            return d
    if loop_shape(a) != loop_shape(b):
        return fz.forbid("different loop shapes")
    if depends_on(a, [b], graph.position) or depends_on(b, [a], graph.position):
        return fz.forbid(f"{a.name} and {b.name} are connected")
    return fz.ALLOW


def sibling_should_fuse(shared: Instruction, a: Instruction, b: Instruction) -> fz.FusionDecision:
    # XLA GPU FuseSiblings: a fusion first, a profitable (not scalar-constant) shared operand
    if shared.opcode == "constant" and fz.is_effective_scalar(shared.shape):
        return fz.forbid("shared operand is a scalar constant")
    if a.opcode != "fusion" and b.opcode != "fusion":
        return fz.forbid("neither sibling is a fusion")
    return operand_budget_ok(a, b)


def producer_consumer_legal(p: Instruction, c: Instruction, graph: ClusterGraph) -> fz.FusionDecision:
    if p.opcode == "constant" or not (d := mof_root_ok(p, graph, allow_reduce=False)):
        return fz.forbid("producer is not multi-output fusible")
    if not (d := mof_root_ok(c, graph, allow_reduce=True)):
        return d
    if graph.is_root(p):
        return fz.forbid("producer is the computation root")
    if loop_shape(p) != loop_shape(c):
        return fz.forbid("different loop shapes")
    others = [o for o in c.operands if o is not p]
    if any(depends_on(o, [p], graph.position) for o in others):
        return fz.forbid(f"{p.name} would introduce a cycle when fused")
    return fz.ALLOW


def producer_consumer_should_fuse(p: Instruction, c: Instruction) -> fz.FusionDecision:
    # XLA GPU: a single-user producer was already FusionMerger's to take; transposes break coalescing
    if len(p.users) < 2:
        return fz.forbid("producer has a single user")
    body = p.called_computations[0].instructions if p.opcode == "fusion" else [p]
    if any(i.opcode in ("copy", "transpose") for i in body):
        return fz.forbid("producer is physically transposing")
    return operand_budget_ok(p, c)


@register
@dataclass(frozen=True)
class MultiOutputFusion(Pass):
    """Sibling and producer-consumer multi-output fusion."""

    name = "multi-output-fusion"
    leaves_embedded_alone = True  # (it works on `fusion_computations`)
    reads_fused_bodies = True
    backend: str = "cpu"
    #: dry mode: sibling pairs offered per instruction at most (see the module docstring)
    max_sibling_options: int = 8

    def run(self, module: Module, rewriter: Rewriter) -> None:
        for comp in fusion_computations(module):
            self._run_computation(comp, rewriter)

    def __post_init__(self) -> None:
        fz.should_fuse(self.backend)  # (an unknown backend: refused now, not when it runs)
        if self.max_sibling_options < 1:
            raise ValueError(f"max_sibling_options must be at least 1, not {self.max_sibling_options}")

    def _candidates(self, comp: Computation, graph: ClusterGraph, cap: int | None = None,
                    keep_taken: bool = False):
        """(outputs, members, rule, xla-would, takes) per legal pair, producers in reverse
        post-order. `takes`: XLA's run would fuse it (its heuristic agrees and neither member is in
        a pair taken before; real mode's re-check aside). With `cap`, at most that many sibling
        pairs per instruction, and (`keep_taken`) every pair XLA's run would take."""
        pairs: dict[Instruction, int] = {}  # sibling pairs yielded per instruction (with `cap`)
        taken: set[Instruction] = set()  # (instructions hash by identity)
        for x in reversed(list(comp.instructions)):
            users = [u for u in x.users if u.parent is comp]
            # siblings: fusions first (XLA sorts by fusion priority)
            users.sort(key=lambda u: u.opcode != "fusion")
            for i, a in enumerate(users):
                for b in users[i + 1:]:
                    over = cap is not None and (pairs.get(a, 0) >= cap or pairs.get(b, 0) >= cap)
                    if over and not (keep_taken and a not in taken and b not in taken
                                     and sibling_should_fuse(x, a, b)):
                        continue
                    if sibling_legal(a, b, graph):
                        if cap is not None and not over:
                            pairs[a] = pairs.get(a, 0) + 1
                            pairs[b] = pairs.get(b, 0) + 1
                        xla = bool(sibling_should_fuse(x, a, b))
                        yield [a, b], [a, b], "multi-output-fusion:sibling", xla, _take(taken, xla, a, b)
            if x.opcode == "parameter":
                continue
            for c in users:
                if producer_consumer_legal(x, c, graph):
                    xla = bool(producer_consumer_should_fuse(x, c))
                    yield [c, x], [x, c], "multi-output-fusion:producer-consumer", xla, _take(taken, xla, x, c)

    def _run_computation(self, comp: Computation, rewriter: Rewriter) -> None:
        graph = ClusterGraph(comp)
        used: set[int] = set()
        dead: set[int] = set()
        cap = self.max_sibling_options if rewriter.dry else None
        gpu_dry = rewriter.dry and self.backend == "gpu"
        candidates = list(self._candidates(comp, graph, cap, keep_taken=gpu_dry))
        if gpu_dry:
            candidates = _each_pair_once(candidates)
        for outputs, members, rule, xla, takes in candidates:
            if not rewriter.dry:
                if not xla or any(id(m) in used for m in members):
                    continue
                # re-check on the graph as rewritten so far (an earlier fusion can connect these)
                rewriter.finish()
                graph.position = {i: k for k, i in enumerate(comp.instructions)}
                legal = sibling_legal(*members, graph) if rule.endswith("sibling") else \
                    producer_consumer_legal(members[0], members[1], graph)
                if not legal:
                    continue
                used.update(id(m) for m in members)
                dead.update(id(m) for m in members)
            members = sorted(members, key=lambda m: graph.position.get(m, 0))
            fusion = build_fusion(rewriter, comp, members, outputs)
            gtes = get_tuple_elements(rewriter, comp, fusion)
            tag = XLA_SUFFIX if (takes if rewriter.dry else xla) and self.backend == "gpu" else ""
            for out, gte in zip(outputs, gtes):
                rewriter.replace(out, gte, rule + tag)
        if dead:
            rewriter.finish()
            remove_dead(comp, dead)


def _take(taken: set[Instruction], xla: bool, a: Instruction, b: Instruction) -> bool:
    """Would XLA's run fuse `a` and `b` (its heuristic says `xla`)? Each instruction joins one pair."""
    if not xla or a in taken or b in taken:
        return False
    taken.add(a)
    taken.add(b)
    return True


def _each_pair_once(candidates: list[tuple]) -> list[tuple]:
    """Candidates with a pair repeated (siblings sharing two operands) kept at its first place,
    taken if XLA's run takes it at any (pruning would merge the twins, keeping the first's rule)."""
    first: dict[tuple, int] = {}
    out: list[tuple] = []
    for outputs, members, rule, xla, takes in candidates:
        key = (rule, *sorted(map(id, members)))
        k = first.get(key)
        if k is None:
            first[key] = len(out)
            out.append((outputs, members, rule, xla, takes))
        elif takes:
            o, m, r, x, _ = out[k]
            out[k] = (o, m, r, x or xla, True)
    return out
