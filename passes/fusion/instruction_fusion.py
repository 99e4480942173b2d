"""fusion: producer-into-consumer instruction fusion into single-output kLoop fusions.

    before:  e = f32[8] exponential(p)            ROOT m = f32[8] multiply(e, q)
    after:   ROOT fusion.1 = f32[8] fusion(p, q), kind=kLoop, calls=fused_computation.1
             (fused_computation.1 computes multiply(exponential(param_0), param_1))

Real mode runs XLA's greedy algorithm (`greedy.run_greedy`: consumers in reverse post-order,
operands latest first, XLA's CPU rules, or its GPU rules with `backend="gpu"`, which run twice:
without then with duplication) and builds the resulting fusions. A producer with other users
stays alive for them (it is duplicated into the fusion), so instruction fusion never makes a cycle.

Dry mode. Decisions are made against the original graph (the original consumer stays alive), so a
dry run cannot replay XLA's chain of fusions one producer at a time. It offers, at each consumer
(an `alternatives` node at the consumer):
  - `fusion:operand<i>`: the consumer with its operand i fused in (or, for a consumer that is
    already a fusion, that fusion extended by it), for every operand that `legal_to_fuse` allows
    (XLA's hard limits; not its profitability heuristics, which are the agent's job), and
  - `fusion:xla`: the whole fusion XLA's greedy algorithm grows from this consumer, when XLA would
    make this consumer the root of a fusion. When that fusion is just one of the single-producer
    options, that option is renamed `fusion:xla` instead of being offered twice.
Choosing `fusion:xla` wherever it is offered (`xla_like_choices`) rebuilds XLA's own fusion
decisions; other choices mix one-producer fusions freely (fusions read other sites' choices, so
picking options at a producer and its consumer gives two nested fusions, never a wrong program).
Options are lazy (`hloenv.altgraph.lazy`): a fused computation is built only for an option that is
chosen (or printed, cloned, verified), as it would have been built during the dry run.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.alternatives import alternatives_nodes, option_rules
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.passes.base import Pass, register
from hloenv.passes.fusion import fusibility as fz, greedy_kernel
from hloenv.passes.fusion.fuse import (Cluster, ClusterGraph, build_fusion, fusion_computations, lazy_fusion,
                                       remove_dead)
from hloenv.passes.fusion.greedy import run_greedy
from hloenv.passes.rewriter import Rewriter

#: Rules whose name ends with this mark the option XLA's own heuristic takes.
XLA_SUFFIX = ":xla"


def is_xla_choice(rule: str) -> bool:
    return rule.endswith(XLA_SUFFIX)


def xla_like_choices(module: Module) -> list[int]:
    """For every alternatives node (in `alternatives_nodes` order), the option XLA would choose:
    the first option whose rule ends with `:xla`, else 0 (keep the original)."""
    out = []
    for node in alternatives_nodes(module):
        rules = option_rules(node)
        out.append(next((k for k, r in enumerate(rules) if is_xla_choice(r)), 0))
    return out


@dataclass
class XlaFusions:
    """The fusions XLA's greedy algorithm makes in one computation (nothing is built yet)."""

    clusters: list[Cluster]
    cluster_of: dict[Instruction, Cluster]  # a cluster's root -> the cluster
    position: dict[Instruction, int]  # instruction -> its index in the computation
    #: from the kernel: legal_to_fuse of every operand slot in the unfused graph (`CpuFusion`)
    kernel: greedy_kernel.CpuFusion | None = None

    def legal_operand(self, consumer: Instruction, i: int, unfused: ClusterGraph) -> bool:
        """`legal_to_fuse(consumer.operands[i], consumer)` in the unfused computation."""
        if self.kernel is None:
            return bool(fz.legal_to_fuse(consumer.operands[i], consumer, unfused))
        return self.kernel.legal[self.kernel.slot_start[self.position[consumer]] + i] != 0


