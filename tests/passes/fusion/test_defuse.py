"""defuse and same_program_unfused: the exact check of fusion decisions."""

from __future__ import annotations

import random

import pytest

from hloenv import parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, select
from hloenv.passes import get_pass
from hloenv.passes.fusion.defuse import same_program_unfused, unfused_fingerprint

CHAIN = """HloModule m

ENTRY e {
  p = f32[8,16]{1,0} parameter(0)
  q = f32[8,16]{1,0} parameter(1)
  e = f32[8,16]{1,0} exponential(p)
  n = f32[8,16]{1,0} negate(e)
  a = f32[8,16]{1,0} add(n, q)
  m = f32[8,16]{1,0} multiply(n, e)
  ROOT t = (f32[8,16]{1,0}, f32[8,16]{1,0}) tuple(a, m)
}
"""

NESTED = """HloModule m

inner {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}

outer {
  y = f32[4] parameter(0)
  f = f32[4] fusion(y), kind=kLoop, calls=inner
  ROOT e = f32[4] exponential(f)
}

ENTRY e {
  p = f32[4] parameter(0)
  ROOT r = f32[4] fusion(p), kind=kLoop, calls=outer
}
"""

PLAIN = """HloModule m

ENTRY e {
  p = f32[4] parameter(0)
  n = f32[4] negate(p)
  ROOT e = f32[4] exponential(n)
}
"""

MULTI_OUTPUT = """HloModule m

both {
  x = f32[4] parameter(0)
  n = f32[4] negate(x)
  e = f32[4] exponential(x)
  ROOT t = (f32[4], f32[4]) tuple(n, e)
}

ENTRY e {
  p = f32[4] parameter(0)
  f = (f32[4], f32[4]) fusion(p), kind=kLoop, calls=both
  a = f32[4] get-tuple-element(f), index=0
  b = f32[4] get-tuple-element(f), index=1
  ROOT s = f32[4] add(a, b)
}
"""

MULTI_OUTPUT_PLAIN = """HloModule m

ENTRY e {
  p = f32[4] parameter(0)
  n = f32[4] negate(p)
  e = f32[4] exponential(p)
  ROOT s = f32[4] add(n, e)
}
"""


def test_defuse_inlines_nested_fusions():
    m = parse_hlo(NESTED)
    get_pass("defuse")(m)
    get_pass("dce")(m)
    assert [i.opcode for i in m.entry.instructions] == ["parameter", "negate", "exponential"]
    assert len(m.computations) == 1
    assert m.fingerprint() == parse_hlo(PLAIN).fingerprint()


def test_multi_output_fusion_defuses_to_its_members():
    assert same_program_unfused(parse_hlo(MULTI_OUTPUT), parse_hlo(MULTI_OUTPUT_PLAIN))


def test_every_fusion_choice_is_the_program_it_came_from():
    base = parse_hlo(CHAIN)
    dry = base.clone()
    get_pass("fusion")(dry, dry=True)
    nodes = alternatives_nodes(dry)
    assert nodes
    rng = random.Random(0)
    vectors = [[0] * len(nodes), [len(n.operands) - 1 for n in nodes]]
    vectors += [[rng.randrange(len(n.operands)) for n in nodes] for _ in range(4)]
    for choice in vectors:
        chosen = dry.clone()
        select(chosen, choice)
        assert same_program_unfused(base, chosen), choice
    # a producer duplicated into both consumers: merged again by cse
    fused = base.clone()
    get_pass("fusion")(fused)
    assert any(i.opcode == "fusion" for i in fused.entry.instructions)
    assert same_program_unfused(base, fused)


@pytest.mark.parametrize("change", [("negate(x)", "abs(x)"), ("negate(x)", "negate(x), metadata={op_name=\"n\"}")])
def test_a_changed_body_is_caught_and_metadata_is_not(change):
    old, new = change
    changed = parse_hlo(MULTI_OUTPUT.replace(old, new))
    assert same_program_unfused(parse_hlo(MULTI_OUTPUT_PLAIN), changed) is ("metadata" in new)


def test_operand_order_and_layouts():
    swapped = parse_hlo(MULTI_OUTPUT.replace("add(a, b)", "add(b, a)"))
    assert not same_program_unfused(parse_hlo(MULTI_OUTPUT_PLAIN), swapped)
    with_layouts = parse_hlo(PLAIN.replace("f32[4] ", "f32[4]{0} "))
    assert unfused_fingerprint(with_layouts) == unfused_fingerprint(parse_hlo(PLAIN))


def test_judges_pipelines_that_only_group_and_merge():
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE, EnvPipeline
    from hloenv.passes.fusion.defuse import judges
    assert judges(DEFAULT_ENV_PIPELINE)
    assert judges(EnvPipeline(decisions=("fusion", "multi-output-fusion", "fusion-merger")))
    assert not judges(EnvPipeline(decisions=("fusion", "algsimp")))
    assert not judges(EnvPipeline(cleanup="tuple-simplifier,(algsimp,cse)*,dce"))


def test_defuse_removes_the_bodies_it_inlined_so_fusing_again_does_not_grow_the_module():
    """The bodies stayed, uncalled; the next fusion fused inside them, so (fusion,defuse)* doubled
    the module every round and ran for ever (found by a user probe)."""
    from hloenv import load_hlo
    from hloenv.passes import parse_pipeline
    from tests.conftest import DATA
    module = load_hlo(DATA / "mlp_train_step.hlo")
    computations = len(module.computations)
    fused = module.clone()
    get_pass("fusion")(fused)
    assert len(fused.computations) > computations  # (what the test is about: fusions made)
    sizes = []
    for _ in range(3):
        parse_pipeline("fusion,defuse")(module)
        sizes.append((len(module.computations), module.instruction_count))
    assert sizes[0] == sizes[1] == sizes[2] and sizes[0][0] == computations
    r = parse_pipeline("(fusion,defuse)*")(module)  # (each round changes it: no fixed point, but no growth)
    assert r.stops()[1][1:] == (25, "iteration cap reached before a fixed point")
    assert (len(module.computations), module.instruction_count) == sizes[0]
