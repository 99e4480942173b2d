"""Observations: the alternative graph as numpy arrays, built in one pass over the instructions.

Schema (N nodes, E edges, A alternatives nodes, O options in total):

| key | shape, dtype | meaning |
|---|---|---|
| `x` | [N, F] float32 | node features, columns named by `NODE_FEATURES` |
| `node_opcode` | [N] int64 | opcode id in `hloenv.altgraph.opcodes.OPCODES` (for embeddings) |
| `node_computation` | [N] int64 | computation id (module order) |
| `edge_index` | [2, E] int64 | source, target node ids; operand -> user, call edges, member edges |
| `edge_attr` | [E, D] float32 | edge features, columns named by `EDGE_FEATURES` |
| `alternative_index` | [A] int64 | node id of each alternatives node, in action order |
| `option_count` | [A] int64 | options of each alternatives node (option 0 = keep the original) |
| `option_index` | [O] int64 | node id of each option, alternatives in order, options in order |
| `option_alternative` | [O] int64 | which alternative (0..A-1) each option belongs to |
| `option_xla` | [O] float32 | 1 where XLA's own heuristic would pick that option (when known) |

Node ids are positions in computation order, then instruction order. Shape features are computed
once per distinct shape, as rows of one table, so the per-node work is a few dictionary lookups.
A frozen computation (`hloenv.altgraph.sharing`: most fused bodies of a step's program) keeps its
part of the arrays, with node ids local to it; the others are observed afresh at every call.

Edges: operand edges (operand -> user, `operand_position` its index), call edges (root of a called
computation -> the caller, `is_call_edge`) and member edges (each instruction a lazy rewrite option
stands for -> the option, `is_member_edge`; `hloenv.altgraph.lazy`). A lazy fusion option is
described by its members, which are nodes of the graph, not by a copy of them in a fused body:
its body, even once built (an agent picked it, or the graph was printed), is not part of the
observation, so the observation of a graph never depends on what was done with it.
"""

from __future__ import annotations

import math
import threading
from itertools import chain

import numpy as np

from hloenv.altgraph.alternatives import option_rules
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES, OPCODE_IDS, OPCODES
from hloenv.altgraph.shape import DTYPES, Shape
from hloenv.altgraph.sharing import remember

MAX_DIMS = 6
NODE_FEATURES: tuple[str, ...] = (
    "opcode", "dtype", "rank", *(f"dim{i}" for i in range(MAX_DIMS)), "log2_elements", "log2_bytes",
    "is_tuple", "is_alternatives", "in_fusion", "is_root", "is_parameter", "is_constant",
    "num_operands", "num_users", "computation",
)
EDGE_FEATURES: tuple[str, ...] = ("operand_position", "log2_bytes", "dtype", "is_call_edge", "is_member_edge")
DTYPE_IDS = {d: i for i, d in enumerate(DTYPES)}
_shape_features: dict[Shape, tuple[float, ...]] = {}
OBSERVATION_KEYS = ("x", "node_opcode", "node_computation", "edge_index", "edge_attr", "alternative_index",
                    "option_count", "option_index", "option_alternative", "option_xla")


def shape_features(shape: Shape) -> tuple[float, ...]:
    """(dtype, rank, dim0..dim5, log2 elements, log2 bytes, is_tuple), memoised per shape."""
    feats = _shape_features.get(shape)
    if feats is None:
        dims = list(shape.dims[:MAX_DIMS]) + [0] * (MAX_DIMS - min(len(shape.dims), MAX_DIMS))
        feats = (float(DTYPE_IDS.get(shape.dtype, len(DTYPES))), float(shape.rank), *map(float, dims),
                 math.log2(1 + shape.element_count) if not shape.is_tuple else 0.0,
                 math.log2(1 + shape.byte_size), float(shape.is_tuple))
        if len(_shape_features) < 200_000:
            _shape_features[shape] = feats
    return feats


