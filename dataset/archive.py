"""Safe reading of ``.tar``, ``.tar.gz``/``.tgz`` and ``.zip`` archives of HLO files.

Every member is checked before its contents are read: no absolute paths, no ``..``, no links
pointing outside the archive, no devices or FIFOs, and limits on the member count, each
member's size and the total size (enforced again on the bytes actually read, so a lying header
or a decompression bomb is caught). A violation refuses the whole archive with
:class:`UnsafeArchiveError`.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hloenv.altgraph.checks import check_int
from hloenv.dataset.errors import DatasetError, UnsafeArchiveError

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")


@dataclass(frozen=True)
class ArchiveLimits:
    """Upper bounds an archive must respect."""

    max_members: int = 100_000
    max_member_bytes: int = 512 << 20
    max_total_bytes: int = 4 << 30

    def __post_init__(self) -> None:
        for name in ("max_members", "max_member_bytes", "max_total_bytes"):
            check_int(f"ArchiveLimits.{name}", getattr(self, name), 1)


def is_archive(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an archive by its ending."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    """``data/v1.2/train.tar.gz`` -> ``data/v1.2/train``: the name without its archive ending
    (its other dots are part of the name)."""
    return without_ending(name, ARCHIVE_SUFFIXES)


def without_ending(name: str, endings: Iterable[str]) -> str:
    """`name` without the longest of `endings` it ends with (in any case), or as it is."""
    lower = name.lower()
    for ending in sorted(endings, key=len, reverse=True):
        if lower.endswith(ending):
            return name[: -len(ending)]
    return name


def check_member_name(archive: str, name: str) -> str:
    """The normalised relative name of a member; raises UnsafeArchiveError if it could escape."""
    if not name or "\x00" in name:
        raise UnsafeArchiveError(archive, name, "empty name or NUL byte in the name")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UnsafeArchiveError(archive, name, "absolute path")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(archive, name, "path traversal ('..')")
    return "/".join(parts)


def _check_link(archive: str, name: str, target: str, hard: bool) -> None:
    """Refuse a link whose target is absolute or leaves the archive root."""
    kind = "hard link" if hard else "symlink"
    unified = target.replace("\\", "/")
    if not unified or unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UnsafeArchiveError(archive, name, f"{kind} to an absolute path {target!r}")
    base = "" if hard else posixpath.dirname(name)
    resolved = posixpath.normpath(posixpath.join(base, unified))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchiveError(archive, name, f"{kind} points outside the archive ({target!r})")


class _Budget:
    """Counts members and bytes against the limits."""

    def __init__(self, archive: str, limits: ArchiveLimits) -> None:
        self.archive, self.limits = archive, limits
        self.members = 0
        self.total = 0

    def member(self, name: str, size: int) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise UnsafeArchiveError(self.archive, "", f"more than {self.limits.max_members} members")
        if size > self.limits.max_member_bytes:
            raise UnsafeArchiveError(self.archive, name, f"{size} bytes, over the per-member limit "
                                     f"of {self.limits.max_member_bytes}")
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise UnsafeArchiveError(self.archive, name, f"total size over the limit of "
                                     f"{self.limits.max_total_bytes} bytes")

    def read(self, name: str, stream: IO[bytes]) -> bytes:
        """Read a member, never more than the per-member limit (a header may lie)."""
        data = stream.read(self.limits.max_member_bytes + 1)
        if len(data) > self.limits.max_member_bytes:
            raise UnsafeArchiveError(self.archive, name, "contents exceed the per-member limit "
                                     f"of {self.limits.max_member_bytes} bytes")
        return data


def iter_archive(path: str | os.PathLike, limits: ArchiveLimits | None = None,
                 accept: Callable[[str], bool] | None = None) -> Iterator[tuple[str, bytes]]:
    """Yield ``(member name, contents)`` for the regular files of a checked archive.

    All members are checked before the first is yielded. Links that stay inside the archive
    are skipped (their targets are members themselves). ``accept(name)`` filters what is read.

    Raises:
        UnsafeArchiveError: A member breaks a rule or a limit.
        DatasetError: The file is not a readable archive.
    """
    archive = str(path)
    limits = limits or ArchiveLimits()
    try:
        if archive.lower().endswith(".zip"):
            yield from _iter_zip(archive, limits, accept)
        else:
            yield from _iter_tar(archive, limits, accept)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise DatasetError(f"cannot read archive {archive}: {err}") from None


def _iter_tar(archive: str, limits: ArchiveLimits,
              accept: Callable[[str], bool] | None) -> Iterator[tuple[str, bytes]]:
    budget = _Budget(archive, limits)
    with tarfile.open(archive, "r:*") as tar:
        files: list[tuple[tarfile.TarInfo, str]] = []
        for info in tar:  # checked one header at a time, before tarfile seeks past its data
            name = check_member_name(archive, info.name)
            if info.issym() or info.islnk():
                _check_link(archive, info.name, info.linkname, info.islnk())
                budget.member(info.name, 0)
                continue
            if info.isdir():
                budget.member(info.name, 0)
                continue
            if not info.isfile():
                raise UnsafeArchiveError(archive, info.name, "device, FIFO or other special file")
            budget.member(info.name, info.size)
            files.append((info, name))
        _check_tar_end(tar)
        read = _Budget(archive, limits)
        for info, name in files:
            if accept is not None and not accept(name):
                continue
            stream = tar.extractfile(info)
            if stream is None:
                continue
            yield name, read.read(info.name, stream)


def _check_tar_end(tar: tarfile.TarFile) -> None:
    """The end-of-archive marker (a zero block) follows the last member: `tarfile` stops without
    a word at a header cut short or missing, so an archive cut at or inside a header would lose
    every member after it."""
    tar.fileobj.seek(tar.offset)
    block = tar.fileobj.read(tarfile.BLOCKSIZE)
    if len(block) < tarfile.BLOCKSIZE or block.count(0) != tarfile.BLOCKSIZE:
        raise tarfile.ReadError(f"the archive is cut short after {len(tar.getmembers())} member(s) "
                                "(no end-of-archive block where the next header should be)")


def _iter_zip(archive: str, limits: ArchiveLimits,
              accept: Callable[[str], bool] | None) -> Iterator[tuple[str, bytes]]:
    budget = _Budget(archive, limits)
    with zipfile.ZipFile(archive) as zf:
        files: list[tuple[zipfile.ZipInfo, str]] = []
        for info in zf.infolist():
            name = check_member_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                with zf.open(info) as stream:
                    target = stream.read(4097).decode("utf-8", "replace")
                _check_link(archive, info.filename, target, hard=False)
                budget.member(info.filename, 0)
                continue
            if info.is_dir():
                budget.member(info.filename, 0)
                continue
            if mode and not (stat.S_ISREG(mode) or stat.S_IFMT(mode) == 0):
                raise UnsafeArchiveError(archive, info.filename, "device, FIFO or other special file")
            budget.member(info.filename, info.file_size)
            files.append((info, name))
        for info, name in files:
            if accept is not None and not accept(name):
                continue
            with zf.open(info) as stream:
                yield name, budget.read(info.filename, stream)


def safe_extract(path: str | os.PathLike, dest: str | os.PathLike,
                 limits: ArchiveLimits | None = None) -> list[Path]:
    """Extract the regular files of a checked archive under ``dest``; returns the written paths.

    Raises:
        UnsafeArchiveError: As for :func:`iter_archive`, or a file would land outside ``dest``
            or overwrite an existing one.
    """
    root = Path(dest).resolve()
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, data in iter_archive(path, limits):
        target = (root / name).resolve()
        if root != target and root not in target.parents:
            raise UnsafeArchiveError(str(path), name, "would be written outside the destination")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "xb") as f:
                f.write(data)
        except FileExistsError:
            raise UnsafeArchiveError(str(path), name, "would overwrite an existing file") from None
        written.append(target)
    return written
