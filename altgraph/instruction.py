"""HLO instructions: an opcode, a shape, ordered operands, attributes and called computations."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from hloenv.altgraph.shape import Shape

if TYPE_CHECKING:
    from hloenv.altgraph.computation import Computation
    from hloenv.altgraph.lazy import LazyOption

#: Attributes whose value names computations; a list-valued one is written `{a, b}`.
CALLED_COMPUTATION_ATTRS = frozenset({
    "to_apply", "calls", "condition", "body", "branch_computations", "true_computation",
    "false_computation", "select", "scatter", "called_computations", "comparator",
})
LIST_VALUED_CALL_ATTRS = frozenset({"branch_computations", "called_computations", "calls"})
CONTROL_PREDECESSORS = "control-predecessors"
#: Attributes that never change what an instruction computes (ignored by fingerprints).
NON_SEMANTIC_ATTRS = frozenset({"metadata", "statistics", "origin"})
#: The read-only defaults of `attrs`/`called` and `control_predecessors`; use the set_* methods.
_NO_ATTRS = MappingProxyType({})
_NO_PREDECESSORS: tuple = ()


class Instruction:
    """One HLO instruction.

    Attributes:
        name: unique within its computation (and, after parsing XLA output, within the module).
        opcode: XLA's spelling (`"add"`, `"get-tuple-element"`, ...), or `"alternatives"`.
        shape: the result shape.
        operands: operand instructions in order; the same operand may appear twice.
        users: instructions that use this one (each once), in first-use order.
        attrs: attribute name -> value text as written (`"dimensions": "{0,1}"`). Attributes that
            name computations or control predecessors are kept in `called` /
            `control_predecessors` instead, with a `None` placeholder here that keeps their order.
            Change attributes with `set_attr` (an instruction without attributes shares one
            read-only empty mapping).
        called: attribute name -> called computations (`{"to_apply": [add_computation]}`).
        control_predecessors: instructions that must run before this one.
        payload: the text between the parentheses for `parameter` (its number) and `constant`
            (its full literal); None for every other opcode.
        parent: the computation that holds this instruction.
        line: the 1-based source line, 0 for instructions built in code.
        lazy: for a lazy rewrite option, the record that builds its called computation on demand
            (`hloenv.altgraph.lazy`); None for every other instruction.
    """

    __slots__ = ("name", "opcode", "shape", "operands", "users", "attrs", "called",
                 "control_predecessors", "payload", "parent", "line", "lazy", "__weakref__")

    def __init__(self, name: str, opcode: str, shape: Shape, operands: list[Instruction] | None = None,
                 attrs: dict[str, str | None] | None = None, payload: str | None = None,
                 called: dict[str, list[Computation]] | None = None, line: int = 0):
        self.name = name
        self.opcode = opcode
        self.shape = shape
        self.operands: list[Instruction] = operands if operands is not None else []
        self.users: list[Instruction] = []
        # Shared read-only empties until set: most instructions have no attributes or callees.
        self.attrs: dict[str, str | None] = attrs if attrs is not None else _NO_ATTRS  # type: ignore
        self.called: dict[str, list[Computation]] = called if called is not None else _NO_ATTRS  # type: ignore
        self.control_predecessors: list[Instruction] = _NO_PREDECESSORS  # type: ignore
        self.payload = payload
        self.parent: Computation | None = None
        self.line = line
        self.lazy: LazyOption | None = None

    # -- convenience -----------------------------------------------------------------------------
    @property
    def parameter_number(self) -> int:
        if self.opcode != "parameter":
            raise ValueError(f"{self.name} is a {self.opcode}, not a parameter")
        return int(self.payload)  # type: ignore[arg-type]

    @property
    def called_computations(self) -> list[Computation]:
        """Every computation this instruction calls, in attribute order."""
        called = self.called
        if len(called) == 1:  # (the usual case: one calls=/to_apply= attribute)
            for comps in called.values():
                return list(comps)
        out: list[Computation] = []
        for comps in called.values():
            out.extend(comps)
        return out

    @property
    def is_root(self) -> bool:
        return self.parent is not None and self.parent.root is self

    def set_attr(self, key: str, value: str | None) -> None:
        """Set (or, with None, delete) an attribute's raw text."""
        attrs = dict(self.attrs)
        if value is None:
            attrs.pop(key, None)
        else:
            attrs[key] = value
        self.attrs = attrs

    def set_called(self, key: str, computations: list[Computation]) -> None:
        """Set the computations an attribute (`to_apply`, `calls`, ...) names."""
        called = dict(self.called)
        called[key] = list(computations)
        self.called = called
        if key not in self.attrs:
            self.attrs = {**self.attrs, key: None}

    def add_control_predecessor(self, pred: Instruction) -> None:
        if not any(p is pred for p in self.control_predecessors):
            self.control_predecessors = [*self.control_predecessors, pred]

    def attr(self, key: str, default: str | None = None) -> str | None:
        """The raw text of attribute `key` (None if absent)."""
        value = self.attrs.get(key)
        return default if value is None else value

    def operand_index(self, operand: Instruction) -> int:
        for i, op in enumerate(self.operands):
            if op is operand:
                return i
        raise ValueError(f"{operand.name} is not an operand of {self.name}")

    # -- graph edits (used by rewriters; they keep users consistent) -------------------------------
    def set_operand(self, index: int, new: Instruction) -> None:
        old = self.operands[index]
        self.operands[index] = new
        if not any(op is old for op in self.operands):
            _remove_user(old, self)
        _add_user(new, self)

    def replace_operand(self, old: Instruction, new: Instruction) -> None:
        """Replace every use of `old` among this instruction's operands by `new`."""
        for i, op in enumerate(self.operands):
            if op is old:
                self.operands[i] = new
        _remove_user(old, self)
        _add_user(new, self)

    def replace_all_uses_with(self, new: Instruction) -> None:
        """Make every user (and the computation root) use `new` instead of this instruction.

        What `user.replace_operand(self, new)` does for each user, with the two user lists
        updated once (per user, that scan made rerouting a value with thousands of users quadratic)."""
        users = [u for u in self.users if u is not new]
        if users:
            for user in users:
                ops = user.operands
                for i, op in enumerate(ops):
                    if op is self:
                        ops[i] = new
            new_users = new.users
            present = set(new_users)  # (instructions hash by identity)
            for user in users:
                if user not in present:
                    present.add(user)
                    new_users.append(user)
            self.users = [u for u in self.users if u is new]
        if self.parent is not None and self.parent.root is self:
            self.parent.root = new

    def detach(self) -> None:
        """Drop this instruction's operand edges (before removing it from its computation)."""
        for op in self.operands:
            _remove_user(op, self)
        self.operands = []

    def __repr__(self) -> str:
        return f"<{self.opcode} {self.name}: {self.shape.to_text()}>"


def _add_user(operand: Instruction, user: Instruction) -> None:
    users = operand.users
    for u in users:
        if u is user:
            return
    users.append(user)


def _remove_user(operand: Instruction, user: Instruction) -> None:
    operand.users = [u for u in operand.users if u is not user]