_ALT_ID = OPCODE_IDS[ALTERNATIVES]
_PARAM_ID = OPCODE_IDS["parameter"]
_CONST_ID = OPCODE_IDS["constant"]


class _ShapeRows:
    """Shape features as rows of one table, numbered by shape, so an observation gathers them
    with one numpy index (and a kept block keeps row numbers, not features). Replaced by a new
    table when it reaches `MAX_SHAPE_ROWS` rows (blocks numbered in an old one are renumbered)."""

    def __init__(self) -> None:
        self.index: dict[Shape, int] = {}
        self.rows: list[tuple[float, ...]] = []
        self.array = np.zeros((0, 11), dtype=np.float32)

    def rows_of(self, shapes: list[Shape]) -> list[int]:
        index = self.index
        out = [index.get(s, -1) for s in shapes]
        if -1 in out:
            with _ROWS_LOCK:
                for k, shape in enumerate(shapes):
                    if out[k] < 0:
                        row = index.get(shape)
                        if row is None:
                            row = index[shape] = len(self.rows)
                            self.rows.append(shape_features(shape))
                        out[k] = row
        return out

    def table(self) -> np.ndarray:
        with _ROWS_LOCK:
            if len(self.array) != len(self.rows):
                self.array = np.asarray(self.rows, dtype=np.float32).reshape(len(self.rows), 11)
            return self.array


MAX_SHAPE_ROWS = 200_000
#: computations up to this size are gathered in one loop, larger ones by list comprehensions
_SMALL = 24
_ROWS_LOCK = threading.Lock()
_shape_rows = _ShapeRows()


def _current_shape_rows() -> _ShapeRows:
    global _shape_rows
    if len(_shape_rows.rows) >= MAX_SHAPE_ROWS:
        _shape_rows = _ShapeRows()
    return _shape_rows


class _Block:
    """The part of the observation for a run of consecutive computations, as lists with node ids
    relative to the run's first node. A frozen computation is a run of its own, kept with it (it
    never changes: `hloenv.altgraph.sharing`, and holds no alternatives or options); the others
    are observed afresh in runs as long as possible (one list comprehension per feature, as for a
    module with nothing frozen). `local` (instruction -> id) only for runs that are not kept."""

    __slots__ = ("ops", "users", "counts", "rows", "shape_rows", "src", "sizes", "roots", "calls",
                 "fusion_callees", "local", "alts", "lazy")

    def __init__(self, comps: list[Computation]):
        insts = comps[0].instructions if len(comps) == 1 else [i for c in comps for i in c.instructions]
        local = {inst: k for k, inst in enumerate(insts)}  # (operands are in the same computation)
        get_op = OPCODE_IDS.get
        unknown_op = len(OPCODES)
        if len(insts) > _SMALL:  # list comprehensions: fastest per instruction
            ops = [get_op(inst.opcode, unknown_op) for inst in insts]
            users = [len(inst.users) for inst in insts]
            counts = [len(inst.operands) for inst in insts]
            shapes = [inst.shape for inst in insts]
            src = [local[op] for inst in insts for op in inst.operands]
            callers = [(k, inst) for k, inst in enumerate(insts) if inst.called]
            calls = [(k, callee) for k, inst in callers for callee in inst.called_computations]
            fusion_callees = [c for _, inst in callers if inst.opcode == "fusion" for c in inst.called_computations]
            alts = [inst for inst in insts if inst.opcode == ALTERNATIVES]
            lazy = [inst for inst in insts if inst.lazy is not None]
        else:  # one loop: cheapest for the few instructions of most computations (fused bodies)
            ops, users, counts, shapes, src, calls, fusion_callees, alts, lazy = [], [], [], [], [], [], [], [], []
            for k, inst in enumerate(insts):
                opcode = inst.opcode
                ops.append(get_op(opcode, unknown_op))
                users.append(len(inst.users))
                operands = inst.operands
                counts.append(len(operands))
                shapes.append(inst.shape)
                src += [local[op] for op in operands]
                if inst.called:
                    callees = inst.called_computations
                    calls += [(k, callee) for callee in callees]
                    if opcode == "fusion":
                        fusion_callees += callees
                if opcode == ALTERNATIVES:
                    alts.append(inst)
                if inst.lazy is not None:
                    lazy.append(inst)
        self.ops, self.users, self.counts, self.src = ops, users, counts, src
        self.calls, self.fusion_callees, self.alts, self.lazy = calls, fusion_callees, alts, lazy
        self.shape_rows = _current_shape_rows()
        self.rows = self.shape_rows.rows_of(shapes)
        self.sizes = [len(c.instructions) for c in comps]
        self.roots = [local.get(c.root, -1) if c.root is not None else -1 for c in comps]
        self.local = None if comps[0].memo is not None else local  # (frozen: no alternatives, no options)

    def features(self, comps: list[Computation], table: _ShapeRows) -> list[int]:
        """Row numbers of its shapes in `table` (renumbered if it was numbered in an older one)."""
        if self.shape_rows is not table:
            self.rows = table.rows_of([inst.shape for c in comps for inst in c.instructions])
            self.shape_rows = table
        return self.rows


