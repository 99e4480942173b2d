"""Malformed input: always a typed error that says where, never a crash, hang or IndexError."""

from __future__ import annotations

import time

import pytest

from hloenv import HloParseError, HloVerifyError, load_hlo, parse_hlo

GOOD = """HloModule m
ENTRY e {
  p = f32[4]{0} parameter(0)
  q = f32[4]{0} parameter(1)
  s = f32[4]{0} add(p, q)
  ROOT n = f32[4]{0} negate(s)
}
"""


def _error(text, **kw) -> HloParseError:
    with pytest.raises(HloParseError) as err:
        parse_hlo(text, **kw)
    assert isinstance(err.value, ValueError)
    return err.value


@pytest.mark.parametrize("cut", [20, 40, 60, 75, len(GOOD) - 3])
def test_truncated_files(cut):
    err = _error(GOOD[:cut])
    assert err.line >= 1


def test_truncated_mid_computation_names_the_opening_line():
    err = _error(GOOD.rsplit("}", 1)[0])
    assert "not closed" in err.reason and "opened at line 2" in err.reason


def test_unknown_opcode_with_suggestion():
    err = _error(GOOD.replace("negate(s)", "negat(s)"))
    assert (err.line, err.column) == (6, 22)
    assert "unknown opcode 'negat'" in err.reason and "negate" in err.reason


def test_undefined_operand():
    err = _error(GOOD.replace("add(p, q)", "add(p, qq)"))
    assert err.line == 5 and "'qq'" in err.reason and err.column == GOOD.splitlines()[4].find("q)") + 1


def test_undefined_called_computation():
    text = GOOD.replace("negate(s)", "map(s), dimensions={0}, to_apply=nowhere")
    err = _error(text)
    assert err.line == 6 and "nowhere" in err.reason


def test_duplicate_names():
    err = _error(GOOD.replace("s = f32[4]{0} add", "q = f32[4]{0} add").replace("negate(s)", "negate(q)"))
    assert err.line == 5 and "duplicate instruction name 'q'" in err.reason and "line 4" in err.reason
    err = _error("HloModule m\nf {\n  ROOT p = f32[] parameter(0)\n}\nf {\n  ROOT p = f32[] parameter(0)\n}\n")
    assert err.line == 5 and "duplicate computation" in err.reason


def test_cycles():
    text = GOOD.replace("add(p, q)", "add(p, n)")
    err = _error(text)
    assert "cycle" in err.reason and err.line in (5, 6)


def test_self_cycle():
    err = _error("HloModule m\nENTRY e {\n  ROOT a = f32[] negate(a)\n}\n")
    assert "cycle" in err.reason and err.line == 3


def test_empty_and_blank_files():
    assert "empty" in _error("").reason
    assert "empty" in _error("\n\n   \n").reason
    assert "no computations" in _error("HloModule m\n").reason


def test_not_hlo_at_all():
    err = _error("def f(x):\n    return x\n")
    assert err.line == 1 and "HloModule" in err.reason


def test_stablehlo_text_says_how_to_get_hlo_text():
    err = _error('module @jit_f attributes {mhlo.num_partitions = 1 : i32} {\n  func.func public @main() {\n  }\n}\n')
    assert err.line == 1 and "this is MLIR (StableHLO) text" in err.reason and "dialect='hlo'" in err.reason
    assert "MLIR" not in _error("hello world").reason


@pytest.mark.parametrize("blob", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00", b"HloModule m\x00\x01\x02"])
def test_binary_garbage(blob):
    err = _error(blob)
    assert "binary" in err.reason or "UTF-8" in err.reason


def test_windows_line_ends_and_a_byte_order_mark_are_read(tmp_path):
    text = "HloModule m\nENTRY e {\n  p = f32[8] parameter(0)\n  ROOT n = f32[8] negate(p)\n}\n"
    path = tmp_path / "windows.hlo"
    path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))
    assert load_hlo(path).to_text() == parse_hlo(text).to_text()
    err = _error("HloModule m\r\nENTRY e {\r\n  ROOT n = f32[8] negate(q)\r\n}\r\n")
    assert (err.line, err.column) == (3, 26) and "'q'" in err.reason  # (positions as without the \r)


def test_binary_file_through_load(tmp_path):
    path = tmp_path / "model.hlo"
    path.write_bytes(b"\x00\xff" * 1000)
    with pytest.raises(HloParseError, match="model.hlo"):
        load_hlo(path)


def test_invalid_proto_file(tmp_path):
    path = tmp_path / "model.pb"
    path.write_bytes(b"not a proto at all")
    with pytest.raises(HloParseError, match="HloModuleProto"):
        load_hlo(path)


def test_hundred_megabyte_line_fails_fast():
    line = "  x = f32[4] add(" + "a" * 100_000_000
    t0 = time.perf_counter()
    err = _error("HloModule m\nENTRY e {\n" + line + "\n}\n")
    assert time.perf_counter() - t0 < 30
    assert err.line == 3


