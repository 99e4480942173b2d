"""Rewriters: the only way rules change IR. `Rewriter` applies; `RecordingRewriter` records.

A rule builds replacement instructions with `create` and then calls `replace(old, new, rule)`.
The applying rewriter reroutes every use of `old` to `new`. The recording rewriter (dry mode)
instead routes the uses through `alternatives(old, new)`, leaving the choice to an agent; a rule
cannot tell which rewriter it was given.
"""

from __future__ import annotations

from collections.abc import Iterable

from hloenv.altgraph.alternatives import add_option, make_alternatives
from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.names import NameUniquer
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.order import depends_on, topological_sort
from hloenv.altgraph.shape import Shape
from hloenv.altgraph.verifier import shapes_match


class Rewriter:
    """Applies rewrites to a module.

    Attributes:
        module: the module being rewritten.
        rewrites: number of successful `replace` calls.
        refused: rewrites refused (dry mode: they would have made a cycle).
        log: (rule, site name) per successful replace, in order.
    """

    dry = False

    def __init__(self, module: Module):
        self.module = module
        self.names = NameUniquer(module)
        self.rewrites = 0
        self.refused = 0
        self.log: list[tuple[str, str]] = []
        self._touched: dict[int, Computation] = {}
        self._fresh: set[Instruction] = set()

    # -- building --------------------------------------------------------------------------------
    def create(self, comp: Computation, opcode: str, shape: Shape, operands: Iterable[Instruction] = (),
               attrs: dict[str, str | None] | None = None, *, payload: str | None = None,
               called: dict[str, list[Computation]] | None = None, name: str | None = None) -> Instruction:
        """Make a new instruction in `comp` (placed before its users when the pass finishes)."""
        if not isinstance(shape, Shape):  # (None failed later, in the printer)
            raise TypeError(f"create({opcode!r}, ...): shape must be a Shape (hloenv.altgraph.shape: "
                            f"parse_shape('f32[2]'), array(...), inst.shape), not {shape!r}")
        inst = Instruction(self.names.fresh(name or opcode), opcode, shape, list(operands),
                           dict(attrs) if attrs else None, payload, dict(called) if called else None)
        comp.add(inst)
        self._touched[id(comp)] = comp
        self._fresh.add(inst)
        return inst

    def constant(self, comp: Computation, shape: Shape, literal: str) -> Instruction:
        return self.create(comp, "constant", shape, payload=literal, name="constant")

    def add_computation(self, comp: Computation) -> Computation:
        """Add a new computation (e.g. a fused computation) to the module."""
        comp.module = self.module
        self.module.computations.insert(max(0, len(self.module.computations) - 1), comp)
        return comp

    # -- rewriting -------------------------------------------------------------------------------
    def replace(self, old: Instruction, new: Instruction, rule: str) -> bool:
        """Replace every use of `old` by `new` (which computes the same value, so has its shape:
        a `ValueError` naming the rule and the site otherwise)."""
        if new is old:
            return False
        _check_same_shape(old, new, rule)
        comp = old.parent
        old.replace_all_uses_with(new)
        self._done(comp, rule, old)
        return True

    def _done(self, comp: Computation, rule: str, site: Instruction) -> None:
        self._touched[id(comp)] = comp
        self._fresh.clear()
        self.rewrites += 1
        self.log.append((rule, site.name))

    def finish(self) -> None:
        """Restore operands-first order in every computation the rewrites touched.

        Raises:
            ValueError: a rewrite made a cycle (dry mode refuses such an option instead), with a
                note naming the rules that rewrote in that computation.
        """
        for comp in self._touched.values():
            try:
                topological_sort(comp)
            except ValueError as err:
                sites = {i.name for i in comp.instructions}
                rules = sorted({f"{rule!r} at {site!r}" for rule, site in self.log if site in sites})
                err.add_note(f"the rules that rewrote in {comp.name!r}: "
                             f"{', '.join(rules[:8]) or 'none logged'}{' ...' if len(rules) > 8 else ''}")
                raise
        self._touched.clear()


def _check_same_shape(old: Instruction, new: Instruction, rule: str) -> None:
    """A replacement computes its site's value: the same shape, layout aside (a rule that got it
    wrong made modules XLA refuses to compile, and dry mode offered them as options)."""
    if old.shape is not new.shape and old.shape != new.shape and not shapes_match(old.shape, new.shape):
        where = f" in computation {old.parent.name!r}" if old.parent is not None else ""
        raise ValueError(f"rule {rule!r} replaced {old.name!r} ({old.opcode}, {old.shape.to_text(False)}){where} "
                         f"by {new.name!r} ({new.opcode}, {new.shape.to_text(False)}): a replacement must "
                         "have its site's shape (layout aside)")


#: A reroute raises at most this many ranks before the rank map is dropped (and recomputed).
RANK_REPAIR_LIMIT = 100_000


