"""Regenerate `altgraph/_xla_opcodes.py`: the HLO opcodes of the pinned jaxlib, as XLA spells them.

    python third_party/xla_opcodes/generate.py

The opcode list comes from jaxlib's own `HloOpcode` enum. Its members are CamelCase (`kGetTupleElement`);
the text spelling is the kebab-case form (`get-tuple-element`) except for a few names XLA spells
differently (below). Every spelling is then checked against XLA's own HLO parser, which answers
"Unknown opcode" for a wrong one, so a jaxlib upgrade that renames an opcode fails loudly here.
The attributes each opcode may carry come from the same parser: given one it does not take, it
lists those it does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "altgraph" / "_xla_opcodes.py"

# Enum names whose text spelling is not the kebab-case of the name (from XLA's hlo_opcode.h).
SPELLING_EXCEPTIONS = {
    "kExp": "exponential",
    "kExpm1": "exponential-minus-one",
    "kLog1p": "log-plus-one",
    "kPopulationCount": "popcnt",
    "kClz": "count-leading-zeros",
    "kTopK": "topk",
    "kAtan2": "atan2",
    "kCos": "cosine",
    "kSin": "sine",
    "kOptimizationBarrier": "opt-barrier",
}


def kebab(enum_name: str) -> str:
    name = enum_name[1:]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def is_known_to_xla(opcode: str) -> bool:
    from jaxlib import _hlo
    text = f"HloModule m\nENTRY e {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] {opcode}(p)\n}}\n"
    try:
        _hlo.hlo_module_from_text(text)
    except Exception as err:  # JaxRuntimeError for any parse problem
        return "Unknown opcode" not in str(err) and "expects opcode" not in str(err)
    return True


#: What XLA's parser answers for an attribute an opcode does not take: the ones it does.
UNEXPECTED = re.compile(r'unexpected attribute "hloenv_probe"\. Allowed attributes: ([^\n]*)')


#: Probes (result shape and call; `p` is an f32[], `b` a pred[], `i` an s32[] parameter) for
#: opcodes the generic ones (an f32[] result of 0 to 5 `p` operands) do not reach the attributes
#: of. A conditional allows other attributes with a pred operand than with an s32 one: both count.
SPECIAL_PROBES = {
    "constant": [("f32[]", "constant(1)")],
    "parameter": [("f32[]", "parameter(3)")],
    "tuple": [("(f32[])", "tuple(p)")],
    "conditional": [("f32[]", "conditional(b, p, p)"), ("f32[]", "conditional(i, p, p)")],
    "async-start": [("((f32[]), u32[])", "async-start(p)")],
}


def allowed_attributes(opcode: str) -> list[str] | None:
    """The attributes XLA's parser lets `opcode` carry, from its own error for one it does not
    ("Allowed attributes: ..."); None when no probe got that far (the parser checks the operands
    first; async-update and async-done want a real async-start)."""
    from jaxlib import _hlo
    probes = SPECIAL_PROBES.get(opcode, [("f32[]", f"{opcode}({', '.join(['p'] * n)})") for n in range(6)])
    every = opcode in SPECIAL_PROBES  # (the generic probes stop at the first answer)
    allowed: set[str] | None = None
    for shape, call in probes:
        text = ("HloModule m\nENTRY e {\n  p = f32[] parameter(0)\n  b = pred[] parameter(1)\n"
                f"  i = s32[] parameter(2)\n  ROOT r = {shape} {call}, hloenv_probe=1\n}}\n")
        try:
            _hlo.hlo_module_from_text(text)
        except Exception as err:  # JaxRuntimeError for any parse problem
            found = UNEXPECTED.search(str(err))
            if found:
                allowed = (allowed or set()) | {a.strip() for a in found.group(1).split(",")}
                if not every:
                    break
    return None if allowed is None else sorted(allowed)


#: Words XLA's HLO lexer might read as something other than a name: its keywords and the
#: element types (`s1`..`f8e8m0fnu`, `token`, ...). Those its parser refuses as an instruction
#: name are kept in the table (`reserved_names`).
NAME_CANDIDATES = ("true", "false", "inf", "nan", "HloModule", "ENTRY", "ROOT", "maximal", "replicated",
                   "manual", "unknown", "last_tile_dim_replicate", "last_tile_dims", "shard_as", "shard_like",
                   "pred", "s1", "s2", "s4", "s8", "s16", "s32", "s64", "u1", "u2", "u4", "u8", "u16", "u32", "u64",
                   "f16", "bf16", "f32", "f64", "c64", "c128", "token", "opaque", "tuple")


def reserved_names() -> list[str]:
    """The words of `NAME_CANDIDATES` and of jaxlib's element types that XLA's parser refuses as
    an instruction's name ("expects name": its lexer reads them as a keyword or a type)."""
    from jax._src.lib import xla_client
    from jaxlib import _hlo
    types = [t.lower() for t in xla_client.PrimitiveType.__members__ if t != "PRIMITIVE_TYPE_INVALID"]
    refused = []
    for word in sorted(set(NAME_CANDIDATES) | set(types) | {"opaque"}):
        text = f"HloModule m\nENTRY e {{\n  {word} = f32[] parameter(0)\n  ROOT r = f32[] negate({word})\n}}\n"
        try:
            _hlo.hlo_module_from_text(text)
        except Exception:  # JaxRuntimeError: the name is not read as one
            refused.append(word)
    return refused


