"""HLO modules: named computations, one of them the entry, plus module-level attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hloenv.altgraph.computation import Computation

if TYPE_CHECKING:
    import networkx


class Module:
    """An HLO module.

    Attributes:
        name: the module name (`HloModule <name>`).
        attrs: header attributes as raw text (`entry_computation_layout`, `is_scheduled`, ...).
        computations: in printing order, callees before their callers.
        entry: the entry computation.
    """

    __slots__ = ("name", "attrs", "computations", "entry", "has_elided_constants")

    def __init__(self, name: str, computations: list[Computation] | None = None,
                 entry: Computation | None = None, attrs: dict[str, str] | None = None):
        self.name = name
        self.attrs: dict[str, str] = attrs or {}
        self.computations: list[Computation] = computations or []
        self.entry = entry
        #: True when parsed with allow_elided=True from text with `{...}` constants.
        self.has_elided_constants = False
        for comp in self.computations:
            comp.module = self

    # -- lookup ----------------------------------------------------------------------------------
    def computation(self, name: str) -> Computation:
        for comp in self.computations:
            if comp.name == name:
                return comp
        raise KeyError(name)

    def instructions(self) -> Iterator:
        """Every instruction of every computation."""
        for comp in self.computations:
            yield from comp.instructions

    @property
    def instruction_count(self) -> int:
        return sum(len(c.instructions) for c in self.computations)

    def call_graph(self) -> dict[str, list[str]]:
        """Computation name -> names of the computations it calls (each once, in order)."""
        graph: dict[str, list[str]] = {}
        for comp in self.computations:
            callees: list[str] = []
            for inst in comp.instructions:
                for callee in inst.called_computations:
                    if callee.name not in callees:
                        callees.append(callee.name)
            graph[comp.name] = callees
        return graph

    def callers(self) -> dict[str, list]:
        """Computation name -> instructions that call it."""
        out: dict[str, list] = {c.name: [] for c in self.computations}
        for inst in self.instructions():
            for callee in inst.called_computations:
                out.setdefault(callee.name, []).append(inst)
        return out

    def opcode_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = {}
        for inst in self.instructions():
            hist[inst.opcode] = hist.get(inst.opcode, 0) + 1
        return dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))

    # -- the rest of the API lives in its own modules --------------------------------------------
    def to_text(self) -> str:
        """HLO text that XLA's parser accepts; constants are always printed in full."""
        from hloenv.altgraph.printer import print_module
        return print_module(self)

    def fingerprint(self) -> str:
        """A structural hash: independent of names, sensitive to anything semantic."""
        from hloenv.altgraph.fingerprint import module_fingerprint
        return module_fingerprint(self)

    def clone(self) -> "Module":
        """A deep copy sharing nothing mutable with this module."""
        from hloenv.altgraph.clone import clone_module
        return clone_module(self)

    def verify(self) -> "Module":
        """Check shapes, operand counts and signatures; raises HloVerifyError. Returns self."""
        from hloenv.altgraph.verifier import verify_module
        verify_module(self)
        return self

    def to_networkx(self) -> "networkx.MultiDiGraph":
        """The dataflow graph: one node per instruction, one edge per operand use."""
        from hloenv.altgraph.graph import module_to_networkx
        return module_to_networkx(self)

    def __reduce__(self):
        """Pickling, and `copy.deepcopy`, go through HLO text (print -> parse is exact: same text,
        names included), so a module can cross to another process, e.g. an async vector env's."""
        return (_module_from_text, (self.to_text(), self.has_elided_constants))

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Module {self.name}: {len(self.computations)} computations, "
                f"{self.instruction_count} instructions>")


def _module_from_text(text: str, has_elided_constants: bool) -> Module:
    """Unpickle a Module (see `Module.__reduce__`)."""
    from hloenv.altgraph.parser import parse_hlo
    return parse_hlo(text, allow_elided=has_elided_constants)
