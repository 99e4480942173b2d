"""The parser: both syntax eras, every construct, nothing lost."""

from __future__ import annotations

import pytest

from hloenv import HloParseError, parse_hlo

OLD_STYLE = """HloModule jit_f.9

%add_computation.3 (x.4: f32[], y.5: f32[]) -> f32[] {
  %x.4 = f32[] parameter(0)
  %y.5 = f32[] parameter(1)
  ROOT %add.6 = f32[] add(f32[] %x.4, f32[] %y.5)
}

ENTRY %jit_f.9 (parameter.1: f32[2,3], parameter.2: (f32[], s32[])) -> (f32[2]) {
  %parameter.1 = f32[2,3]{1,0} parameter(0)
  %parameter.2 = (f32[], s32[]) parameter(1)
  %get-tuple-element.7 = f32[] get-tuple-element((f32[], s32[]) %parameter.2), index=0
  %reduce.8 = f32[2]{0} reduce(f32[2,3]{1,0} %parameter.1, f32[] %get-tuple-element.7), dimensions={1}, to_apply=%add_computation.3, metadata={op_type="reduce_sum" op_name="jit(f)/reduce_sum[axes=(1,)]"}
  ROOT %tuple.9 = (f32[2]{0}) tuple(f32[2]{0} %reduce.8)
}
"""

NEW_STYLE = """HloModule jit_g, entry_computation_layout={(f32[4]{0})->f32[4]{0}}

ENTRY main.7 {
  Arg_0.1 = f32[4]{0} parameter(0)
  constant.2 = f32[4]{0} constant({1, 2.5, -3, 4e-05})
  add.3 = f32[4]{0} add(Arg_0.1, constant.2), metadata={op_name="jit(g)/add" source_file="/x.py" source_line=3}
  ROOT multiply.4 = f32[4]{0} multiply(add.3, add.3)
}
"""


def test_old_style_module_structure():
    m = parse_hlo(OLD_STYLE)
    assert m.name == "jit_f.9" and m.entry.name == "jit_f.9"
    assert [c.name for c in m.computations] == ["add_computation.3", "jit_f.9"]
    reduce = m.entry.instruction("reduce.8")
    assert reduce.opcode == "reduce" and reduce.shape.to_text() == "f32[2]{0}"
    assert [op.name for op in reduce.operands] == ["parameter.1", "get-tuple-element.7"]
    assert reduce.called == {"to_apply": [m.computation("add_computation.3")]}
    assert reduce.attrs["dimensions"] == "{1}"
    assert reduce.attrs["metadata"].startswith('{op_type="reduce_sum"')
    assert m.entry.root.name == "tuple.9" and m.entry.root.shape.is_tuple
    assert [p.name for p in m.entry.parameters] == ["parameter.1", "parameter.2"]
    assert m.entry.instruction("parameter.1").users == [reduce]
    assert m.call_graph() == {"add_computation.3": [], "jit_f.9": ["add_computation.3"]}


def test_new_style_module_keeps_header_attributes_and_literals():
    m = parse_hlo(NEW_STYLE)
    assert m.attrs == {"entry_computation_layout": "{(f32[4]{0})->f32[4]{0}}"}
    assert m.entry.instruction("constant.2").payload == "{1, 2.5, -3, 4e-05}"
    mul = m.entry.root
    assert [op.name for op in mul.operands] == ["add.3", "add.3"]  # duplicates kept in order
    assert m.entry.instruction("add.3").users == [mul]  # ...but a user is listed once


