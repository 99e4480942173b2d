"""XLA's greedy instruction-fusion algorithm (InstructionFusion::Run) on a `ClusterGraph`.

Consumers are visited in reverse post-order; each consumer's operands are tried latest first; the
first producer the rules accept is fused and the (new) fusion is visited again at once, so fusions
grow producer by producer. With `may_duplicate`, producers that would be duplicated are first
screened globally (ComputeGloballyUnfusible): a producer that reads more than it writes and is not
"effectively unary" is fused only if it can be fused into all its users on all paths.

This is the reference. On CPU, `instruction_fusion.xla_clusters` runs the compiled kernel
(`_greedy_kernel.pyx`, the same loop on integer arrays) when it is built; keep both in step
(`tests/passes/fusion/test_greedy_kernel.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.shape import Shape
from hloenv.passes.fusion import fusibility as fz
from hloenv.passes.fusion.fuse import Cluster, ClusterGraph, Node

#: Reachability searches (and all-paths recursion) give up past these and answer conservatively.
REACH_LIMIT = 4000
ALL_PATHS_DEPTH = 200

Decide = Callable[[Node, Node, ClusterGraph, bool], fz.FusionDecision]


#: shape -> (its true rank (0 for a tuple), the largest true rank of its array leaves, elements of
#: its array leaves): pure functions of a shape, asked for every producer of every round (shapes
#: are few and shared).
_SHAPE_FACTS: dict[Shape, tuple[int, int, int]] = {}
_MAX_SHAPE_FACTS = 100_000


def _shape_facts(shape: Shape) -> tuple[int, int, int]:
    facts = _SHAPE_FACTS.get(shape)
    if facts is None:
        arrays = [s for s in shape.leaves() if s.is_array]
        facts = (_true_rank(shape), max((_true_rank(s) for s in arrays), default=0),
                 sum(s.element_count for s in arrays))
        if len(_SHAPE_FACTS) >= _MAX_SHAPE_FACTS:
            _SHAPE_FACTS.clear()
        _SHAPE_FACTS[shape] = facts
    return facts


def _true_rank(shape: Shape) -> int:
    return sum(1 for d in shape.dims if d > 1)


def effectively_at_most_unary(inst: Instruction, graph: ClusterGraph) -> bool:
    """XLA: at most one operand is "large" (as big in true rank as the output)."""
    out_rank = _shape_facts(inst.shape)[1]
    big = 0
    for op in graph.operands(inst):
        if op.opcode in ("broadcast", "iota"):
            continue
        if op.opcode == "constant" and fz.is_effective_scalar(op.shape):
            continue
        if _shape_facts(op.shape)[0] >= out_rank:
            big += 1
    return big <= 1


_NEVER_SCREENED = frozenset({"parameter", "constant", "get-tuple-element", "tuple"})


def screened_for_duplication(inst: Instruction, graph: ClusterGraph) -> bool:
    """XLA ComputeGloballyUnfusible looks at `inst`: it reads more elements than it writes and is
    not effectively unary (so duplicating it into several consumers repeats real work)."""
    if inst.opcode in _NEVER_SCREENED or effectively_at_most_unary(inst, graph):
        return False
    out_size = _shape_facts(inst.shape)[2]
    in_size = sum(_shape_facts(o.shape)[2] for o in {id(o): o for o in inst.operands}.values())
    return in_size > out_size


class _Reach:
    """Is `a` an ancestor of (or equal to) `b` in the original graph? Memoised, bounded."""

    def __init__(self, position: dict[Instruction, int]):
        self.position = position
        self.memo: dict[tuple[Instruction, Instruction], bool] = {}

    def __call__(self, a: Instruction, b: Instruction) -> bool:
        if a is b:
            return True
        pa, pb = self.position.get(a), self.position.get(b)
        if pa is None or pb is None:
            return True
        if pb < pa:
            return False
        key = (a, b)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        found = False
        seen: set[Instruction] = set()
        stack = [b]
        position = self.position
        while stack:
            inst = stack.pop()
            if inst is a:
                found = True
                break
            if inst in seen:
                continue
            seen.add(inst)
            if len(seen) > REACH_LIMIT:
                found = True  # conservative: assume a path
                break
            for op in inst.operands:
                if position.get(op, -1) >= pa:
                    stack.append(op)
        self.memo[key] = found
        return found


def globally_unfusible(graph: ClusterGraph, decide: Decide) -> set[Instruction]:
    """XLA ComputeGloballyUnfusible: the producers that must not be duplicated."""
    reach = _Reach(graph.position)
    do_not_duplicate: set[Instruction] = set()
    cache: dict[tuple[Instruction, Instruction], bool] = {}

    def all_paths(producer: Instruction, consumer: Instruction, depth: int) -> bool:
        if consumer is producer:
            return True
        if depth > ALL_PATHS_DEPTH or not fz.is_fusible(consumer, graph):
            return False
        key = (producer, consumer)
        hit = cache.get(key)
        if hit is not None:
            return hit
        result = True
        for op in consumer.operands:
            if not reach(producer, op):
                continue
            if op in do_not_duplicate or not decide(op, consumer, graph, True) \
                    or not fz.legal_to_fuse(op, consumer, graph):
                result = False
                break
            if not all_paths(producer, op, depth + 1):
                result = False
                break
        cache[key] = result
        return result

    for producer in reversed(graph.comp.instructions):
        if not screened_for_duplication(producer, graph):
            continue
        if fz.is_fusible(producer, graph) and all(all_paths(producer, u, 0) for u in producer.users):
            continue
        do_not_duplicate.add(producer)
    all_paths = None  # type: ignore[assignment]  # it calls itself through a closure cell: a cycle
    return do_not_duplicate


def run_greedy(graph: ClusterGraph, decide: Decide, may_duplicate: bool = True) -> int:
    """XLA InstructionFusion::Run on one computation; returns the number of fusion steps.

    Fusions are accepted only when both XLA's heuristic `decide` and `legal_to_fuse` agree, so
    what XLA would do is always one of the options the environment offers.
    """
    do_not_duplicate = globally_unfusible(graph, decide) if may_duplicate else set()
    queue: list[Node | None] = list(graph.comp.instructions)
    # Existing clusters (an earlier round) stand in for their roots.
    queue = [graph.node_of(i) if i in graph.cluster_of else i for i in queue]  # type: ignore[arg-type]
    queue = [n for n in queue if n is not None and (isinstance(n, Cluster) or not _fused_away(n, graph))]
    # (nodes, instructions and clusters, hash by identity: no __eq__)
    index: dict[Node, int] = {n: k for k, n in enumerate(queue)}
    refused: set[tuple[Node, Node]] = set()  # (producer, consumer) pairs the heuristic refused for good
    # fusibility of an instruction never changes (clusters are fusions: always fusible)
    unfusible = {i for i in graph.comp.instructions if not fz.is_fusible(i, graph)}
    steps = 0
    while queue:
        node = queue.pop()
        if node is None:
            continue
        index.pop(node, None)
        if node in unfusible:
            continue
        ops = graph.operands(node)
        for i in _latest_first(ops, index):
            producer = ops[i]
            if producer in unfusible or producer in do_not_duplicate or isinstance(producer, Cluster):
                continue
            pair = (producer, node)
            if pair in refused:
                continue
            decision = decide(producer, node, graph, may_duplicate)
            if not decision:
                if decision.final:
                    refused.add(pair)
                continue
            if not fz.legal_to_fuse(producer, node, graph):
                continue
            fusion = graph.fuse(producer, node)
            steps += 1
            index[fusion] = len(queue)
            queue.append(fusion)
            if graph.is_dead(producer):
                k = index.pop(producer, None)
                if k is not None:
                    queue[k] = None
                do_not_duplicate.discard(producer)
            if fusion is not node:
                do_not_duplicate.discard(node)
            break
    return steps


def _latest_first(ops: list[Node], index: dict[Node, int]) -> list[int]:
    """Indices of the operands still in the queue, latest queued first (ties: operand order)."""
    ranked = [(-k, i) for i, o in enumerate(ops) if (k := index.get(o)) is not None]
    ranked.sort()
    return [i for _, i in ranked]


def _fused_away(inst: Instruction, graph: ClusterGraph) -> bool:
    """An instruction an earlier round fused into every user (it no longer exists in XLA)."""
    return inst in graph._users and graph.is_dead(inst)
