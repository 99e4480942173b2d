"""Fresh instruction and computation names that never collide with existing ones."""

from __future__ import annotations

import re

from hloenv.altgraph.module import Module

_SUFFIX = re.compile(r"^(.*?)(?:\.(\d+))?$")


class NameUniquer:
    """Hands out names unique within a module (`fusion.3`, `add.12`, ...)."""

    def __init__(self, module: Module):
        self.used: set[str] = {c.name for c in module.computations}
        self.next: dict[str, int] = {}
        for inst in module.instructions():
            self.used.add(inst.name)

    def fresh(self, hint: str) -> str:
        base = _SUFFIX.match(hint).group(1) or "x"  # type: ignore[union-attr]
        n = self.next.get(base, 1)
        while f"{base}.{n}" in self.used:
            n += 1
        self.next[base] = n + 1
        name = f"{base}.{n}"
        self.used.add(name)
        return name
