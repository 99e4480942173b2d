"""The env pipeline a benchmark can run now: the default one minus passes not registered yet."""

from __future__ import annotations

import re

from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline, decision_name

_NAME = re.compile(r"[a-z][a-z0-9_\-]*")


def _registered(name: str) -> bool:
    from hloenv.passes.base import get_pass
    try:
        get_pass(name)
    except ValueError:
        return False
    return True


def drop_passes(text: str, missing: set[str]) -> str:
    """``text`` (a pipeline string) without the passes in ``missing`` (options included)."""
    for name in missing:
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])(\{{[^{{}}]*\}})?", "", text)
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r",\s*,", ",", text)
        text = re.sub(r"\(\s*,", "(", text)
        text = re.sub(r",\s*\)", ")", text)
        text = re.sub(r"\(\s*\)(\*\d*)?", "", text)
    return text.strip().strip(",")


def available_pipeline(pipeline: EnvPipeline = DEFAULT_ENV_PIPELINE) -> tuple[EnvPipeline, list[str]]:
    """``(pipeline that can be built, names of the passes left out because they are unknown)``."""
    names = set(_NAME.findall(pipeline.canonicalize)) | set(_NAME.findall(pipeline.cleanup))
    names |= {decision_name(d) for d in pipeline.decisions}
    missing = {n for n in names if not _registered(n)}
    if not missing:
        return pipeline, []
    reduced = EnvPipeline(drop_passes(pipeline.canonicalize, missing),
                          tuple(d for d in pipeline.decisions if decision_name(d) not in missing),
                          drop_passes(pipeline.cleanup, missing))
    return reduced, sorted(missing)
