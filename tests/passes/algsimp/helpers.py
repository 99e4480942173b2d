"""Shared helpers for the algsimp rule tests: build a small module, run algsimp, check one rule."""

from __future__ import annotations

import re

import pytest

from hloenv import parse_hlo
from hloenv.altgraph.module import Module
from hloenv.passes.algsimp import AlgebraicSimplifier
from hloenv.passes.dce import DeadCodeElimination


def module_text(body: str, extra: str = "") -> str:
    """An HLO module with entry computation `body` (and computations `extra` before it)."""
    lines = "\n".join("  " + line.strip() for line in body.strip().splitlines())
    return f"HloModule m\n\n{extra}\nENTRY e {{\n{lines}\n}}\n"


ADD = """add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
"""


def simplify(text: str) -> tuple[Module, set[str]]:
    """Run algsimp once for real, then dce; returns the module and the rules that fired."""
    module = parse_hlo(text)
    module.verify()
    result = AlgebraicSimplifier()(module)
    DeadCodeElimination()(module)
    module.verify()
    return module, {rule for rule, _ in result.log or []}


def assert_fires(rule: str, body: str, expect: str, extra: str = "") -> str:
    """`rule` fires on the module and the printed result matches the regex `expect`."""
    module, fired = simplify(module_text(body, extra))
    out = module.to_text()
    assert rule in fired, f"{rule} did not fire; fired: {sorted(fired)}\n{out}"
    assert re.search(expect, out), f"{expect!r} not in\n{out}"
    return out


def assert_does_not_fire(rule: str, body: str, extra: str = "") -> None:
    module, fired = simplify(module_text(body, extra))
    assert rule not in fired, f"{rule} fired where it must not:\n{module.to_text()}"


def rule_tests(rules, fires: list[tuple], not_fires: list[tuple]):
    """The three tests of a rule family: every case in `fires` (rule, body, regex[, extra]) fires,
    no case in `not_fires` (rule, body[, extra]) does, and every rule has cases of both kinds."""
    fires = [(*c, "") if len(c) == 3 else c for c in fires]
    not_fires = [(*c, "") if len(c) == 2 else c for c in not_fires]

    @pytest.mark.parametrize("rule,body,expect,extra", fires, ids=[f"{c[0]}-{i}" for i, c in enumerate(fires)])
    def test_fires(rule, body, expect, extra):
        assert_fires(rule, body, expect, extra)

    @pytest.mark.parametrize("rule,body,extra", not_fires, ids=[f"{c[0]}-{i}" for i, c in enumerate(not_fires)])
    def test_does_not_fire(rule, body, extra):
        assert_does_not_fire(rule, body, extra)

    def test_every_rule_has_both_tests():
        names = {r.name for r in rules}
        assert names <= {c[0] for c in fires}
        assert names <= {c[0] for c in not_fires}

    return test_fires, test_does_not_fire, test_every_rule_has_both_tests
