"""Turn what a user passes (a Module, HLO text or a path) into a Module and its HLO text."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from hloenv.altgraph import Module, parse_hlo
from hloenv.altgraph.errors import HloParseError, HloVerifyError
from hloenv.altgraph.parser import _proto_to_text, is_hlo_text

ModuleLike = Any  # Module | str (HLO text or a path) | os.PathLike

_ELIDED = re.compile(r"constant\(\{\.\.\.\}\)")


def as_module(source: ModuleLike) -> Module:
    """A Module from a Module, HLO text, or a path to an HLO text file.

    Raises:
        ValueError: The text has elided constants (``constant({...})``), which XLA would
            silently run as zeros.
        HloParseError: The text does not parse.
        HloVerifyError: It parses but is not a valid module (shapes, operand counts).
    """
    return load_source(source)[0]


def load_source(source: ModuleLike) -> tuple[Module, str | None]:
    """(the Module, the HLO text it was parsed from: None when `source` is a Module already);
    raises as `as_module`. Text and files are verified too (HloVerifyError naming the file): XLA's
    own errors on a malformed module came back as a compile error, and its cost analysis gave
    figures for one."""
    if isinstance(source, Module):
        return source, None
    text, name = read_text_input(source)
    module = parse_hlo(text, name)
    try:
        module.verify()
    except HloVerifyError as err:
        raise (err.with_source(name) if name else err) from None
    if not _callees_defined_first(module):
        text = None  # XLA's parser wants a computation defined before its callers: print ours
    return module, text


def _callees_defined_first(module: Module) -> bool:
    """Does each computation of `module` come after every computation it calls (the order XLA's
    parser needs: "computation does not exist")? Ours reads any order; `to_text` prints this one."""
    seen: set[int] = set()
    for comp in module.computations:
        for inst in comp.instructions:
            if inst.called and any(id(c) not in seen for c in inst.called_computations):
                return False
        seen.add(id(comp))
    return True


def as_text_input(source: str | os.PathLike) -> str:
    """The HLO text behind ``source`` (text or a path), rejecting elided constants."""
    return read_text_input(source)[0]


def read_text_input(source: str | os.PathLike) -> tuple[str, str | None]:
    """(the HLO text behind ``source``, the file it came from or None), rejecting elided constants.
    A ``.pb`` file is a serialized HloModuleProto (as `load_hlo` reads it); other files are text."""
    name = None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and not is_hlo_text(source)):
        path = Path(source)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder: give one HLO file (hloenv check and hloenv bench "
                                    "take folders)")
        if not path.is_file():
            raise FileNotFoundError(f"no HLO file at {path}")
        name = str(path)
        data = path.read_bytes()
        if path.suffix == ".pb":
            text = _proto_to_text(data, name)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise HloParseError(f"not UTF-8 text (byte {err.start}): binary data is not HLO text "
                                    "(a serialized HloModuleProto is read from a .pb file)", source=name) from None
            if not text.strip():
                raise HloParseError("empty file: expected 'HloModule <name>'", source=name)
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(f"expected a Module, HLO text or a path, got {type(source).__name__}")
    found = _ELIDED.search(text)
    if found:  # (as the parser words it: a typed error naming the file, line and column)
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise HloParseError("elided constant 'constant({...})': its values were not printed, and XLA would "
                            "run it as zeros; print the module with large constants in full "
                            "(XLA_FLAGS=--xla_dump_large_constants)", line, column, name)
    return text, name


def _module_key(module: Module) -> str:
    """The cache key of a module's content: the IR's structural fingerprint (names ignored)."""
    return "fp:" + module.fingerprint()
