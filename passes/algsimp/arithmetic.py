"""Elementwise arithmetic and logic rules: identities, annihilators, involutions, small powers.

Float rules follow XLA exactly: x*0 is integer-only (NaN*0 is NaN, inf*0 is NaN); x+0 => x is
taken for floats as XLA takes it (it ignores the sign of zero).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from hloenv.altgraph.instruction import Instruction
from hloenv.passes.algsimp.literals import (FLOATS, INTEGERS, NUMPY_TYPES, SIGNED, format_literal, is_all,
                                           uniform_value)
from hloenv.passes.algsimp.util import Rule, filled, identity_value
from hloenv.passes.rewriter import Rewriter


class AddZero(Rule):
    """A + 0 => A, 0 + A => A.

        z = f32[4] broadcast(f32[] constant(0)), dimensions={}
        r = f32[4] add(x, z)            =>  uses of r read x
    """
    name = "add-zero"
    opcodes = frozenset({"add"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if is_all(b, 0):
            return self.replace(inst, a, rewriter)
        return is_all(a, 0) and self.replace(inst, b, rewriter)


class SubtractZero(Rule):
    """A - 0 => A.

        r = f32[4] subtract(x, zeros)   =>  x
    """
    name = "subtract-zero"
    opcodes = frozenset({"subtract"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        return is_all(b, 0) and self.replace(inst, a, rewriter)


class MultiplyOne(Rule):
    """A * 1 => A, 1 * A => A.

        r = f32[4] multiply(x, ones)    =>  x
    """
    name = "multiply-one"
    opcodes = frozenset({"multiply"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if is_all(b, 1):
            return self.replace(inst, a, rewriter)
        return is_all(a, 1) and self.replace(inst, b, rewriter)


class MultiplyZero(Rule):
    """A * 0 => 0, 0 * A => 0 for integers only (floats: NaN * 0 is NaN, as XLA keeps it).

        r = s32[4] multiply(x, zeros)   =>  zeros
    """
    name = "multiply-zero"
    opcodes = frozenset({"multiply"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if inst.shape.dtype not in INTEGERS:
            return False
        a, b = inst.operands
        if is_all(b, 0):
            return self.replace(inst, b, rewriter)
        return is_all(a, 0) and self.replace(inst, a, rewriter)


class MultiplyMinusOne(Rule):
    """A * -1 => -A, -1 * A => -A (exact: negation only flips the sign; integers wrap alike).

        r = f32[4] multiply(x, minus_ones)   =>  r' = f32[4] negate(x)
    """
    name = "multiply-minus-one"
    opcodes = frozenset({"multiply"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if inst.shape.dtype not in FLOATS and inst.shape.dtype not in SIGNED:
            return False
        a, b = inst.operands
        if is_all(a, -1):
            a, b = b, a
        elif not is_all(b, -1):
            return False
        new = rewriter.create(inst.parent, "negate", inst.shape, [a])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class AddNegate(Rule):
    """A + (-B) => A - B, (-A) + B => B - A (IEEE: exactly the same value).

        n = f32[4] negate(y)     r = f32[4] add(x, n)     =>  r' = f32[4] subtract(x, y)
    """
    name = "add-negate"
    opcodes = frozenset({"add"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if b.opcode != "negate":
            if a.opcode != "negate":
                return False
            a, b = b, a
        new = rewriter.create(inst.parent, "subtract", inst.shape, [a, b.operands[0]])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class SubtractNegate(Rule):
    """A - (-B) => A + B.

        n = f32[4] negate(y)     r = f32[4] subtract(x, n)     =>  r' = f32[4] add(x, y)
    """
    name = "subtract-negate"
    opcodes = frozenset({"subtract"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if b.opcode != "negate":
            return False
        new = rewriter.create(inst.parent, "add", inst.shape, [a, b.operands[0]])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class DivideOne(Rule):
    """A / 1 => A.

        r = f32[4] divide(x, ones)      =>  x
    """
    name = "divide-one"
    opcodes = frozenset({"divide"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        return is_all(b, 1) and self.replace(inst, a, rewriter)


class DividePowerOfTwo(Rule):
    """A / C => A * (1/C) for a float constant C = +-2^k whose reciprocal is exact (XLA inverts any
    constant; only powers of two give bit-identical results, so only they are taken here).

        c = f32[] constant(4)     b = f32[4] broadcast(c), dimensions={}     r = f32[4] divide(x, b)
        =>  c' = f32[] constant(0.25)   b' = f32[4] broadcast(c'), dimensions={}   r' = multiply(x, b')
    """
    name = "divide-power-of-two"
    opcodes = frozenset({"divide"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        dtype = inst.shape.dtype
        if dtype not in FLOATS:
            return False
        a, b = inst.operands
        if b.opcode == "constant":
            const, dims = b, None
        elif b.opcode == "broadcast" and b.operands[0].opcode == "constant" and not b.operands[0].shape.dims:
            const, dims = b.operands[0], b.attrs.get("dimensions")
        else:
            return False
        v = uniform_value(const)
        inverse = None if v is None else _exact_reciprocal(dtype, float(v))  # type: ignore[arg-type]
        if inverse is None:
            return False
        np_type = NUMPY_TYPES[dtype]
        comp = inst.parent
        if dims is None:
            text = format_literal(np.full(const.shape.dims, inverse, dtype=np_type), dtype)
            divisor = rewriter.constant(comp, const.shape, text)  # type: ignore[arg-type]
        else:
            c = rewriter.constant(comp, const.shape, format_literal(np.array(inverse, dtype=np_type), dtype))  # type: ignore[arg-type]
            divisor = rewriter.create(comp, "broadcast", b.shape, [c], {"dimensions": dims})  # type: ignore[arg-type]
        new = rewriter.create(comp, "multiply", inst.shape, [a, divisor])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


@lru_cache(maxsize=1024)
def _exact_reciprocal(dtype: str, value: float) -> float | None:
    """1/value when value is +-2^k and its reciprocal is a normal `dtype` number, else None."""
    if not math.isfinite(value) or value == 0 or abs(math.frexp(value)[0]) != 0.5:
        return None
    np_type = NUMPY_TYPES[dtype]
    with np.errstate(all="ignore"):
        inverse = float(np.array(1, dtype=np_type) / np.array(value, dtype=np_type))
    if not math.isfinite(inverse) or inverse * value != 1.0 or abs(math.frexp(inverse)[0]) != 0.5:
        return None
    if abs(inverse) < float(np.finfo(np_type).smallest_normal):
        return None
    return inverse


class _Involution(Rule):
    """f(f(A)) => A."""

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        return op.opcode == inst.opcode and self.replace(inst, op.operands[0], rewriter)


class NegateNegate(_Involution):
    """negate(negate(A)) => A.

        n = f32[4] negate(x)     r = f32[4] negate(n)     =>  x
    """
    name = "negate-negate"
    opcodes = frozenset({"negate"})


class NotNot(_Involution):
    """not(not(A)) => A.

        n = pred[4] not(x)       r = pred[4] not(n)       =>  x
    """
    name = "not-not"
    opcodes = frozenset({"not"})


class AbsAbs(Rule):
    """abs(abs(A)) => abs(A) (abs is non-negative; XLA's abs of a non-negative value).

        a = f32[4] abs(x)        r = f32[4] abs(a)        =>  a
    """
    name = "abs-abs"
    opcodes = frozenset({"abs"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        return op.opcode == "abs" and self.replace(inst, op, rewriter)


class PowerZero(Rule):
    """pow(A, 0) => 1 (also for NaN A, as IEEE pow and XLA define it).

        r = f32[4] power(x, zeros)      =>  f32[4] broadcast(f32[] constant(1)), dimensions={}
    """
    name = "power-zero"
    opcodes = frozenset({"power"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if inst.shape.dtype not in NUMPY_TYPES or not is_all(inst.operands[1], 0):
            return False
        return self.replace(inst, filled(rewriter, inst, 1), rewriter)


class PowerOne(Rule):
    """pow(A, 1) => A.

        r = f32[4] power(x, ones)       =>  x
    """
    name = "power-one"
    opcodes = frozenset({"power"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        return is_all(inst.operands[1], 1) and self.replace(inst, inst.operands[0], rewriter)


class PowerTwo(Rule):
    """pow(A, 2) => A * A.

        r = f32[4] power(x, twos)       =>  r' = f32[4] multiply(x, x)
    """
    name = "power-two"
    opcodes = frozenset({"power"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if not is_all(b, 2):
            return False
        new = rewriter.create(inst.parent, "multiply", inst.shape, [a, a])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class PowerMinusOne(Rule):
    """pow(A, -1) => 1 / A (floats; integer division by zero differs from integer pow).

        r = f32[4] power(x, minus_ones) =>  r' = f32[4] divide(f32[4] broadcast(constant(1)), x)
    """
    name = "power-minus-one"
    opcodes = frozenset({"power"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if inst.shape.dtype not in FLOATS or not is_all(b, -1):
            return False
        new = rewriter.create(inst.parent, "divide", inst.shape, [filled(rewriter, inst, 1), a])  # type: ignore[arg-type]
        return self.replace(inst, new, rewriter)


class LogExp(Rule):
    """log(exp(A)) => A for real floats (XLA's rule; it ignores the overflow of exp for large A).

        e = f32[4] exponential(x)       r = f32[4] log(e)    =>  x

    Not when A is a constant (or a broadcast of one): XLA computes exp then log of a constant, so
    log(exp(100)) is inf there (constant folding on or off), while the rewrite would give 100.
    """
    name = "log-exp"
    opcodes = frozenset({"log"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        op = inst.operands[0]
        if inst.shape.dtype not in FLOATS:
            return False  # complex log(exp(z)) wraps the imaginary part
        if op.opcode != "exponential":
            return False
        source = op.operands[0]
        while source.opcode == "broadcast":
            source = source.operands[0]
        return source.opcode != "constant" and self.replace(inst, op.operands[0], rewriter)


class _IdentityOperand(Rule):
    """op(A, I) => A and op(I, A) => A where I is the identity of the commutative op."""

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        value = identity_value(inst.opcode, inst.shape.dtype)
        if value is None:
            return False
        a, b = inst.operands
        if is_all(b, value):  # type: ignore[arg-type]
            return self.replace(inst, a, rewriter)
        return is_all(a, value) and self.replace(inst, b, rewriter)  # type: ignore[arg-type]


class MaximumLowest(_IdentityOperand):
    """max(A, -inf) => A (the lowest value for integers; NaN A stays NaN).

        r = f32[4] maximum(x, minus_infs)   =>  x
    """
    name = "maximum-lowest"
    opcodes = frozenset({"maximum"})


class MinimumHighest(_IdentityOperand):
    """min(A, inf) => A (the highest value for integers).

        r = f32[4] minimum(x, infs)     =>  x
    """
    name = "minimum-highest"
    opcodes = frozenset({"minimum"})


class AndTrue(_IdentityOperand):
    """A && true => A (pred), A & ~0 => A (integers).

        r = pred[4] and(x, trues)       =>  x
    """
    name = "and-true"
    opcodes = frozenset({"and"})


class OrFalse(_IdentityOperand):
    """A || false => A (pred), A | 0 => A (integers).

        r = pred[4] or(x, falses)       =>  x
    """
    name = "or-false"
    opcodes = frozenset({"or"})


class AndFalse(Rule):
    """A && false => false, A & 0 => 0.

        r = pred[4] and(x, falses)      =>  falses
    """
    name = "and-false"
    opcodes = frozenset({"and"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if is_all(b, 0):
            return self.replace(inst, b, rewriter)
        return is_all(a, 0) and self.replace(inst, a, rewriter)


class OrTrue(Rule):
    """A || true => true (pred only).

        r = pred[4] or(x, trues)        =>  trues
    """
    name = "or-true"
    opcodes = frozenset({"or"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        if inst.shape.dtype != "pred":
            return False
        a, b = inst.operands
        if is_all(b, 1):
            return self.replace(inst, b, rewriter)
        return is_all(a, 1) and self.replace(inst, a, rewriter)


class XorZero(Rule):
    """A ^ 0 => A, 0 ^ A => A (pred and integers).

        r = u32[4] xor(x, zeros)        =>  x
    """
    name = "xor-zero"
    opcodes = frozenset({"xor"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        if is_all(b, 0):
            return self.replace(inst, a, rewriter)
        return is_all(a, 0) and self.replace(inst, b, rewriter)


class ShiftZero(Rule):
    """A << 0 => A, A >> 0 => A (logical and arithmetic).

        r = u32[4] shift-left(x, zeros) =>  x
    """
    name = "shift-zero"
    opcodes = frozenset({"shift-left", "shift-right-logical", "shift-right-arithmetic"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        return is_all(b, 0) and self.replace(inst, a, rewriter)


class SameOperandMinMax(Rule):
    """max(A, A) => A, min(A, A) => A, and(A, A) => A, or(A, A) => A.

        r = f32[4] maximum(x, x)        =>  x
    """
    name = "idempotent-same-operand"
    opcodes = frozenset({"maximum", "minimum", "and", "or"})

    def rewrite(self, inst: Instruction, rewriter: Rewriter) -> bool:
        a, b = inst.operands
        return a is b and self.replace(inst, a, rewriter)


RULES: tuple[Rule, ...] = (
    AddZero(), SubtractZero(), MultiplyOne(), MultiplyZero(), MultiplyMinusOne(), AddNegate(), SubtractNegate(),
    DivideOne(), DividePowerOfTwo(),
    NegateNegate(), NotNot(), AbsAbs(), PowerZero(), PowerOne(), PowerTwo(), PowerMinusOne(), LogExp(),
    MaximumLowest(), MinimumHighest(), AndTrue(), OrFalse(), AndFalse(), OrTrue(), XorZero(), ShiftZero(),
    SameOperandMinMax(),
)
