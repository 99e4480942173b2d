"""Fusion mechanics: the cluster graph XLA's greedy algorithm works on, and building fusions in IR.

A `Cluster` is a fusion under construction: a root (the original consumer) and the original
instructions fused into it. `ClusterGraph` is the computation seen at fusion granularity (each node
an unfused instruction or a cluster), which is what XLA's rules read while its greedy pass runs.
Nothing in the module changes until `build_fusion` turns a set of instructions into a `fusion`
instruction with its own fused computation:

    before:  e = f32[8] exponential(p)          ROOT m = f32[8] multiply(e, q)
    after:   fused_computation.1 { param.1 = f32[8] parameter(0)  param.2 = f32[8] parameter(1)
                                   exponential.1 = f32[8] exponential(param.1)
                                   ROOT multiply.1 = f32[8] multiply(exponential.1, param.2) }
             ROOT fusion.1 = f32[8] fusion(p, q), kind=kLoop, calls=fused_computation.1

Members that are fusions themselves are inlined, so the same function extends a fusion, merges two
fusions (fusion-merger) and builds multi-output fusions (several outputs: a tuple root).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hloenv.altgraph.alternatives import has_side_effect
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import materialize
from hloenv.altgraph.names import NameUniquer
from hloenv.altgraph.opcodes import CONTROL_FLOW_CALLERS
from hloenv.altgraph.order import depends_on as _depends_on
from hloenv.altgraph.sharing import called_by
from hloenv.altgraph.shape import Shape, tuple_of
from hloenv.passes.fusion import fusibility as fz
from hloenv.passes.rewriter import Rewriter

#: Calls whose callee XLA fuses inside (control flow); other callees (reducers, comparators,
#: scatter combiners, custom-call bodies) are left alone.


class Cluster:
    """A fusion being built: `root` is the original consumer, `members` every fused instruction."""

    opcode = "fusion"
    __slots__ = ("root", "members", "member_set", "reused", "shape", "_sorted", "fused", "opcode_counts")

    def __init__(self, root: Instruction, reused: set[Node]):
        self.root = root
        self.shape: Shape = root.shape
        self.members: list[Instruction] = [root]
        self.member_set: set[Instruction] = {root}  # (nodes hash by identity)
        self.reused = reused  # operand nodes whose elements the fusion reads more than once
        self._sorted = True
        #: the fused instructions (`ClusterGraph.fused_instructions`), kept until a member is added
        self.fused: list[Instruction] | None = None
        #: opcode -> how many fused instructions have it (member fusions counted by their bodies)
        self.opcode_counts: dict[str, int] = {}
        _count_opcodes(self.opcode_counts, root)

    @classmethod
    def of(cls, root: Instruction, members: list[Instruction]) -> "Cluster":
        """The cluster a finished greedy run made (`members` in fusion order, root first, taken
        as is). Only its members are kept: its reused operands and opcode counts are what the
        greedy loop reads, and nothing fuses into it any more."""
        cluster = cls.__new__(cls)  # (one per fusion of every dry round: no per-member bookkeeping)
        cluster.root, cluster.shape, cluster.members = root, root.shape, members
        cluster.member_set = set(members)
        cluster.reused, cluster.opcode_counts = set(), {}
        cluster._sorted, cluster.fused = False, None
        return cluster

    def add(self, inst: Instruction) -> None:
        self.members.append(inst)
        self.member_set.add(inst)
        self._sorted = False
        self.fused = None
        _count_opcodes(self.opcode_counts, inst)

    def sorted_members(self, position: dict[Instruction, int]) -> list[Instruction]:
        if not self._sorted:
            self.members.sort(key=position.__getitem__)
            self._sorted = True
        return self.members

    def __repr__(self) -> str:
        return f"<Cluster {self.root.name}: {len(self.members)} instructions>"


def _count_opcodes(counts: dict[str, int], inst: Instruction) -> None:
    """Add what `inst` puts into a fusion to `counts` (a fusion: its body's instructions)."""
    if inst.opcode != "fusion":
        counts[inst.opcode] = counts.get(inst.opcode, 0) + 1
        return
    for i in inst.called_computations[0].instructions:
        if i.opcode != "parameter":
            counts[i.opcode] = counts.get(i.opcode, 0) + 1


Node = Instruction | Cluster


class ClusterGraph:
    """One computation at fusion granularity; implements `fusibility.FusionGraph`."""

    def __init__(self, comp: Computation):
        self.comp = comp
        # (nodes, instructions and clusters, hash by identity: no __eq__)
        self.position: dict[Instruction, int] = {i: k for k, i in enumerate(comp.instructions)}
        self._ops: dict[Node, list[Node]] = {}
        self._users: dict[Node, list[Node]] = {}
        self.root: Node | None = comp.root
        #: original instruction -> the cluster that replaced it (it was the cluster's root)
        self.cluster_of: dict[Instruction, Cluster] = {}
        self.clusters: list[Cluster] = []

    # -- FusionGraph ---------------------------------------------------------------------------
    def operands(self, node: Node) -> list[Node]:
        ops = self._ops.get(node)
        if ops is None:
            return node.operands  # type: ignore[union-attr]
        return ops

    def users(self, node: Node) -> list[Node]:
        users = self._users.get(node)
        if users is None:
            return node.users  # type: ignore[union-attr]
        return users

    def is_root(self, node: Node) -> bool:
        return node is self.root

    def fused_instructions(self, node: Node) -> list[Instruction] | None:
        """What a fusion node computes (do not modify the list)."""
        if isinstance(node, Cluster):
            if node.fused is None:
                node.fused = self._cluster_instructions(node)
            return node.fused
        if node.opcode == "fusion":
            body = node.called_computations[0]
            return [i for i in body.instructions if i.opcode != "parameter" and i is not body.root] + [body.root]
        return None

    def fused_count(self, node: Node, opcode: str) -> int:
        """How many instructions with `opcode` the fusion node computes (0 for other nodes)."""
        if isinstance(node, Cluster):
            return node.opcode_counts.get(opcode, 0)
        if node.opcode == "fusion":
            return sum(1 for i in node.called_computations[0].instructions if i.opcode == opcode)
        return 0

    def _cluster_instructions(self, cluster: Cluster) -> list[Instruction]:
        out: list[Instruction] = []
        for m in cluster.sorted_members(self.position):
            if m.opcode == "fusion":
                out.extend(i for i in m.called_computations[0].instructions if i.opcode != "parameter")
            else:
                out.append(m)
        return out

    def in_place_source(self, node: Node) -> Node | None:
        """The operand node a fusion with a dynamic-update-slice root updates in place."""
        if isinstance(node, Cluster):
            root = node.root
            if root.opcode != "dynamic-update-slice":
                return None  # (a nested fusion root is not followed)
            src = root.operands[0]
            return None if src in node.member_set else self.node_of(src)
        body = node.called_computations[0]  # type: ignore[union-attr]
        if body.root.opcode != "dynamic-update-slice":
            return None
        src = body.root.operands[0]
        if src.opcode == "parameter":
            return node.operands[src.parameter_number]  # type: ignore[union-attr]
        return None

    def reuses_operand(self, consumer: Node, producer: Node) -> bool:
        if isinstance(consumer, Cluster):
            return producer in consumer.reused
        if consumer.opcode == "fusion":
            return True  # an unknown fusion: assume it may reuse
        return any(o is producer and fz.operand_reused(consumer, i, self)
                   for i, o in enumerate(self.operands(consumer)))

    # -- state ---------------------------------------------------------------------------------
    def node_of(self, inst: Instruction) -> Node:
        return self.cluster_of.get(inst, inst)

    def _mutable_ops(self, node: Node) -> list[Node]:
        ops = self._ops.get(node)
        if ops is None:
            ops = self._ops[node] = list(node.operands)  # type: ignore[union-attr]
        return ops

    def _mutable_users(self, node: Node) -> list[Node]:
        users = self._users.get(node)
        if users is None:
            users = self._users[node] = list(node.users)  # type: ignore[union-attr]
        return users

    def fuse(self, producer: Instruction, consumer: Node) -> Cluster:
        """Fuse `producer` into `consumer` (XLA's Fuse): returns the cluster `consumer` now is."""
        if isinstance(consumer, Cluster):
            cluster = consumer
        else:
            reused = {o for i, o in enumerate(self.operands(consumer)) if fz.operand_reused(consumer, i, self)}
            cluster = Cluster(consumer, reused)
            ops = _unique(self.operands(consumer))
            self._ops[cluster] = ops
            self._users[cluster] = list(self.users(consumer))
            for o in ops:
                _replace_unique(self._mutable_users(o), consumer, cluster)
            for u in self._users[cluster]:
                uops = self._mutable_ops(u)
                uops[:] = [cluster if o is consumer else o for o in uops]
            if self.root is consumer:
                self.root = cluster
            self.cluster_of[consumer] = cluster
            self.clusters.append(cluster)
        # XLA UpdateReusedOperandsForFusion: a reused producer makes all its operands reused
        p_ops = self.operands(producer)
        if producer in cluster.reused:
            cluster.reused.discard(producer)
            cluster.reused.update(p_ops)
        else:
            cluster.reused.update(o for i, o in enumerate(p_ops) if fz.operand_reused(producer, i, self))
        cluster.add(producer)
        ops = self._ops[cluster]
        ops[:] = [o for o in ops if o is not producer]
        in_ops = set(ops)
        for o in _unique(p_ops):
            if o not in in_ops:
                in_ops.add(o)
                ops.append(o)
            users = self._mutable_users(o)
            if cluster not in users:  # (by identity: nodes define no __eq__)
                users.append(cluster)
        p_users = self._mutable_users(producer)
        _remove_unique(p_users, cluster)
        if not p_users and not self.is_root(producer):
            for o in _unique(p_ops):
                _remove_unique(self._mutable_users(o), producer)
        return cluster

    def is_dead(self, node: Node) -> bool:
        return not self.users(node) and not self.is_root(node)


# Users lists hold each node once, and nodes compare by identity (no __eq__), so the list methods
# below find the one occurrence in C: high-fan-out operands have thousands of users.
def _replace_unique(nodes: list[Node], old: Node, new: Node) -> None:
    """Replace `old` (if present) in a list of distinct nodes by `new`."""
    try:
        nodes[nodes.index(old)] = new
    except ValueError:
        pass


def _remove_unique(nodes: list[Node], node: Node) -> None:
    """Remove `node` (if present) from a list of distinct nodes."""
    try:
        nodes.remove(node)
    except ValueError:
        pass


def _unique(nodes: Iterable[Node]) -> list[Node]:
    out: list[Node] = []
    seen: set[Node] = set()
    for n in nodes:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


# -- building fusions in IR -------------------------------------------------------------------------
def build_fusion(rewriter: Rewriter, comp: Computation, members: Sequence[Instruction],
                 outputs: Sequence[Instruction], name: str = "fusion") -> Instruction:
    """Add a kLoop `fusion` to `comp` computing `outputs` from `members` (operands first).

    Layouts are dropped inside the fused computation: XLA ignores the entry computation's written
    layouts (every buffer gets the default one), so a fused parameter must not claim another.

    Operands of members outside `members` become parameters (one per distinct instruction, in
    first-use order). One output: the fusion has its shape; several: a tuple root (multi-output).
    Member fusions are inlined. The fused computation gets fresh, module-unique names.
    """
    fused, externals, shape = fused_body(rewriter.names.fresh, members, [m.operands for m in members], outputs)
    rewriter.add_computation(fused)
    return rewriter.create(comp, "fusion", shape, externals, {"kind": "kLoop", "calls": None},
                           called={"calls": [fused]}, name=name)


def lazy_fusion(rewriter: Rewriter, comp: Computation, members: Sequence[Instruction],
                outputs: Sequence[Instruction], name: str = "fusion") -> Instruction:
    """`build_fusion`'s instruction without its fused computation, which `LazyFusion` builds when
    something needs it (`hloenv.altgraph.lazy`): same operands, shape and attributes."""
    snapshot = [tuple(m.operands) for m in members]
    externals = fusion_operands(members, snapshot)
    shape = _fusion_shape(outputs)
    fusion = rewriter.create(comp, "fusion", shape, externals, {"kind": "kLoop", "calls": None}, name=name)
    fusion.lazy = LazyFusion(tuple(members), tuple(snapshot), tuple(outputs), rewriter.names)
    return fusion


def fusion_operands(members: Sequence[Instruction], member_operands: Sequence[Sequence[Instruction]]) -> list[Instruction]:
    """The operands `fused_body` gives the fusion of `members`: each distinct non-member operand,
    in first-use order."""
    member_set = set(members)  # (instructions hash by identity)
    seen: set[Instruction] = set()
    out: list[Instruction] = []
    for m, ops in zip(members, member_operands):
        for op in ops:
            if op not in seen:
                seen.add(op)
                if op in member_set:
                    continue
                out.append(op)
        seen.add(m)
    return out


def _fusion_shape(outputs: Sequence[Instruction]) -> Shape:
    for o in outputs:
        materialize(o)
    shapes = [(o.called_computations[0].root.shape if o.opcode == "fusion" else o.shape).without_layout()
              for o in outputs]
    return shapes[0] if len(shapes) == 1 else tuple_of(shapes)


def fused_body(fresh, members: Sequence[Instruction], member_operands: Sequence[Sequence[Instruction]],
               outputs: Sequence[Instruction]) -> tuple[Computation, list[Instruction], Shape]:
    """The fused computation of `members` reading `member_operands` (one list per member), the
    fusion's operands (one per parameter) and its shape; names come from `fresh`."""
    fused = Computation(fresh("fused_computation"))
    externals = fusion_operands(members, member_operands)
    params = [Instruction(fresh("param"), "parameter", op.shape.without_layout(), payload=str(k))
              for k, op in enumerate(externals)]
    # member or external id -> its value inside the fusion
    mapped: dict[Instruction, Instruction] = dict(zip(externals, params))
    body: list[Instruction] = []

    def values(ops: Sequence[Instruction]) -> list[Instruction]:
        out = []
        for op in ops:
            v = mapped.get(op)
            if v is None:  # (`fusion_operands` made a parameter of every operand that is no member)
                raise ValueError(f"build_fusion: member {op.name} comes after a member that uses it")
            out.append(v)
        return out

    for m, ops in zip(members, member_operands):
        if m.opcode == "fusion":
            materialize(m)
            mapped[m] = _inline(m, values(ops), body, fresh)
        else:
            new = Instruction(fresh(m.name), m.opcode, m.shape.without_layout(), values(ops),
                              dict(m.attrs) if m.attrs else None, m.payload,
                              dict(m.called) if m.called else None)
            body.append(new)
            mapped[m] = new
    if len(outputs) == 1:
        root = mapped[outputs[0]]
        shape = root.shape
    else:
        elems = [mapped[o] for o in outputs]
        shape = tuple_of(e.shape for e in elems)
        root = Instruction(fresh("tuple"), "tuple", shape, elems)
        body.append(root)
    _populate(fused, [*params, *body])
    fused.root = root
    return fused, externals, shape


class LazyFusion:
    """The record of a lazy fusion option (`lazy_fusion`): its members, their operands when the
    option was made, and the dry run's name uniquer (the body's names are fresh in the module)."""

    __slots__ = ("members", "member_operands", "outputs", "names", "built")

    def __init__(self, members: tuple[Instruction, ...], member_operands: tuple[tuple[Instruction, ...], ...],
                 outputs: tuple[Instruction, ...], names: NameUniquer | None, built: bool = False):
        self.members = members
        self.member_operands = member_operands
        self.outputs = outputs
        self.names = names
        self.built = built

    def body(self, inst: Instruction, names: NameUniquer | None = None) -> Computation:
        fresh = (names if names is not None else self.names).fresh
        fused, externals, _ = fused_body(fresh, self.members, self.member_operands, self.outputs)
        if len(externals) != len(inst.operands):
            raise AssertionError(f"lazy fusion {inst.name}: {len(externals)} parameters for {len(inst.operands)} operands")
        return fused

    def build(self, inst: Instruction) -> None:
        module = inst.parent.module if inst.parent is not None else None
        if module is None:
            raise RuntimeError(f"lazy fusion {inst.name} is not in a module: its body can no longer be built")
        fused = self.body(inst)
        fused.module = module
        module.computations.insert(max(0, len(module.computations) - 1), fused)
        inst.set_called("calls", [fused])
        self.built = True
        self.member_operands = self.outputs = ()  # only the build read them
        self.names = None

    def body_opcodes(self, parameters: int) -> tuple[str, ...]:
        """The sorted opcodes of the body `build` makes (`parameters`: one per operand of the
        option, member copies, inlined bodies)."""
        ops = ["parameter"] * parameters
        for m in self.members:
            if m.opcode == "fusion":
                materialize(m)
                ops.extend(i.opcode for i in m.called_computations[0].instructions if i.opcode != "parameter")
            else:
                ops.append(m.opcode)
        if len(self.outputs) > 1:
            ops.append("tuple")
        return tuple(sorted(ops))

    def mapped(self, inst_map: dict[Instruction, Instruction]) -> "LazyFusion":
        if not self.built:
            raise ValueError("only a built lazy fusion can be copied")
        return LazyFusion(tuple(inst_map[m] for m in self.members if m in inst_map), (), (), None, True)


def _populate(comp: Computation, instructions: list[Instruction]) -> None:
    """Make `instructions` (new, operands first) the body of the empty `comp`, wiring their users
    (what `Computation.add` does one at a time)."""
    comp.instructions = instructions
    for inst in instructions:
        inst.parent = comp
        for op in inst.operands:
            users = op.users
            if not users or users[-1] is not inst:
                users.append(inst)


def _inline(fusion: Instruction, args: list[Instruction], body: list[Instruction], fresh) -> Instruction:
    """Clone the fused computation of `fusion` with its parameters bound to `args`; returns the root."""
    callee = fusion.called_computations[0]
    local: dict[Instruction, Instruction] = {}
    for inst in callee.instructions:
        if inst.opcode == "parameter":
            local[inst] = args[inst.parameter_number]
            continue
        new = Instruction(fresh(inst.name), inst.opcode, inst.shape.without_layout(),
                          [local[o] for o in inst.operands],
                          dict(inst.attrs) if inst.attrs else None, inst.payload,
                          dict(inst.called) if inst.called else None)
        body.append(new)
        local[inst] = new
    return local[callee.root]


def get_tuple_elements(rewriter: Rewriter, comp: Computation, fusion: Instruction) -> list[Instruction]:
    """One get-tuple-element per output of a multi-output fusion."""
    return [rewriter.create(comp, "get-tuple-element", s, [fusion], {"index": str(k)}, name="get-tuple-element")
            for k, s in enumerate(fusion.shape.tuple_shapes)]


def remove_dead(comp: Computation, candidates: set[int]) -> int:
    """Remove instructions in `candidates` (ids) that nothing uses any more, cascading."""
    removed: set[int] = set()
    for inst in reversed(comp.instructions):
        if id(inst) not in candidates or inst is comp.root or has_side_effect(inst):
            continue
        if all(id(u) in removed for u in inst.users):
            removed.add(id(inst))
            inst.detach()
    if removed:
        comp.instructions = [i for i in comp.instructions if id(i) not in removed]
        for inst in comp.instructions:
            if inst.users and any(id(u) in removed for u in inst.users):
                inst.users = [u for u in inst.users if id(u) not in removed]
        comp._by_name = None
    return len(removed)


def fusion_computations(module) -> list[Computation]:
    """Computations XLA's fusion passes work on: the entry and control-flow bodies, not fused
    computations nor reducers/comparators/custom-call bodies."""
    embedded: set[int] = set()
    add = embedded.add
    for comp in module.computations:
        if comp.memo is not None:  # frozen: it calls no control flow, and its callees are known
            for callee in called_by(comp):
                add(id(callee))
            continue
        for inst in comp.instructions:
            called = inst.called
            if called and inst.opcode not in CONTROL_FLOW_CALLERS:
                for callees in called.values():
                    for callee in callees:
                        add(id(callee))
    return [c for c in module.computations if id(c) not in embedded]


def depends_on(start: Instruction, targets: Iterable[Instruction], position: dict[Instruction, int],
               limit: int = 1_000_000) -> bool:
    """Does `start` (transitively) use any of `targets`? (`altgraph.order.depends_on`, capped.)"""
    return _depends_on(start, targets, position, limit)
