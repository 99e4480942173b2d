"""tuple-simplifier, call-inliner, reshape-mover, transpose-folding: fire, must-not-fire, dry mode."""

from __future__ import annotations

import pytest

from hloenv import compare, parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, select
from hloenv.passes import get_pass, parse_pipeline


def run(text: str, pipeline: str) -> str:
    m = parse_hlo(text)
    parse_pipeline(pipeline)(m)
    m.verify()
    return m.to_text()


TUPLES = """HloModule m
ENTRY e {
  a = f32[2] parameter(0)
  b = s32[] parameter(1)
  t = (f32[2], s32[]) tuple(a, b)
  g = s32[] get-tuple-element(t), index=1
  x = (f32[2], s32[]) parameter(2)
  x0 = f32[2] get-tuple-element(x), index=0
  x1 = s32[] get-tuple-element(x), index=1
  t2 = (f32[2], s32[]) tuple(x0, x1)
  ROOT r = (s32[], (f32[2], s32[])) tuple(g, t2)
}
"""


def test_tuple_simplifier_fires():
    out = run(TUPLES, "tuple-simplifier,dce")
    assert "ROOT r = (s32[], (f32[2], s32[])) tuple(b, x)" in out


def test_tuple_simplifier_must_not_fire_on_partial_or_reordered_tuples():
    text = TUPLES.replace("t2 = (f32[2], s32[]) tuple(x0, x1)", "t2 = (s32[], f32[2]) tuple(x1, x0)") \
                 .replace("(s32[], (f32[2], s32[])) tuple(g, t2)", "(s32[], (s32[], f32[2])) tuple(g, t2)")
    out = run(text, "tuple-simplifier")
    assert "tuple(x1, x0)" in out


CALLS = """HloModule m
f {
  x = f32[4] parameter(0)
  y = f32[4] parameter(1)
  s = f32[4] add(x, y)
  ROOT n = f32[4] negate(s)
}
ENTRY e {
  p = f32[4] parameter(0)
  q = f32[4] parameter(1)
  c1 = f32[4] call(p, q), to_apply=f
  c2 = f32[4] call(q, q), to_apply=f
  ROOT r = f32[4] multiply(c1, c2)
}
"""


def test_call_inliner_inlines_every_call_and_dce_drops_the_callee():
    out = run(CALLS, "call-inliner,dce")
    assert "call(" not in out and "\nf {" not in out
    assert out.count("negate(") == 2
    assert compare(CALLS, out).equal


def test_call_inliner_dry_mode_offers_inlining_per_call():
    m = parse_hlo(CALLS)
    get_pass("call-inliner")(m, dry=True)
    nodes = alternatives_nodes(m)
    assert len(nodes) == 2
    select(m, [1, 0])
    out = m.to_text()
    assert out.count("call(") == 1 and "\nf {" in out


MOVES = """HloModule m
ENTRY e {
  a = f32[2,4] parameter(0)
  b = f32[2,4] parameter(1)
  ra = f32[8] reshape(a)
  rb = f32[8] reshape(b)
  c = f32[] constant(2)
  bc = f32[8] broadcast(c), dimensions={}
  s = f32[8] add(ra, rb)
  ROOT m = f32[8] multiply(s, bc)
}
"""


def test_reshape_mover_sinks_reshapes_and_rebroadcasts_scalars():
    out = run(MOVES, "(reshape-mover,dce)*")
    assert "add(a, b)" in out
    assert compare(MOVES, out).equal


def test_reshape_mover_must_not_fire_on_mixed_inputs():
    text = MOVES.replace("rb = f32[8] reshape(b)", "rb = f32[8] parameter(2)")
    out = run(text, "reshape-mover")
    assert "add(ra, rb)" in out


