"""XLA pass names of the pinned jaxlib, validation of ``disable_passes``, and the two pipelines."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Where the generated table lives (``third_party/xla_passes/generate.py`` writes it).
PASS_TABLE = Path(__file__).resolve().parents[2] / "third_party" / "xla_passes" / "cpu_passes.json"

#: The ``"env"`` pipeline switches off XLA's versions of the decisions the environment makes
#: itself (issue 4: fusion, algsimp, cse, constant folding, reshape moving, transpose folding),
#: so what runs is what the environment chose. XLA keeps its mandatory and lowering passes
#: (layout assignment, expanders, copy insertion, dce, ...). Names are XLA's, from the table.
ENV_DISABLED_PASSES: tuple[str, ...] = (
    "fusion",
    "algsimp",
    "cse",
    "constant_folding",
    "reshape-mover",
    "transpose-folding",
)

#: Disabled whenever the module already contains fusion instructions: XLA's layout assignment
#: strips the layouts inside pre-existing fused computations, and multi-output fusions or fusions
#: with a reduce in the middle then abort the process (see docs/xla-notes.md).
FUSED_MODULE_DISABLED_PASSES: tuple[str, ...] = ("layout-assignment",)

PIPELINES = ("xla-default", "env")


@functools.lru_cache(maxsize=1)
def pass_table() -> dict[str, Any]:
    """The generated table: ``{"jaxlib": version, "passes": [...], "pipelines": [...]}``."""
    try:
        return json.loads(PASS_TABLE.read_text())
    except FileNotFoundError:
        raise RuntimeError(f"XLA pass table missing at {PASS_TABLE}; run "
                           "third_party/xla_passes/generate.py") from None


def known_pass_names() -> frozenset[str]:
    """Every name ``xla_disable_hlo_passes`` acts on: single passes and nested pipelines."""
    table = pass_table()
    return frozenset(table["passes"]) | frozenset(table["pipelines"])


def validate_pass_names(names: Iterable[str]) -> list[str]:
    """Return ``names`` as a list after checking each against the table.

    Raises:
        ValueError: A name XLA does not know (XLA itself would silently ignore it); the message
            names it and lists close matches.
    """
    known = known_pass_names()
    out = []
    for name in names:
        if not isinstance(name, str) or "," in name:
            raise ValueError(f"pass name must be one string without commas, got {name!r}")
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=4, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"unknown XLA pass {name!r} for jaxlib {pass_table()['jaxlib']}{hint}")
        out.append(name)
    return out


def disabled_passes_for(pipeline: str, has_fusions: bool,
                        extra: Iterable[str] | None = None) -> list[str]:
    """The sorted, de-duplicated passes to switch off for ``pipeline``.

    Args:
        pipeline: ``"xla-default"`` or ``"env"``.
        has_fusions: The module already contains ``fusion`` instructions.
        extra: User-requested passes (validated here).
    """
    if pipeline not in PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}; expected one of {', '.join(PIPELINES)}")
    names = set(validate_pass_names(extra or ()))
    if pipeline == "env":
        names.update(ENV_DISABLED_PASSES)
    if has_fusions:
        names.update(FUSED_MODULE_DISABLED_PASSES)
    return sorted(names)
