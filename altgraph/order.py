"""Keeping a computation's instruction list in a valid (operands-first) order after edits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import Instruction


def topological_sort(comp: Computation) -> None:
    """Reorder `comp.instructions` so operands (and control predecessors) come first.

    Stable: instructions already in a valid order keep it, and new instructions appended at the
    end move up just far enough. Linear in instructions plus edges. Raises ValueError on a cycle.
    """
    insts = comp.instructions
    state: dict[Instruction, int] = {}  # 1 on stack, 2 emitted (instructions hash by identity)
    order: list[Instruction] = []
    moved = False
    for start in insts:
        if start in state:
            continue
        # most instructions find every operand emitted already: emit them without a walk
        for pred in start.operands:
            if state.get(pred) != 2:
                break
        else:
            for pred in start.control_predecessors:
                if state.get(pred) != 2:
                    break
            else:
                state[start] = 2
                order.append(start)
                continue
        moved = True
        state[start] = 1
        # (instruction, iterator over its predecessors): each edge is looked at once, however
        # many operands an instruction has (a tuple of thousands of outputs)
        stack = [(start, _predecessors(start))]
        while stack:
            inst, preds = stack[-1]
            for pred in preds:
                s = state.get(pred)
                if s is None:
                    if pred.parent is not comp:
                        raise ValueError(f"{inst.name!r} uses {pred.name!r} from another computation")
                    state[pred] = 1
                    stack.append((pred, _predecessors(pred)))
                    break
                if s == 1:
                    raise ValueError(f"cycle through {pred.name!r} and {inst.name!r} in {comp.name!r}")
            else:
                stack.pop()
                state[inst] = 2
                order.append(inst)
    if moved:
        comp.instructions = order
        comp._by_name = None


def _predecessors(inst: Instruction) -> Iterator[Instruction]:
    if inst.control_predecessors:
        return iter((*inst.operands, *inst.control_predecessors))
    return iter(inst.operands)


def depends_on(start: Instruction, targets: Iterable[Instruction], position: dict[Instruction, int],
               limit: int | None = None) -> bool:
    """Does `start` (transitively, through operands and control edges) use any of `targets`?

    `position` maps an instruction to a rank that never decreases along an operand edge; nothing
    ranked below every target can reach one, so the walk is pruned there. With `limit`, a walk
    that visits more instructions gives up and answers True (the safe answer for cycle checks).
    """
    targets = list(targets)
    if not targets:
        return False
    get = position.get
    floor = min([get(t, 0) for t in targets])
    pos = get(start)
    if pos is not None and pos < floor:  # (the usual answer: a target ranks at least `floor`)
        return False
    wanted = set(targets)  # (instructions hash by identity)
    seen: set[Instruction] = set()
    stack = [start]
    while stack:
        inst = stack.pop()
        if inst in wanted:
            return True
        if inst in seen:
            continue
        seen.add(inst)
        if limit is not None and len(seen) > limit:
            return True
        pos = position.get(inst)
        if pos is not None and pos < floor:
            continue
        stack.extend(inst.operands)
        stack.extend(inst.control_predecessors)
    return False
