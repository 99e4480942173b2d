"""Per-module tags: size, opcode histogram, custom-call targets and the backends that can run it."""

from __future__ import annotations

from typing import Any

from hloenv.altgraph import Module
from hloenv.xla.targets import BACKENDS

#: Instruction-count bounds of the size classes (below the first: "small", below the second: "medium").
SIZE_CLASSES = (100, 2000)


def size_class(instructions: int) -> str:
    """``"small"``, ``"medium"`` or ``"large"`` by instruction count."""
    if instructions < SIZE_CLASSES[0]:
        return "small"
    return "medium" if instructions < SIZE_CLASSES[1] else "large"


def module_tags(module: Module) -> dict[str, Any]:
    """Size, opcode histogram, custom-call targets, and which backends can run ``module``.

    A backend is listed unless the module calls a custom-call target known to exist only on
    another platform, or transfers data with the host (``hloenv.xla.targets``); unknown targets
    are left for XLA to judge.
    """
    from hloenv.xla.targets import custom_call_targets, unsupported_targets
    count = module.instruction_count
    missing = {b: tuple(unsupported_targets(module, b)) for b in BACKENDS}
    return {
        "instructions": count,
        "computations": len(module.computations),
        "size": size_class(count),
        "opcodes": module.opcode_histogram(),
        "custom_call_targets": tuple(custom_call_targets(module)),
        "backends": tuple(b for b in BACKENDS if not missing[b]),
        "unsupported": {b: targets for b, targets in missing.items() if targets},
    }
