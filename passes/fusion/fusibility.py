"""Fusibility rules of XLA's CPU and GPU instruction fusion, as pure functions.

Every rule returns a `FusionDecision` (true when fusion may go ahead, else false with the reason),
like XLA's `FusionDecision`, so "why was this not fused" is answerable. Rules read the graph through
a `FusionGraph` (operands and users of each node), so the same rules judge the original graph (dry
mode) and the graph as XLA's greedy algorithm changes it (a consumer that has become a fusion).

A node is an `Instruction` or a `Cluster` (a fusion under construction, see `fuse.py`); both have
`opcode`, `shape` and, for rules that need them, the fused instructions.

Rules come in two kinds:
- legality (`legal_to_fuse`): what the project's kLoop fusions can hold and XLA on CPU compiles and
  computes correctly. Dry mode offers every legal (consumer, producer) pair. Transposes fuse as in
  XLA: a fusion reaches XLA as a fenced region after XLA's layout assignment (`altgraph/lowering.py`);
  a rule that kept transposes out dates from when fused modules ran with layout assignment off.
- heuristics (`cpu_should_fuse`, `gpu_should_fuse`): XLA's profitability decisions on top of that.
  They mark which option XLA would take.

On CPU the compiled kernel `_greedy_kernel.pyx` usually runs `cpu_should_fuse` and `legal_to_fuse`
instead: it asks the functions here everything about one instruction (`greedy_kernel.py`), and
repeats their order of checks on the cluster graph. Change either function and
`tests/passes/fusion/test_greedy_kernel.py` fails until the kernel agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hloenv.altgraph.alternatives import SIDE_EFFECT_OPCODES as _SIDE_EFFECTS, has_side_effect
from hloenv.altgraph.attributes import int_list, window
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lowering import is_matrix_vector_dot
from hloenv.altgraph.opcodes import ALTERNATIVES, ELEMENTWISE
from hloenv.altgraph.shape import COMPLEX_TYPES, FLOAT_TYPES, Shape

#: XLA's kFusionThresholdBytes (CPU dot rule) and kMaxConcatenateArguments.
FUSION_THRESHOLD_BYTES = 16 * 1024
MAX_CONCATENATE_ARGUMENTS = 8
#: XLA CPU's kMaxReductionsInFusion.
MAX_REDUCTIONS_IN_FUSION = 5
#: XLA GPU's MaxOperandsAndOutputsPerFusion().
MAX_OPERANDS_AND_OUTPUTS_PER_FUSION = 96


@dataclass(frozen=True)
class FusionDecision:
    """Whether a fusion may happen, and why not.

    `final` marks a refusal that cannot turn into a yes while XLA's greedy loop runs: it depends
    only on what stays fixed while the producer is unfused and the consumer only grows (opcodes,
    shapes, operand positions, a cluster's reused operands and reductions). The loop then does not
    ask again for the same pair; refusals that read users (duplication) are never final.
    """

    ok: bool
    reason: str = ""
    final: bool = False

    def __bool__(self) -> bool:
        return self.ok


ALLOW = FusionDecision(True)


_REFUSALS: dict[tuple[str, bool], FusionDecision] = {}


def forbid(reason: str, final: bool = False) -> FusionDecision:
    """A refusal; decisions are immutable, so each (reason, final) is made once and shared."""
    decision = _REFUSALS.get((reason, final))
    if decision is None:
        decision = FusionDecision(False, reason, final)
        if len(_REFUSALS) < 4096:  # (reasons naming instructions would grow it without end)
            _REFUSALS[(reason, final)] = decision
    return decision


class Node(Protocol):
    opcode: str
    shape: Shape


class FusionGraph(Protocol):
    """The view of the graph the rules read (operands/users of a node, fusion contents)."""

    def operands(self, node: Node) -> Sequence[Node]: ...
    def users(self, node: Node) -> Sequence[Node]: ...
    def is_root(self, node: Node) -> bool: ...
    def fused_instructions(self, node: Node) -> Sequence[Instruction] | None: ...
    def fused_count(self, node: Node, opcode: str) -> int: ...
    def reuses_operand(self, consumer: Node, producer: Node) -> bool: ...


# -- opcode classes ---------------------------------------------------------------------------------
_NOT_FUSIBLE = frozenset({"parameter", "while", "conditional", "call", "domain", ALTERNATIVES,
                          "get-tuple-element", "tuple"})
_NEVER_FUSIBLE = _NOT_FUSIBLE | {"rng", "rng-get-and-update-state"}
#: XLA CPU's CanBeLoopFused, beyond elementwise ops.
_CPU_LOOP_FUSIBLE = frozenset({"bitcast", "broadcast", "concatenate", "dynamic-slice",
                               "dynamic-update-slice", "gather", "iota", "pad", "reduce", "reshape",
                               "reverse", "slice", "transpose"})
#: XLA GPU's IsUniversallyLoopFusible, beyond elementwise ops.
_GPU_LOOP_FUSIBLE = frozenset({"bitcast", "broadcast", "concatenate", "dynamic-slice",
                               "dynamic-update-slice", "gather", "pad", "reduce-window", "reshape",
                               "reverse", "slice", "transpose", "copy"})
_PERMUTING = frozenset({"bitcast", "concatenate", "reshape", "reverse", "slice", "transpose", "gather"})
#: Cheap everywhere (XLA's InstructionFusion::IsExpensive false list, CPU version).
_CHEAP = frozenset({
    "add", "and", "bitcast", "bitcast-convert", "broadcast", "ceil", "clamp", "count-leading-zeros",
    "compare", "complex", "concatenate", "constant", "copy", "copy-done", "copy-start",
    "dynamic-reshape", "dynamic-slice", "dynamic-update-slice", "floor", "get-tuple-element", "imag",
    "infeed", "iota", "is-finite", "maximum", "minimum", "multiply", "mulhi", "negate", "not",
    "opt-barrier", "or", "outfeed", "pad", "partition-id", "popcnt", "real", "reduce-precision",
    "replica-id", "reshape", "reverse", "round-nearest-afz", "round-nearest-even", "select",
    "shift-left", "shift-right-arithmetic", "shift-right-logical", "slice", "stochastic-convert",
    "subtract", "transpose", "tuple", "xor",
})


def is_elementwise(node: Node) -> bool:
    return node.opcode in ELEMENTWISE


def is_fusible(node: Node, graph: FusionGraph) -> bool:
    """XLA's HloInstruction::IsFusible: no parameters, control flow or side effects."""
    op = node.opcode
    if op == "fusion":
        return True
    if op in _NEVER_FUSIBLE:
        return False
    if isinstance(node, Instruction):  # (`shape.dynamic` is empty unless some dimension is dynamic)
        if op in _SIDE_EFFECTS or node.control_predecessors or node.shape.dynamic:
            return False
        if op == "custom-call" and has_side_effect(node):
            return False
    return True


def is_loop_fusion(node: Node, graph: FusionGraph) -> bool:
    if node.opcode != "fusion":
        return False
    if isinstance(node, Instruction):
        kind = node.attrs.get("kind")
        return kind == "kLoop" and not node.shape.is_tuple
    return True


def cpu_can_be_loop_fused(node: Node) -> bool:
    """XLA CPU's CanBeLoopFused: elementwise ops plus data movement, iota, pad, reduce."""
    if node.shape.is_tuple:
        return False  # variadic reduce: users are get-tuple-elements; kept out of kLoop fusions
    # a constant counts as elementwise in XLA (large ones are refused by their own rule)
    return is_elementwise(node) or node.opcode in _CPU_LOOP_FUSIBLE or node.opcode == "constant"


def is_effective_scalar(shape: Shape) -> bool:
    return shape.is_array and shape.element_count == 1


def _is_constant_scalar_or_broadcast(node: Node, graph: FusionGraph) -> bool:
    if node.opcode == "constant" and is_effective_scalar(node.shape):
        return True
    if node.opcode == "broadcast":
        ops = graph.operands(node)
        return bool(ops) and ops[0].opcode == "constant" and is_effective_scalar(ops[0].shape)
    return False


def _integral(shape: Shape) -> bool:
    return shape.dtype not in FLOAT_TYPES and shape.dtype not in COMPLEX_TYPES


def cpu_is_expensive(node: Node, graph: FusionGraph) -> bool:
    """XLA CPU's IsExpensive: transcendentals, float division, calls and heavy ops are expensive."""
    op = node.opcode
    if op in _CHEAP:
        return False
    complex_ = node.shape.dtype in COMPLEX_TYPES
    if op in ("abs", "sign", "cosine", "sine", "tan"):
        return complex_
    if op == "convert":
        ops = graph.operands(node)
        return node.shape.dtype == "bf16" and bool(ops) and ops[0].shape.dtype == "f32"
    if op in ("divide", "remainder"):
        # integer div/mod by a constant becomes multiplies and shifts (XLA CPU checks operand 0)
        ops = graph.operands(node)
        return not _integral(node.shape) or not _is_constant_scalar_or_broadcast(ops[0], graph)
    return True


def gpu_is_expensive(node: Node, graph: FusionGraph) -> bool:
    """XLA GPU's IsExpensive: like the generic rule, but f32/f16 divide, sqrt, rsqrt, exp are cheap."""
    op = node.opcode
    if op in ("divide", "sqrt", "rsqrt", "exponential") and node.shape.dtype in ("f32", "f16"):
        return False
    if op in ("cosine", "sine"):
        return node.shape.dtype in COMPLEX_TYPES
    if op == "convert":
        return False
    if op in ("divide", "remainder"):
        ops = graph.operands(node)
        return not _integral(node.shape) or not _is_constant_scalar_or_broadcast(ops[1], graph)
    return cpu_is_expensive(node, graph) or op in ("tan",)


def operand_reused(inst: Node, index: int, graph: FusionGraph) -> bool:
    """XLA's OperandElementUse(inst, index) == kReuse: does inst read an operand element twice?"""
    op = inst.opcode
    if is_elementwise(inst) or op in _PERMUTING:
        return False
    if op == "pad":
        return index > 0
    if op == "reduce":
        return index >= len(graph.operands(inst)) // 2
    if op == "dynamic-update-slice":
        return index > 1
    if op == "dot":
        ops = graph.operands(inst)
        if inst.shape.rank <= 1:
            if (index == 0 and ops[1].shape.rank <= 1) or (index == 1 and ops[0].shape.rank <= 1):
                return False
        return True
    return True


# -- rules shared by both backends ------------------------------------------------------------------
def not_root(producer: Node, graph: FusionGraph) -> FusionDecision:
    # XLA: "not fusing into the output of the root instruction"
    if graph.is_root(producer):
        return forbid("not fusing into the output of the root instruction", final=True)
    return ALLOW


def would_duplicate(producer: Node, consumer: Node, graph: FusionGraph) -> bool:
    """XLA's FusionWouldDuplicate: the producer has a user other than the consumer."""
    for u in graph.users(producer):
        if u is not consumer:
            return True
    return False


def is_always_duplicable(producer: Node, graph: FusionGraph) -> bool:
    # XLA: a widening convert or a broadcast gets cheaper the more it is duplicated
    if producer.opcode == "broadcast":
        return True
    if producer.opcode == "convert":
        ops = graph.operands(producer)
        return bool(ops) and ops[0].shape.byte_size < producer.shape.byte_size
    return False


def duplication_allowed(producer: Node, consumer: Node, graph: FusionGraph, may_duplicate: bool,
                        is_expensive: Callable[[Node, FusionGraph], bool]) -> FusionDecision:
    # XLA: don't duplicate expensive instructions (nor any, when the pass may not duplicate)
    if (would_duplicate(producer, consumer, graph) and (not may_duplicate or is_expensive(producer, graph))
            and not is_always_duplicable(producer, graph)):
        return forbid("expensive producer would be duplicated" if may_duplicate
                      else "fusion pass cannot duplicate")
    return ALLOW


def in_place_operand(consumer: Node, graph: FusionGraph) -> Node | None:
    """The operand a consumer updates in place (dynamic-update-slice operand 0), if any."""
    if consumer.opcode == "dynamic-update-slice":
        return graph.operands(consumer)[0]
    if consumer.opcode == "fusion":
        return graph.in_place_source(consumer)  # type: ignore[attr-defined]
    return None


def in_place_ok(producer: Node, consumer: Node, graph: FusionGraph) -> FusionDecision:
    # XLA ShouldFuseInPlaceOp: a consumer that updates a buffer in place must not read it elsewhere,
    # and a non-elementwise producer must not read that buffer (we do not model the slice/DUS
    # same-index exception: refused).
    buffer = in_place_operand(consumer, graph)
    if buffer is None:
        return ALLOW
    ops = graph.operands(consumer)
    if sum(1 for o in ops if o is buffer) > 1:
        return forbid("the consumer is an in-place operation that has an additional operand that "
                      "has the same value as the in-place buffer")
    if producer is buffer:
        return forbid("producer is the in-place buffer of the consumer")
    if not is_elementwise(producer) and any(o is buffer for o in graph.operands(producer)):
        return forbid("non-elementwise producer reads the in-place buffer of the consumer")
    return ALLOW


def no_large_constant(producer: Node) -> FusionDecision:
    # XLA CPU: "Don't fuse non-scalar constants."
    if producer.opcode == "constant" and not is_effective_scalar(producer.shape):
        return forbid("Don't fuse non-scalar constants.", final=True)
    return ALLOW


def cpu_can_be_output_fused(producer: Node, consumer: Node, graph: FusionGraph) -> bool:
    # XLA CPU: add(matrix-vector dot with exactly one use, x) is an output fusion (kept kLoop here)
    if consumer.opcode != "add" or not is_matrix_vector_dot(producer):
        return False
    users = graph.users(producer)
    return len(users) == 1 and sum(1 for o in graph.operands(users[0]) if o is producer) == 1


def cpu_dot_consumer(producer: Node, consumer: Node, graph: FusionGraph) -> FusionDecision | None:
    """XLA CPU: into a dot only a small matrix-vector product's matrix operand. None: not a dot."""
    if consumer.opcode != "dot":
        return None
    if consumer.shape.rank <= 1:
        ops = graph.operands(consumer)
        index = next((i for i, o in enumerate(ops) if o is producer), -1)
        if ops[0].shape.rank == 1 and index == 1 and ops[0].shape.byte_size < FUSION_THRESHOLD_BYTES:
            return ALLOW
        if ops[1].shape.rank == 1 and index == 0 and ops[1].shape.byte_size < FUSION_THRESHOLD_BYTES:
            return ALLOW
    return forbid("Not fusing: dot consumers take only small matrix-vector operands", final=True)


def _is_minor_dim_concatenate(node: Node) -> bool:
    # XLA CPU: a concatenate along the minor dimension of >= 64 contiguous bytes and >= 2 KiB total
    if node.shape.rank <= 1:
        return False
    dim = int_list(node)[0]  # type: ignore[arg-type]
    minor = node.shape.minor_to_major[0] if node.shape.minor_to_major else node.shape.rank - 1
    elem = node.shape.byte_size // max(1, node.shape.element_count)
    return dim == minor and node.shape.dims[dim] * elem >= 64 and node.shape.byte_size >= 2048


def cpu_concatenate_ok(producer: Node, consumer: Node, graph: FusionGraph) -> FusionDecision:
    # XLA CPU: "Concatenate fusion is inefficient." (too many arguments, or minor-dim concatenate)
    for node in (producer, consumer):
        if node.opcode == "concatenate" and (len(graph.operands(node)) > MAX_CONCATENATE_ARGUMENTS
                                             or _is_minor_dim_concatenate(node)):
            return forbid("Concatenate fusion is inefficient.", final=True)
    return ALLOW


def _consumer_loop_fusible(consumer: Node, graph: FusionGraph, backend: str) -> bool:
    if is_loop_fusion(consumer, graph):
        return True
    if consumer.shape.is_tuple:
        return False
    if backend == "gpu":
        return consumer.opcode == "reduce" or is_elementwise(consumer) or consumer.opcode in _GPU_LOOP_FUSIBLE
    return cpu_can_be_loop_fused(consumer)


# -- legality ---------------------------------------------------------------------------------------
def legal_to_fuse(producer: Node, consumer: Node, graph: FusionGraph) -> FusionDecision:
    """Can `producer` be fused into `consumer` as a kLoop fusion that XLA on CPU compiles?"""
    if not is_fusible(producer, graph) or not is_fusible(consumer, graph):
        return forbid("producer or consumer is not fusible (parameter, control flow, side effect)")
    if producer.opcode == "fusion":
        return forbid("producer is itself a fusion node")
    if not (cpu_can_be_loop_fused(producer) or is_matrix_vector_dot(producer) and cpu_can_be_output_fused(
            producer, consumer, graph)):
        return forbid("Producer is not loop-fusible.")
    if not (d := no_large_constant(producer)):
        return d
    # XLA's CPU loop emitter aborts on a gather the gather simplifier has not canonicalised, and the
    # env pipeline does not run that pass first: gathers stay unfused.
    if producer.opcode == "gather" or consumer.opcode == "gather":
        return forbid("gather is not fused (non-simplified gathers abort XLA's loop emitter)")
    dot = cpu_dot_consumer(producer, consumer, graph)
    if dot is not None and not dot:
        return dot
    if dot is None and not _consumer_loop_fusible(consumer, graph, "cpu"):
        return forbid("Not fusing: consumer is not loop-fusible")
    return in_place_ok(producer, consumer, graph)


# -- XLA's heuristics ---------------------------------------------------------------------------------
def cpu_should_fuse(producer: Node, consumer: Node, graph: FusionGraph,
                    may_duplicate: bool = True) -> FusionDecision:
    """XLA CpuInstructionFusion::ShouldFuse (legality included)."""
    if not (d := no_large_constant(producer)):
        return d
    if not is_fusible(producer, graph) or not is_fusible(consumer, graph):
        return forbid("not fusible", final=True)
    if cpu_can_be_output_fused(producer, consumer, graph):
        return in_place_ok(producer, consumer, graph)  # output fusion: emitted as kLoop here
    # XLA CPU: "Bailing because producer can be output-fused into some operand."
    if producer.opcode == "add" and any(cpu_can_be_output_fused(o, producer, graph)
                                        for o in graph.operands(producer)):
        return forbid("Bailing because producer can be output-fused into some operand.")
    if not cpu_can_be_loop_fused(producer):
        return forbid("Producer is not loop-fusible.", final=True)
    if not (d := cpu_concatenate_ok(producer, consumer, graph)):
        return d
    # XLA CPU: not (simple, expensive producer) and (consumer reuses operand elements)
    if producer.opcode != "fusion" and cpu_is_expensive(producer, graph) and graph.reuses_operand(consumer, producer):
        return forbid("Fusion is not profitable.", final=True)
    if not (d := not_root(producer, graph)):
        return d
    if not (d := duplication_allowed(producer, consumer, graph, may_duplicate, cpu_is_expensive)):
        return d
    if not (d := in_place_ok(producer, consumer, graph)):
        return d
    # XLA CPU: fusing too many reductions together makes giant LLVM modules
    if producer.opcode == "reduce" and consumer.opcode == "fusion":
        if graph.fused_count(consumer, "reduce") > MAX_REDUCTIONS_IN_FUSION:
            return forbid("Too many reductions inside single fusion.", final=True)
    # XLA CPU: fuse constants, but never make a two-instruction fusion of a constant and one node
    if producer.opcode == "constant" and consumer.opcode != "fusion":
        return forbid("Not fusing: insufficient non-constant nodes.", final=True)
    if producer.opcode == "fusion":
        return forbid("Not fusing: producer is itself a fusion node.", final=True)
    dot = cpu_dot_consumer(producer, consumer, graph)
    if dot is not None:
        return dot
    if is_loop_fusion(consumer, graph) or cpu_can_be_loop_fused(consumer):
        return ALLOW
    return forbid("Not fusing: not found a fusible case", final=True)


def _is_contiguous_reduction(node: Node, graph: FusionGraph) -> bool:
    """Approximates XLA GPU's IsReductionFromOrToContiguousDimensions (default layouts)."""
    if node.opcode != "reduce" or node.shape.is_tuple:
        return False
    dims = sorted(int_list(node))  # type: ignore[arg-type]
    rank = graph.operands(node)[0].shape.rank
    if not dims:
        return False
    contiguous = dims == list(range(dims[0], dims[0] + len(dims)))
    return contiguous and (dims[-1] == rank - 1 or dims[0] == 0)


def _gpu_expensive_to_repeat(node: Node, graph: FusionGraph) -> bool:
    # XLA GPU IsExpensiveToRepeat: reductions reading > 10 inputs per output
    if node.opcode == "reduce" and not _is_contiguous_reduction(node, graph):
        ratio = graph.operands(node)[0].shape.element_count // max(1, node.shape.element_count)
        return ratio > 10
    if node.opcode == "reduce-window":
        ratio = 1
        for d in window(node):  # type: ignore[arg-type]
            ratio *= d.size
        return ratio > 10
    return False


def _gpu_reads_multiple_times(node: Node, graph: FusionGraph) -> bool:
    # XLA GPU IfFusedReadsElementsMultipleTimes: broadcast/gather that grow, overlapping windows
    if node.opcode in ("gather", "broadcast"):
        return node.shape.element_count > graph.operands(node)[0].shape.element_count
    if node.opcode == "reduce-window":
        return any(d.size > d.stride for d in window(node))  # type: ignore[arg-type]
    return False


def gpu_should_fuse(producer: Node, consumer: Node, graph: FusionGraph,
                    may_duplicate: bool = True) -> FusionDecision:
    """XLA GpuInstructionFusion::ShouldFuse (legality included; kInput kinds become kLoop here)."""
    if producer.opcode == "fusion":
        return forbid("the producer is a fusion")
    if not is_fusible(producer, graph) or not is_fusible(consumer, graph):
        return forbid("not fusible")
    if gpu_is_expensive(producer, graph) and graph.reuses_operand(consumer, producer):
        return forbid("the producer is expensive, and the consumer reuses inputs")
    if _is_contiguous_reduction(consumer, graph) and producer.opcode in ("copy", "transpose"):
        return forbid("fusing the producer would break read coalescing")
    # IsProducerConsumerFusible
    if not (producer.opcode in ("iota", "constant") or cpu_can_be_loop_fused(producer)
            and (is_elementwise(producer) or producer.opcode in _GPU_LOOP_FUSIBLE or producer.opcode == "reduce")):
        return forbid("the producer is not loop-fusible")
    if _is_contiguous_reduction(producer, graph):
        if len(graph.users(producer)) > 1:
            return forbid("reduction output fusion only works for single user")
        if not (is_elementwise(consumer) and len(graph.operands(consumer)) == 1):
            return forbid("Reductions from/to continuous dims epilogue not fusible")
    if consumer.opcode == "bitcast" or not _consumer_loop_fusible(consumer, graph, "gpu"):
        return forbid("the consumer is not input-fusible and not loop-fusible")
    if producer.opcode == "constant" and (not is_effective_scalar(producer.shape) or consumer.opcode != "fusion"):
        return forbid("not fusing constant")
    if not (d := in_place_ok(producer, consumer, graph)):
        return d
    if _gpu_expensive_to_repeat(producer, graph) and _consumer_reads_multiple(producer, consumer, graph):
        return forbid("the fusion would create a heavy computation")
    if not (d := not_root(producer, graph)):
        return d
    if not (d := duplication_allowed(producer, consumer, graph, may_duplicate, gpu_is_expensive)):
        return d
    # FusionFitsInBudget (operand count part)
    operands = {id(o) for o in graph.operands(consumer)} | {id(o) for o in graph.operands(producer)}
    operands.discard(id(producer))
    if (len(operands) > len(graph.operands(consumer))
            and len(operands) + 2 > MAX_OPERANDS_AND_OUTPUTS_PER_FUSION):
        return forbid("Number of operands and output buffers is larger than allowed budget per fusion")
    return ALLOW


def _consumer_reads_multiple(producer: Node, consumer: Node, graph: FusionGraph) -> bool:
    fused = graph.fused_instructions(consumer)
    if fused is None:
        return _gpu_reads_multiple_times(consumer, graph)
    return any(_gpu_reads_multiple_times(i, graph) for i in fused)


def should_fuse(backend: str) -> Callable[..., FusionDecision]:
    """The heuristic for a backend (`"cpu"` or `"gpu"`)."""
    if backend == "cpu":
        return cpu_should_fuse
    if backend == "gpu":
        return gpu_should_fuse
    raise ValueError(f"unknown backend {backend!r}; expected 'cpu' or 'gpu'")
