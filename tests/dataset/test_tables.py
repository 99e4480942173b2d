"""Result tables: the summary of a bench run."""

from __future__ import annotations

import math

from hloenv.dataset.bench import SOUND_STATUSES
from hloenv.dataset.runner import Progress
from hloenv.dataset.tables import format_summary, summarize


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
