"""Result tables: the summary of a bench run, and agents compared."""

from __future__ import annotations

import math

from hloenv.dataset.bench import SOUND_STATUSES
from hloenv.dataset.runner import Progress
from hloenv.dataset.tables import (compare_agents, format_agent_comparison, format_summary, summarize,
                                   write_agent_comparison)


def _row(module: str, speedup: float, status: str = sorted(SOUND_STATUSES)[0]) -> dict:
    return {"module": module, "status": status, "speedup": speedup}


def test_summary_is_the_geometric_mean_of_sound_rows():
    rows = [_row("a", 2.0), _row("b", 0.5), _row("c", 4.0), _row("d", 9.0, status="failed")]
    summary = summarize(rows)
    assert summary["modules"] == 4 and summary["statuses"]["failed"] == 1
    assert math.isclose(summary["geomean_speedup"], 4 ** (1 / 3))  # (2 * 0.5 * 4) ** (1/3); the failed row is left out
    assert (summary["min_speedup"], summary["max_speedup"]) == (0.5, 4.0)


def test_summary_line_and_progress_line_print_a_speedup_alike():
    # (the summary rounded to 4 places, then printed to 3: 1.00549 read 1.006x there, 1.005x in progress)
    lines: list[str] = []
    row = _row("m", 1.00549)
    Progress(1, lines.append).update(row)
    assert "1.005x" in lines[0]
    assert "geomean 1.005x, min 1.005x, max 1.005x" in format_summary(summarize([row]))


def _agent_row(module: str, agent: str, speedup: float | None, status: str = sorted(SOUND_STATUSES)[0],
               **extra) -> dict:
    return {"module": module, "fingerprint": "fp-" + module, "agent": agent, "status": status,
            "speedup": speedup, **extra}


def test_agents_compare_on_the_modules_all_ran_soundly():
    rows = [_agent_row("a", "xla", 2.0), _agent_row("a", "random", 1.0),
            _agent_row("b", "xla", 0.5), _agent_row("b", "random", 2.0),
            _agent_row("c", "xla", 3.0), _agent_row("c", "random", None, status="mismatch"),
            _agent_row("d", "xla", 1.5)]  # (random has not run d)
    comparison = compare_agents(rows)
    assert comparison["agents"] == ["random", "xla"] and comparison["common"] == 2
    assert math.isclose(comparison["geomean"]["xla"], 1.0) and math.isclose(comparison["geomean"]["random"], 2 ** 0.5)
    assert comparison["wins"] == {"random": 0, "xla": 0}  # (no intervals: nobody is clearly fastest)
    by_module = {line["module"]: line for line in comparison["modules"]}
    assert by_module["c"]["random"] == "mismatch" and by_module["d"]["random"] is None
    line = format_agent_comparison(comparison)
    assert "2 modules" in line and "xla 1.000x (0 clearly fastest)" in line and "random 1.414x" in line


def test_an_agent_wins_a_module_only_beyond_every_other_agents_interval():
    def row(agent, speedup, low, high):
        return _agent_row("a", agent, speedup, speedup_low=low, speedup_high=high)
    clear = compare_agents([row("xla", 1.0, 0.98, 1.02), row("search", 1.2, 1.1, 1.3)])
    assert clear["wins"] == {"search": 1, "xla": 0}
    overlapping = compare_agents([row("xla", 1.0, 0.95, 1.12), row("search", 1.05, 1.01, 1.1)])
    assert overlapping["wins"] == {"search": 0, "xla": 0}


def test_agent_comparison_needs_two_agents_and_keeps_to_the_given_modules():
    rows = [_agent_row("a", "xla", 2.0), _agent_row("b", "xla", 1.0), _agent_row("b", "random", 1.0)]
    assert compare_agents(rows[:2]) is None
    assert compare_agents(rows, fingerprints={"fp-a"}) is None  # (only xla ran module a)
    options = _agent_row("a", "search", 1.2, agent_options={"max_expansions": 8})
    assert "search{max_expansions=8}" in compare_agents([rows[0], options])["agents"]


def test_agent_comparison_files(tmp_path):
    rows = [_agent_row("a", "xla", 2.0), _agent_row("a", "random", 1.0, status="failed")]
    csv_path, md_path = write_agent_comparison(tmp_path, compare_agents(rows), "backend cpu, seed 3")
    assert csv_path.read_text().splitlines() == ["module,random,xla", "a,failed,2.0000"]
    text = md_path.read_text()
    assert text.startswith("Speedup over XLA's default pipeline, backend cpu, seed 3.")
    assert "| a | failed | 2.000x |" in text and "no module where all ran soundly" in text
