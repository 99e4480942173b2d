"""Pipelines: passes and nested pipelines, repeated or run to a fixed point, writable as strings.

    "algsimp,cse,dce"                 three passes in order
    "call-inliner,(algsimp,cse,dce)*" a group run until nothing changes (capped)
    "(algsimp,dce)*3"                 a group run three times
    "fusion{backend=gpu}"             a pass with options

Items are separated by commas; spaces around them do not count.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Union

from hloenv.altgraph.module import Module
from hloenv.passes.base import PASS_NAME, Pass, PassResult, check_run_arguments, get_pass

Step = Union[Pass, "Pipeline"]
#: how many times a fixed-point group runs at most (`Pipeline.max_iterations`' default)
MAX_ITERATIONS = 25


@dataclass
class PipelineResult:
    """Per-pass results in run order, the number of iterations and why the pipeline stopped."""

    name: str
    results: list[PassResult] = field(default_factory=list)
    iterations: int = 0
    stop_reason: str = ""
    seconds: float = 0.0
    #: the results of the pipelines among its steps (a parsed string's groups), last run each
    nested: list["PipelineResult"] = field(default_factory=list)

    def stops(self) -> list[tuple[str, int, str]]:
        """(name, iterations, stop reason) of this pipeline and every pipeline nested in it, in
        order: whether `(...)*` reached its fixed point or its iteration cap."""
        out = [(self.name, self.iterations, self.stop_reason)]
        for inner in self.nested:
            out += inner.stops()
        return out

    @property
    def rewrites(self) -> int:
        return sum(r.rewrites for r in self.results)

    @property
    def changed(self) -> bool:
        return self.rewrites > 0


@dataclass
class Pipeline:
    """Runs steps in order, `repeat` times, or until no pass changes anything (`fixed_point`,
    capped at `max_iterations`). In dry mode every step runs once: a dry run records decisions, so
    repeating it would only record them again."""

    steps: list[Step]
    name: str = "pipeline"
    repeat: int = 1
    fixed_point: bool = False
    max_iterations: int = MAX_ITERATIONS

    def __post_init__(self) -> None:
        for key in ("repeat", "max_iterations"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"pipeline {self.name!r}: {key}={value!r}, expected an int >= 1")
        for step in self.steps:
            if not isinstance(step, (Pass, Pipeline)):
                raise TypeError(f"pipeline {self.name!r}: step {step!r} is a {type(step).__name__}, "
                                "expected a Pass or a Pipeline (get_pass(name) or parse_pipeline(text) "
                                "make them from names)")

    def __call__(self, module: Module, dry: bool = False) -> PipelineResult:
        check_run_arguments(module, dry)
        out = PipelineResult(self.name)
        t0 = time.perf_counter()
        limit = 1 if dry else (self.max_iterations if self.fixed_point else self.repeat)
        for iteration in range(1, limit + 1):
            changed = False
            nested: list[PipelineResult] = []  # (a group in a loop: its last run is kept)
            for step in self.steps:
                result = step(module, dry)
                if isinstance(result, PipelineResult):
                    out.results.extend(result.results)
                    nested.append(result)
                else:
                    out.results.append(result)
                changed |= result.changed
            out.nested = nested
            out.iterations = iteration
            if dry:
                out.stop_reason = "dry run: each step once"
                break
            if self.fixed_point and not changed:
                out.stop_reason = "fixed point"
                break
        else:
            out.stop_reason = ("iteration cap reached before a fixed point" if self.fixed_point
                               else f"ran {self.repeat} time(s)")
        out.seconds = time.perf_counter() - t0
        return out

    def passes(self) -> list[Pass]:
        """Every pass it runs, nested pipelines flattened, in order (a repeated one once)."""
        return [p for step in self.steps for p in (step.passes() if isinstance(step, Pipeline) else [step])]

    def __str__(self) -> str:
        inner = ",".join(str(s) for s in self.steps)
        if self.fixed_point:
            return f"({inner})*"
        return f"({inner})*{self.repeat}" if self.repeat != 1 else inner


_TOKEN = re.compile(r"\s*(?:(?P<open>\()|(?P<close>\))(?:\s*(?P<star>\*(?:\s*(?P<count>\d+))?))?|(?P<comma>,)|"
                    rf"(?P<name>{PASS_NAME})(?:\s*\{{(?P<opts>[^{{}}]*)\}})?)")
_BARE_REPEAT = re.compile(r"\s*\*\d*")
#: the most times a counted repeat `(...)*N` may run a group (it never stops early)
MAX_REPEAT = 1000


def parse_pipeline(text: str, name: str = "pipeline") -> Pipeline:
    """Build a Pipeline from its string form (see the module docstring).

    Raises:
        ValueError: unknown pass or option, or malformed text (with the position).
    """
    if not isinstance(text, str):
        raise TypeError(f"a pipeline string is text such as 'algsimp,cse,dce', not {text!r}")
    pos = 0
    stack: list[list[Step]] = [[]]
    text = text.strip()
    expect_item = True  # (at the start, after '(' or ','): a pass or a group must come next
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if _BARE_REPEAT.match(text, pos):
                raise ValueError(f"pipeline {text!r}: a repeat ('*' or '*N', at position {pos}) follows a "
                                 "parenthesised group, e.g. '(algsimp,dce)*3'")
            raise ValueError(f"pipeline {text!r}: unexpected {text[pos:pos + 10]!r} at position {pos}")
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())  # (after the spaces)
        if bool(m.group("name") or m.group("open")) != expect_item:
            what = "a pass or a '(' group" if expect_item else "',' between items"
            raise ValueError(f"pipeline {text!r}: expected {what} at position {start}, found "
                             f"{text[start:start + 10]!r}")
        expect_item = bool(m.group("open") or m.group("comma"))
        pos = m.end()
        if m.group("open"):
            stack.append([])
        elif m.group("close"):
            if len(stack) == 1:
                raise ValueError(f"pipeline {text!r}: unmatched ')' at position {m.start('close')}")
            steps = stack.pop()
            if m.group("star") is None:
                group = Pipeline(steps, "group")
            elif m.group("count") is None:
                group = Pipeline(steps, "fixed-point", fixed_point=True)
            elif int(m.group("count")) < 1:
                raise ValueError(f"pipeline {text!r}: repeat count {m.group('count')} at position "
                                 f"{m.start('count')}; a group runs at least once")
            elif int(m.group("count")) > MAX_REPEAT:
                raise ValueError(f"pipeline {text!r}: repeat count {m.group('count')} at position "
                                 f"{m.start('count')} is more than {MAX_REPEAT}; '(...)*' runs a group to "
                                 f"its fixed point (at most {MAX_ITERATIONS} times)")
            else:
                group = Pipeline(steps, "loop", repeat=int(m.group("count")))
            stack[-1].append(group)
        elif m.group("name"):
            stack[-1].append(get_pass(m.group("name"), **_options(m.group("opts"), text)))
    if len(stack) != 1:
        raise ValueError(f"pipeline {text!r}: missing ')'")
    if expect_item and text:
        raise ValueError(f"pipeline {text!r}: ends with ',' (a pass or a group must follow it)")
    return Pipeline(stack[0], name)


def _options(text: str | None, where: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ValueError(f"pipeline {where!r}: option {item!r} is not key=value")
        key, value = (s.strip() for s in item.split("=", 1))
        if key in out:
            raise ValueError(f"pipeline {where!r}: option {key!r} is given twice")
        out[key] = _value(value)
    return out


def _value(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text
