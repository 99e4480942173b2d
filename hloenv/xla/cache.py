"""On-disk cache of evaluations: one JSON file per key, atomic writes, self-checking entries."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_FORMAT = 1


def default_cache_dir() -> Path:
    """``$HLOENV_CACHE_DIR``, else ``~/.cache/hloenv`` (``$XDG_CACHE_HOME`` respected)."""
    env = os.environ.get("HLOENV_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hloenv"


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hex key of JSON-able ``parts`` (module key, backend, options, versions, device)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _checksum(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class EvaluationCache:
    """Evaluation results under ``root/evaluations/<k[:2]>/<k>.json``."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.dir = self.root / "evaluations"

    def path(self, key: str) -> Path:
        """The file holding ``key``'s entry."""
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored payload, or None when missing or corrupt (a corrupt file is removed)."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            return None
        try:
            entry = json.loads(raw)
            if (entry.get("format") == _FORMAT and entry.get("key") == key
                    and entry.get("checksum") == _checksum(entry["payload"])):
                return entry["payload"]
        except (ValueError, TypeError, KeyError, AttributeError):
            pass
        try:  # corrupt: drop it so it gets recomputed and rewritten
            path.unlink()
        except OSError:
            pass
        return None

    def put(self, key: str, payload: dict[str, Any]) -> Path:
        """Write atomically (temp file in the same directory, then ``os.replace``)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"format": _FORMAT, "key": key, "checksum": _checksum(payload), "payload": payload}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(entry, f, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return path
