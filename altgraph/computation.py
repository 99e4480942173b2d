"""HLO computations: an ordered list of instructions with parameters and a root."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hloenv.altgraph.instruction import Instruction

if TYPE_CHECKING:
    from hloenv.altgraph.module import Module


class Computation:
    """A computation. `instructions` is in a valid (operands-first) order.

    Attributes:
        name: unique within the module.
        instructions: every instruction, operands before users.
        root: the result instruction.
        is_entry: True for the module's entry computation.
        attrs: header attributes other than the signature (e.g. `execution_thread`), raw text.
        module: the module that holds this computation (the latest one, for a shared computation).
        holders: 0, or, for a fused computation that several modules hold at once (frozen: never
            changed in place), how many of them still do (`hloenv.altgraph.sharing`).
    """

    __slots__ = ("name", "instructions", "root", "is_entry", "attrs", "module", "_by_name", "holders",
                 "memo")

    def __init__(self, name: str, instructions: list[Instruction] | None = None,
                 root: Instruction | None = None, is_entry: bool = False):
        self.name = name
        self.instructions: list[Instruction] = instructions or []
        self.root: Instruction | None = root
        self.is_entry = is_entry
        self.attrs: dict[str, str] = {}
        self.module: Module | None = None
        self._by_name: dict[str, Instruction] | None = None
        self.holders = 0
        #: what has been worked out about a frozen computation (its text, callees, names), once
        self.memo: dict | None = None
        for inst in self.instructions:
            inst.parent = self

    @property
    def parameters(self) -> list[Instruction]:
        """Parameter instructions ordered by parameter number."""
        params = [i for i in self.instructions if i.opcode == "parameter"]
        params.sort(key=lambda p: p.parameter_number)
        return params

    def instruction(self, name: str) -> Instruction:
        """The instruction called `name` (KeyError if none)."""
        if self._by_name is None or len(self._by_name) != len(self.instructions):
            self._by_name = {i.name: i for i in self.instructions}
        return self._by_name[name]

    def add(self, inst: Instruction, before: Instruction | None = None) -> Instruction:
        """Insert `inst` (at the end, or just before `before`) and wire up its users."""
        inst.parent = self
        if before is None:
            self.instructions.append(inst)
        else:
            self.instructions.insert(self.instructions.index(before), inst)
        for op in inst.operands:  # a new instruction: it can only be the last user appended
            users = op.users
            if not users or users[-1] is not inst:
                users.append(inst)
        self._by_name = None
        return inst

    def remove(self, inst: Instruction) -> None:
        """Remove an instruction that has no users and is not the root."""
        if inst.users:
            raise ValueError(f"cannot remove {inst.name}: still used by {inst.users[0].name}")
        if inst is self.root:
            raise ValueError(f"cannot remove {inst.name}: it is the root of {self.name}")
        inst.detach()
        self.instructions = [i for i in self.instructions if i is not inst]
        self._by_name = None

    def post_order(self) -> list[Instruction]:
        """Instructions reachable from the root (and control edges), operands first."""
        seen: set[int] = set()
        order: list[Instruction] = []
        if self.root is None:
            return order
        stack: list[tuple[Instruction, int]] = [(self.root, 0)]
        while stack:
            inst, i = stack.pop()
            preds = [*inst.operands, *inst.control_predecessors]
            if i == 0:
                if id(inst) in seen:
                    continue
            if i < len(preds):
                stack.append((inst, i + 1))
                nxt = preds[i]
                if id(nxt) not in seen:
                    stack.append((nxt, 0))
            else:
                if id(inst) not in seen:
                    seen.add(id(inst))
                    order.append(inst)
        return order

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    def __len__(self) -> int:
        return len(self.instructions)

    def __repr__(self) -> str:
        return f"<Computation {self.name}: {len(self.instructions)} instructions>"
