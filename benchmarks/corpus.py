"""Where the benchmarks find the shared corpus, and the files a benchmark runs on by default."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def files_or_defaults(files: list[Path], defaults: list[str]) -> list[Path]:
    """`files` if any were given, else those of `defaults` (paths inside the corpus) that exist;
    prints where the corpus should be when that leaves nothing."""
    chosen = files or [CORPUS / f for f in defaults if (CORPUS / f).exists()]
    if not chosen:
        print(f"no files: pass some, or put the corpus at {CORPUS}")
    return chosen