def _frozen_block(comp: Computation) -> _Block:
    return _Block([comp])


def _blocks(comps: list[Computation]) -> tuple[list[_Block], list[list[Computation]]]:
    """The blocks of `comps`, in order, and the computations of each."""
    blocks: list[_Block] = []
    runs: list[list[Computation]] = []
    run: list[Computation] = []
    for comp in comps:
        if comp.memo is None:
            run.append(comp)
            continue
        if run:
            blocks.append(_Block(run))
            runs.append(run)
            run = []
        blocks.append(remember(comp, "observation", _frozen_block))
        runs.append([comp])
    if run:
        blocks.append(_Block(run))
        runs.append(run)
    return blocks, runs


def build_observation(module: Module, xla_choices: dict[int, int] | None = None) -> dict[str, np.ndarray]:
    """The observation arrays of `module` (an alternative graph or a plain module).

    Python only collects small integers per node and edge, in list comprehensions over the
    instructions (once for a frozen computation); numpy gathers and stacks them.

    Args:
        xla_choices: id(alternatives node) -> option XLA's heuristic picks, if known.
    """
    comps_list = module.computations
    lazy = [inst for comp in comps_list if comp.memo is None  # (frozen ones hold no options)
            for inst in comp.instructions if inst.lazy is not None]
    bodies = {id(c) for inst in lazy if inst.lazy.built for c in inst.called_computations}
    if bodies:  # built bodies of lazy options: described by member edges, as before they were built
        comps_list = [c for c in comps_list if id(c) not in bodies]
    blocks, runs = _blocks(comps_list)
    totals = [len(b.ops) for b in blocks]
    starts = np.cumsum([0] + totals[:-1]).tolist() if blocks else []
    n = sum(totals)
    sizes = [size for b in blocks for size in b.sizes]
    table = _current_shape_rows()
    chained = chain.from_iterable
    op = np.fromiter(chained([b.ops for b in blocks]), dtype=np.int64, count=n)
    n_users = np.fromiter(chained([b.users for b in blocks]), dtype=np.int64, count=n)
    counts = np.fromiter(chained([b.counts for b in blocks]), dtype=np.int64, count=n)
    rows = np.fromiter(chained([b.features(run, table) for b, run in zip(blocks, runs)]), dtype=np.int64, count=n)
    # operand edges: ids in their block plus the block's start
    edges = [len(b.src) for b in blocks]
    src = np.fromiter(chained([b.src for b in blocks]), dtype=np.int64, count=sum(edges))
    if blocks:
        src += np.repeat(np.asarray(starts, dtype=np.int64), edges)
    feats = table.table()[rows]
    root_at: dict[int, int] = {}  # id(computation) -> node id of its root
    for b, run, s in zip(blocks, runs, starts):
        for comp, r in zip(run, b.roots):
            if r >= 0:
                root_at[id(comp)] = s + r
    roots = list(root_at.values())
    fused = {id(c) for b in blocks for c in b.fusion_callees}
    call_s: list[int] = []
    call_d: list[int] = []
    for b, s in zip(blocks, starts):
        for k, callee in b.calls:
            r = root_at.get(id(callee))
            if r is not None:  # (None: a lazy option's body, not observed)
                call_s.append(r)
                call_d.append(s + k)
    dst_arr = np.repeat(np.arange(n, dtype=np.int64), counts)
    first_edge = np.cumsum(counts) - counts
    pos_arr = np.arange(len(src), dtype=np.int64) - np.repeat(first_edge, counts)
    comp_ids = np.repeat(np.arange(len(comps_list), dtype=np.int64), sizes)
    x = np.zeros((n, len(NODE_FEATURES)), dtype=np.float32)
    x[:, 0] = op
    x[:, 1:12] = feats
    x[:, 12] = op == _ALT_ID
    fused_comp = np.asarray([id(cc) in fused for cc in comps_list], dtype=np.float32)
    x[:, 13] = fused_comp[comp_ids] if n else 0
    x[np.asarray(roots, dtype=np.int64), 14] = 1.0
    x[:, 15] = op == _PARAM_ID
    x[:, 16] = op == _CONST_ID
    x[:, 17] = counts
    x[:, 18] = n_users
    x[:, 19] = comp_ids
    # alternatives, their options and the members of lazy options: in the computation they are in
    alts: list = []
    alt_index: list[int] = []
    option_index: list[int] = []
    member_s: list[int] = []
    member_d: list[int] = []
    for b, s in zip(blocks, starts):
        local = b.local
        if b.alts:
            alts.extend(b.alts)
            alt_index.extend([s + local[a] for a in b.alts])
            option_index.extend([s + local[o] for a in b.alts for o in a.operands])
        for inst in b.lazy:
            d = s + local[inst]
            for m in inst.lazy.members:
                k = local.get(m)
                if k is not None:
                    member_s.append(s + k)
                    member_d.append(d)
    all_src = np.concatenate([src, np.asarray(call_s + member_s, dtype=np.int64)])
    all_dst = np.concatenate([dst_arr, np.asarray(call_d + member_d, dtype=np.int64)])
    e = len(all_src)
    edge_attr = np.zeros((e, len(EDGE_FEATURES)), dtype=np.float32)
    if e:
        edge_attr[:len(src), 0] = pos_arr
        edge_attr[len(src):, 0] = -1
        src_shape = feats[all_src]
        edge_attr[:, 1] = src_shape[:, 9]
        edge_attr[:, 2] = src_shape[:, 0]
        edge_attr[len(src):len(src) + len(call_s), 3] = 1.0
        edge_attr[len(src) + len(call_s):, 4] = 1.0
    option_count = [len(a.operands) for a in alts]
    option_alt = [k for k, a in enumerate(alts) for _ in a.operands]
    option_xla = []
    for a in alts:
        pick = (xla_choices or {}).get(id(a))
        rules = option_rules(a)
        option_xla.extend(float(pick == k if pick is not None else rules[k].endswith(":xla"))
                          for k in range(len(a.operands)))
    return {
        "x": x,
        "node_opcode": op,
        "node_computation": comp_ids,
        "edge_index": np.stack([all_src, all_dst]) if e else np.zeros((2, 0), dtype=np.int64),
        "edge_attr": edge_attr,
        "alternative_index": np.asarray(alt_index, dtype=np.int64),
        "option_count": np.asarray(option_count, dtype=np.int64),
        "option_index": np.asarray(option_index, dtype=np.int64),
        "option_alternative": np.asarray(option_alt, dtype=np.int64),
        "option_xla": np.asarray(option_xla, dtype=np.float32),
    }