class RecordingRewriter(Rewriter):
    """Dry mode: records each rewrite as an option of an `alternatives` node at the site.

    An option that reads (transitively) a user of its site would make a cycle once the users are
    rerouted through the alternatives node: `replace` refuses it. `check_cycles=False` skips that
    check, for a pass whose options provably read only instructions its site depends on (see
    `Pass.offers_acyclic_options`).
    """

    dry = True

    def __init__(self, module: Module, check_cycles: bool = True):
        super().__init__(module)
        self.check_cycles = check_cycles
        # Per computation, a rank that never decreases along an operand edge (the depth: 1 + the
        # deepest operand; new instructions at the max of their operands): the cycle check prunes
        # with it. A reroute that would break monotonicity drops the map (recomputed when needed).
        self._position: dict[int, dict[Instruction, int]] = {}  # by id(computation); ranks by instruction
        self._has_control_edges: set[int] = set()  # ids of computations with control edges

    def create(self, comp: Computation, opcode: str, shape: Shape, operands: Iterable[Instruction] = (),
               attrs: dict[str, str | None] | None = None, *, payload: str | None = None,
               called: dict[str, list[Computation]] | None = None, name: str | None = None) -> Instruction:
        inst = super().create(comp, opcode, shape, operands, attrs, payload=payload, called=called, name=name)
        self._rank_new(comp, inst)
        return inst

    def _rank_new(self, comp: Computation, inst: Instruction) -> None:
        position = self._position.get(id(comp))
        if position is None:
            return
        rank = 0
        for preds in (inst.operands, inst.control_predecessors):
            for op in preds:
                r = position.get(op)
                if r is None:
                    del self._position[id(comp)]
                    return
                if r > rank:
                    rank = r
        position[inst] = rank

    def _rank_rerouted(self, comp: Computation, alt: Instruction, users: list[Instruction]) -> None:
        """Rank `alt` and raise its (transitive) users' ranks where they fall below it, so ranks
        stay non-decreasing along operand edges without recomputing the map (which, dropped at
        every such reroute, made dry multi-output-fusion quadratic: 42 s on resnet50's fusions)."""
        position = self._position.get(id(comp))
        if position is None:
            return
        self._rank_new(comp, alt)
        rank = position.get(alt)
        if rank is None:
            self._position.pop(id(comp), None)
            return
        if id(comp) in self._has_control_edges:  # control successors are not in `users`: no repair
            if any(position.get(u, -1) < rank for u in users):
                self._position.pop(id(comp), None)
            return
        stack = list(users)
        raised = 0
        while stack:
            user = stack.pop()
            r = position.get(user)
            if r is None or raised > RANK_REPAIR_LIMIT:
                self._position.pop(id(comp), None)
                return
            if r < rank:
                position[user] = rank
                raised += 1
                stack.extend(user.users)

    def replace(self, old: Instruction, new: Instruction, rule: str) -> bool:
        if new is old:
            return False
        _check_same_shape(old, new, rule)
        comp = old.parent
        existing = None
        for u in old.users:
            if u.opcode == ALTERNATIVES and u.operands[0] is old:
                existing = u
                break
        users = [u for u in old.users if u is not existing and u not in self._fresh]
        # the new option must not read anything that will read it: the rerouted users, or the
        # existing alternatives node it joins (an option built from instructions that already
        # read that node, e.g. a fusion whose member's operand was rerouted through it)
        targets = users if existing is None else [existing, *users]
        if targets and self.check_cycles and self._depends_on_any(comp, new, targets):
            self.refused += 1
            self._fresh.clear()
            return False
        if existing is not None:
            if any(op is new for op in existing.operands):
                self._fresh.clear()
                return False
            add_option(existing, new, rule)
            self._rank_rerouted(comp, existing, list(existing.users))
        else:
            alt = make_alternatives(comp, old, new, rule, self.names.fresh("alternatives"))
            _reroute(old, alt, users)
            if comp.root is old:
                comp.root = alt
            self._rank_rerouted(comp, alt, users)
        self._done(comp, rule, old)
        return True

    def _depends_on_any(self, comp: Computation, start: Instruction, targets: list[Instruction]) -> bool:
        """Does `start` (transitively) use any of `targets`? Rerouting would then make a cycle."""
        position = self._position.get(id(comp))
        if position is None:
            position = self._position[id(comp)] = _depths(comp)
            if any(i.control_predecessors for i in comp.instructions):
                self._has_control_edges.add(id(comp))
        return depends_on(start, targets, position)


def _reroute(old: Instruction, alt: Instruction, users: list[Instruction]) -> None:
    """Make `users` (distinct users of `old`) read the new, unused `alt` instead: what
    `user.replace_operand(old, alt)` does for each, with `old.users` rebuilt once, not per user."""
    rerouted = set(users)  # (instructions hash by identity)
    for user in users:
        ops = user.operands
        ops[:] = [alt if op is old else op for op in ops]  # (in place: graphs hold these lists)
    old.users = [u for u in old.users if u not in rerouted]
    alt.users.extend(users)


def _depths(comp: Computation) -> dict[Instruction, int]:
    """instruction -> 1 + the largest depth among operands and control predecessors (0 for leaves)."""
    topological_sort(comp)
    depth: dict[Instruction, int] = {}  # (instructions hash by identity)
    for inst in comp.instructions:
        d = 0
        for op in inst.operands:
            d = max(d, depth[op] + 1)
        for op in inst.control_predecessors:
            d = max(d, depth[op] + 1)
        depth[inst] = d
    return depth