def xla_clusters(comp: Computation, backend: str, kernel: bool = True) -> XlaFusions:
    """Run XLA's greedy fusion for `backend` on `comp` (the module is untouched). On CPU the
    compiled kernel runs it when it is built (`greedy_kernel`); `kernel=False` runs the reference."""
    if backend == "cpu" and kernel:
        found = greedy_kernel.cpu_fusion(comp)
        if found is not None:
            return XlaFusions(found.clusters, {c.root: c for c in found.clusters},
                              {i: k for k, i in enumerate(comp.instructions)}, found)
    graph = ClusterGraph(comp)
    decide = fz.should_fuse(backend)
    if backend == "gpu":
        run_greedy(graph, decide, may_duplicate=False)
    run_greedy(graph, decide, may_duplicate=True)
    return XlaFusions(graph.clusters, graph.cluster_of, graph.position)


@register
@dataclass(frozen=True)
class InstructionFusion(Pass):
    """Producer-into-consumer kLoop fusion (XLA's `fusion` pass)."""

    name = "fusion"
    leaves_embedded_alone = True  # (it works on `fusion_computations`)
    reads_fused_bodies = True
    offers_acyclic_options = True  # (an option fuses the consumer with producers it reads)
    backend: str = "cpu"

    def __post_init__(self) -> None:
        fz.should_fuse(self.backend)  # (an unknown backend: refused now, not when it runs)

    def run(self, module: Module, rewriter: Rewriter) -> None:
        for comp in fusion_computations(module):
            graph = xla_clusters(comp, self.backend)
            if rewriter.dry:
                self._record(comp, graph, rewriter)
            else:
                self._apply(comp, graph, rewriter)

    @staticmethod
    def _members(graph: XlaFusions, cluster: Cluster) -> list[Instruction]:
        return list(cluster.sorted_members(graph.position))

    def _apply(self, comp: Computation, graph: XlaFusions, rewriter: Rewriter) -> None:
        candidates: set[int] = set()
        built = []
        for cluster in graph.clusters:  # build every fusion first: they read original instructions
            members = self._members(graph, cluster)
            built.append((cluster.root, build_fusion(rewriter, comp, members, [cluster.root])))
            candidates.update(id(m) for m in members)
        for root, fusion in built:
            rewriter.replace(root, fusion, "fusion")
        rewriter.finish()
        remove_dead(comp, candidates)

    def _record(self, comp: Computation, graph: XlaFusions, rewriter: Rewriter) -> None:
        # Every option is decided on the untouched computation before any is recorded: a recorded
        # option is a new user of the instructions it reads, and legality reads users (a
        # matrix-vector dot may be fused into its add only while it has one user).
        original = ClusterGraph(comp)  # the unfused graph, for the single-producer options
        decided: list[tuple[Instruction, list[tuple[list[Instruction], str]]]] = []
        for consumer in reversed(list(comp.instructions)):
            if not fz.is_fusible(consumer, original):
                continue
            cluster = graph.cluster_of.get(consumer)
            xla_members = cluster.member_set if cluster is not None else None
            options: list[tuple[list[Instruction], str]] = []
            seen: set[Instruction] = set()
            for i, producer in enumerate(consumer.operands):
                if producer in seen or not graph.legal_operand(consumer, i, original):
                    continue
                seen.add(producer)
                rule = f"fusion:operand{i}"
                if xla_members is not None and xla_members == {consumer, producer}:
                    rule, xla_members = "fusion" + XLA_SUFFIX, None
                options.append(([producer, consumer], rule))
            if xla_members is not None:
                options.append((self._members(graph, cluster), "fusion" + XLA_SUFFIX))  # type: ignore[arg-type]
            if options:
                decided.append((consumer, options))
        for consumer, options in decided:  # lazy: only the options an agent picks get a fused body
            for members, rule in options:
                fusion = lazy_fusion(rewriter, comp, members, [consumer])
                rewriter.replace(consumer, fusion, rule)
