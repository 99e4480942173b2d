"""Lower a module's fusion decisions to a form XLA compiles soundly: fusion regions.

XLA cannot be handed our `fusion` instructions through jaxlib. jaxlib compiles only StableHLO,
so every layout inside the module is lost on the way in, and then:
  - with XLA's `layout-assignment` on, the layouts inside pre-built fused computations are
    cleared and the CPU emitter aborts (`Check failed: has_layout()`) or, worse, computes wrong
    values (seen on haiku mobilenet);
  - with `layout-assignment` off, XLA miscompiles even modules without any fusion (6 of the 20
    harvested modules give different outputs, 4 more fail: LAPACK calls get row-major buffers,
    dot batch dimensions are not made major, ...).
So a fusion decision is handed to XLA as a *region* instead, and XLA's own `fusion` pass builds
the kernel after its normal layout assignment:

    before:  ENTRY e { p = f32[8] parameter(0)  q = f32[8] parameter(1)
                       f = f32[8] fusion(p, q), kind=kLoop, calls=fc        (fc: exp(a) * b)
                       ROOT t = f32[8] tanh(f) }
    after:   ENTRY e { p = f32[8] parameter(0)  q = f32[8] parameter(1)
                       e = f32[8] exponential(p)  m = f32[8] multiply(e, q)   (region 1)
                       b = (f32[8]) opt-barrier((f32[8]) tuple(m))  g = f32[8] get-tuple-element(b), index=0
                       ROOT t = f32[8] tanh(g) }                              (region 2)

Every fusion's body is inlined as one region; every other instruction is a region of its own.
Wherever a value crosses from one region to another, it goes through an `opt-barrier`, which
computes nothing and which XLA never fuses across. XLA's fusion pass may then fuse only inside
regions: never more than the decisions allow. (Inside a region XLA still applies its own
profitability rules, so it may fuse less than the region holds.)

The barriers hold only because the "env" pipeline switches off two of XLA's passes for a module
with fusion decisions (`hloenv.xla.passes.FUSED_MODULE_DISABLED_PASSES`): jaxlib 0.10.2's
`cse_barrier_expander` deletes every `opt-barrier` before layout assignment, library fusion and
`fusion` (with it on, as until December 2026, the fences held only against XLA's simplifier, and
XLA fused across them as it liked), and `small-while-loop-hoisting` hands small loops to an
emitter that cannot compile a barrier.

Two kinds of edge are left open:
  - Out of a dot other than a matrix-vector one. No decision can fuse such a dot into its consumer
    (XLA's loop fusion never takes it; `fusion` offers it nowhere), but across the edge XLA's
    simplifier rewrites the dot's form (`transpose(dot(a, b))` -> `dot(b, a)`). Measured with the
    barriers holding (and the env's library-fusion setting, `hloenv.xla.passes.ENV_XLA_OPTIONS`),
    XLA-like decisions against XLA's default pipeline over 12 harvested modules: 0.939x fenced,
    1.005x open (geometric means); the LSTM 1.23x fenced, 0.99x open; optax's L-BFGS 0.38x
    fenced, 1.01x open (fenced, its gradient dots keep a form that runs faster there).
    Whether to open such an edge matters both ways; it is not yet a decision.
  - Out of a scalar: XLA's CPU backend could not compile a scalar `opt-barrier` in a while loop
    ("Unhandled opcode for elemental IR emission"; 4 of 12 harvested modules), and whether a
    scalar is computed in its consumer's kernel or apart is of no account next to the tensors.
"""

from __future__ import annotations

from hloenv.altgraph.attributes import dot_dnums
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.names import NameUniquer
from hloenv.altgraph.printer import callees_first_from
from hloenv.altgraph.shape import COMPLEX_TYPES, tuple_of

#: Producers XLA never fuses into a consumer, and consumers it never fuses a producer into: no
#: barrier is needed on their edges.
_NEVER_FUSED = frozenset({
    "parameter", "tuple", "get-tuple-element", "opt-barrier", "while", "conditional", "call",
    "custom-call", "after-all", "add-dependency", "infeed", "outfeed", "send", "send-done", "recv",
    "recv-done", "all-reduce", "all-gather", "all-to-all", "collective-permute",
    "reduce-scatter", "rng-get-and-update-state", "partition-id", "replica-id", "domain",
    "async-start", "async-update", "async-done", "copy-start", "copy-done", "token",
})

#: Caller attributes whose computations run as sequential programs (XLA may fuse inside them).
#: Other callees (reduce, sort, scatter, map, ... `to_apply`) are scalar sub-computations.
_SEQUENTIAL_CALLEES = {"while": ("body", "condition"), "call": ("to_apply",),
                       "conditional": ("branch_computations", "true_computation",
                                       "false_computation")}


def is_matrix_vector_dot(inst: Instruction) -> bool:
    """XLA CPU's matrix-vector dot (here: a real result of rank <= 1 without batch dimensions), the
    one dot its loop fusion takes as a producer (into an add: an output fusion)."""
    return (inst.opcode == "dot" and inst.shape.dtype not in COMPLEX_TYPES and inst.shape.rank <= 1
            and not dot_dnums(inst).lhs_batch)


