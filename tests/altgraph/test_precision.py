"""promote_floats: the f64 oracle for telling a wrong rewrite from amplified rounding."""

from __future__ import annotations

from hloenv.altgraph import parse_hlo
from hloenv.altgraph.precision import needs_promotion, promote_floats

MIXED = """HloModule m, entry_computation_layout={(f32[8]{0}, u32[8]{0})->(f32[8]{0}, f32[8]{0})}
add_f32 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  p = f32[8] parameter(0)
  q = u32[8] parameter(1)
  e = f32[8] exponential(p)
  b = u32[8] bitcast-convert(e)
  x = u32[8] xor(b, q)
  f = f32[8] bitcast-convert(x)
  z = f32[] constant(0)
  r = f32[] reduce(e, z), dimensions={0}, to_apply=add_f32
  br = f32[8] broadcast(r), dimensions={}
  ROOT t = (f32[8], f32[8]) tuple(f, br)
}
"""


def _inst(module, name):
    return module.entry.instruction(name)


def test_floats_become_f64_everywhere_and_inputs_keep_their_types():
    up = promote_floats(parse_hlo(MIXED))
    up.verify()
    assert _inst(up, "p").shape.dtype == "f32" and _inst(up, "q").shape.dtype == "u32"
    assert _inst(up, "e").shape.dtype == "f64"
    assert all(i.shape.dtype == "f64" for i in up.computation("add_f32").instructions)
    assert [s.dtype for s in up.entry.root.shape.tuple_shapes] == ["f64", "f64"]
    assert "entry_computation_layout" not in up.attrs
    assert needs_promotion(parse_hlo(MIXED))
    ints = parse_hlo("HloModule i\nENTRY e {\n  x = s32[4] parameter(0)\n  ROOT y = s32[4] negate(x)\n}\n")
    assert not needs_promotion(ints)


def test_bit_width_dependent_instructions_keep_their_types_behind_converts():
    up = promote_floats(parse_hlo(MIXED))
    to_bits, from_bits = _inst(up, "b"), _inst(up, "f")
    assert to_bits.operands[0].opcode == "convert" and to_bits.operands[0].shape.dtype == "f32"
    assert from_bits.shape.dtype == "f32"
    assert [u.opcode for u in from_bits.users] == ["convert"]
    parse_hlo(up.to_text()).verify()


def test_lapack_calls_switch_to_their_double_variant():
    text = """HloModule l
ENTRY e {
  a = f32[4,4] parameter(0)
  ROOT c = (f32[4,4]{0,1}, s32[]) custom-call(a), custom_call_target="lapack_spotrf_ffi", operand_layout_constraints={f32[4,4]{0,1}}, api_version=API_VERSION_TYPED_FFI, backend_config={uplo = 76 : ui8}
}
"""
    call = promote_floats(parse_hlo(text)).entry.instruction("c")
    assert call.attr("custom_call_target") == '"lapack_dpotrf_ffi"'
    assert call.attr("operand_layout_constraints") == "{f64[4,4]{0,1}}"
    assert [s.dtype for s in call.shape.tuple_shapes] == ["f64", "s32"]
    assert call.operands[0].opcode == "convert"  # the parameter, raised
