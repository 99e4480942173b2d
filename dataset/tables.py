"""Benchmark results on disk: the resumable JSONL log, and the CSV/JSON tables built from it."""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hloenv.dataset.bench import SOUND_STATUSES, TABLE_COLUMNS

RESULTS = "results.jsonl"
TABLE_CSV = "table.csv"
TABLE_JSON = "table.json"
AGENTS_CSV = "agents.csv"
AGENTS_MD = "agents.md"


#: What makes a row reusable on a re-run (see `run_key`).
RunKey = tuple[str, str, str, int, bool, str]


def run_key(module: str, agent: str, backend: str, seed: int = 0, low_noise: bool = False,
            agent_options: dict[str, Any] | None = None) -> RunKey:
    """A row is reused on a re-run only with the same module (fingerprint), agent, backend, seed,
    timing mode and agent options: another seed draws other inputs and other random choices."""
    options = json.dumps(agent_options or {}, sort_keys=True, default=str)
    return module, agent, backend, seed, bool(low_noise), options


def row_key(row: dict[str, Any]) -> RunKey:
    """`run_key` of a row of ``results.jsonl`` (rows written before the settings were recorded
    count as the defaults: seed 0, normal timing, no agent options)."""
    return run_key(row.get("fingerprint") or row.get("module", ""), row.get("agent", ""), row.get("backend", ""),
                   row.get("seed", 0), row.get("low_noise", False), row.get("agent_options"))


def read_results(out: str | os.PathLike) -> dict[RunKey, dict[str, Any]]:
    """Rows already in ``out/results.jsonl`` by :func:`row_key` (the last one wins). A line cut
    short by a kill, or a row whose fields are not what a bench writes (edited by hand), is
    ignored: its module runs again."""
    path = Path(out) / RESULTS
    rows: dict[RunKey, dict[str, Any]] = {}
    if not path.is_file():
        return rows
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            key = row_key(row) if _well_formed(row) else None
        except (ValueError, TypeError, AttributeError):
            continue
        if key is not None:
            rows[key] = row
    return rows


def _well_formed(row: Any) -> bool:
    """The fields the tables and summary read have the kinds a bench writes: a status string,
    a speedup that is None or a positive finite number, an exactness that is None or a bool."""
    if not isinstance(row, dict) or not isinstance(row.get("status"), str):
        return False
    speedup = row.get("speedup")
    if speedup is not None and (isinstance(speedup, bool) or not isinstance(speedup, (int, float))
                                or not 0 < speedup < math.inf):
        return False
    return row.get("exact") is None or isinstance(row.get("exact"), bool)