def test_unmodeled_attributes_are_kept_verbatim():
    text = """HloModule m
ENTRY e {
  p = f32[8,8]{1,0} parameter(0), sharding={devices=[2,1]0,1}
  c = (f32[8,8]{1,0}, s8[16]{0}) custom-call(p), custom_call_target="foo", api_version=API_VERSION_STATUS_RETURNING, backend_config="\\001\\000\\\"x\\\"", frontend_attributes={_xla_x="a,b", y={"nested": {"deep": [1, {"k": 2}]}}}
  ROOT g = f32[8,8]{1,0} get-tuple-element(c), index=0
}
"""
    m = parse_hlo(text)
    c = m.entry.instruction("c")
    assert c.attrs["custom_call_target"] == '"foo"'
    assert c.attrs["backend_config"] == '"\\001\\000\\"x\\""'
    assert c.attrs["frontend_attributes"] == '{_xla_x="a,b", y={"nested": {"deep": [1, {"k": 2}]}}}'
    assert m.entry.instruction("p").attrs == {"sharding": "{devices=[2,1]0,1}"}
    assert parse_hlo(m.to_text()).to_text() == m.to_text()


def test_forward_references_are_resolved_and_reordered():
    text = """HloModule m
ENTRY e {
  ROOT r = f32[2] add(a, b)
  a = f32[2] negate(b)
  b = f32[2] parameter(0)
}
"""
    m = parse_hlo(text)
    assert [i.name for i in m.entry.instructions] == ["b", "a", "r"]
    assert m.entry.root.name == "r"


def test_statement_spread_over_lines():
    text = "HloModule m\nENTRY e {\n  ROOT c = f32[2,2] constant({\n    {1, 2},\n    {3, 4}\n  })\n}\n"
    m = parse_hlo(text)
    assert m.entry.root.opcode == "constant" and "3, 4" in m.entry.root.payload


def test_control_predecessors_and_calls():
    text = """HloModule m
body {
  p = (s32[], f32[]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  one = s32[] constant(1)
  n = s32[] add(i, one)
  x = f32[] get-tuple-element(p), index=1
  ROOT t = (s32[], f32[]) tuple(n, x)
}
cond {
  p = (s32[], f32[]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  ten = s32[] constant(10)
  ROOT lt = pred[] compare(i, ten), direction=LT
}
ENTRY e {
  a = f32[] parameter(0)
  zero = s32[] constant(0)
  t = (s32[], f32[]) tuple(zero, a), control-predecessors={a}
  ROOT w = (s32[], f32[]) while(t), condition=cond, body=body
}
"""
    m = parse_hlo(text)
    w = m.entry.root
    assert [c.name for c in w.called_computations] == ["cond", "body"]
    assert m.entry.instruction("t").control_predecessors == [m.entry.instruction("a")]
    out = m.to_text()
    assert "control-predecessors={a}" in out and "condition=cond, body=body" in out
    # per-computation names may repeat across computations (p, i)
    assert m.computation("body").instruction("p") is not m.computation("cond").instruction("p")


def test_entry_is_last_computation_without_entry_keyword():
    m = parse_hlo("HloModule m\nf {\n  ROOT p = f32[] parameter(0)\n}\ng {\n  ROOT q = f32[] parameter(0)\n}\n")
    assert m.entry.name == "g" and m.entry.is_entry


def test_root_defaults_to_last_instruction():
    m = parse_hlo("HloModule m\nENTRY e {\n  p = f32[] parameter(0)\n  n = f32[] negate(p)\n}\n")
    assert m.entry.root.name == "n"


def test_elided_constants_are_rejected_unless_allowed():
    text = "HloModule m\nENTRY e {\n  ROOT c = f32[100] constant({...})\n}\n"
    with pytest.raises(HloParseError, match="elided") as err:
        parse_hlo(text)
    assert err.value.line == 3
    m = parse_hlo(text, allow_elided=True)
    assert m.has_elided_constants


def test_bytes_input_and_source_name_in_errors():
    m = parse_hlo(NEW_STYLE.encode())
    assert m.entry.root.name == "multiply.4"
    with pytest.raises(HloParseError, match=r"^model\.hlo: line 3, col 1: unexpected end of input"):
        parse_hlo("HloModule m\nENTRY e {\n", "model.hlo")


