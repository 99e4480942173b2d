import re

import pytest

from hloenv.altgraph import HloParseError, parse_shape
from hloenv.altgraph.shape import array, tuple_of


@pytest.mark.parametrize("text", [
    "f32[]", "f32[2,3]{1,0}", "pred[7]{0}", "bf16[1,2,3]", "s4[8]", "c128[2]", "token[]",
    "(f32[2]{0}, s32[])", "()", "((f32[], (u8[3], token[])), f64[1,1]{0,1})", "f32[<=10,3]{1,0}",
    "f32[128,256]{1,0:T(8,128)}", "f8e4m3fn[16]",
])
def test_shape_text_round_trips(text):
    assert parse_shape(text).to_text() == text


def test_shape_queries():
    s = parse_shape("f32[2,<=3]{0,1}")
    assert (s.dtype, s.dims, s.dynamic, s.rank, s.element_count, s.byte_size) == ("f32", (2, 3), (False, True), 2, 6, 24)
    assert s.minor_to_major == (0, 1)
    assert s.same_as(parse_shape("f32[2,<=3]")) and not s.same_as(parse_shape("f32[2,3]"))
    t = parse_shape("(f32[2], (s8[4], token[]))")
    assert t.is_tuple and t.byte_size == 8 + 4 and [x.dtype for x in t.leaves()] == ["f32", "s8", "token"]
    assert tuple_of([array("f32", (2,)), array("s8", (4,))]).to_text() == "(f32[2], s8[4])"


def test_tuple_index_comments_are_skipped():
    s = parse_shape("(f32[], f32[], f32[], f32[], f32[], /*index=5*/s32[])")
    assert len(s.tuple_shapes) == 6 and s.tuple_shapes[5].dtype == "s32"


@pytest.mark.parametrize("text", ["f33[2]", "f32[2", "f32[a]", "(f32[], ", "f32[?]", "f32[2] x"])
def test_bad_shapes_raise_typed_errors(text):
    with pytest.raises(HloParseError):
        parse_shape(text)


@pytest.mark.parametrize("text, message", [
    ("f32[2,3]{1,1}", "layout {1,1} of shape 'f32[2,3]{1,1}' does not order its 2 dimension(s)"),
    ("f32[2,3]{2,0}", "must list each of 0..1 once"),
    ("f32[2,3]{1}", "does not order its 2 dimension(s)"),
    ("f32[2,3]{[0}", "malformed layout {[0}"),
    ("(f32[2]{0}, s32[3,4]{0,0})", "layout {0,0} of shape 's32[3,4]{0,0}'"),
])
def test_layouts_that_do_not_order_the_dimensions_are_parse_errors(text, message):
    # (were accepted, and XLA refused the module when it compiled it: "minor_to_major field has
    # duplicate values")
    with pytest.raises(HloParseError, match=re.escape(message)):
        parse_shape(text)


@pytest.mark.parametrize("text", ["f32[2,3]{0,1}", "f32[]{}", "f32[2,3]{1,0:T(8,128)}", "f32[<=4]{0}",
                                  "f32[2,3]{ 1, 0 }"])
def test_layouts_that_order_the_dimensions_parse(text):
    assert parse_shape(text).minor_to_major is not None
