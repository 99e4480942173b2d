"""Pipelines: strings, nesting, loops, fixed points with stop reasons, typed options."""

from __future__ import annotations

import re

import pytest

from hloenv import parse_hlo
from hloenv.passes import Pipeline, get_pass, parse_pipeline
from tests.altgraph.test_alternatives import DUPLICATES


def test_pipeline_strings_round_trip():
    p = parse_pipeline("cse,(cse,dce)*,(dce)*3")
    assert str(p) == "cse,(cse,dce)*,(dce)*3"
    assert isinstance(p.steps[1], Pipeline) and p.steps[1].fixed_point and p.steps[2].repeat == 3


def test_passes_flattens_nested_pipelines():
    p = parse_pipeline("call-inliner,(algsimp,(cse,dce)*2)*,dce")
    assert [x.name for x in p.passes()] == ["call-inliner", "algsimp", "cse", "dce", "dce"]


def test_fixed_point_stops_with_a_reason():
    m = parse_hlo(DUPLICATES)
    result = parse_pipeline("(cse,dce)*")(m)
    inner = result
    assert inner.rewrites > 0
    group = parse_pipeline("(cse,dce)*").steps[0]
    m2 = parse_hlo(DUPLICATES)
    r = group(m2)
    assert r.stop_reason == "fixed point" and r.iterations == 2  # cse + dce change it, then nothing
    assert "multiply(c, c)" in m2.to_text()


def test_iteration_cap_is_reported():
    group = Pipeline([get_pass("cse"), get_pass("dce")], fixed_point=True, max_iterations=1)
    r = group(parse_hlo(DUPLICATES))
    assert r.stop_reason == "iteration cap reached before a fixed point"


def test_dry_mode_runs_each_step_once():
    m = parse_hlo(DUPLICATES)
    r = parse_pipeline("(cse,dce)*")(m, dry=True)
    assert r.results[0].dry and r.results[0].rewrites == 2 and r.iterations == 1