def append_result(out: str | os.PathLike, row: dict[str, Any]) -> None:
    """Append one row to ``out/results.jsonl`` and make it durable before going on."""
    path = Path(out) / RESULTS
    with open(path, "a+b") as f:
        line = json.dumps(row, sort_keys=True, default=str).encode() + b"\n"
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # a line cut short by a kill: start on a fresh line
                line = b"\n" + line
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def table_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows cut down to :data:`TABLE_COLUMNS` (runtimes in seconds, speedups rounded)."""
    out = []
    for row in rows:
        t = {c: row.get(c) for c in TABLE_COLUMNS}
        for column in ("speedup", "speedup_low", "speedup_high"):
            if isinstance(t[column], float):
                t[column] = round(t[column], 4)
        out.append(t)
    return out


def write_tables(out: str | os.PathLike, rows: list[dict[str, Any]],
                 meta: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``table.csv`` and ``table.json`` (rows plus ``meta`` and a summary)."""
    out = Path(out)
    table = table_rows(rows)
    csv_path, json_path = out / TABLE_CSV, out / TABLE_JSON
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(TABLE_COLUMNS))
        writer.writeheader()
        for row in table:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    json_path.write_text(json.dumps({"meta": meta or {}, "summary": summarize(rows), "rows": table},
                                    indent=1, default=str))
    return csv_path, json_path


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per status, the geometric-mean speedup over sound rows (``SOUND_STATUSES``), and how
    many of those are faster or slower beyond their 90% interval (``speedup_low`` above 1,
    ``speedup_high`` below 1; rows without an interval, from before it was measured, count in
    neither)."""
    statuses = Counter(r.get("status", "?") for r in rows)
    sound = [r for r in rows if r.get("status") in SOUND_STATUSES and r.get("speedup")]
    speedups = [r["speedup"] for r in sound]
    geomean = math.exp(sum(math.log(s) for s in speedups) / len(speedups)) if speedups else None
    judged = [r["exact"] for r in rows if r.get("exact") is not None]
    return {"modules": len(rows), "statuses": dict(sorted(statuses.items())),
            "exact": sum(judged), "judged_exact": len(judged),
            # (unrounded: rounded here and again when printed, 1.00549 read 1.006x in the summary
            # line and 1.005x in the progress line)
            "geomean_speedup": geomean,
            "min_speedup": min(speedups) if speedups else None,
            "max_speedup": max(speedups) if speedups else None,
            "faster": sum(1 for r in sound if _number(r.get("speedup_low")) > 1),
            "slower": sum(1 for r in sound if _number(r.get("speedup_high"), math.inf) < 1)}


def _number(value: Any, default: float = -math.inf) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def format_summary(summary: dict[str, Any]) -> str:
    """One line: module count, statuses, geometric-mean speedup."""
    statuses = ", ".join(f"{n} {s}" for s, n in summary["statuses"].items())
    line = f"{summary['modules']} modules: {statuses or 'none'}"
    if summary.get("judged_exact"):
        line += f"; exact (defused) {summary['exact']} of {summary['judged_exact']}"
    if summary.get("geomean_speedup"):
        line += (f"; speedup over XLA default (sound rows): geomean {summary['geomean_speedup']:.3f}x, "
                 f"min {summary['min_speedup']:.3f}x, max {summary['max_speedup']:.3f}x; beyond the "
                 f"timing's 90% interval {summary.get('faster', 0)} faster, {summary.get('slower', 0)} slower")
    return line


def agent_label(row: dict[str, Any]) -> str:
    """An agent as the comparison names it: its name, with its options if it had any."""
    options = row.get("agent_options") or {}
    label = str(row.get("agent", "?"))
    if options:
        label += "{" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + "}"
    return label


def compare_agents(rows: Iterable[dict[str, Any]], fingerprints: Iterable[str] | None = None) -> dict[str, Any] | None:
    """Agents side by side on the modules they all ran: rows of one backend, seed and timing
    mode (the caller picks them; other settings make other numbers), restricted to
    `fingerprints` if given. None with fewer than two agents.

    Returns ``{"agents": [...], "modules": [{"module": name, agent: speedup or status, ...}],
    "common": n, "geomean": {agent: x}, "wins": {agent: n}}``: the geometric mean over the
    `common` modules where every agent's row is sound (a module one agent failed on would
    compare unlike sets otherwise), and on how many of those each agent was faster than every
    other beyond the timings' 90% intervals (its ``speedup_low`` above their ``speedup_high``:
    two agents that chose the same module are never told apart by a lucky draw).
    """
    wanted = None if fingerprints is None else set(fingerprints)
    by_module: dict[str, dict[str, dict[str, Any]]] = {}
    names: dict[str, str] = {}
    for row in rows:
        module = row.get("fingerprint") or row.get("module", "")
        if wanted is not None and module not in wanted:
            continue
        by_module.setdefault(module, {})[agent_label(row)] = row
        names[module] = str(row.get("module", module))
    agents = sorted({a for runs in by_module.values() for a in runs})
    if len(agents) < 2:
        return None
    table, common = [], []
    for module in sorted(by_module, key=lambda m: names[m]):
        runs = by_module[module]
        line: dict[str, Any] = {"module": names[module]}
        for a in agents:
            row = runs.get(a)
            line[a] = None if row is None else (row["speedup"] if _sound(row) else row.get("status"))
        table.append(line)
        if all(_sound(runs.get(a)) for a in agents):
            common.append([runs[a] for a in agents])
    geomean = {a: math.exp(sum(math.log(c[k]["speedup"]) for c in common) / len(common)) if common else None
               for k, a in enumerate(agents)}
    wins = dict.fromkeys(agents, 0)
    for runs_of in common:
        for k, a in enumerate(agents):
            low = _number(runs_of[k].get("speedup_low"))
            if all(low > _number(r.get("speedup_high"), math.inf) for j, r in enumerate(runs_of) if j != k):
                wins[a] += 1
    return {"agents": agents, "modules": table, "common": len(common), "geomean": geomean, "wins": wins}


def _sound(row: dict[str, Any] | None) -> bool:
    return row is not None and row.get("status") in SOUND_STATUSES and bool(row.get("speedup"))


def write_agent_comparison(out: str | os.PathLike, comparison: dict[str, Any], settings: str = "") -> tuple[Path, Path]:
    """``agents.csv`` (a module per line, an agent per column: its speedup over XLA's default,
    or its status when not sound) and ``agents.md`` (`settings`, the same as a table, then the
    geomeans)."""
    out = Path(out)
    agents = comparison["agents"]
    csv_path, md_path = out / AGENTS_CSV, out / AGENTS_MD
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["module", *agents])
        for line in comparison["modules"]:
            writer.writerow([line["module"], *(_cell(line[a], 4) for a in agents)])
    md = [f"Speedup over XLA's default pipeline{', ' + settings if settings else ''}.", "",
          f"| module | {' | '.join(agents)} |", "|---|" + "---:|" * len(agents)]
    md += [f"| {line['module']} | " + " | ".join(_cell(line[a], 3, "x") for a in agents) + " |"
           for line in comparison["modules"]]
    md += ["", format_agent_comparison(comparison)]
    md_path.write_text("\n".join(md) + "\n")
    return csv_path, md_path


def _cell(value: Any, digits: int, unit: str = "") -> str:
    if value is None:
        return ""  # (the agent has not run this module)
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else str(value)


def format_agent_comparison(comparison: dict[str, Any]) -> str:
    """One line: each agent's geomean and wins over the modules every agent ran soundly."""
    if not comparison["common"]:
        return f"agents compared: {', '.join(comparison['agents'])}; no module where all ran soundly"
    parts = [f"{a} {comparison['geomean'][a]:.3f}x ({comparison['wins'][a]} clearly fastest)"
             for a in comparison["agents"]]
    return (f"agents on the {comparison['common']} modules all ran soundly (geomean speedup over XLA "
            f"default): " + ", ".join(parts))
