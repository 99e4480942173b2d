"""Fresh instruction and computation names that never collide with existing ones."""

from __future__ import annotations

from hloenv.altgraph.module import Module


def name_base(hint: str) -> str:
    """`hint` without its numeric suffix (`add.12` -> `add`, `add.1.2` -> `add.1`); `x` if empty."""
    head, dot, tail = hint.rpartition(".")
    if dot and tail.isdecimal():
        return head or "x"
    return hint or "x"


class NameUniquer:
    """Hands out names unique within a module (`fusion.3`, `add.12`, ...)."""

    def __init__(self, module: Module):
        self.used: set[str] = {c.name for c in module.computations}
        self.next: dict[str, int] = {}
        for inst in module.instructions():
            self.used.add(inst.name)

    def fresh(self, hint: str) -> str:
        base = name_base(hint)
        n = self.next.get(base, 1)
        name = f"{base}.{n}"
        while name in self.used:
            n += 1
            name = f"{base}.{n}"
        self.next[base] = n + 1
        self.used.add(name)
        return name
