"""networkx view of a module (for inspection and plotting; the env builds arrays instead)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx

    from hloenv.altgraph.module import Module


def module_to_networkx(module: "Module") -> "networkx.MultiDiGraph":
    """One node per instruction (id `"computation/instruction"`), one edge per operand use.

    Node attributes: name, opcode, shape (text), computation, is_root, called (computation names).
    Edge attributes: operand (operand position). Edges run operand -> user.
    """
    import networkx as nx

    graph = nx.MultiDiGraph(name=module.name, entry=module.entry.name if module.entry else None)
    for comp in module.computations:
        for inst in comp.instructions:
            graph.add_node(f"{comp.name}/{inst.name}", name=inst.name, opcode=inst.opcode,
                           shape=inst.shape.to_text(), computation=comp.name, is_root=inst is comp.root,
                           called=[c.name for c in inst.called_computations])
        for inst in comp.instructions:
            for k, op in enumerate(inst.operands):
                graph.add_edge(f"{comp.name}/{op.name}", f"{comp.name}/{inst.name}", operand=k)
    return graph