def _fenced_producer(inst: Instruction) -> bool:
    """Do the values `inst` sends to other regions go through a barrier? Not from what XLA never
    fuses, tuples and tokens, scalars, nor from a dot other than a matrix-vector one (see
    above)."""
    if inst.opcode in _NEVER_FUSED or inst.shape.is_tuple or inst.shape.is_token or inst.shape.rank == 0:
        return False
    return inst.opcode != "dot" or is_matrix_vector_dot(inst)


def has_fusions(module: Module) -> bool:
    """True when any computation holds a `fusion` instruction."""
    return any(inst.opcode == "fusion" for inst in module.instructions())


def lower_fusions(module: Module) -> Module:
    """A copy of `module` with every fusion inlined as a region fenced by `opt-barrier`s.

    Computes the same values as `module`. Compile the result with XLA's `fusion` pass on.
    """
    out = module.clone()
    names = NameUniquer(out)
    for comp in _sequential_computations(out):
        _lower_computation(comp, names)
    _drop_unreachable(out)
    return out


def _drop_unreachable(module: Module) -> None:
    """Drop the computations nothing reachable from the entry calls (the inlined fused ones)."""
    if module.entry is None:
        return
    reachable = {id(c) for c in callees_first_from([module.entry])}
    module.computations = [c for c in module.computations if id(c) in reachable]


def _sequential_computations(module: Module) -> list[Computation]:
    if module.entry is None:
        return []
    seen = {id(module.entry)}
    order = [module.entry]
    for comp in order:  # grows while iterating
        for inst in comp.instructions:
            for key in _SEQUENTIAL_CALLEES.get(inst.opcode, ()):
                for callee in inst.called.get(key, ()):
                    if id(callee) not in seen:
                        seen.add(id(callee))
                        order.append(callee)
    return order


def _lower_computation(comp: Computation, names: NameUniquer) -> None:
    region: dict[int, int] = {}
    new_order: list[Instruction] = []
    mapping: dict[int, Instruction] = {}
    next_region = 0
    for inst in comp.instructions:
        operands = [mapping.get(id(op), op) for op in inst.operands]
        if inst.opcode == "fusion":
            root = _inline(inst, operands, names, new_order, region, next_region)
            mapping[id(inst)] = root
            for pred in inst.control_predecessors:
                root.add_control_predecessor(mapping.get(id(pred), pred))
        else:
            for i, (old, new) in enumerate(zip(inst.operands, operands)):
                if old is not new:
                    inst.set_operand(i, new)
            if inst.control_predecessors:
                inst.control_predecessors = [mapping.get(id(p), p) for p in inst.control_predecessors]
            region[id(inst)] = next_region
            new_order.append(inst)
        next_region += 1
    for inst in comp.instructions:  # the fusion instructions are gone: drop their edges
        if inst.opcode == "fusion":
            inst.detach()
    if comp.root is not None:
        comp.root = mapping.get(id(comp.root), comp.root)
    comp.instructions = new_order
    for inst in new_order:
        inst.parent = comp
    comp._by_name = None
    _fence(comp, region, names)


def _inline(fusion: Instruction, args: list[Instruction], names: NameUniquer,
            out: list[Instruction], region: dict[int, int], rid: int) -> Instruction:
    """Append copies of `fusion`'s body (nested fusions too) to `out`; returns the copied root."""
    body = fusion.called["calls"][0]
    local: dict[int, Instruction] = {}
    for inst in body.post_order():
        if inst.opcode == "parameter":
            local[id(inst)] = args[inst.parameter_number]
            continue
        operands = [local[id(op)] for op in inst.operands]
        if inst.opcode == "fusion":
            local[id(inst)] = _inline(inst, operands, names, out, region, rid)
            continue
        copy = Instruction(names.fresh(inst.name), inst.opcode, inst.shape, operands,
                           dict(inst.attrs) if inst.attrs else None, payload=inst.payload,
                           called={k: list(v) for k, v in inst.called.items()} or None)
        for op in operands:
            if not op.users or op.users[-1] is not copy:
                op.users.append(copy)
        region[id(copy)] = rid
        out.append(copy)
        local[id(inst)] = copy
    return local[id(body.root)]


def _fence(comp: Computation, region: dict[int, int], names: NameUniquer) -> None:
    """Route every value that crosses regions between fusible instructions through a barrier."""
    fenced: list[Instruction] = []
    for inst in comp.instructions:
        fenced.append(inst)
        if not _fenced_producer(inst):
            continue
        crossing = [u for u in inst.users
                    if u.opcode not in _NEVER_FUSED and region.get(id(u)) != region[id(inst)]]
        if not crossing:
            continue
        tup = Instruction(names.fresh("fence.tuple"), "tuple", tuple_of([inst.shape]), [inst])
        barrier = Instruction(names.fresh("fence"), "opt-barrier", tup.shape, [tup])
        value = Instruction(names.fresh("fenced"), "get-tuple-element", inst.shape, [barrier],
                            {"index": "0"})
        for user in crossing:
            user.replace_operand(inst, value)
        for producer, consumer in ((inst, tup), (tup, barrier), (barrier, value)):
            producer.users.append(consumer)
            consumer.parent = comp
        fenced.extend((tup, barrier, value))
    comp.instructions = fenced
    comp._by_name = None
