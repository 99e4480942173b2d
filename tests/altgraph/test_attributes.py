"""Typed attribute accessors: well-formed text parses into values, malformed text is an error."""

from __future__ import annotations

import pytest

import hloenv
from hloenv.altgraph import attributes as A
from hloenv.altgraph.errors import HloVerifyError


def _inst(attrs: str, opcode: str = "add", shape: str = "f32[2]"):
    """An instruction on line 4 of a tiny module, carrying the given attribute text."""
    text = ("HloModule m\n\nENTRY e {\n"
            f"  ROOT r = {shape} {opcode}(), {attrs}\n"
            "}\n")
    return hloenv.parse_hlo(text).entry.root


def _raises(fn, inst, match: str) -> None:
    with pytest.raises(HloVerifyError, match=match) as info:
        fn(inst)
    assert info.value.line == 4
    assert repr(inst.name) in str(info.value)


def test_int_list() -> None:
    assert A.int_list(_inst("dimensions={0,1}")) == (0, 1)
    assert A.int_list(_inst("dimensions={}")) == ()
    assert A.int_list(_inst("lhs_batch_dims={2}"), "lhs_batch_dims") == (2,)
    assert A.int_list(_inst("index=0"), "dimensions", ()) == ()


def test_int_list_malformed_and_missing() -> None:
    _raises(A.int_list, _inst("dimensions={0,a}"), "integer")
    _raises(A.int_list, _inst("dimensions=0"), "integer list")
    _raises(A.int_list, _inst("index=0"), "missing attribute 'dimensions'")


def test_int_attr() -> None:
    assert A.int_attr(_inst("index=3"), "index") == 3
    assert A.int_attr(_inst("index=0"), "feature_group_count", 1) == 1
    _raises(lambda i: A.int_attr(i, "index"), _inst("index=x"), "integer")


def test_slice_spec() -> None:
    assert A.slice_spec(_inst("slice={[0:2], [1:3:1]}")) == (A.SliceDim(0, 2, 1), A.SliceDim(1, 3, 1))
    assert A.slice_spec(_inst("slice={[4:10:3]}")) == (A.SliceDim(4, 10, 3),)
    assert A.slice_spec(_inst("slice={}")) == ()
    _raises(A.slice_spec, _inst("slice={[0:2:1:4]}"), "start:limit")
    _raises(A.slice_spec, _inst("slice={0:2}"), "start:limit")
    _raises(A.slice_spec, _inst("index=0"), "missing attribute 'slice'")


def test_window() -> None:
    w = A.window(_inst("window={size=3x3 stride=2x2 pad=0_1x-1_1 lhs_dilate=1x2 rhs_dilate=3x1 rhs_reversal=0x1}"))
    assert w == (A.WindowDim(3, 2, 0, 1, 1, 3, False), A.WindowDim(3, 2, -1, 1, 2, 1, True))
    assert A.window(_inst("window={size=1x1}")) == (A.WindowDim(1), A.WindowDim(1))
    assert A.window(_inst("window={}")) == ()
    assert A.window(_inst("index=0")) == ()


def test_window_malformed() -> None:
    _raises(A.window, _inst("window={size=3x3 stride=2}"), "size has 2")
    _raises(A.window, _inst("window={size=3 bogus=1}"), "unknown window field")
    _raises(A.window, _inst("window={stride=2}"), "without size")
    _raises(A.window, _inst("window={size=3 pad=1}"), "malformed window pad")
    _raises(A.window, _inst("window={size=3 stride=0}"), "invalid window")


def test_padding_config() -> None:
    assert A.padding_config(_inst("padding=0_0_0x1_1_0")) == (A.PadDim(0, 0, 0), A.PadDim(1, 1, 0))
    assert A.padding_config(_inst("padding=0_1x-2_3")) == (A.PadDim(0, 1), A.PadDim(-2, 3))
    _raises(A.padding_config, _inst("padding=0_1_2_3"), "malformed padding")
    _raises(A.padding_config, _inst("padding=0_a"), "malformed padding")
    _raises(A.padding_config, _inst("padding=0_0_-1"), "negative interior")


def test_dot_dnums() -> None:
    d = A.dot_dnums(_inst("lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, "
                          "rhs_contracting_dims={1}"))
    assert d == A.DotDims((0,), (0,), (2,), (1,))
    assert A.dot_dnums(_inst("lhs_contracting_dims={1}, rhs_contracting_dims={0}")).lhs_batch == ()


def test_conv_dnums() -> None:
    d = A.conv_dnums(_inst("dim_labels=b01f_01io->b01f"))
    assert d == A.ConvDims(0, 3, (1, 2), 2, 3, (0, 1), 0, 3, (1, 2))
    d = A.conv_dnums(_inst("dim_labels=f01b_i01o->01bf"))
    assert (d.input_batch, d.input_feature, d.kernel_input_feature, d.output_spatial) == (3, 0, 0, (0, 1))
    assert A.conv_dnums(_inst("dim_labels=bf_io->bf")).input_spatial == ()
    _raises(A.conv_dnums, _inst("dim_labels=b01f_01io"), "dim_labels like")
    _raises(A.conv_dnums, _inst("dim_labels=b0f_01io->b01f"), "spatial ranks")
    _raises(A.conv_dnums, _inst("dim_labels=b02f_01io->b01f"), "bad dimension labels")


def test_gather_and_scatter_dnums() -> None:
    g = A.gather_dnums(_inst("offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, "
                             "index_vector_dim=1, slice_sizes={1,4}"))
    assert g == A.GatherDims((1,), (0,), (0,), 1, (1, 4))
    s = A.scatter_dnums(_inst("update_window_dims={1}, inserted_window_dims={0}, "
                              "scatter_dims_to_operand_dims={0}, index_vector_dim=1"))
    assert s == A.ScatterDims((1,), (0,), (0,), 1)
    _raises(A.gather_dnums, _inst("offset_dims={1}"), "missing attribute 'collapsed_slice_dims'")


def test_comparison_direction_and_bool() -> None:
    assert A.comparison_direction(_inst("direction=LT")) == "LT"
    _raises(A.comparison_direction, _inst("direction=LESS"), "unknown comparison direction")
    assert A.bool_attr(_inst("is_stable=true"), "is_stable") is True
    assert A.bool_attr(_inst("index=0"), "is_stable") is False
    _raises(lambda i: A.bool_attr(i, "is_stable"), _inst("is_stable=yes"), "true or false")


def test_memo_reports_each_instruction_line() -> None:
    """A memoised parse failure still reports the line of the instruction that asked."""
    first = _inst("dimensions={x}")
    text = "HloModule m\n\nENTRY e {\n  a = f32[] parameter(0)\n  ROOT r = f32[2] add(), dimensions={x}\n}\n"
    second = hloenv.parse_hlo(text).entry.root
    with pytest.raises(HloVerifyError):
        A.int_list(first)
    with pytest.raises(HloVerifyError) as info:
        A.int_list(second)
    assert info.value.line == 5


def test_attrs_are_read_fresh_after_set_attr() -> None:
    inst = _inst("dimensions={0}")
    assert A.int_list(inst) == (0,)
    inst.set_attr("dimensions", "{1,2}")
    assert A.int_list(inst) == (1, 2)
