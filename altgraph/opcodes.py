"""The opcode vocabulary: XLA's opcodes for the pinned jaxlib plus hloenv's `alternatives`."""

from __future__ import annotations

from hloenv.altgraph._xla_opcodes import JAXLIB_VERSION, XLA_OPCODES

#: hloenv's own opcode: operand 0 is the original value, the others are proposed rewrites.
ALTERNATIVES = "alternatives"

#: Every opcode the parser accepts, in a fixed order (ids for observation features).
OPCODES: tuple[str, ...] = tuple(sorted(XLA_OPCODES)) + (ALTERNATIVES,)
OPCODE_IDS: dict[str, int] = {op: i for i, op in enumerate(OPCODES)}
KNOWN_OPCODES = frozenset(OPCODES)

__all__ = ["ALTERNATIVES", "JAXLIB_VERSION", "KNOWN_OPCODES", "OPCODES", "OPCODE_IDS", "XLA_OPCODES"]