DOT = """HloModule m
ENTRY e {
  a = f32[3,4] parameter(0)
  b = f32[3,5] parameter(1)
  t = f32[4,3] transpose(a), dimensions={1,0}
  ROOT d = f32[4,5] dot(t, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""


def test_transpose_folding_folds_into_dot():
    out = run(DOT, "transpose-folding,dce")
    assert "transpose" not in out and "dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}" in out
    assert compare(DOT, out).equal


def test_transpose_folding_leaves_layout_bitcasts_alone():
    text = DOT.replace("a = f32[3,4] parameter(0)", "a = f32[3,4]{1,0} parameter(0)") \
              .replace("t = f32[4,3] transpose(a)", "t = f32[4,3]{0,1} transpose(a)")
    assert "transpose(a)" in run(text, "transpose-folding")


def test_transpose_folding_must_not_fire_when_free_dims_would_reorder():
    text = """HloModule m
ENTRY e {
  a = f32[2,3,4] parameter(0)
  b = f32[4,5] parameter(1)
  t = f32[3,2,4] transpose(a), dimensions={1,0,2}
  ROOT d = f32[3,2,5] dot(t, b), lhs_contracting_dims={2}, rhs_contracting_dims={0}
}
"""
    assert "transpose(a)" in run(text, "transpose-folding")


@pytest.mark.parametrize("text, pipeline", [(CALLS, "call-inliner"), (MOVES, "reshape-mover"),
                                            (DOT, "transpose-folding"), (TUPLES, "tuple-simplifier")])
def test_dry_run_then_all_rewrites_is_sound(text, pipeline):
    m = parse_hlo(text)
    parse_pipeline(pipeline)(m, dry=True)
    n = len(alternatives_nodes(m))
    assert n >= 1
    select(m, [1] * n)
    m.verify()
    assert compare(text, m.to_text()).equal


#: two unused calls of a computation that prints (a side-effecting custom-call inside it)
PRINTING_CALLS = """HloModule printing
printer {
  x = f32[3] parameter(0)
  cc = () custom-call(x), custom_call_target="xla_python_cpu_callback", custom_call_has_side_effect=true
  ROOT r = f32[3] negate(x)
}
ENTRY e {
  p = f32[3] parameter(0)
  c1 = f32[3] call(p), to_apply=printer
  c2 = f32[3] call(p), to_apply=printer
  ROOT out = f32[3] multiply(p, p)
}
"""


def test_dce_and_cse_keep_calls_whose_callee_has_a_side_effect():
    """XLA's HasSideEffect looks into called computations: a while loop or call that prints must
    stay, and two of them are not one. dce removed both unused calls; cse merged them."""
    for passes in ("dce", "cse", "cse,dce"):
        m = parse_hlo(PRINTING_CALLS)
        parse_pipeline(passes)(m)
        assert m.opcode_histogram()["call"] == 2, passes
        m.verify()
    m = parse_hlo(PRINTING_CALLS)
    for name in ("c1", "c2"):  # (a call of a pure computation still goes)
        m.entry.instruction(name).called["to_apply"][0].instruction("cc").attrs["custom_call_has_side_effect"] = "false"
    get_pass("dce")(m)
    assert "call" not in m.opcode_histogram()


NESTED_CALLS = """HloModule nested
inner {
  x = f32[3] parameter(0)
  ROOT n = f32[3] negate(x)
}
mid {
  y = f32[3] parameter(0)
  c = f32[3] call(y), to_apply=inner
  ROOT e = f32[3] exponential(c)
}
ENTRY main {
  p = f32[3] parameter(0)
  a = f32[3] call(p), to_apply=mid
  b = f32[3] call(a), to_apply=mid
  ROOT r = f32[3] add(a, b)
}
"""


def test_dry_call_inliner_gives_every_inlined_decision_its_own_identity():
    """Inlining `mid` (whose own call is already a decision) twice copied that decision's
    alternatives node twice with one id: a {id: choice} history could not tell them apart."""
    from hloenv.altgraph.alternatives import alternative_id, prune
    from hloenv.altgraph.selected import selected_copy
    m = parse_hlo(NESTED_CALLS)
    get_pass("call-inliner")(m, dry=True)
    prune(m)
    nodes = alternatives_nodes(m)
    ids = [alternative_id(n) for n in nodes]
    assert len(nodes) >= 4 and len(set(ids)) == len(ids), ids
    original = parse_hlo(NESTED_CALLS)
    for choices in ([len(n.operands) - 1 for n in nodes], [k % 2 for k in range(len(nodes))]):
        assert compare(original, selected_copy(m, choices)).equal
