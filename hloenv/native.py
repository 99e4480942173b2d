"""Compiled builds of hloenv's graph modules, and the guard that keeps them in step with their source.

The graph work (parsing, passes, dry runs, observations) is plain Python, and its .py files are
the only source. When Cython and a C compiler are there at install time, `setup.py` also compiles
those modules as they are (no type declarations, no second source) into extension modules beside
them, which Python imports in preference to the .py; with the fusion kernel below, dry runs are
about 1.8-2.5x faster, first resets 1.3-1.7x, steps 1.07-1.14x (`benchmarks/native.py` measures it). Without a compiler the install is the same,
minus the speed.

A compiled module is used only while its .py is the one it was built from: the build records
each source's SHA-256 in `_native.json` next to this file, and `install()` (run first thing by
`import hloenv`) puts a finder in front of the import system that imports a module from its .py
when the hash differs (an edited or checked-out file), with a warning naming it. So an edit is
never silently shadowed by an old build; `pip install -e .` builds again.

One module is different: a kernel (`KERNELS`) is Cython with C types and exists only compiled.
`passes/fusion/_greedy_kernel.pyx` runs XLA's greedy CPU fusion on integer arrays; its reference
is `greedy.py` with `fusibility.py`, which its caller runs instead whenever the kernel cannot be
imported (not built, switched off, or stale: the finder refuses a kernel whose .pyx changed since
the build, with the same warning). Tests check both give the same fusions.

`HLOENV_NATIVE=0` in the environment imports every module from its .py (when profiling with
cProfile, which cannot see inside compiled functions, or to rule the build out); at install time
it skips compiling.

Compiled code keeps no Python frames, so it has no recursion limit: a recursion as deep as its
input would overflow the C stack (a crash, not a RecursionError). Recursion over what a user
gives must therefore be bounded explicitly (the parser's `MAX_TUPLE_NESTING`, `MAX_CALL_DEPTH`).

This module is imported by `setup.py` before anything is installed: the standard library only.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

#: The directories compiled, as (directory relative to the repository root, package name), and
#: the files there that are not (package inits; tables; error types; the collector switch that
#: must see Python frames).
COMPILED_PACKAGES = (("altgraph", "hloenv.altgraph"), ("passes", "hloenv.passes"),
                     ("passes/fusion", "hloenv.passes.fusion"), ("passes/algsimp", "hloenv.passes.algsimp"))
COMPILED_FILES = (("hloenv/observation.py", "hloenv.observation"),)
#: Kernels: Cython sources with C types, which exist only compiled (no Python twin to import
#: instead). Each has a reference in Python that its caller runs when the kernel cannot be
#: imported: not built, switched off, or built from another version of its source.
KERNELS = (("passes/fusion/_greedy_kernel.pyx", "hloenv.passes.fusion._greedy_kernel"),)
NOT_COMPILED = frozenset({"__init__.py", "_xla_opcodes.py", "errors.py", "gcpause.py", "registry.py",
                          "env_pipeline.py"})
MANIFEST = "_native.json"
ENV_VAR = "HLOENV_NATIVE"


def enabled() -> bool:
    """False when `HLOENV_NATIVE=0` (or "false", "no", "off")."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def compiled_modules(root: str | Path) -> dict[str, Path]:
    """Module name -> source file, for every module the build compiles (`root`: the repository)."""
    root = Path(root)
    out: dict[str, Path] = {}
    for directory, package in COMPILED_PACKAGES:
        for source in sorted((root / directory).glob("*.py")):
            if source.name not in NOT_COMPILED:
                out[f"{package}.{source.stem}"] = source
    for path, name in COMPILED_FILES + KERNELS:
        out[name] = root / path
    return out


def source_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest(sources: dict[str, Path]) -> dict[str, object]:
    """What `_native.json` records for a build of `sources`."""
    return {"python": sys.implementation.cache_tag,
            "modules": {name: source_hash(path) for name, path in sorted(sources.items())}}


class _SourceWhenStale(importlib.abc.MetaPathFinder):
    """Imports a compiled module's .py instead of its build when the build is not of that source."""

    def __init__(self, built: dict[str, str], use_builds: bool):
        self.built = built
        self.use_builds = use_builds
        #: modules imported from source although a build exists (their source changed since)
        self.stale: list[str] = []

    def find_spec(self, fullname, path, target=None):
        expected = self.built.get(fullname)
        if expected is None or not path:
            return None
        source = _source_in(path, fullname.rpartition(".")[2])
        if source is None:
            return None
        if source.endswith(".pyx"):  # a kernel: the build or nothing
            if not self.use_builds:
                raise ImportError(f"{fullname} is a compiled kernel and {ENV_VAR}=0 is set")
            if source_hash(source) != expected:
                self.stale.append(fullname)
                warnings.warn(f"hloenv: {source} changed since it was compiled; running its Python "
                              "reference instead (slower). Run `pip install -e .` again to rebuild.",
                              stacklevel=2)
                raise ImportError(f"{fullname} was built from another version of {source}")
            return None
        if self.use_builds:
            if source_hash(source) == expected:
                return None  # the regular finders load the build (extension modules come first)
            self.stale.append(fullname)
            warnings.warn(f"hloenv: {source} changed since it was compiled; importing it from source "
                          "(slower). Run `pip install -e .` again to rebuild.", stacklevel=2)
        return importlib.util.spec_from_file_location(fullname, source)


def _source_in(path, leaf: str) -> str | None:
    """The module's source in one of the package's directories: its .py, else (a kernel) its .pyx."""
    for suffix in (".py", ".pyx"):
        for entry in path:
            source = os.path.join(entry, leaf + suffix)
            if os.path.isfile(source):
                return source
    return None


_FINDER: _SourceWhenStale | None = None


def install() -> None:
    """Put the finder in front of the import system (once); `import hloenv` calls it first."""
    global _FINDER
    if _FINDER is not None:
        return
    try:
        recorded = json.loads((Path(__file__).parent / MANIFEST).read_text())
    except (OSError, ValueError):
        return  # nothing was compiled: the regular finders find only sources
    built = recorded.get("modules", {}) if recorded.get("python") == sys.implementation.cache_tag else {}
    if not built:
        return
    _FINDER = _SourceWhenStale(built, use_builds=enabled())
    sys.meta_path.insert(0, _FINDER)


def in_use() -> list[str]:
    """The hloenv modules imported so far that run compiled."""
    return sorted(name for name, module in sys.modules.items()
                  if name.startswith("hloenv.") and (getattr(module, "__file__", None) or "").endswith(
                      tuple(importlib.machinery.EXTENSION_SUFFIXES)))
