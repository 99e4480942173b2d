"""The Dataset: deduplicated, tagged modules plus the problems met while loading them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from hloenv.altgraph import Module
from hloenv.altgraph.checks import check_int
from hloenv.dataset.splits import split_of
from hloenv.dataset.tags import BACKENDS


@dataclass
class Entry:
    """One distinct module of a dataset (see :func:`hloenv.dataset.tags.module_tags` for tags)."""

    name: str
    source: str
    module: Module = field(repr=False)
    fingerprint: str
    tags: dict[str, Any] = field(repr=False)
    duplicates: list[str] = field(default_factory=list)

    @property
    def instructions(self) -> int:
        return self.tags["instructions"]

    @property
    def backends(self) -> tuple[str, ...]:
        """Backends that can run the module (by its custom-call targets)."""
        return self.tags["backends"]

    def runs_on(self, backend: str) -> bool:
        return backend in self.backends

    def text(self) -> str:
        """The module printed as HLO text (constants in full)."""
        return self.module.to_text()

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> str:
        """``"train"`` or ``"test"``, fixed by the fingerprint and ``seed``."""
        return split_of(self.fingerprint, test_fraction, seed)

    def summary(self) -> dict[str, Any]:
        """Plain data about the entry (no module)."""
        return {"name": self.name, "source": self.source, "fingerprint": self.fingerprint,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in self.tags.items()},
                "duplicates": list(self.duplicates)}


@dataclass(frozen=True)
class Problem:
    """A file that was skipped, and why (``kind``: read_error, parse_error, elided_constants, ...)."""

    source: str
    kind: str
    message: str


class Split(NamedTuple):
    train: "Dataset"
    test: "Dataset"


class Dataset:
    """Distinct modules (by fingerprint) in a stable order, with what went wrong while loading."""

    def __init__(self, entries: list[Entry], problems: list[Problem] | None = None,
                 root: str = "") -> None:
        """`entries` in order; one with the fingerprint of an earlier one is kept once (its source
        joins the first's ``duplicates``), as `load` keeps them.

        Raises:
            ValueError: two different modules with one name (`from_jax(fn, ..., name=...)` names
                them apart).
        """
        kept: dict[str, Entry] = {}
        for entry in entries:
            first = kept.get(entry.fingerprint)
            if first is None:
                kept[entry.fingerprint] = entry
            else:  # (a copy: the caller's entry stays as it was)
                kept[entry.fingerprint] = replace(first, duplicates=[*first.duplicates, entry.source,
                                                                     *entry.duplicates])
        self.entries = list(kept.values())
        self.problems = problems or []
        self.root = root
        self._by_name: dict[str, Entry] = {}
        for entry in self.entries:
            other = self._by_name.setdefault(entry.name, entry)
            if other is not entry:
                raise ValueError(f"two different modules are named {entry.name!r} ({other.source} and "
                                 f"{entry.source}): give them names of their own")

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __getitem__(self, key: int | str) -> Entry:
        return self._by_name[key] if isinstance(key, str) else self.entries[key]

    def __repr__(self) -> str:
        return f"Dataset({self.root!r}, {len(self.entries)} modules, {len(self.problems)} problems)"

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def _subset(self, entries: list[Entry]) -> Dataset:
        return Dataset(entries, [], self.root)

    def filter(self, predicate: Callable[[Entry], bool] | None = None, *, backend: str | None = None,
               min_instructions: int | None = None, max_instructions: int | None = None) -> Dataset:
        """The entries that pass every given condition (problems are not carried over).

        Raises:
            ValueError: an unknown backend or a negative instruction bound. TypeError: a
                predicate that is not callable, a bound that is not an int.
        """
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
        check_int("min_instructions", min_instructions, 0, may_be_none=True)
        check_int("max_instructions", max_instructions, 0, may_be_none=True)
        if predicate is not None and not callable(predicate):
            raise TypeError(f"predicate must be callable (Entry -> bool), not {predicate!r}")
        kept = [e for e in self.entries
                if (backend is None or e.runs_on(backend))
                and (min_instructions is None or e.instructions >= min_instructions)
                and (max_instructions is None or e.instructions <= max_instructions)
                and (predicate is None or predicate(e))]
        return self._subset(kept)

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> Split:
        """Deterministic train/test split by fingerprint hash: a module's side depends only on
        its fingerprint and ``seed``, never on what else is in the dataset."""
        split_of("", test_fraction, seed)  # (checks the settings, an empty dataset too)
        train = [e for e in self.entries if e.split(test_fraction, seed) == "train"]
        test = [e for e in self.entries if e.split(test_fraction, seed) == "test"]
        return Split(self._subset(train), self._subset(test))

    def duplicate_count(self) -> int:
        return sum(len(e.duplicates) for e in self.entries)

    def summary(self) -> dict[str, Any]:
        """Plain data: every entry's summary and every problem."""
        return {"root": self.root, "modules": [e.summary() for e in self.entries],
                "duplicates": self.duplicate_count(),
                "problems": [vars(p) for p in self.problems]}

    def report(self) -> str:
        """A human-readable table: one line per module (size, backends, custom calls), then the
        skipped files and totals."""
        width = min(max([len(e.name) for e in self.entries] + [6]), 90)
        lines = [f"{'module':<{width}} {'instr':>7} {'size':<6} {'backends':<8} custom calls"]
        for e in self.entries:
            backends = ",".join(e.backends) or "none"
            targets = ",".join(e.tags["custom_call_targets"])
            name = e.name if len(e.name) <= width else "..." + e.name[-width + 3:]
            lines.append(f"{name:<{width}} {e.instructions:>7} {e.tags['size']:<6} "
                         f"{backends:<8} {targets}")
        for p in self.problems:
            lines.append(f"SKIPPED {p.source}: [{p.kind}] {p.message}")
        per_backend = Counter(b for e in self.entries for b in e.backends)
        counts = ", ".join(f"{per_backend.get(b, 0)} run on {b}" for b in ("cpu", "gpu"))
        kinds = Counter(p.kind for p in self.problems)
        skipped = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        lines.append(f"{len(self.entries)} modules ({counts}), {self.duplicate_count()} duplicates "
                     f"dropped, skipped: {skipped}")
        return "\n".join(lines)
