"""Turn the bytes of one file (HLO text, XLA dump text, HloModuleProto/HloProto, MLIR) into a Module."""

from __future__ import annotations

import re

from hloenv.altgraph import HloParseError, Module, parse_hlo
from hloenv.altgraph.parser import strip_dump_tables
from hloenv.dataset.archive import without_ending

#: File-name endings `load` picks up (lower-cased), longest first.
HLO_SUFFIXES = (".hlo.txt", ".hlo", ".txt", ".pb", ".mlir")


#: The files of an XLA dump folder that are not unoptimized modules: optimized modules, buffer
#: assignments, memory reports (a dump folder loads as its ``before_optimizations`` modules).
_DUMP_ARTIFACT = re.compile(r"\.module_\d+\..*\.(?:\w+_)?after_optimizations[\w.-]*\.txt$|"
                            r"(?:^|/|\.)module_\d+\..*(?:buffer-assignment|memory-usage-report)[\w.-]*\.txt$")


def is_hlo_file(name: str) -> bool:
    """Whether a file name has one of the endings in :data:`HLO_SUFFIXES` (and is not one of an
    XLA dump folder's other files, such as ``*.cpu_after_optimizations.txt``)."""
    lower = name.lower()
    if not lower.endswith(HLO_SUFFIXES) or lower.rsplit("/", 1)[-1].startswith("."):
        return False
    return not _DUMP_ARTIFACT.search("." + lower.rsplit("/", 1)[-1])


def is_plain_text_but_not_hlo(name: str, data: bytes) -> bool:
    """A file found in a folder by its `.txt` ending (not `.hlo.txt`) whose text does not start
    with an `HloModule` header: a README or LICENSE beside the modules, not a broken module."""
    lower = name.lower()
    if not lower.endswith(".txt") or lower.endswith(".hlo.txt"):
        return False
    return not data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"HloModule")


#: what a folder's `.txt` file that `is_plain_text_but_not_hlo` is skipped as
NOT_HLO = "not_hlo"
NOT_HLO_MESSAGE = "a .txt file that is not HLO text (it does not start with 'HloModule'): skipped"


def module_stem(name: str) -> str:
    """``a/b/mlp.hlo.txt`` -> ``a/b/mlp``: the name without its HLO ending."""
    return without_ending(name, (".before_optimizations.txt", ".hlo.txt", ".hlo.pb", *HLO_SUFFIXES))


#: Kept for callers of the dataset API: `parse_hlo` itself now skips XLA's dump tables.
clean_dump_text = strip_dump_tables


def read_module(data: bytes, name: str) -> Module:
    """Parse the contents of the file ``name`` (text, ``.pb`` or ``.mlir``).

    Raises:
        HloParseError: Not valid HLO (the message says "elided" for ``constant({...})``).
    """
    lower = name.lower()
    if lower.endswith(".pb"):
        return parse_hlo(proto_to_text(data, name), name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HloParseError(f"not UTF-8 text (byte {err.start})", source=name) from None
    if lower.endswith(".mlir"):
        from hloenv.dataset.frontends import stablehlo_to_hlo
        return parse_hlo(stablehlo_to_hlo(text), name)
    return parse_hlo(text, name)


def strip_metadata(module: Module) -> Module:
    """Remove every instruction's ``metadata={...}`` in place (fingerprints do not change)."""
    for inst in module.instructions():
        if "metadata" in inst.attrs:
            inst.set_attr("metadata", None)
    return module


def proto_to_text(data: bytes, name: str = "<proto>") -> str:
    """HLO text (constants in full) of a serialized HloModuleProto, or of an HloProto (which wraps
    one, as XLA's ``--xla_dump_hlo_as_proto`` writes)."""
    inner = _hlo_proto_module(data)
    try:
        from jaxlib import _hlo
        module = _hlo.HloModule.from_serialized_hlo_module_proto(inner if inner is not None else data)
        options = _hlo.HloPrintOptions.short_parsable()
        options.print_large_constants = True
        return module.to_string(options)
    except Exception as err:  # jaxlib raises its own error types
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise HloParseError(f"not a valid HloModuleProto: {first[:200]}", source=name) from None


def _hlo_proto_module(data: bytes) -> bytes | None:
    """Field 1 (``hlo_module``) of an ``HloProto``; None when ``data`` does not look like one.

    An HloProto has fields 1 (module) and 3 (buffer assignment) only; an HloModuleProto always
    has more (entry computation name, computations, program shape).
    """
    fields = _top_level_fields(data)
    if not fields or not set(fields) <= {1, 3} or 1 not in fields:
        return None
    return fields[1]


def _top_level_fields(data: bytes) -> dict[int, bytes] | None:
    """Length-delimited top-level protobuf fields (first occurrence); None when malformed."""
    out: dict[int, bytes] = {}
    i, n = 0, len(data)
    while i < n:
        key, i = _varint(data, i)
        if key is None:
            return None
        number, wire = key >> 3, key & 7
        if wire == 2:
            length, i = _varint(data, i)
            if length is None or i + length > n:
                return None
            out.setdefault(number, data[i:i + length])
            i += length
        elif wire == 0:
            value, i = _varint(data, i)
            if value is None:
                return None
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            return None
    return out


def _varint(data: bytes, i: int) -> tuple[int | None, int]:
    value, shift = 0, 0
    while i < len(data) and shift < 64:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
    return None, i
