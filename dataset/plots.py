"""PNG plots of a benchmark table (matplotlib, the ``plot`` extra): speedup per module, and
speedup against module size."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SPEEDUP_PNG = "speedup_per_module.png"
SIZE_PNG = "speedup_vs_size.png"


def write_plots(out: str | os.PathLike, rows: list[dict[str, Any]], title: str = "") -> list[Path]:
    """Write both plots into ``out``; rows without a speedup are left out (but counted in the title).

    Raises:
        ImportError: matplotlib is missing (``pip install 'hloenv[plot]'``).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    paths: list[Path] = []
    measured = [r for r in rows if isinstance(r.get("speedup"), (int, float))]
    note = f"{len(measured)} of {len(rows)} modules measured"
    colors = ["tab:blue" if r.get("status") == "ok" else "tab:red" for r in measured]

    def save(fig: Any, ax: Any, name: str) -> None:
        ax.set_title(f"{title} ({note})".strip())
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.28 * len(measured) + 1.5)))
    speedups = [r["speedup"] for r in measured]
    # the timing's 90% interval as error bars (a row measured before it was recorded has none)
    spread = [[max(0.0, s - (r.get("speedup_low") or s)) for s, r in zip(speedups, measured)],
              [max(0.0, (r.get("speedup_high") or s) - s) for s, r in zip(speedups, measured)]]
    ax.barh(range(len(measured)), speedups, color=colors, xerr=spread, error_kw={"linewidth": 0.8})
    ax.set_yticks(range(len(measured)), [str(r["module"])[-50:] for r in measured], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("speedup over XLA's default pipeline (x; bars: 90% interval of the timing; "
                  "red: outputs differ)")
    save(fig, ax, SPEEDUP_PNG)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([r.get("instructions") or 0 for r in measured], [r["speedup"] for r in measured],
               c=colors, s=18)
    ax.set_xscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("instructions in the original module")
    ax.set_ylabel("speedup over XLA default (x)")
    save(fig, ax, SIZE_PNG)
    return paths
