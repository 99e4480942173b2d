"""The opcode vocabulary: XLA's opcodes for the pinned jaxlib plus hloenv's `alternatives`."""

from __future__ import annotations

from hloenv.altgraph._xla_opcodes import JAXLIB_VERSION, XLA_OPCODES

#: hloenv's own opcode: operand 0 is the original value, the others are proposed rewrites.
ALTERNATIVES = "alternatives"

#: Every opcode the parser accepts, in a fixed order (ids for observation features).
OPCODES: tuple[str, ...] = tuple(sorted(XLA_OPCODES)) + (ALTERNATIVES,)
OPCODE_IDS: dict[str, int] = {op: i for i, op in enumerate(OPCODES)}
KNOWN_OPCODES = frozenset(OPCODES)

#: Elementwise opcodes by arity (the output element at an index depends only on the operands'
#: elements at that index).
ELEMENTWISE_UNARY = frozenset({
    "abs", "bitcast-convert", "cbrt", "ceil", "convert", "cosine", "count-leading-zeros", "erf",
    "exponential", "exponential-minus-one", "floor", "imag", "is-finite", "log", "log-plus-one",
    "logistic", "negate", "not", "popcnt", "real", "reduce-precision", "round-nearest-afz",
    "round-nearest-even", "rsqrt", "sign", "sine", "sqrt", "tan", "tanh", "copy",
})
ELEMENTWISE_BINARY = frozenset({
    "add", "and", "atan2", "compare", "complex", "divide", "maximum", "minimum", "multiply", "or",
    "power", "remainder", "shift-left", "shift-right-arithmetic", "shift-right-logical", "subtract",
    "xor",
})
ELEMENTWISE_TERNARY = frozenset({"clamp", "select"})
ELEMENTWISE = ELEMENTWISE_UNARY | ELEMENTWISE_BINARY | ELEMENTWISE_TERNARY
#: Callers whose computations are control flow; every other caller's are embedded (fused bodies,
#: reducers, comparators), which fusion passes leave alone.
CONTROL_FLOW_CALLERS = frozenset({"while", "conditional", "call"})

__all__ = ["CONTROL_FLOW_CALLERS", "ELEMENTWISE", "ELEMENTWISE_BINARY", "ELEMENTWISE_TERNARY", "ELEMENTWISE_UNARY",
           "ALTERNATIVES", "JAXLIB_VERSION", "KNOWN_OPCODES", "OPCODES", "OPCODE_IDS", "XLA_OPCODES"]
