"""Structural fingerprints of modules.

The fingerprint is a BLAKE2b hash computed bottom-up (a Merkle hash): an instruction's hash covers
its opcode, shape (with layout), literal or parameter number, semantic attributes, the hashes of its
operands in order, of its control predecessors and of the computations it calls. Names, numbering,
metadata and the order in which independent instructions are written do not enter it, so the same
program printed by different tools (or re-parsed after printing) has the same fingerprint, while any
semantic change (opcode, shape, attribute, constant value, operand order, called computation) gives a
different one. It is stable across processes and Python versions (no use of `hash()`).
"""

from __future__ import annotations

import re
from hashlib import blake2b

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.instruction import NON_SEMANTIC_ATTRS, Instruction
from hloenv.altgraph.module import Module

_SPACES_OUTSIDE_STRINGS = re.compile(r'("(?:[^"\\]|\\.)*")|\s+')


def _normalize(value: str) -> str:
    if " " not in value and "\t" not in value and "\n" not in value:
        return value
    return _SPACES_OUTSIDE_STRINGS.sub(lambda m: m.group(1) or "", value)


def computation_fingerprints(module: Module) -> dict[str, bytes]:
    """Computation name -> 16-byte digest, computed callees first."""
    from hloenv.altgraph.printer import callees_first
    comp_hash: dict[int, bytes] = {}
    out: dict[str, bytes] = {}
    for comp in callees_first(module):
        digest = _computation_digest(comp, comp_hash)
        comp_hash[id(comp)] = digest
        out[comp.name] = digest
    return out


def instruction_digests(comp: Computation, comp_hash: dict[int, bytes]) -> dict[int, bytes]:
    """id(instruction) -> digest of the value it computes (its whole operand subgraph)."""
    inst_hash: dict[int, bytes] = {}
    for inst in comp.instructions:  # operands come first in `instructions`
        inst_hash[id(inst)] = _instruction_digest(inst, inst_hash, comp_hash)
    return inst_hash


def computation_digests_by_id(module: Module) -> dict[int, bytes]:
    """id(computation) -> digest, for hashing instructions that call computations."""
    from hloenv.altgraph.printer import callees_first
    comp_hash: dict[int, bytes] = {}
    for comp in callees_first(module):
        comp_hash[id(comp)] = _computation_digest(comp, comp_hash)
    return comp_hash


def _computation_digest(comp: Computation, comp_hash: dict[int, bytes]) -> bytes:
    inst_hash = instruction_digests(comp, comp_hash)
    h = blake2b(digest_size=16)
    h.update(b"computation")
    if comp.root is not None:
        h.update(inst_hash[id(comp.root)])
    # Instructions nobody uses (dead code, side effects) count, in an order independent of naming.
    for digest in sorted(inst_hash[id(i)] for i in comp.instructions if not i.users and i is not comp.root):
        h.update(digest)
    for key in sorted(comp.attrs):
        h.update(f"|{key}={_normalize(comp.attrs[key])}".encode())
    return h.digest()


def _instruction_digest(inst: Instruction, inst_hash: dict[int, bytes], comp_hash: dict[int, bytes]) -> bytes:
    parts = [inst.opcode, inst.shape.to_text()]
    if inst.payload is not None:
        parts.append(_normalize(inst.payload))
    if inst.attrs:
        for key in sorted(inst.attrs):
            value = inst.attrs[key]
            if value is not None and key not in NON_SEMANTIC_ATTRS:
                parts.append(f"{key}={_normalize(value)}")
    h = blake2b("\x1f".join(parts).encode(), digest_size=16)
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
