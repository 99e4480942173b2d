"""Fusion decisions lowered to regions fenced by opt-barriers (what XLA is handed)."""

from __future__ import annotations

from hloenv.altgraph import parse_hlo
from hloenv.altgraph.lowering import has_fusions, lower_fusions

FUSED = """HloModule m
add_f32 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
inner {
  x = f32[8] parameter(0)
  ROOT n = f32[8] negate(x)
}
outer {
  p0 = f32[8] parameter(0)
  p1 = f32[8] parameter(1)
  e = f32[8] exponential(p0)
  f = f32[8] fusion(e), kind=kLoop, calls=inner
  ROOT m = f32[8] multiply(f, p1)
}
ENTRY e {
  p = f32[8] parameter(0)
  q = f32[8] parameter(1)
  t = f32[8] tanh(p)
  fu = f32[8] fusion(t, q), kind=kLoop, calls=outer
  z = f32[] constant(0)
  ROOT r = f32[] reduce(fu, z), dimensions={0}, to_apply=add_f32
}
"""


def _by_opcode(module, opcode):
    return [i for i in module.instructions() if i.opcode == opcode]


def test_fusions_are_inlined_nested_ones_too_and_their_computations_dropped():
    low = lower_fusions(parse_hlo(FUSED))
    assert not has_fusions(low)
    assert sorted(c.name for c in low.computations) == ["add_f32", "e"]
    assert sorted(i.opcode for i in low.entry.instructions if i.opcode in
                  ("exponential", "negate", "multiply")) == ["exponential", "multiply", "negate"]
    low.verify()
    parse_hlo(low.to_text()).verify()  # prints and parses back


def test_barriers_sit_exactly_on_edges_between_regions():
    low = lower_fusions(parse_hlo(FUSED))
    fenced_producers = sorted(b.operands[0].operands[0].opcode for b in _by_opcode(low, "opt-barrier"))
    # tanh -> region (crosses), region root multiply -> reduce (crosses); the scalar constant ->
    # reduce crosses too but scalars are never fenced. Inside the region (exp -> negate ->
    # multiply) nothing is fenced.
    assert fenced_producers == ["multiply", "tanh"]
    reducer = low.computation("add_f32")
    assert not any(i.opcode == "opt-barrier" for i in reducer.instructions)


def test_original_module_is_untouched_and_unfused_modules_lower_to_themselves():
    mod = parse_hlo(FUSED)
    before = mod.to_text()
    lower_fusions(mod)
    assert mod.to_text() == before
    plain = parse_hlo("HloModule p\nENTRY e {\n  x = f32[4] parameter(0)\n  ROOT y = f32[4] negate(x)\n}\n")
    low = lower_fusions(plain)
    assert not _by_opcode(low, "opt-barrier") and low.fingerprint() == plain.fingerprint()


WHILE = """HloModule w
fused_add {
  x = s32[] parameter(0)
  y = s32[] parameter(1)
  ROOT s = s32[] add(x, y)
}
fused_exp {
  x = f32[4] parameter(0)
  ROOT e = f32[4] exponential(x)
}
body {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  x = f32[4] get-tuple-element(s), index=1
  one = s32[] constant(1)
  f = s32[] fusion(i, one), kind=kLoop, calls=fused_add
  j = s32[] multiply(f, one)
  g = f32[4] fusion(x), kind=kLoop, calls=fused_exp
  y = f32[4] negate(g)
  ROOT t = (s32[], f32[4]) tuple(j, y)
}
cond {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}
ENTRY e {
  p = f32[4] parameter(0)
  z = s32[] constant(0)
  t = (s32[], f32[4]) tuple(z, p)
  w = (s32[], f32[4]) while(t), condition=cond, body=body
  ROOT r = f32[4] get-tuple-element(w), index=1
}
"""


def test_fusions_inside_while_bodies_are_lowered():
    low = lower_fusions(parse_hlo(WHILE))
    assert not has_fusions(low)
    assert not {"fused_add", "fused_exp"} & {c.name for c in low.computations}
    assert any(i.opcode == "exponential" for i in low.computation("body").instructions)
    low.verify()


DOTS = """HloModule d
ENTRY e {
  a = f32[8,16] parameter(0)
  b = f32[16,8] parameter(1)
  v = f32[16] parameter(2)
  w = f32[8] parameter(3)
  s = f32[8,8] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  x = f32[8,8] exponential(s)
  mv = f32[8] dot(a, v), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  y = f32[8] add(mv, w)
  ROOT t = (f32[8,8], f32[8]) tuple(x, y)
}
"""


def test_edges_out_of_a_dot_other_than_a_matrix_vector_one_are_left_open():
    """A matrix-matrix dot into its consumer: no decision can fuse it (XLA's loop fusion never
    does), and XLA's simplifier rewrites a dot's form across the edge: no barrier. A
    matrix-vector dot into an add is a decision (XLA's output fusion): fenced when not taken."""
    from hloenv.altgraph.lowering import is_matrix_vector_dot
    plain = parse_hlo(DOTS)
    assert not is_matrix_vector_dot(plain.entry.instruction("s")) and is_matrix_vector_dot(plain.entry.instruction("mv"))
    text = DOTS.replace("  ROOT t =", "  one = f32[] constant(1)\n  c = f32[8] broadcast(one), dimensions={}\n"
                        "  f = f32[8] fusion(y, c), kind=kLoop, calls=fm\n  ROOT t =").replace(
        "(x, y)", "(x, f)").replace("ENTRY e {", "fm {\n  p = f32[8] parameter(0)\n  q = f32[8] parameter(1)\n"
                                    "  ROOT m = f32[8] multiply(p, q)\n}\n\nENTRY e {")
    low = lower_fusions(parse_hlo(text))
    fenced = sorted(b.operands[0].operands[0].name for b in _by_opcode(low, "opt-barrier"))
    assert "s" not in fenced and "mv" in fenced
    assert low.entry.instruction("x").operands[0].name == "s"
    low.verify()


def test_scalars_are_never_fenced():
    """XLA's CPU backend cannot compile a scalar opt-barrier inside a while loop (it failed with
    "Unhandled opcode for elemental IR emission: opt-barrier"); a vector one it can."""
    module = parse_hlo(WHILE)
    low = lower_fusions(module)
    fenced = [b.operands[0].operands[0] for b in _by_opcode(low, "opt-barrier")]
    assert [i.opcode for i in fenced] == ["exponential"]  # (the scalar add and constant: open)
    from hloenv.xla import evaluate
    assert evaluate(module, pipeline="env", cache=False, repeats=1).median > 0