def test_dynamic_shapes_tokens_and_comments():
    text = """HloModule m
// a comment line
ENTRY e {
  p = f32[<=8]{0} parameter(0)
  t = token[] after-all()
  s = s32[] get-dimension-size(p), dimensions={0}
  ROOT r = (f32[<=8]{0}, token[], s32[]) tuple(p, t, s)
}
"""
    m = parse_hlo(text)
    assert m.entry.instruction("p").shape.dynamic == (True,)
    assert m.entry.instruction("t").shape.is_token and m.entry.instruction("t").operands == []


DUMP_WITH_STACK_TABLES = """HloModule jit_f, entry_computation_layout={(f32[4]{0})->f32[4]{0}}

FileNames
1 "/tmp/x.py"

FunctionNames
1 "f"

FileLocations
1 {file_name_id=1 function_name_id=1 line=3 end_line=3 column=9 end_column=20}

StackFrames
1 {file_location_id=1 parent_frame_id=1}

ENTRY main.4 {
  x = f32[4]{0} parameter(0), metadata={op_name="x" stack_frame_id=1}
  ROOT y = f32[4]{0} negate(x), metadata={op_name="jit(f)/neg" stack_frame_id=1}
}
"""


def test_jaxlib_dump_stack_frame_tables_are_skipped_and_lines_still_point_right():
    module = parse_hlo(DUMP_WITH_STACK_TABLES)
    assert module.entry.root.opcode == "negate"
    assert "stack_frame_id" not in module.to_text() and "FileNames" not in module.to_text()
    with pytest.raises(HloParseError, match=r"line 17, col \d+: unknown opcode 'negat'"):
        parse_hlo(DUMP_WITH_STACK_TABLES.replace("negate(x)", "negat(x)"))


COMMENTED = """HloModule m  // what XLA's parser skips
/* a block
   over lines */
ENTRY e {
  p = f32[4] parameter(0), metadata={op_name="a//b" source_file="x/*y"}  // a line comment
  q = f32[4] parameter(1)
  s = f32[4] add(p,q)
  t = f32[4] multiply( /*lhs*/ s , q )
  ROOT r = f32[4,2] broadcast(t), /* why */ dimensions={0}
}
"""


def test_comments_and_spacing_xla_accepts_are_accepted():
    """Each was a parse error (XLA's parser skips comments, and takes `add(p,q)`); strings keep
    their // and /*, and errors after a comment still point at their line and column."""
    from jaxlib import _hlo as xla_hlo
    xla_hlo.hlo_module_from_text(COMMENTED)  # (XLA takes it)
    m = parse_hlo(COMMENTED)
    m.verify()
    entry = m.entry
    assert [o.name for o in entry.instruction("s").operands] == ["p", "q"]
    assert [o.name for o in entry.instruction("t").operands] == ["s", "q"]
    assert entry.instruction("p").attrs["metadata"] == '{op_name="a//b" source_file="x/*y"}'
    assert entry.root.attrs["dimensions"] == "{0}"
    with pytest.raises(HloParseError) as info:
        parse_hlo(COMMENTED.replace("ROOT r = f32[4,2] broadcast", "ROOT r = f32[4,2] frobnicate"))
    assert info.value.line == 9 and "unknown opcode 'frobnicate'" in str(info.value)


def test_a_comment_leaves_the_printers_own_marks_and_the_fingerprint_alone():
    """Blanking every /* */ also blanked XLA's `/*i0=0*/` marks inside literals, which changed
    the constant's text, and so the fingerprint a saved episode or a cache entry knows it by."""
    marked = ("HloModule m\nENTRY e {\n  c = f32[2,1] constant({ /*i0=0*/ {1}, /*i0=1*/ {2} })\n"
              "  ROOT r = f32[2,1] negate(c)\n}\n")
    commented = marked.replace("ENTRY e {", "ENTRY e {  // a note")
    plain, noted = parse_hlo(marked), parse_hlo(commented)
    assert noted.entry.instruction("c").payload == plain.entry.instruction("c").payload
    assert "/*i0=1*/" in noted.to_text() and noted.fingerprint() == plain.fingerprint()