@pytest.mark.parametrize("bad, message", [
    ("cse,nope", "unknown pass 'nope'"),
    ("csee", "did you mean 'cse'"),
    ("(cse", "missing ')'"),
    ("cse)", "unmatched ')'"),
    ("cse{frob=1}", "has no option 'frob'"),
    ("cse;dce", "unexpected"),
    ("AlgSimp", "unknown pass 'AlgSimp' (did you mean 'algsimp'?)"),  # (was "unexpected 'AlgSimp'")
    ("algsimp*3", "a repeat ('*' or '*N', at position 7) follows a parenthesised group"),
    ("(cse)*3*", "at position 7) follows a parenthesised group"),
    ("(cse,dce)*0", "repeat count 0 at position 10; a group runs at least once"),  # (ran nothing)
    # each ran something without a word: a space for a comma, groups side by side, empty items
    ("algsimp dce", "expected ',' between items at position 8, found 'dce'"),
    ("(algsimp)(dce)", "expected ',' between items at position 9"),
    (",,", "expected a pass or a '(' group at position 0"),
    ("algsimp,(,)", "expected a pass or a '(' group at position 9"),
    ("()", "expected a pass or a '(' group at position 1"),
    ("cse,", "ends with ','"),
    ("cse{max_iterations=1,max_iterations=2}", "option 'max_iterations' is given twice"),
])
def test_bad_pipeline_strings(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_pipeline(bad)


def test_spaces_and_a_repeat_after_a_spaced_group_are_fine():
    assert str(parse_pipeline(" ( cse , dce ) *3 ")) == "(cse,dce)*3"  # ("a repeat follows a group" before)
    assert parse_pipeline("").passes() == []
    with pytest.raises(TypeError, match="a pipeline string is text"):
        parse_pipeline(None)


@pytest.mark.parametrize("make, error, message", [
    (lambda: get_pass("fusion", backend="bogus"), ValueError, "unknown backend 'bogus'"),  # (found when run)
    (lambda: get_pass("fusion-merger", backend='"gpu"'), ValueError, "unknown backend"),
    (lambda: get_pass("multi-output-fusion", backend="tpu"), ValueError, "unknown backend 'tpu'"),
    (lambda: get_pass("constant-folding", max_elements=-5), ValueError, "max_elements must be at least 0"),
    (lambda: get_pass("cse")(DUPLICATES), TypeError, "passes run on a Module .*not str"),  # (an AttributeError)
    (lambda: parse_pipeline("cse,dce")(None), TypeError, "passes run on a Module .*not NoneType"),
    (lambda: get_pass("cse")(parse_hlo(DUPLICATES), dry="no"), TypeError, "dry must be True or False"),  # (ran dry)
])
def test_pass_options_and_run_arguments_are_checked_when_given(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("settings, message", [
    ({"repeat": 0}, "repeat=0, expected an int >= 1"),
    ({"max_iterations": -1}, "max_iterations=-1, expected an int >= 1"),
    ({"repeat": 2.5}, "repeat=2.5"),
])
def test_pipeline_settings_it_cannot_run_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Pipeline([get_pass("cse")], **settings)


def test_a_step_that_is_not_a_pass_is_refused_when_built():
    with pytest.raises(TypeError, match="step 'cse' is a str, expected a Pass or a Pipeline"):
        Pipeline([get_pass("dce"), "cse"])  # type: ignore[list-item]


@pytest.mark.parametrize("bad, message", [
    ("fusion{backend=3}", "option 'backend' must be str, not 3"),
    ("multi-output-fusion{max_sibling_options=eight}", "option 'max_sibling_options' must be int, not 'eight'"),
    ("multi-output-fusion{max_sibling_options=true}", "must be int, not True"),
    ("constant-folding{max_elements=1.5}", "option 'max_elements' must be int, not 1.5"),
])
def test_option_values_of_the_wrong_type(bad, message):
    with pytest.raises(TypeError, match=message):
        parse_pipeline(bad)
    name = bad.split("{")[0]
    assert str(parse_pipeline(name)) == str(get_pass(name))  # (defaults are fine)


def test_registering_a_taken_pass_name_is_refused():
    from dataclasses import dataclass

    from hloenv.passes import Pass, register
    from hloenv.passes.base import PASSES

    def make(name):
        @dataclass(frozen=True)
        class Mine(Pass):
            def run(self, module, rewriter):
                pass
        Mine.name = name
        return Mine

    with pytest.raises(ValueError, match="pass name 'fusion' is taken by hloenv.passes.fusion.instruction_fusion"
                                         ".InstructionFusion; give .*Mine another name"):
        register(make("fusion"))
    assert type(get_pass("fusion")).__name__ == "InstructionFusion"
    try:
        register(make("test-mine"))
        register(make("test-mine"))  # (the same class made again, a notebook cell run twice: fine)
        assert str(parse_pipeline("test-mine,dce")) == "test-mine,dce"
    finally:
        PASSES.pop("test-mine", None)


def test_the_pass_registry_lists_the_built_in_passes_without_a_get_pass_first():
    import subprocess
    import sys
    code = "from hloenv.passes import PASSES; print(sorted(PASSES))"  # (a fresh process: nothing loaded)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'fusion'" in out and "'algsimp'" in out and "'dce'" in out  # (it was [])


@pytest.mark.parametrize("settings,error,message", [
    ({"decisions": "fusion"}, TypeError, r"decisions=\('fusion',\), not the string 'fusion'"),  # (was 'unknown pass f')
    ({"decisions": (3,)}, TypeError, r"sequence of pass names .* not \(3,\)"),
    ({"decisions": None}, TypeError, "sequence of pass names"),
    ({"decisions": ("fusoin",)}, ValueError, "unknown pass 'fusoin'"),
    ({"decisions": ("cse", "dce")}, ValueError, "'dce' decides nothing"),  # (episodes ended at once)
    ({"cleanup": "nosuch"}, ValueError, "unknown pass 'nosuch'"),  # (failed on an episode's last step)
    ({"canonicalize": 3}, TypeError, "canonicalize must be a pipeline string"),
])
def test_env_pipeline_settings_are_checked_before_an_env_works(settings, error, message):
    """Types when the pipeline is made, pass names by `check`, which HloEnv calls first (a
    pipeline naming passes this process lacks can still be made and reduced: dataset's bench)."""
    from hloenv import HloEnv
    from hloenv.passes.env_pipeline import EnvPipeline
    from tests.conftest import DATA
    with pytest.raises(error, match=message):
        EnvPipeline(**settings).check()
    if error is ValueError:
        with pytest.raises(error, match=message):
            HloEnv(DATA / "mlp_train_step.hlo", pipeline=EnvPipeline(**settings))


def test_env_pipeline_takes_a_list_of_decisions_and_round_trips():
    from hloenv.passes.env_pipeline import EnvPipeline
    pipeline = EnvPipeline(decisions=["cse", "fusion"])
    assert pipeline.decisions == ("cse", "fusion")
    assert EnvPipeline.from_dict(pipeline.to_dict()) == pipeline


def test_env_pipeline_decisions_take_pass_options():
    from hloenv import HloEnv
    from hloenv.dataset.pipeline_check import available_pipeline
    from hloenv.passes.env_pipeline import EnvPipeline
    from tests.conftest import DATA
    pipeline = EnvPipeline(decisions=("fusion{backend=gpu}",))
    assert [str(p) for p in pipeline.check().decision_passes()] == [str(get_pass("fusion", backend="gpu"))]
    assert available_pipeline(EnvPipeline(decisions=("fusion{backend=gpu}", "nope{x=1}")))[1] == ["nope"]
    with pytest.raises(ValueError, match="'fusion{},cse' is not one pass"):
        EnvPipeline(decisions=("fusion{},cse",)).check()  # (the braces make it parsed as a pipeline)
    env = HloEnv(DATA / "scan_rnn.hlo", pipeline=EnvPipeline(decisions=("fusion{backend=cpu}",)))
    assert env.reset(seed=0)[1]["num_alternatives"] > 0


def _pass_with_rules(name: str, *rules):
    from dataclasses import dataclass

    from hloenv.passes.base import RewritePass

    @dataclass(frozen=True)
    class Mine(RewritePass):
        pass
    Mine.name, Mine.rules = name, tuple(rules)
    return Mine


def _rule(name="mine", opcodes=frozenset({"negate"}), body=None):
    from hloenv.passes.base import RewriteRule

    class Rule(RewriteRule):
        def match_and_rewrite(self, inst, rewriter):
            return body(inst, rewriter) if body else False
    Rule.name, Rule.opcodes = name, opcodes
    return Rule


@pytest.mark.parametrize("rule, error, message", [
    (_rule(), TypeError, r"Rule is a class; list an instance, Rule\(\)"),
    (_rule(name="")(), ValueError, "Rule has no name"),
    (_rule(opcodes="negate")(), TypeError, "must list the opcodes it matches as a set"),  # (matched n, e, g, a, t)
    (_rule(opcodes=frozenset())(), TypeError, "must list the opcodes"),
    (_rule(opcodes=frozenset({"negat"}))(), ValueError, r"matches no HLO opcode 'negat' \(did you mean 'negate'"),
    ("negate", TypeError, "'negate' is not a RewriteRule"),
])
def test_rules_that_could_never_fire_are_refused_when_registered(rule, error, message):
    """(each was accepted, and the pass made no rewrite or failed only once a rule matched)"""
    from hloenv.passes import register
    from hloenv.passes.base import PASSES
    with pytest.raises(error, match=message):
        register(_pass_with_rules("test-bad-rule", rule))
    assert "test-bad-rule" not in PASSES


def test_option_types_are_checked_without_postponed_annotations():
    """A pass written without `from __future__ import annotations` has real types as annotations;
    its options went unchecked (`factor=abc` ran with the string)."""
    from hloenv.passes.base import PASSES
    namespace: dict = {}
    exec("from dataclasses import dataclass\n"
         "from hloenv.passes import Pass, register\n"
         "@register\n@dataclass(frozen=True)\n"
         "class Plain(Pass):\n"
         "    name = 'test-plain-options'\n"
         "    factor: int = 2\n"
         "    on: bool = False\n"
         "    def run(self, module, rewriter):\n"
         "        pass\n", namespace)
    try:
        with pytest.raises(TypeError, match="option 'factor' must be int, not 'abc'"):
            parse_pipeline("test-plain-options{factor=abc}")
        with pytest.raises(TypeError, match="option 'on' must be bool, not 1"):
            get_pass("test-plain-options", on=1)
        assert str(parse_pipeline("test-plain-options{factor=3}")) == "test-plain-options{factor=3,on=False}"
    finally:
        PASSES.pop("test-plain-options", None)


def test_an_error_in_a_rule_says_which_rule_and_where():
    from hloenv.passes import register
    from hloenv.passes.base import PASSES

    def boom(inst, rewriter):
        raise KeyError("user bug")
    try:
        register(_pass_with_rules("test-boom", _rule(name="boom", body=boom)()))
        module = parse_hlo("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n  ROOT n = f32[4] negate(p)\n}\n")
        for dry in (False, True):
            with pytest.raises(KeyError, match="user bug") as info:
                get_pass("test-boom")(module.clone(), dry=dry)
            assert info.value.__notes__ == ["in rule 'boom' of pass 'test-boom', at 'n' (negate) in computation 'e'"]
    finally:
        PASSES.pop("test-boom", None)


def test_a_real_rewrite_that_makes_a_cycle_names_the_rule_dry_mode_refuses_it():
    """(real mode said only "cycle through 'e' and 'n'", naming no rule)"""
    from hloenv.passes import register
    from hloenv.passes.base import PASSES

    def to_its_user(inst, rewriter):  # exponential(p) -> the root, which reads it through y: a cycle
        return rewriter.replace(inst, inst.parent.root, "to-user")
    try:
        register(_pass_with_rules("test-cycle", _rule(name="to-user", opcodes=frozenset({"exponential"}),
                                                      body=to_its_user)()))
        text = ("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n  x = f32[4] exponential(p)\n"
                "  y = f32[4] negate(x)\n  ROOT n = f32[4] negate(y)\n}\n")
        with pytest.raises(ValueError, match="cycle through") as info:
            get_pass("test-cycle")(parse_hlo(text))
        assert "the rules that rewrote in 'e': 'to-user' at 'x'" in info.value.__notes__[0]
        result = get_pass("test-cycle")(parse_hlo(text), dry=True)
        assert result.refused == 1 and result.rewrites == 0
    finally:
        PASSES.pop("test-cycle", None)


@pytest.mark.parametrize("name", ["my pass", "a,b", "p*", "x{y}", "fusion ", "9lives", "-x"])
def test_a_pass_name_a_pipeline_string_cannot_hold_is_refused(name):
    """(each was registered; "my pass" then parsed as an unknown pass 'my')"""
    from hloenv.passes import register
    from hloenv.passes.base import PASSES
    with pytest.raises(ValueError, match="cannot be written in a pipeline string"):
        register(_pass_with_rules(name, _rule()()))
    assert name not in PASSES


def test_rules_that_are_not_a_tuple_say_so_with_the_pass():
    from hloenv.passes import register
    from hloenv.passes.base import PASSES
    cls = _pass_with_rules("test-one-rule")
    cls.rules = _rule()()  # (one rule, not a tuple of them: "'Rule' object is not iterable")
    with pytest.raises(TypeError, match=r"pass 'test-one-rule' .*rules are a tuple of rule instances, e.g. "
                                        r"rules = \(Rule\(\),\)"):
        register(cls)
    assert "test-one-rule" not in PASSES


def test_spaces_around_and_inside_an_option_group_are_fine():
    assert str(parse_pipeline(" constant-folding { max_elements = 8 } , dce ")) == \
        str(parse_pipeline("constant-folding{max_elements=8},dce"))


def test_a_parsed_pipeline_says_how_each_group_ran_and_why_it_stopped():
    """A parsed string is an outer pipeline run once: its result said 'ran 1 time(s)' whether its
    '(...)*' group reached a fixed point or its cap (found by a user probe)."""
    r = parse_pipeline("dce,(cse,dce)*,(dce)*2")(parse_hlo(DUPLICATES))
    assert r.stops() == [("pipeline", 1, "ran 1 time(s)"), ("fixed-point", 2, "fixed point"),
                         ("loop", 2, "ran 2 time(s)")]
    capped = parse_pipeline("(cse,dce)*")
    capped.steps[0].max_iterations = 1
    assert capped(parse_hlo(DUPLICATES)).stops()[1] == ("fixed-point", 1, "iteration cap reached before a fixed point")


def test_a_repeat_count_takes_spaces_and_has_a_ceiling():
    assert str(parse_pipeline("(cse , dce ) * 2")) == "(cse,dce)*2"  # ("unexpected ' 2'" before)
    with pytest.raises(ValueError, match="repeat count 99999999999999999999 .* more than 1000; '\\(...\\)\\*' runs"):
        parse_pipeline("(algsimp)*99999999999999999999")
