"""Harvesting: run a JAX program with XLA's dump flags and keep its unoptimized modules.

XLA (jaxlib 0.10.2) writes, per compiled module, ``module_NNNN.<jit name>.before_optimizations.txt``
(the HLO as the frontend produced it, what we keep) next to optimized HLO, buffer assignments,
LLVM IR and object files (ignored). ``--xla_dump_large_constants`` is needed, else constants are
elided as ``{...}``; the stack-frame tables of the text dump are dropped when reading.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hloenv.altgraph import HloParseError, parse_hlo
from hloenv.altgraph.checks import check_int, check_number
from hloenv.dataset.dataset import Entry, Problem
from hloenv.dataset.errors import HarvestError
from hloenv.dataset.names import file_name_part
from hloenv.dataset.reader import read_module
from hloenv.dataset.tags import module_tags

DUMP_FLAGS = ("--xla_dump_hlo_as_text", "--xla_dump_large_constants")
MANIFEST = "manifest.json"
_DUMPED = re.compile(r"^module_\d+\.(?P<fn>.+)\.before_optimizations\.txt$")


#: Modules smaller than this are left out by default: JAX compiles a one-op module for each eager
#: operation a program runs outside `jit` (`jnp.ones` is a broadcast of a constant), and a bench
#: over hundreds of those reads 1.0x whatever the agent does. `min_instructions=1` keeps them.
MIN_INSTRUCTIONS = 10


@dataclass
class HarvestResult:
    """What one harvest wrote (``written``: name, file, fingerprint, instructions, source)."""

    out: Path
    returncode: int
    written: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    too_small: int = 0
    problems: list[Problem] = field(default_factory=list)
    dumped: int = 0
    min_instructions: int = MIN_INSTRUCTIONS  # (the size floor this harvest kept to)

    def summary(self) -> str:
        floor = (f" (under {self.min_instructions} instructions; --min-instructions 1 keeps them)"
                 if self.too_small else "")
        return (f"{self.dumped} modules dumped, {len(self.written)} new written to {self.out}, "
                f"{self.duplicates} duplicates, {self.too_small} below the size floor{floor}, "
                f"{len(self.problems)} unreadable; program exit code {self.returncode}")


def program_name(command: Sequence[str]) -> str:
    """A short name for a command: the script's stem, the ``-m`` module, or the executable."""
    for i, arg in enumerate(command):
        if arg.endswith(".py"):
            return _safe(Path(arg).stem)
        if arg == "-m" and i + 1 < len(command):
            return _safe(command[i + 1].split(".")[-1])
    return _safe(Path(command[0]).name) if command else "program"


def function_name(dump_file: str) -> str | None:
    """``module_0004.jit_train_step.before_optimizations.txt`` -> ``train_step``; None if not a
    before-optimizations dump."""
    m = _DUMPED.match(dump_file)
    if not m:
        return None
    fn = m.group("fn")
    fn = fn[4:] if fn.startswith("jit_") else fn
    return _safe(fn.strip("_") or fn)


def _safe(name: str) -> str:
    return file_name_part(name, limit=120, empty="module")


