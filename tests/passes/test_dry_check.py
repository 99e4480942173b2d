"""`check_dry_run`: every built-in decision pass leaves the module alone in dry mode (choosing the
original everywhere gives it back), and a rule that edits an instruction in place is caught."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import hloenv
from hloenv.passes import PASSES, RewritePass, RewriteRule, get_pass
from hloenv.passes.dry_check import DryRunChangedModule, check_dry_run
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from tests.conftest import bundled_modules, corpus_params

TEXT = """HloModule m
ENTRY e {
  x = f32[4] parameter(0)
  n1 = f32[4] negate(x)
  n2 = f32[4] negate(n1)
  ROOT e1 = f32[4] exponential(n2)
}
"""


class _NegateInPlace(RewriteRule):
    """negate(negate(x)) -> x, written wrongly: it edits the user's operand list in place."""

    name = "negate-in-place"
    opcodes = frozenset({"negate"})

    def match_and_rewrite(self, inst, rewriter):
        inner = inst.operands[0]
        if inner.opcode != "negate":
            return False
        for user in inst.users:
            user.operands[:] = [inner.operands[0] if o is inst else o for o in user.operands]
        return True


@dataclass(frozen=True)
class _InPlacePass(RewritePass):
    name = "test-in-place"  # (never registered)
    rules = (_NegateInPlace(),)


def test_an_in_place_edit_is_caught_and_named():
    module = hloenv.parse_hlo(TEXT)
    before = module.fingerprint()
    with pytest.raises(DryRunChangedModule, match=r"e/e1: was `e1 = f32\[4\] exponential\(n2\)`, now "
                                                  r"`e1 = f32\[4\] exponential\(x\)`"):
        check_dry_run(_InPlacePass(), module)
    assert module.fingerprint() == before  # (the check runs on a copy)


def test_a_rule_that_uses_its_rewriter_passes():
    assert check_dry_run(get_pass("algsimp"), hloenv.parse_hlo(TEXT)) == 1


def test_check_dry_run_takes_decision_passes_only():
    with pytest.raises(TypeError, match="applies it for real"):
        check_dry_run(get_pass("dce"), hloenv.parse_hlo(TEXT))
    with pytest.raises(TypeError, match="one pass"):
        check_dry_run(DEFAULT_ENV_PIPELINE.cleanup_pipeline(), hloenv.parse_hlo(TEXT))


DECISION_PASSES = sorted(name for name, cls in PASSES.items() if cls.makes_decisions)


@pytest.mark.parametrize("path", bundled_modules(), ids=lambda p: p.name)
def test_every_built_in_decision_pass_leaves_the_module_alone_in_dry_mode(path):
    module = hloenv.load_hlo(path)
    canonical = module.clone()
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(canonical)
    offered = 0
    for name in DECISION_PASSES:
        offered += check_dry_run(get_pass(name), module)
        offered += check_dry_run(get_pass(name), canonical)
    assert offered > 0


@pytest.mark.parametrize("path", corpus_params())
def test_built_in_decision_passes_leave_corpus_modules_alone_in_dry_mode(path):
    module = hloenv.load_hlo(path, allow_elided=True)
    for name in DECISION_PASSES:
        check_dry_run(get_pass(name), module)


def test_check_dry_run_says_what_it_takes_and_names_a_moved_root():
    module = hloenv.parse_hlo(TEXT)
    with pytest.raises(TypeError, match=r"a pass instance: _InPlacePass\(\), not the class"):
        check_dry_run(_InPlacePass, module)
    with pytest.raises(TypeError, match="takes a Module"):
        check_dry_run(get_pass("cse"), TEXT)

    class _RootInPlace(RewriteRule):
        """exponential(x) at the root -> x, written wrongly: it moves the root itself."""
        name = "root-in-place"
        opcodes = frozenset({"exponential"})

        def match_and_rewrite(self, inst, rewriter):
            if inst is not inst.parent.root:
                return False
            inst.parent.root = inst.operands[0]
            return True

    @dataclass(frozen=True)
    class _RootPass(RewritePass):
        name = "test-root-in-place"
        rules = (_RootInPlace(),)

    with pytest.raises(DryRunChangedModule, match="e: root was e1, now n2"):
        check_dry_run(_RootPass(), module)
