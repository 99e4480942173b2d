"""Fresh instruction and computation names that never collide with existing ones."""

from __future__ import annotations

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.module import Module
from hloenv.altgraph.sharing import remember


def _names(comp: Computation) -> frozenset[str]:
    return frozenset([inst.name for inst in comp.instructions])


def name_base(hint: str) -> str:
    """`hint` without its numeric suffix (`add.12` -> `add`, `add.1.2` -> `add.1`); `x` if empty."""
    head, dot, tail = hint.rpartition(".")
    if dot and tail.isdecimal():
        return head or "x"
    return hint or "x"


class NameUniquer:
    """Hands out names unique within a module (`fusion.3`, `add.12`, ...).

    The module's names are collected at the first `fresh` (or `used`), not at construction: every
    pass makes a rewriter, and most never name anything.
    """

    def __init__(self, module: Module):
        self.module = module
        self.next: dict[str, int] = {}
        self._used: set[str] | None = None
        self._bases: dict[str, str] = {}  # hint -> name_base(hint)

    @property
    def used(self) -> set[str]:
        """Every name taken: the module's computations and instructions, and names handed out."""
        if self._used is None:
            used = self._used = {c.name for c in self.module.computations}
            for comp in self.module.computations:
                if comp.memo is not None:  # frozen: its names are known
                    used.update(remember(comp, "names", _names))
                else:
                    used.update([inst.name for inst in comp.instructions])
        return self._used

    def fork(self) -> "NameUniquer":
        """A uniquer that hands out names unique against everything this one knows (its module's
        names, the names it has handed out) without telling this one: for names that go into a
        copy of the module and never into the module itself (`selected_copy`'s new bodies). A
        graph reused by every episode thus names each episode's copies alike, and keeps no name of
        them (its uniquer took every copy's names, so memory and names grew with each episode)."""
        child = NameUniquer(self.module)
        child.next = dict(self.next)
        child._used = set(self.used)
        child._bases = self._bases  # (a pure function of the hint: shared)
        return child

    def fresh(self, hint: str) -> str:
        used = self._used if self._used is not None else self.used
        base = self._bases.get(hint)
        if base is None:
            base = self._bases[hint] = name_base(hint)
        n = self.next.get(base, 1)
        name = f"{base}.{n}"
        while name in used:
            n += 1
            name = f"{base}.{n}"
        self.next[base] = n + 1
        used.add(name)
        return name
