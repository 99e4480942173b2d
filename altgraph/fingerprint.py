"""Structural fingerprints of modules.

Two layers of BLAKE2b hashing:

1. A value digest per instruction, computed bottom-up (a Merkle hash): opcode, shape (with layout),
   literal or parameter number, semantic attributes, the digests of its operands in order, of its
   control predecessors and of the computations it calls. Equal digests mean "computes the same
   value the same way" (used to merge identical rewrite options).
2. The computation's fingerprint hashes its graph in a canonical order: a depth-first walk from
   the root over operands in order (then dead instructions, by digest) numbers the instructions,
   and each contributes its digest plus the numbers of its operands. So sharing is part of the
   fingerprint: `add(a, a)` with one `exp` differs from `add(a, b)` with two equal `exp`s.

Names, numbering, metadata and the order in which independent instructions are written do not
enter it, so the same program printed by different tools (or re-parsed after printing) has the
same fingerprint, while any change to the program (opcode, shape, attribute, constant value,
operand order, called computation, sharing) gives a different one. It is stable across processes
and Python versions (no use of `hash()`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from hashlib import blake2b

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import NON_SEMANTIC_ATTRS, Instruction
from hloenv.altgraph.lazy import materialize, materialize_all
from hloenv.altgraph.module import Module
from hloenv.altgraph.sharing import remember

_SPACES_OUTSIDE_STRINGS = re.compile(r'("(?:[^"\\]|\\.)*")|\s+')


def _normalize(value: str) -> str:
    if " " not in value and "\t" not in value and "\n" not in value:
        return value
    return _SPACES_OUTSIDE_STRINGS.sub(lambda m: m.group(1) or "", value)


def computation_fingerprints(module: Module) -> dict[str, bytes]:
    """Computation name -> 16-byte digest, computed callees first (lazy options built first)."""
    from hloenv.altgraph.printer import callees_first
    materialize_all(module)
    comp_hash: dict[int, bytes] = {}
    out: dict[str, bytes] = {}
    for comp in callees_first(module):
        digest = remember(comp, "digest", lambda c: _computation_digest(c, comp_hash))  # (kept if frozen)
        comp_hash[id(comp)] = digest
        out[comp.name] = digest
    return out


def instruction_digests(comp: Computation, comp_hash: dict[int, bytes]) -> dict[int, bytes]:
    """id(instruction) -> digest of the value it computes (its whole operand subgraph)."""
    inst_hash: dict[int, bytes] = {}
    for inst in comp.instructions:  # operands come first in `instructions`
        inst_hash[id(inst)] = _instruction_digest(inst, inst_hash, comp_hash)
    return inst_hash


class LazyDigests:
    """Instruction digests computed on demand (memoised), over the operand cone only, with the
    digests of the computations they call. Instructions for which `opaque` is true hash as their
    identity (valid within one process, while they live) and are not looked through: comparing two
    rewrite options then never hashes the rest of the alternative graph behind them. Equal digests
    still mean structurally identical values (opaque nodes shared by identity)."""

    def __init__(self, opaque: Callable[[Instruction], bool] = lambda inst: False):
        self.opaque = opaque
        self.inst: dict[int, bytes] = {}
        self.comp: dict[int, bytes] = {}

    def instruction(self, inst: Instruction) -> bytes:
        memo = self.inst
        stack: list[tuple[Instruction, bool]] = [(inst, False)]
        while stack:
            i, ready = stack.pop()
            if id(i) in memo:
                continue
            if self.opaque(i):
                memo[id(i)] = blake2b(f"opaque:{id(i)}".encode(), digest_size=16).digest()
            elif not ready:
                stack.append((i, True))
                stack.extend((op, False) for op in (*i.operands, *i.control_predecessors) if id(op) not in memo)
            else:
                materialize(i)  # a lazy option's digest covers the body it stands for
                for callee in i.called_computations:
                    self.computation(callee)
                memo[id(i)] = _instruction_digest(i, memo, self.comp)
        return memo[id(inst)]

    def computation(self, comp: Computation) -> bytes:
        if id(comp) not in self.comp:
            from hloenv.altgraph.printer import callees_first_from
            memo = self.comp
            for c in callees_first_from([comp]):
                if id(c) not in memo:  # (a frozen computation's digest is kept with it)
                    memo[id(c)] = remember(c, "digest", lambda c: _computation_digest(c, memo))
        return self.comp[id(comp)]


def canonical_order(comp: Computation, inst_hash: dict[int, bytes]) -> list[Instruction]:
    """Instructions in an order that depends only on the graph: post-order of a depth-first walk
    from the root (operands, then control predecessors, in order), then from unused instructions
    sorted by digest, then anything left (parameters nothing reads) by digest."""
    order: list[Instruction] = []
    seen: set[int] = set()

    def walk(start: Instruction) -> None:
        stack = [(start, 0)]
        seen.add(id(start))
        while stack:
            inst, k = stack.pop()
            preds = inst.operands if not inst.control_predecessors else [*inst.operands, *inst.control_predecessors]
            if k < len(preds):
                stack.append((inst, k + 1))
                nxt = preds[k]
                if id(nxt) not in seen:
                    seen.add(id(nxt))
                    stack.append((nxt, 0))
            else:
                order.append(inst)

    if comp.root is not None:
        walk(comp.root)
    if len(order) == len(comp.instructions):
        return order  # everything is reachable from the root (the usual case)
    for inst in sorted((i for i in comp.instructions if not i.users and id(i) not in seen),
                       key=lambda i: inst_hash[id(i)]):
        if id(inst) not in seen:
            walk(inst)
    for inst in sorted((i for i in comp.instructions if id(i) not in seen), key=lambda i: inst_hash[id(i)]):
        if id(inst) not in seen:
            walk(inst)
    return order


def _computation_digest(comp: Computation, comp_hash: dict[int, bytes]) -> bytes:
    inst_hash = instruction_digests(comp, comp_hash)
    h = blake2b(digest_size=16)
    h.update(b"computation")
    order = canonical_order(comp, inst_hash)
    number = {id(inst): k for k, inst in enumerate(order)}
    for inst in order:
        h.update(inst_hash[id(inst)])
        h.update(",".join(str(number[id(op)]) for op in inst.operands).encode())
        if inst.control_predecessors:
            h.update(("c" + ",".join(str(number[id(p)]) for p in inst.control_predecessors)).encode())
        h.update(b";" if inst is not comp.root else b"root;")
    for key in sorted(comp.attrs):
        h.update(f"|{key}={_normalize(comp.attrs[key])}".encode())
    return h.digest()


def local_key(inst: Instruction) -> str:
    """What an instruction's digest covers of the instruction itself: opcode, shape with layout,
    literal or parameter number, semantic attributes (not its operands, control predecessors or
    callees). Different local keys mean different digests."""
    parts = [inst.opcode, inst.shape.to_text()]
    if inst.payload is not None:
        parts.append(_normalize(inst.payload))
    if inst.attrs:
        for key in sorted(inst.attrs):
            value = inst.attrs[key]
            if value is not None and key not in NON_SEMANTIC_ATTRS:
                parts.append(f"{key}={_normalize(value)}")
    return "\x1f".join(parts)


def _instruction_digest(inst: Instruction, inst_hash: dict[int, bytes], comp_hash: dict[int, bytes]) -> bytes:
    h = blake2b(local_key(inst).encode(), digest_size=16)
    for op in inst.operands:
        h.update(inst_hash[id(op)])
    if inst.control_predecessors:
        h.update(b"ctrl")
        for digest in sorted(inst_hash[id(p)] for p in inst.control_predecessors):
            h.update(digest)
    if inst.called:
        for key in sorted(inst.called):
            h.update(key.encode())
            for callee in inst.called[key]:
                h.update(comp_hash[id(callee)])
    return h.digest()


def module_fingerprint(module: Module) -> str:
    """Hex digest of the whole module (entry, and every computation reachable or not)."""
    digests = computation_fingerprints(module)
    h = blake2b(digest_size=16)
    if module.entry is not None:
        h.update(digests[module.entry.name])
    for digest in sorted(d for name, d in digests.items() if module.entry is None or name != module.entry.name):
        h.update(digest)
    return h.hexdigest()