def in_children(mode: str, names: list[str]) -> dict[str, str]:
    """name -> the probe's answer line (`--probe` or `--attributes` of this script). Some malformed
    probes crash XLA after the opcode was accepted (a segfault building e.g. a `while` without a
    body), so probes run in a child process that is restarted after a crash; a crash answers
    "crashed"."""
    import subprocess
    answers: dict[str, str] = {}
    todo = list(names)
    while todo:
        proc = subprocess.run([sys.executable, __file__, mode, *todo], capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            name, _, answer = line.partition(" ")
            if name in todo[:1]:
                answers[name] = answer
                todo = todo[1:]
        if proc.returncode != 0 and todo:
            answers[todo[0]] = "crashed"
            todo = todo[1:]
    return answers


def check_in_children(names: list[str]) -> list[str]:
    """Names XLA's parser does not know (a probe that crashed XLA got past the opcode: known)."""
    return [name for name, answer in in_children("--probe", names).items() if answer == "unknown"]


def attributes_in_children(names: list[str]) -> dict[str, list[str]]:
    """opcode -> the attributes XLA's parser allows it, for the opcodes a probe could ask."""
    answers = in_children("--attributes", names)
    return {name: answer.split(",") if answer else [] for name, answer in answers.items()
            if answer not in ("none", "crashed")}


def main() -> int:
    if sys.argv[1:2] == ["--probe"]:
        for name in sys.argv[2:]:
            print(f"{name} {'known' if is_known_to_xla(name) else 'unknown'}", flush=True)
        return 0
    if sys.argv[1:2] == ["--attributes"]:
        for name in sys.argv[2:]:
            allowed = allowed_attributes(name)
            print(f"{name} {'none' if allowed is None else ','.join(allowed)}", flush=True)
        return 0
    import jaxlib
    from jaxlib import _hlo
    names = sorted(SPELLING_EXCEPTIONS.get(k, kebab(k)) for k in _hlo.HloOpcode.__members__)
    unknown = check_in_children(names)
    if unknown:
        print(f"XLA's parser does not know these spellings; extend SPELLING_EXCEPTIONS: {unknown}")
        return 1
    attributes = attributes_in_children(names)
    general = sorted(set.intersection(*(set(a) for a in attributes.values())))
    body = "\n".join(f'    "{n}",' for n in names)
    own = "\n".join(f'    "{n}": frozenset({{{", ".join(repr(a) for a in attrs if a not in general)}}}),'
                    .replace("frozenset({})", "frozenset()")
                    for n, attrs in sorted(attributes.items()))
    OUT.write_text(
        f'"""XLA HLO opcodes of jaxlib {jaxlib.__version__} and the attributes its HLO parser allows each one.\n'
        'Generated by third_party/xla_opcodes/generate.py; do not edit."""\n\n'
        f'JAXLIB_VERSION = "{jaxlib.__version__}"\n\n'
        f"XLA_OPCODES: frozenset[str] = frozenset({{\n{body}\n}})\n\n"
        "#: The attributes XLA's parser lets every instruction carry.\n"
        f"XLA_GENERAL_ATTRIBUTES: frozenset[str] = frozenset({{{', '.join(repr(a) for a in general)}}})\n\n"
        "#: Words the parser refuses as an instruction's name (its lexer reads a keyword or a type).\n"
        f"XLA_RESERVED_NAMES: frozenset[str] = frozenset({{{', '.join(repr(w) for w in reserved_names())}}})\n\n"
        "#: opcode -> the other attributes the parser lets it carry (its answer for one it does not take,\n"
        "#: \"Allowed attributes: ...\"); opcodes no probe could ask that are missing.\n"
        f"XLA_OWN_ATTRIBUTES: dict[str, frozenset[str]] = {{\n{own}\n}}\n")
    print(f"wrote {OUT} ({len(names)} opcodes, attributes of {len(attributes)}, jaxlib {jaxlib.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
