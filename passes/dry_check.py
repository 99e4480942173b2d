"""Checking a pass's dry mode: with the original chosen everywhere, the module comes back unchanged.

A rule changes IR only through its rewriter; dry mode then records each rewrite as an option and
the module itself stays the program it was. (Only what the program computes is compared: an edit
of `metadata` alone goes unseen, as it changes nothing XLA runs.) A rule that edits an instruction in place instead
(`inst.operands[0] = x`, `inst.set_attr(...)`, `comp.root = y`) changes the program in dry mode
too, and every choice, the original included, inherits the edit. Nothing at run time can tell
that from a legitimate rewrite without a snapshot of the whole module, so this is a check to run
in a pass's tests:

    from hloenv.passes.dry_check import check_dry_run
    check_dry_run(MyPass(), module)        # DryRunChangedModule naming what changed, else the offers
"""

from __future__ import annotations

from hloenv.altgraph.alternatives import alternatives_nodes, prune, select
from hloenv.altgraph.module import Module
from hloenv.altgraph.printer import instruction_text
from hloenv.passes.base import Pass


class DryRunChangedModule(ValueError):
    """A dry run changed the module outside its rewriter (what differs is in the message)."""


def check_dry_run(step: Pass, module: Module) -> int:
    """Run the pass `step` dry on a copy of `module`, choose the original at every alternatives
    node and prune: the result must be `module` (pruned of dead code alike). Returns how many
    alternatives nodes the dry run offered; `module` is not changed.

    Raises:
        DryRunChangedModule: it is not, naming the first instructions whose text differs.
        TypeError: `step` is not a pass, or one that decides nothing (`makes_decisions = False`:
            dry mode applies it, so it is meant to change the module).
    """
    if isinstance(step, type) and issubclass(step, Pass):
        raise TypeError(f"check_dry_run takes a pass instance: {step.__name__}(), not the class")
    if not isinstance(step, Pass):
        raise TypeError(f"check_dry_run takes one pass (a Pipeline: check each of its .passes()), "
                        f"not {type(step).__name__}")
    if not isinstance(module, Module):
        raise TypeError(f"check_dry_run takes a Module (hloenv.load_hlo(path), hloenv.parse_hlo(text)), "
                        f"not {type(module).__name__}")
    if not step.makes_decisions:
        raise TypeError(f"{step} decides nothing (makes_decisions = False): dry mode applies it for real")
    reference = module.clone()
    prune(reference)
    graph = module.clone()
    step(graph, dry=True)
    offered = len(alternatives_nodes(graph))
    select(graph, [0] * offered)
    if graph.fingerprint() != reference.fingerprint():
        raise DryRunChangedModule(f"{step} in dry mode changed the module itself (choosing the original "
                                  f"everywhere does not give it back): {_difference(reference, graph)}. "
                                  "A rule must change IR only through its rewriter (create, replace), "
                                  "never edit an instruction in place")
    return offered


def _difference(want: Module, got: Module, limit: int = 3) -> str:
    def lines(module: Module) -> dict[tuple[str, str], str]:
        return {(c.name, i.name): instruction_text(i) for c in module.computations for i in c.instructions}
    before, after = lines(want), lines(got)
    roots = {c.name: c.root.name for c in want.computations if c.root is not None}
    found = [f"{c.name}: root was {roots[c.name]}, now {c.root.name}" for c in got.computations
             if c.root is not None and c.name in roots and roots[c.name] != c.root.name]
    found += [f"{c}/{i}: was `{before[c, i]}`, now `{after[c, i]}`" for c, i in before
             if (c, i) in after and before[c, i] != after[c, i]]
    found += [f"{c}/{i} is gone" for c, i in before if (c, i) not in after]
    found += [f"{c}/{i} is new: `{after[c, i]}`" for c, i in after if (c, i) not in before]
    if not found:
        return "the same instructions, differently connected or ordered"
    return "; ".join(found[:limit]) + (f" (and {len(found) - limit} more)" if len(found) > limit else "")
