"""The alternative graph: `alternatives` nodes, choosing among them, and pruning what is left.

An `alternatives` instruction holds the original value as operand 0 and proposed rewrites of it
as further operands; every former user of the original reads the alternatives node instead:

    before:   a = f32[4] add(x, zero)          ROOT r = f32[4] negate(a)
    dry run:  a = f32[4] add(x, zero)
              alt = f32[4] alternatives(a, x), hloenv_site="a", hloenv_rules="original;algsimp:add-zero"
              ROOT r = f32[4] negate(alt)
    select 1: ROOT r = f32[4] negate(x)        (after prune; `a` and `zero` are gone)

The two attributes give every alternative a stable identity (site + rules) that survives cloning,
printing and re-parsing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.gcpause import gc_paused
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.lazy import is_unbuilt, materialize
from hloenv.altgraph.module import Module
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.sharing import called_by, release, remember

SITE_ATTR = "hloenv_site"
RULES_ATTR = "hloenv_rules"
ORIGINAL = "original"

#: Opcodes whose instructions are kept even when nothing uses their value.
SIDE_EFFECT_OPCODES = frozenset({
    "send", "send-done", "recv", "recv-done", "infeed", "outfeed", "rng-get-and-update-state", "rng",
    "all-reduce", "all-reduce-start", "all-reduce-done", "all-gather", "all-gather-start",
    "all-gather-done", "collective-permute", "collective-permute-start", "collective-permute-done",
    "all-to-all", "reduce-scatter", "async-start", "async-update", "async-done",
})


def is_alternatives(inst: Instruction) -> bool:
    return inst.opcode == ALTERNATIVES


def has_side_effect(inst: Instruction, memo: dict[int, bool] | None = None) -> bool:
    """XLA's `HasSideEffect`: the instruction's own (a send, an infeed, a custom-call marked so,
    ...), or one inside a computation it calls, as a `while` whose body prints or a `call` of a
    side-effecting custom-call: dead-code removal and CSE must keep those too. Fused computations
    are not looked into: no fusion pass (ours or XLA's) fuses a side-effecting instruction.

    `memo` (id of a computation -> whether it has one) keeps what was found for a whole scan, as
    a pass over a module asks this of every instruction and the same reducers are called by many:
    valid while the scan adds or removes no side effect and frees no computation (a frozen
    computation's answer is kept by itself)."""
    if inst.opcode in SIDE_EFFECT_OPCODES:
        return True
    if inst.opcode == "custom-call" and (inst.attrs.get("custom_call_has_side_effect") or "") == "true":
        return True
    if not inst.called or inst.opcode == "fusion":
        return False
    for comp in inst.called_computations:
        if memo is None:
            found = remember(comp, "has_side_effect", _computation_has_side_effect)
        else:
            found = memo.get(id(comp))
            if found is None:
                found = memo[id(comp)] = any(has_side_effect(i, memo) for i in comp.instructions)
        if found:
            return True
    return False


def _computation_has_side_effect(comp: Computation) -> bool:
    return any(has_side_effect(i) for i in comp.instructions)


def option_rules(alt: Instruction) -> list[str]:
    """The rule that produced each operand (`"original"` for operand 0)."""
    text = (alt.attrs.get(RULES_ATTR) or '""').strip('"')
    rules = text.split(";") if text else []
    return rules + ["?"] * (len(alt.operands) - len(rules))


def alternative_site(alt: Instruction) -> str:
    return (alt.attrs.get(SITE_ATTR) or '""').strip('"')


def alternative_id(alt: Instruction) -> str:
    """Stable identity: computation, site and the rules on offer (`main/add.3:original;algsimp:x`)."""
    comp = alt.parent.name if alt.parent is not None else "?"
    return f"{comp}/{alternative_site(alt)}:{';'.join(option_rules(alt))}"


def make_alternatives(comp: Computation, original: Instruction, option: Instruction, rule: str,
                      name: str) -> Instruction:
    """Add the node `alternatives(original, option)` to `comp` (appended: callers re-sort).

    The caller (the recording rewriter) reroutes the users of `original` through it."""
    alt = Instruction(name, ALTERNATIVES, original.shape, [original, option],
                      {SITE_ATTR: f'"{original.name}"', RULES_ATTR: f'"{ORIGINAL};{rule}"'})
    comp.add(alt)
    return alt


def add_option(alt: Instruction, option: Instruction, rule: str) -> None:
    """Offer one more rewrite at an existing alternatives node."""
    alt.operands.append(option)
    if not any(u is alt for u in option.users):
        option.users.append(alt)
    alt.set_attr(RULES_ATTR, '"' + ";".join([*option_rules(alt)[:len(alt.operands) - 1], rule]) + '"')


def alternatives_nodes(module: Module) -> list[Instruction]:
    """Every alternatives node, in a deterministic order (computations, then instructions)."""
    return [inst for comp in module.computations if comp.memo is None  # (frozen ones hold none)
            for inst in comp.instructions if inst.opcode == ALTERNATIVES]


def check_choices(nodes: list[Instruction], choices: Sequence[int] | Mapping[str, int]) -> list[int]:
    """One option index per node of `nodes` (`choices` in their order, or a mapping from node name
    or `alternative_id` to index; unnamed nodes keep the original, 0).

    Raises:
        ValueError: wrong number of choices, a name or id that is no node's, an index that is not
            an integer or is out of range (naming the node).
        TypeError: choices that are neither a sequence nor a mapping (None, a string, a number).
    """
    if isinstance(choices, Mapping):
        ids = [alternative_id(n) for n in nodes]
        unknown = set(choices) - {n.name for n in nodes} - set(ids)
        if unknown:
            example = f"e.g. {ids[0]!r}" if ids else "and this module has none"
            raise ValueError(f"choices name no alternatives node: {', '.join(sorted(map(repr, unknown))[:5])} "
                             f"(keys are node names or alternative ids, {example})")
        both = [(n, i) for n, i in zip(nodes, ids) if n.name in choices and i in choices]
        if both:  # (the name's index won without a word)
            n, i = both[0]
            raise ValueError(f"choices name alternatives node {n.name} twice, by name and as {i!r}: "
                             "give one of them")
        picks = [choices.get(n.name, choices.get(i, 0)) for n, i in zip(nodes, ids)]
    else:
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
            raise TypeError(f"choices must be a sequence of option indices (one per alternatives node) "
                            f"or a mapping {{node name or alternative id: index}}, not {type(choices).__name__}")
        picks = list(choices)
        if len(picks) != len(nodes):
            hint = ("; the module has no alternatives nodes to choose at: run a deciding pass in dry mode "
                    "first (env.run(\"fusion\", dry=True))") if not nodes else ""
            raise ValueError(f"expected {len(nodes)} choices (one per alternatives node), got {len(picks)}{hint}")
    out = []
    for node, pick in zip(nodes, picks):
        if not _is_index(pick):
            raise ValueError(f"choice {pick!r} for {node.name} ({alternative_id(node)}) is not an option index")
        if not 0 <= int(pick) < len(node.operands):
            raise ValueError(f"choice {pick} out of range for {node.name} ({alternative_id(node)}), "
                             f"which has {len(node.operands)} options")
        out.append(int(pick))
    return out


def _is_index(pick: object) -> bool:
    """An int (numpy's too) or a whole float; not a bool, a string or None."""
    if isinstance(pick, bool):
        return False
    return isinstance(pick, Integral) or isinstance(pick, float) and pick.is_integer()


def select(module: Module, choices: Sequence[int] | Mapping[str, int], prune_after: bool = True,
           nodes: list[Instruction] | None = None) -> int:
    """Reroute every alternatives node to one of its operands; returns how many were resolved.

    Args:
        choices: an option index per node, in `alternatives_nodes(module)` order, or a mapping from
            node name or `alternative_id` to an option index. Nodes a mapping does not name keep
            the original (index 0).
        prune_after: run `prune(module)` afterwards.
        nodes: `alternatives_nodes(module)`, when the caller already has it (saves a scan).

    Raises:
        ValueError: wrong number of choices, or an index out of range (naming the node).
    """
    nodes = alternatives_nodes(module) if nodes is None else nodes
    picks = check_choices(nodes, choices)
    chosen_lazy = [op for node, pick in zip(nodes, picks) if (op := node.operands[pick]).lazy is not None]
    for option in chosen_lazy:  # built before any rerouting (they copy their members as they are)
        materialize(option)
    # Resolve innermost first so a chosen option that is itself an alternatives node is resolved too.
    for node, pick in zip(nodes, picks):
        chosen = node.operands[pick]
        node.replace_all_uses_with(chosen)
    gone = {id(node) for node in nodes}
    for node in nodes:
        node.detach()
    for comp in {id(n.parent): n.parent for n in nodes}.values():
        comp.instructions = [i for i in comp.instructions if id(i) not in gone]
        comp._by_name = None
    for option in chosen_lazy:  # plain fusions now: a module has no lazy options
        option.lazy = None
    if prune_after:
        prune(module)
    return len(nodes)


@dataclass
class PruneStats:
    instructions: int = 0
    fused_parameters: int = 0
    computations: int = 0
    merged_options: int = 0


def prune(module: Module, merge: bool = True) -> PruneStats:
    """Remove what no longer matters: duplicate options, dead instructions, dead fused parameters,
    uncalled computations. Alternatives nodes left with one distinct option are resolved.

    Args:
        merge: run `merge_identical_options` first; a caller that has just merged (and since only
            dropped options) passes False.
    """
    with gc_paused():
        return _prune(module, merge)


def _prune(module: Module, merge: bool = True) -> PruneStats:
    stats = PruneStats()
    if merge:
        stats.merged_options = merge_identical_options(module)
    dirty: list[Computation] = list(module.computations)
    first = True
    memo: dict[int, bool] = {}  # (side effects, by computation: pruning removes none)
    while dirty:
        shrunk = []
        for comp in dirty:
            removed = remove_dead_instructions(comp, memo)
            if removed:
                stats.instructions += removed
                shrunk.append(comp)
        # a fused parameter dies only where its body shrank (the first time: anywhere); dropping
        # it drops an operand of the fusion, which may leave dead code where the fusion is
        params, dirty = _remove_dead_fused_parameters(module, module.computations if first else shrunk)
        stats.fused_parameters += params
        first = False
    stats.computations = remove_uncalled_computations(module)
    return stats


def remove_dead_instructions(comp: Computation, memo: dict[int, bool] | None = None) -> int:
    """Drop instructions that neither the root nor a side effect needs. Parameters stay.
    (`memo`: see `has_side_effect`; removing dead code removes no side effect.)"""
    # Dead code always has an unused instruction at its end (follow users from any dead one), so a
    # computation where everything but the root and parameters has users needs no walk.
    root = comp.root
    unused = [i for i in comp.instructions if not i.users and i is not root and i.opcode != "parameter"]
    if not unused:
        return 0
    if any(i.control_predecessors for i in comp.instructions):
        dead = _dead_by_walk(comp, memo)  # control edges do not show in `users`: walk from what stays
    else:
        dead = _dead_by_cascade(comp, unused, memo)
    if not dead:
        return 0
    touched: set[Instruction] = set()  # live operands of dead instructions: their users shrink
    for inst in dead:
        touched.update(op for op in inst.operands if op not in dead)
    for op in touched:  # (each list filtered on its own: the order they come in does not matter)
        op.users = [u for u in op.users if u not in dead]
    for inst in dead:  # no detach (quadratic in the users of a widely used operand): dead ones are
        inst.operands = []  # emptied, which also breaks their cycles for reference counting
        inst.users = []
        inst.lazy = None
    comp.instructions = [i for i in comp.instructions if i not in dead]
    comp._by_name = None
    return len(dead)


def _dead_by_cascade(comp: Computation, unused: list[Instruction],
                     memo: dict[int, bool] | None = None) -> set[Instruction]:
    """The instructions only dead code reads, from the unused ones back through operands (in
    a computation without control edges: what a walk from the root, the parameters and the side
    effects does not reach, found in time proportional to the dead code, not to the computation)."""
    root = comp.root
    dead: set[Instruction] = set()  # (instructions hash by identity)
    users_left: dict[Instruction, int] = {}  # users lists hold each user once
    stack = [i for i in unused if not has_side_effect(i, memo)]
    while stack:
        inst = stack.pop()
        if inst in dead:
            continue
        dead.add(inst)
        seen: set[Instruction] = set()
        for op in inst.operands:
            if op in seen:
                continue
            seen.add(op)
            if op is root or op.opcode == "parameter" or op.parent is not comp or has_side_effect(op, memo):
                continue
            left = users_left.get(op, len(op.users)) - 1
            users_left[op] = left
            if left == 0:
                stack.append(op)
    return dead


def _dead_by_walk(comp: Computation, memo: dict[int, bool] | None = None) -> set[Instruction]:
    """The instructions a walk from the root, the side effects and the parameters (through
    operands and control predecessors) does not reach."""
    live: set[Instruction] = set()
    stack = [i for i in comp.instructions if i is comp.root or has_side_effect(i, memo) or i.opcode == "parameter"]
    while stack:
        inst = stack.pop()
        if inst in live:
            continue
        live.add(inst)
        stack.extend(inst.operands)
        stack.extend(inst.control_predecessors)
    return {i for i in comp.instructions if i not in live}


def remove_dead_fused_parameters(module: Module) -> int:
    """Parameters of fused computations that nothing reads: drop them and the fusion's operand."""
    return _remove_dead_fused_parameters(module, module.computations)[0]


def _remove_dead_fused_parameters(module: Module, comps: list[Computation]) -> tuple[int, list[Computation]]:
    """`remove_dead_fused_parameters` over `comps` only; also returns the computations holding the
    fusions that lost operands."""
    with_dead = [(c, dead) for c in comps if not c.holders  # (a shared computation has none)
                 and (dead := [i for i in c.instructions if i.opcode == "parameter" and not i.users])]
    if not with_dead:
        return 0, []
    removed = 0
    holders: dict[int, Computation] = {}
    callers = module.callers()
    for comp, dead in with_dead:
        sites = callers.get(comp.name, [])
        if len(sites) != 1 or sites[0].opcode != "fusion":
            continue
        fusion = sites[0]
        keep = [p for p in comp.parameters if p.users]
        new_operands = [fusion.operands[p.parameter_number] for p in keep]
        for number, p in enumerate(keep):
            p.payload = str(number)
        dead_ids = {id(p) for p in dead}
        comp.instructions = [i for i in comp.instructions if id(i) not in dead_ids]
        old_operands = fusion.operands
        fusion.operands = new_operands
        for op in old_operands:
            if not any(o is op for o in new_operands):
                op.users = [u for u in op.users if u is not fusion]
        comp._by_name = None
        removed += len(dead)
        if fusion.parent is not None:
            holders[id(fusion.parent)] = fusion.parent
    return removed, list(holders.values())


def remove_uncalled_computations(module: Module, among: Collection[int] | None = None) -> int:
    """Remove the computations not reachable from the entry through calls (only those whose id is
    in `among`, when given: `defuse` drops the bodies it inlined); returns how many."""
    if module.entry is None:
        return 0
    reachable = {id(module.entry)}
    stack = [module.entry]
    while stack:
        comp = stack.pop()
        if comp.memo is not None:  # frozen: its callees are known
            for callee in called_by(comp):
                if id(callee) not in reachable:
                    reachable.add(id(callee))
                    stack.append(callee)
            continue
        for inst in comp.instructions:
            if inst.called:  # most instructions call nothing: skip building their callee list
                for callees in inst.called.values():
                    for callee in callees:
                        if id(callee) not in reachable:
                            reachable.add(id(callee))
                            stack.append(callee)
    dropped = [c for c in module.computations if id(c) not in reachable and (among is None or id(c) in among)]
    if dropped:
        gone = {id(c) for c in dropped}
        module.computations = [c for c in module.computations if id(c) not in gone]
        for comp in dropped:
            if release(comp):  # (a shared computation other modules still hold stays as it is)
                _dismantle(comp)
    return len(dropped)


def dismantle(module: Module) -> None:
    """Break every reference cycle of a module nobody will use again, so reference counting frees
    it at once (a graph's instructions, computations and the module point at each other: left
    alone, they wait for a full collection, which scans everything alive). `module` is empty
    afterwards."""
    for comp in module.computations:
        if release(comp):  # (a shared computation other modules still hold stays as it is)
            _dismantle(comp)
            comp.module = None
    module.computations = []
    module.entry = None


def _dismantle(comp: Computation) -> None:
    """Break the reference cycles of a computation that is gone, so reference counting frees it at
    once instead of a full collection. Its cycles all go through `users` (operands, control
    predecessors, lazy records and callees point only at what an instruction reads: acyclic) or
    through the computation's own references to its instructions; clearing those is enough."""
    for inst in comp.instructions:
        inst.users = []
    comp.instructions = []
    comp.root = None
    comp._by_name = None


def _operand_key(inst: Instruction) -> tuple:
    """What two structurally identical instructions must share, before looking at what they call:
    opcode, shape, payload and, per operand, its opcode and shape (an alternatives operand: its
    identity, which is how `merge_identical_options`' digests hash it)."""
    operands = tuple([id(o) if o.opcode == ALTERNATIVES else (o.opcode, o.shape) for o in inst.operands])
    return (inst.opcode, inst.shape, inst.payload, operands)


def _body_key(inst: Instruction) -> tuple:
    """The sorted opcodes of each called computation (a lazy option's, described without building it)."""
    if is_unbuilt(inst):
        return (inst.lazy.body_opcodes(len(inst.operands)),)
    return tuple(tuple(sorted(i.opcode for i in c.instructions)) for c in inst.called_computations)


#: How deep `_operands_differ` looks into two operand cones for a difference.
DIFFERENCE_DEPTH = 4


def _surely_distinct(options: list[Instruction]) -> bool:
    """True when no two of `options` can be structurally identical: their keys differ (a necessary
    condition, cheap: no hashing of operand subgraphs, called computations seen as opcodes only,
    and only when the operands alone do not tell the options apart), or, where keys are equal, a
    difference shows within a few levels of their operands (e.g. two fusions of a shift with one
    or the other of its constants: the constants' literals differ)."""
    keys = [_operand_key(o) for o in options]
    if len(set(keys)) == len(options):
        return True
    groups: dict[tuple, list[Instruction]] = {}
    for k, o in zip(keys, options):
        groups.setdefault((k, _body_key(o)), []).append(o)
    return all(_operands_differ(a, b, DIFFERENCE_DEPTH)
               for group in groups.values() for i, a in enumerate(group) for b in group[i + 1:])


def _operands_differ(a: Instruction, b: Instruction, depth: int) -> bool:
    """True when `a` and `b` (options of one node, whose own keys are equal) surely differ in
    structure: some pair of operands in the same position differs in its local key, within `depth`
    levels (alternatives nodes hash by identity in `merge_identical_options`: distinct ones differ).
    False means "not shown to differ" (callees and control edges are not looked at)."""
    from hloenv.altgraph.fingerprint import local_key
    stack = [(x, y, depth) for x, y in zip(a.operands, b.operands)]
    while stack:
        x, y, d = stack.pop()
        if x is y:
            continue
        if x.opcode == ALTERNATIVES or y.opcode == ALTERNATIVES:
            return True
        if len(x.operands) != len(y.operands) or local_key(x) != local_key(y):
            return True
        if d > 0:
            stack.extend((p, q, d - 1) for p, q in zip(x.operands, y.operands))
    return False


def merge_identical_options(module: Module) -> int:
    """Drop options that repeat an earlier one: the same instruction, or (among the rewrites, not
    the original) a structurally identical one, e.g. two rules proposing the same rewrite. The
    original is only ever merged with itself: a rewrite equal in structure to it (cse's shared
    twin) is still a different graph. A node left with one option is replaced by it. Returns how
    many options were dropped."""
    nodes = alternatives_nodes(module)
    if not nodes:
        return 0
    from hloenv.altgraph.fingerprint import LazyDigests
    digests = LazyDigests(opaque=is_alternatives)  # built only if some options may be twins
    dropped = 0
    gone: dict[int, set[int]] = {}
    for node in nodes:
        comp = node.parent
        ops = node.operands
        twin_of_original = any(op is ops[0] for op in ops[1:])
        if twin_of_original or (len(ops) > 2 and not _surely_distinct(ops[1:])):
            seen: set[bytes] = set()
            keep, rules = [ops[0]], [option_rules(node)[0]]
            for op, rule in zip(ops[1:], option_rules(node)[1:]):
                if op is ops[0]:
                    continue
                d = digests.instruction(op)
                if d in seen:
                    continue
                seen.add(d)
                keep.append(op)
                rules.append(rule)
        else:
            keep = ops
        if len(keep) == len(ops):
            continue
        dropped += len(ops) - len(keep)
        for op in ops:
            if not any(k is op for k in keep):
                op.users = [u for u in op.users if u is not node]
        node.operands = keep
        node.set_attr(RULES_ATTR, '"' + ";".join(rules) + '"')
        if len(keep) == 1:
            node.replace_all_uses_with(keep[0])
            node.detach()
            gone.setdefault(id(comp), set()).add(id(node))
    for comp in module.computations:
        if id(comp) in gone:
            comp.instructions = [i for i in comp.instructions if id(i) not in gone[id(comp)]]
            comp._by_name = None
    return dropped