def test_hundred_megabyte_garbage_line_fails_fast():
    t0 = time.perf_counter()
    err = _error("HloModule m\nENTRY e {\n" + "{[(" * 33_000_000 + "\n}\n")
    assert time.perf_counter() - t0 < 30
    assert err.line == 3


@pytest.mark.parametrize("depth", [65, 5000, 200_000])  # (200k: past the C stack of compiled code)
def test_deeply_nested_tuple_shape_is_an_error_not_a_crash(depth):
    shape = "(" * depth + "f32[]" + ")" * depth
    err = _error(f"HloModule m\nENTRY e {{\n  ROOT p = {shape} parameter(0)\n}}\n")
    assert err.line in (0, 3) and "nested more than 64 deep" in err.reason


def test_tuple_shapes_nest_up_to_the_limit():
    shape = "(" * 64 + "f32[]" + ")" * 64
    module = parse_hlo(f"HloModule m\nENTRY e {{\n  ROOT p = {shape} parameter(0)\n}}\n")
    assert parse_hlo(module.to_text()).to_text() == module.to_text()


def _call_chain(length: int) -> str:
    """A module whose entry calls c<length-1>, which calls c<length-2>, ... down to c0."""
    comps = ["c0 {\n  ROOT p = f32[] parameter(0)\n}\n"]
    comps += [f"c{k} {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c{k - 1}\n}}\n"
              for k in range(1, length)]
    return ("HloModule m\n" + "".join(comps)
            + f"ENTRY e {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c{length - 1}\n}}\n")


@pytest.mark.parametrize("length", [256, 100_000])
def test_calls_nested_too_deep_are_an_error_not_a_crash(length):
    err = _error(_call_chain(length))
    assert "nested more than 256 deep" in err.reason and err.line > 0


def test_calls_nest_up_to_the_limit():
    module = parse_hlo(_call_chain(255))  # the entry and 255 computations below it
    assert len(module.computations) == 256 and module.clone().to_text() == module.to_text()


def test_a_computation_calling_itself_is_an_error():
    err = _error("HloModule m\nc {\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=d\n}\n"
                 "d {\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c\n}\n"
                 "ENTRY e {\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c\n}\n")
    assert "must not cycle" in err.reason and err.line in (4, 8)


@pytest.mark.parametrize("bad, where", [
    ("p = f32[4]{0} parameter(x)", "parameter number"),
    ("p = f33[4]{0} parameter(0)", "element type"),
    ("p = f32[4]{0} parameter(0), sharding", "attribute"),
    ("p = f32[4]{0} parameter(0), a=1, a=2", "twice"),
    ("p f32[4]{0} parameter(0)", "instruction"),
    ("p = f32[4]{0} parameter(0", "missing ')'"),
])
def test_malformed_instruction_lines(bad, where):
    err = _error(GOOD.replace("p = f32[4]{0} parameter(0)", bad))
    assert err.line == 3 and where in err.reason


def test_two_roots_and_two_entries():
    assert "second ROOT" in _error(GOOD.replace("  s = f32", "  ROOT s = f32")).reason
    text = "HloModule m\nENTRY a {\n  ROOT p = f32[] parameter(0)\n}\nENTRY b {\n  ROOT p = f32[] parameter(0)\n}\n"
    assert "second ENTRY" in _error(text).reason


def test_wrong_operand_count_is_a_verify_error():
    with pytest.raises(HloVerifyError) as err:
        parse_hlo(GOOD.replace("negate(s)", "negate(s, p)")).verify()
    assert err.value.line == 6


def test_shape_mismatch_is_a_verify_error():
    with pytest.raises(HloVerifyError) as err:
        parse_hlo(GOOD.replace("ROOT n = f32[4]{0}", "ROOT n = f32[8]{0}")).verify()
    assert err.value.line == 6


def test_load_hlo_given_hlo_text_points_to_parse_hlo():
    import pytest

    from hloenv.altgraph import load_hlo
    with pytest.raises(FileNotFoundError, match=r"this is HLO text \('HloModule m"):
        load_hlo("HloModule m\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n")
    with pytest.raises(FileNotFoundError, match="use hloenv.parse_hlo"):
        load_hlo("  HloModule m ...")


def test_a_dimension_past_int64_is_a_parse_error_as_in_xla():
    """XLA's parser refuses it ("expects integer"); ours took it, and the observation overflowed
    (found by a user probe)."""
    text = "HloModule m\nENTRY e {\n  p = f32[99999999999999999999] parameter(0)\n  ROOT n = f32[99999999999999999999] negate(p)\n}\n"
    with pytest.raises(HloParseError, match=r"line 3.*larger than XLA's largest, 9223372036854775807"):
        parse_hlo(text)
    parse_hlo(text.replace("99999999999999999999", "9223372036854775807"))  # (the largest: parsed)
