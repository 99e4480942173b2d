"""fusion-merger: merge a loop fusion into its users (which then recompute it), removing the
intermediate buffer between them.

    before:  f = f32[8] fusion(x), kind=kLoop, calls=f1      u = f32[8] fusion(f, y), calls=f2
    after:   u' = f32[8] fusion(x, y), kind=kLoop, calls=f12   (f1 inlined where f2 read f)

Rules (XLA GPU's FusionMerger; XLA's CPU pipeline has no fusion merger):
- legal: the producer is a single-output kLoop fusion and not the computation root; a user is a
  single-output kLoop fusion or an instruction that can be loop fused (elementwise, data movement,
  reduce); the user does not update the producer's buffer in place (dynamic-update-slice).
- XLA's heuristic on top (merge into all users or none): every user is a loop fusion; with several
  users the producer holds no expensive instruction and no heavy reduction (no duplicated expensive
  work); merging does not grow the bytes moved by more than 10%; each merged fusion stays within
  the operand budget.

Dry mode offers, at each user, the user with the producer merged in (`fusion-merger`, with the
suffix `:xla` where XLA on GPU would merge, when `backend="gpu"`); picking it at some users only
leaves the producer alive for the others (duplication, never a wrong program). Real mode merges
wherever the heuristic agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.passes.base import Pass, register
from hloenv.passes.fusion import fusibility as fz
from hloenv.passes.fusion.fuse import ClusterGraph, build_fusion, fusion_computations, remove_dead
from hloenv.passes.fusion.instruction_fusion import XLA_SUFFIX
from hloenv.passes.rewriter import Rewriter

#: XLA FusionMerger: merging may grow the bytes transferred by at most this factor.
MAX_BYTES_RATIO = 1.10


def _body(fusion: Instruction) -> list[Instruction]:
    return [i for i in fusion.called_computations[0].instructions if i.opcode != "parameter"]


def merge_legal(producer: Instruction, user: Instruction, graph: ClusterGraph) -> fz.FusionDecision:
    """Can `producer` (a fusion) be merged into `user`?"""
    if not fz.is_loop_fusion(producer, graph):
        return fz.forbid("producer is not a single-output loop fusion")
    if graph.is_root(producer):
        return fz.forbid("not fusing into the output of the root instruction")
    if user.opcode == "fusion":
        if not fz.is_loop_fusion(user, graph):
            return fz.forbid("user is not a single-output loop fusion")
    elif not fz.is_fusible(user, graph) or not fz.cpu_can_be_loop_fused(user):
        return fz.forbid("user is not loop-fusible")
    return fz.in_place_ok(producer, user, graph)


def merge_should(producer: Instruction, graph: ClusterGraph) -> fz.FusionDecision:
    """XLA FusionMerger's decision for merging `producer` into all of its users."""
    users = list(producer.users)
    if not users:
        return fz.forbid("fusion has no users")
    if not all(fz.is_loop_fusion(u, graph) for u in users):
        return fz.forbid("not all users are loop fusions")
    if any(not merge_legal(producer, u, graph) for u in users):
        return fz.forbid("not all users can take the fusion")
    body = _body(producer)
    if len(users) > 1:
        # XLA: don't duplicate expensive instructions or heavy reductions into several users
        if any(fz.gpu_is_expensive(i, graph) for i in body if i.opcode != "constant"):
            return fz.forbid("fusion contains an expensive instruction")
        if any(fz._gpu_expensive_to_repeat(i, graph) for i in body):
            return fz.forbid("fusion contains a reduction that is expensive to repeat")
    in_bytes = sum(o.shape.byte_size for o in {id(o): o for o in producer.operands}.values())
    current = in_bytes + producer.shape.byte_size * (1 + len(users))
    merged = in_bytes * len(users)
    if merged > MAX_BYTES_RATIO * max(1, current):
        return fz.forbid("merging would increase the bytes transferred")
    for u in users:
        ops = {id(o) for o in u.operands} | {id(o) for o in producer.operands}
        ops.discard(id(producer))
        if len(ops) + 1 > fz.MAX_OPERANDS_AND_OUTPUTS_PER_FUSION:
            return fz.forbid("merged fusion would have too many operands")
    return fz.ALLOW


@register
@dataclass(frozen=True)
class FusionMerger(Pass):
    """Merge loop fusions into their users."""

    name = "fusion-merger"
    leaves_embedded_alone = True  # (it works on `fusion_computations`)
    reads_fused_bodies = True
    backend: str = "cpu"

    def __post_init__(self) -> None:
        fz.should_fuse(self.backend)  # (an unknown backend: refused now, not when it runs)

    def run(self, module: Module, rewriter: Rewriter) -> None:
        for comp in fusion_computations(module):
            if rewriter.dry:
                self._record(comp, rewriter)
            else:
                self._apply(comp, rewriter)

    def _rule(self, xla: bool) -> str:
        return "fusion-merger" + (XLA_SUFFIX if xla and self.backend == "gpu" else "")

    def _record(self, comp: Computation, rewriter: Rewriter) -> None:
        """Dry: every decision is made on the program as it is, and every option is built before
        any is recorded, so options read original instructions and no option is merged into
        another (options of options: on resnet50's fused module, 22 GB before the process died)."""
        graph = ClusterGraph(comp)
        rules = {id(p): self._rule(bool(merge_should(p, graph)))
                 for p in comp.instructions if p.opcode == "fusion"}
        pairs = [(p, u, rules[id(p)]) for p in comp.instructions if id(p) in rules
                 for u in list(p.users) if u.parent is comp and merge_legal(p, u, graph)]
        built = [(user, build_fusion(rewriter, comp, [producer, user], [user]), rule)
                 for producer, user, rule in pairs]
        for user, fusion, rule in built:
            rewriter.replace(user, fusion, rule)

    def _apply(self, comp: Computation, rewriter: Rewriter) -> None:
        """Real: XLA's order, merging wherever the heuristic agrees; a merged fusion can take the
        next producer too."""
        graph = ClusterGraph(comp)
        dead: set[int] = set()
        merged_into: set[int] = set()
        for producer in list(comp.instructions):
            if producer.opcode != "fusion" or id(producer) in merged_into:
                continue
            if not merge_should(producer, graph):
                continue
            built = []
            for user in list(producer.users):
                if user.parent is comp and merge_legal(producer, user, graph):
                    built.append((user, build_fusion(rewriter, comp, [producer, user], [user])))
            for user, fusion in built:
                rewriter.replace(user, fusion, self._rule(True))
                merged_into.add(id(fusion))
                dead.add(id(user))
            dead.add(id(producer))
        if dead:
            rewriter.finish()
            remove_dead(comp, dead)
