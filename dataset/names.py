"""File-name parts made from names users give or programs carry (programs, functions, modules,
agents such as `path/to/mine.py:agent`).

    file_name_part("path/to/mine.py:agent")  ->  "path_to_mine.py_agent"
    file_name_part("..")                     ->  "_"        (never `.`, `..` or a hidden file)
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def file_name_part(text: str, limit: int | None = None, empty: str = "_") -> str:
    """`text` with each run of characters other than letters, digits, `_`, `.` and `-` made one `_`,
    without leading or trailing dots, cut to `limit` characters; `empty` if nothing is left."""
    part = _UNSAFE.sub("_", text).strip(".")
    if limit is not None:
        part = part[:limit].rstrip(".")
    return part or empty
