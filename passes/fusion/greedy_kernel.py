"""XLA's greedy CPU fusion through the compiled kernel (`_greedy_kernel.pyx`), when it is built.

`greedy.run_greedy` with `fusibility.cpu_should_fuse` is the reference; the kernel runs the same
loop on integer arrays, 5-10x faster. Everything the rules know about one instruction is computed
here, once per instruction, by `fusibility`'s and `greedy`'s own functions (the F_* flags below);
the kernel keeps only what changes while the loop runs (the cluster graph, the queue) and the order
of the rules' checks. `cpu_fusion` returns None when the kernel is not there (no compiler at
install, `HLOENV_NATIVE=0`, or a kernel built from another version of its source), and the caller
runs the reference instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import materialize
from hloenv.altgraph.opcodes import ELEMENTWISE
from hloenv.passes.fusion import fusibility as fz
from hloenv.passes.fusion.fuse import Cluster, ClusterGraph
from hloenv.passes.fusion.greedy import _NEVER_SCREENED, screened_for_duplication

# The flags of one instruction (the kernel's F_* enum; keep both in step).
F_FUSIBLE = 1 << 0
F_LOOP_FUSIBLE = 1 << 1
F_ELEMENTWISE = 1 << 2
F_EXPENSIVE = 1 << 3
F_LARGE_CONSTANT = 1 << 4
F_CONSTANT = 1 << 5
F_ADD = 1 << 6
F_MV_DOT = 1 << 7
F_DOT = 1 << 8
F_SMALL_DOT = 1 << 9
F_BAD_CONCATENATE = 1 << 10
F_ALWAYS_DUPLICABLE = 1 << 12
F_LOOP_FUSION = 1 << 13
F_FUSION = 1 << 14
F_GATHER = 1 << 16
F_REDUCE = 1 << 17
F_DYNAMIC_UPDATE_SLICE = 1 << 18
F_SCREENED = 1 << 19
# The flags of one operand slot: the consumer reads it more than once (`operand_reused`); slot 0
# of a dot of rank <= 1 also says whether operand 0 / operand 1 is a small vector.
S_REUSED = 1
S_LHS_SMALL_VECTOR = 2
S_RHS_SMALL_VECTOR = 4

_OPCODE_FLAGS = {"constant": F_CONSTANT, "add": F_ADD, "dot": F_DOT, "fusion": F_FUSION, "gather": F_GATHER,
                 "reduce": F_REDUCE, "dynamic-update-slice": F_DYNAMIC_UPDATE_SLICE}
_CHEAP = fz._CHEAP
_MAYBE_ALWAYS_DUPLICABLE = frozenset({"broadcast", "convert"})

try:
    from hloenv import native as _native
    from hloenv.passes.fusion import _greedy_kernel as _kernel
except ImportError:  # not built (no compiler), `HLOENV_NATIVE=0`, or built from another source
    _kernel = None
else:
    if not _native.enabled():
        _kernel = None


def available() -> bool:
    """Is the compiled kernel there (and of this source)?"""
    return _kernel is not None


@dataclass
class CpuFusion:
    """What the kernel found in one computation."""

    clusters: list[Cluster]  # in the order the greedy loop made them, members in fusion order
    slot_start: list[int]  # instruction k's operand slots are legal[slot_start[k]:slot_start[k + 1]]
    legal: bytes  # legal_to_fuse(operand, instruction) of every slot in the unfused graph


def cpu_fusion(comp: Computation) -> CpuFusion | None:
    """The clusters `greedy.run_greedy(ClusterGraph(comp), cpu_should_fuse)` makes, and
    `legal_to_fuse` of every (instruction, operand slot) before any fusion; None without the kernel."""
    if _kernel is None:
        return None
    insts = comp.instructions
    index = {inst: k for k, inst in enumerate(insts)}  # (instructions hash by identity)
    graph = ClusterGraph(comp)
    flags: list[int] = []
    reduce_count: list[int] = []
    in_place_param: list[int] = []
    op_start = [0]
    op_list: list[int] = []
    slot_flags: list[int] = []
    user_start = [0]
    user_list: list[int] = []
    for inst in insts:
        if inst.lazy is not None:  # an option of a dry run, unbuilt: its body is read below
            materialize(inst)
        flags.append(instruction_flags(inst, graph))
        reduce_count.append(graph.fused_count(inst, "reduce") if inst.opcode == "fusion"
                            else int(inst.opcode == "reduce"))
        in_place_param.append(_in_place_slot(inst, graph))
        op_list += [index[o] for o in inst.operands]
        op_start.append(len(op_list))
        slot_flags += _slot_flags(inst, graph)
        user_list += [index[u] for u in inst.users]
        user_start.append(len(user_list))
    root = index.get(comp.root, -1) if comp.root is not None else -1
    made, legal = _kernel.run_greedy(len(insts), flags, reduce_count, in_place_param, op_start, op_list,
                                     slot_flags, user_start, user_list, root)
    return CpuFusion([Cluster.of(insts[r], [insts[m] for m in members]) for r, members in made], op_start, legal)


def instruction_flags(inst: Instruction, graph: ClusterGraph) -> int:
    """The F_* flags of one instruction, from the reference rules. (Each rule is asked only of the
    opcodes it can hold for: this runs for every instruction of every round.)"""
    op = inst.opcode
    f = _OPCODE_FLAGS.get(op, 0)
    if fz.is_fusible(inst, graph):
        f |= F_FUSIBLE
    if fz.cpu_can_be_loop_fused(inst):
        f |= F_LOOP_FUSIBLE
    if op in ELEMENTWISE:
        f |= F_ELEMENTWISE
    if op not in _CHEAP and fz.cpu_is_expensive(inst, graph):
        f |= F_EXPENSIVE
    if op == "constant" and not fz.no_large_constant(inst):
        f |= F_LARGE_CONSTANT
    elif op == "dot":
        if fz.is_matrix_vector_dot(inst):
            f |= F_MV_DOT
        if inst.shape.rank <= 1:
            f |= F_SMALL_DOT
    elif op == "concatenate" and not fz.cpu_concatenate_ok(inst, inst, graph):
        f |= F_BAD_CONCATENATE
    elif op in _MAYBE_ALWAYS_DUPLICABLE and fz.is_always_duplicable(inst, graph):
        f |= F_ALWAYS_DUPLICABLE
    elif op == "fusion" and fz.is_loop_fusion(inst, graph):
        f |= F_LOOP_FUSION
    if op not in _NEVER_SCREENED and screened_for_duplication(inst, graph):
        f |= F_SCREENED
    return f


def _in_place_slot(inst: Instruction, graph: ClusterGraph) -> int:
    """For a fusion that updates a buffer in place: the operand slot of that buffer; else -1."""
    if inst.opcode != "fusion":
        return -1
    source = graph.in_place_source(inst)
    return -1 if source is None else inst.operands.index(source)


def _slot_flags(inst: Instruction, graph: ClusterGraph) -> list[int]:
    if inst.opcode in ELEMENTWISE:  # (operand_reused: elementwise ops read each element once)
        return [0] * len(inst.operands)
    out = [S_REUSED if fz.operand_reused(inst, i, graph) else 0 for i in range(len(inst.operands))]
    if inst.opcode == "dot" and inst.shape.rank <= 1 and len(inst.operands) >= 2:
        lhs, rhs = inst.operands[0].shape, inst.operands[1].shape
        if lhs.rank == 1 and lhs.byte_size < fz.FUSION_THRESHOLD_BYTES:
            out[0] |= S_LHS_SMALL_VECTOR
        if rhs.rank == 1 and rhs.byte_size < fz.FUSION_THRESHOLD_BYTES:
            out[0] |= S_RHS_SMALL_VECTOR
    return out
