"""``load(path)``: a folder, archive or single file of HLO modules -> a deduplicated, tagged Dataset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from hloenv.altgraph import HloParseError
from hloenv.dataset.archive import ArchiveLimits, archive_stem, is_archive, iter_archive
from hloenv.dataset.dataset import Dataset, Entry, Problem
from hloenv.dataset.errors import DatasetError, UnsafeArchiveError
from hloenv.dataset.reader import (NOT_HLO, NOT_HLO_MESSAGE, is_hlo_file, is_plain_text_but_not_hlo, module_stem,
                                    read_module, strip_metadata as _strip)
from hloenv.dataset.tags import module_tags


def load(path: str | os.PathLike, strip_metadata: bool = False, *,
         limits: ArchiveLimits | None = None) -> Dataset:
    """Load every HLO module under ``path``: a folder (recursively, archives inside included),
    a ``.tar``/``.tar.gz``/``.zip`` archive, or one file.

    Files ending in ``.txt``, ``.hlo``, ``.hlo.txt`` (HLO text, either syntax era, XLA dumps
    included), ``.pb`` (HloModuleProto or HloProto) and ``.mlir`` (StableHLO/MHLO) are read.
    Modules with the same structural fingerprint are kept once (the first by path; the others
    are listed in ``Entry.duplicates``). Unreadable files become ``Dataset.problems``, never
    exceptions.

    Args:
        path: Folder, archive or file.
        strip_metadata: Drop every instruction's ``metadata={...}``.
        limits: Archive limits (default :class:`ArchiveLimits`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeArchiveError: ``path`` is an archive that breaks a safety rule (an unsafe archive
            found inside a folder is reported as a problem instead).
        DatasetError: ``path`` is an archive that cannot be read (corrupt, cut short).
        TypeError, ValueError: settings of the wrong kind, or an empty ``path``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a folder, archive or file path, not {path!r}")
    if not str(path):  # (Path("") is the working folder: it was loaded without a word)
        raise ValueError("path is empty: give a folder, archive or file (\".\" for this folder)")
    if not isinstance(strip_metadata, bool):
        raise TypeError(f"strip_metadata must be True or False, not {strip_metadata!r}")
    if limits is not None and not isinstance(limits, ArchiveLimits):
        raise TypeError(f"limits must be an ArchiveLimits or None, not {limits!r}")
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"no dataset at {root}")
    entries: list[Entry] = []
    problems: list[Problem] = []
    by_fingerprint: dict[str, Entry] = {}
    names: set[str] = set()
    for name, source, data in _files(root, limits, problems, top=True):
        try:
            module = read_module(data, source)
        except HloParseError as err:
            kind = "elided_constants" if "elided" in str(err) else "parse_error"
            where = f"line {err.line}, col {err.column}: " if err.line else ""  # (as `hloenv check` says it)
            problems.append(Problem(source, kind, where + _one_line(err.reason)))
            continue
        except Exception as err:  # noqa: BLE001  (a frontend or jaxlib failure: report, go on)
            problems.append(Problem(source, "parse_error", f"{type(err).__name__}: {_one_line(err)}"))
            continue
        if strip_metadata:
            _strip(module)
        fingerprint = module.fingerprint()
        first = by_fingerprint.get(fingerprint)
        if first is not None:
            first.duplicates.append(source)
            continue
        unique = name
        k = 2
        while unique in names:
            unique, k = f"{name}#{k}", k + 1
        names.add(unique)
        entry = Entry(unique, source, module, fingerprint, module_tags(module))
        by_fingerprint[fingerprint] = entry
        entries.append(entry)
    return Dataset(entries, problems, str(root))


def _one_line(err: object) -> str:
    text = str(err).strip()
    return (text.splitlines() or [""])[0][:300]


def _files(root: Path, limits: ArchiveLimits | None, problems: list[Problem],
           top: bool) -> Iterator[tuple[str, str, bytes]]:
    """(entry name, source label, contents) of every HLO file, in sorted path order."""
    if root.is_file():
        if is_archive(root):
            yield from _archive_files(root, archive_stem(root.name), limits, problems, refuse=top)
        else:
            try:
                yield module_stem(root.name), str(root), root.read_bytes()
            except OSError as err:
                problems.append(Problem(str(root), "read_error", _one_line(err)))
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if is_archive(path):
            yield from _archive_files(path, archive_stem(rel), limits, problems, refuse=False)
        elif is_hlo_file(rel):
            try:
                data = path.read_bytes()
            except OSError as err:
                problems.append(Problem(str(path), "read_error", _one_line(err)))
                continue
            if is_plain_text_but_not_hlo(rel, data):
                problems.append(Problem(str(path), NOT_HLO, NOT_HLO_MESSAGE))
                continue
            yield module_stem(rel), str(path), data


def _archive_files(path: Path, prefix: str, limits: ArchiveLimits | None, problems: list[Problem],
                   refuse: bool) -> Iterator[tuple[str, str, bytes]]:
    members: list[tuple[str, bytes]] = []
    try:
        members = list(iter_archive(path, limits, accept=is_hlo_file))
    except DatasetError as err:
        if refuse:
            raise
        kind = "unsafe_archive" if isinstance(err, UnsafeArchiveError) else "read_error"
        problems.append(Problem(str(path), kind,
                                _one_line(err)))
    for member, data in sorted(members):
        name = module_stem(member) if refuse else f"{prefix}/{module_stem(member)}"
        yield name, f"{path}!{member}", data


def default() -> Dataset:
    """The project's bundled dataset: the modules of ``hloenv/data`` (regenerate them with
    ``python -m hloenv.data.generate``)."""
    from hloenv.data.generate import DATA_DIR
    return load(DATA_DIR)