def dump_env(dump_dir: str | os.PathLike, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a harvested program runs with: its own plus XLA's dump flags."""
    env = dict(os.environ if base is None else base)
    flags = " ".join([env.get("XLA_FLAGS", ""), f"--xla_dump_to={dump_dir}", *DUMP_FLAGS]).strip()
    env["XLA_FLAGS"] = flags
    env["JAX_ENABLE_COMPILATION_CACHE"] = "false"  # a cache hit would compile (and dump) nothing
    return env




def harvest(out: str | os.PathLike, command: Sequence[str], *, program: str | None = None,
            min_instructions: int = MIN_INSTRUCTIONS, timeout: float | None = None, quiet: bool = False,
            keep_dump: bool = False) -> HarvestResult:
    """Run ``command`` (e.g. ``["python", "train.py"]``) with XLA's dump flags and write each
    distinct unoptimized module of at least ``min_instructions`` instructions to
    ``out/<program>__<function>.hlo``.

    Modules whose fingerprint is already in ``out`` (its ``manifest.json``) are skipped, so
    repeated harvests into one folder accumulate distinct modules. A program that fails, times
    out or is interrupted still contributes what it compiled before it stopped.

    Raises:
        TypeError: ``command`` is a string, not a list of arguments.
        HarvestError: Nothing to run, a bad setting or program name, an output folder that cannot
            be made or a manifest that cannot be read (each before the command runs), a command
            that could not be started, or one that timed out (after its modules are collected:
            ``err.result`` says what was written).
        KeyboardInterrupt: re-raised once the modules compiled until then are collected.
    """
    if isinstance(command, (str, bytes)):
        raise TypeError(f"command is a list of arguments, e.g. {str(command).split()!r}, not the string {command!r}")
    if not command:
        raise HarvestError("no command to run")
    try:
        check_int("min_instructions", min_instructions, 0)
        check_number("timeout", timeout, above=True, may_be_none=True)
    except (TypeError, ValueError) as err:
        raise HarvestError(str(err)) from None
    if program is not None and (not isinstance(program, str) or _safe(program) != program or program.startswith(".")):
        raise HarvestError(f"program name {program!r} begins every file's name: letters, digits, '_', '.' and '-' "
                           f"only, not starting with '.' (e.g. {_safe(str(program)).lstrip('.') or 'my_program'!r})")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # (a file in the way)
        raise HarvestError(f"cannot make the output folder {out}: {err.strerror or err}") from None
    read_manifest(out)  # a damaged one is found now, not after the run (whose dump was then lost)
    program = program or program_name(command)
    dump = Path(tempfile.mkdtemp(prefix="hloenv-dump-"))
    log = open(out / "harvest.log", "ab") if quiet else None
    try:
        try:
            proc = subprocess.Popen(list(command), env=dump_env(dump), stdout=log,
                                    stderr=subprocess.STDOUT if log else None)
        except (FileNotFoundError, PermissionError) as err:
            raise HarvestError(f"cannot run {command[0]!r}: {err}") from None
        try:
            returncode = proc.wait(timeout=timeout)
        except BaseException as stop:  # (a timeout or Ctrl-C: what it compiled so far is kept)
            _stop(proc)
            result = HarvestResult(out, proc.returncode, min_instructions=min_instructions)
            collect(dump, out, program, result, min_instructions)
            if isinstance(stop, subprocess.TimeoutExpired):
                err = HarvestError(f"{' '.join(command)} did not finish within {timeout} s; what it compiled "
                                   f"until then is kept: {result.summary()}")
                err.result = result  # type: ignore[attr-defined]
                raise err from None
            stop.result = result  # type: ignore[attr-defined]
            raise
        result = HarvestResult(out, returncode, min_instructions=min_instructions)
        collect(dump, out, program, result, min_instructions)
    finally:
        if log:
            log.close()
        if keep_dump:
            print(f"dump kept at {dump}", file=sys.stderr)
        else:
            shutil.rmtree(dump, ignore_errors=True)
    return result


def _stop(proc: subprocess.Popen) -> None:
    """Kill a harvested program (its dumps are written as it compiles: nothing is lost) and reap it."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def read_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """``out/manifest.json`` (name -> record of a harvested module), or {} when there is none.

    Raises:
        HarvestError: it is not JSON, or not a mapping of records with a fingerprint.
    """
    path = out / MANIFEST
    if not path.exists():
        return {}
    fix = "fix it or move it away (it lists the modules harvested into the folder)"
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, OSError) as err:
        raise HarvestError(f"{path} cannot be read ({err}); {fix}") from None
    if not isinstance(manifest, dict) or not all(isinstance(r, dict) and isinstance(r.get("fingerprint"), str)
                                                 for r in manifest.values()):
        raise HarvestError(f"{path} is not a harvest manifest (name -> record with a fingerprint); {fix}")
    return manifest


def collect(dump: Path, out: Path, program: str, result: HarvestResult,
            min_instructions: int = 1) -> None:
    """Move the distinct before-optimization modules of an XLA dump folder into ``out``."""
    manifest_path = out / MANIFEST
    manifest = read_manifest(out)
    known = {m["fingerprint"] for m in manifest.values()} | _unlisted_fingerprints(out, manifest)
    for path in sorted(dump.glob("*.before_optimizations.txt")):
        fn = function_name(path.name)
        if fn is None:
            continue
        result.dumped += 1
        try:
            module = read_module(path.read_bytes(), path.name)
        except HloParseError as err:
            result.problems.append(Problem(path.name, "parse_error", err.reason.splitlines()[0]))
            continue
        if module.instruction_count < min_instructions:
            result.too_small += 1
            continue
        fingerprint = module.fingerprint()
        if fingerprint in known:
            result.duplicates += 1
            continue
        known.add(fingerprint)
        name, k = f"{program}__{fn}", 2
        while name in manifest or (out / f"{name}.hlo").exists():
            name, k = f"{program}__{fn}_{k}", k + 1
        (out / f"{name}.hlo").write_text(module.to_text())
        record = {"name": name, "file": f"{name}.hlo", "fingerprint": fingerprint,
                  "instructions": module.instruction_count, "source": path.name,
                  "program": program}
        manifest[name] = record
        result.written.append(record)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))


def _unlisted_fingerprints(out: Path, manifest: dict[str, dict[str, Any]]) -> set[str]:
    """Fingerprints of the ``.hlo`` files in ``out`` its manifest does not list (a manifest
    deleted or from elsewhere), so a harvest does not write their modules again."""
    listed = {m.get("file") for m in manifest.values()}
    found = set()
    for path in sorted(out.glob("*.hlo")):
        if path.name in listed:
            continue
        try:
            found.add(read_module(path.read_bytes(), path.name).fingerprint())
        except (HloParseError, OSError):
            pass  # (not ours to judge here: the dataset loader reports it)
    return found


def from_jax(fn: Callable, *args: Any, name: str | None = None) -> Entry:
    """The unoptimized module of ``jax.jit(fn)`` on ``args``, tagged like a dataset entry."""
    from hloenv.dataset.frontends import jax_hlo_text
    name = name or _safe(getattr(fn, "__name__", "fn").strip("<>"))
    module = parse_hlo(jax_hlo_text(fn, *args), name)
    return Entry(name, f"jax:{name}", module, module.fingerprint(), module_tags(module))
