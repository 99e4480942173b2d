"""The literal reader and printer: both text eras, special values, exact round trips."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from hloenv.altgraph.shape import parse_shape
from hloenv.passes.algsimp.literals import format_literal, read_literal


@pytest.mark.parametrize("payload,shape,expected", [
    ("0", "f32[]", 0.0),
    ("-inf", "f32[]", -np.inf),
    ("true", "pred[]", True),
    ("{1, 2}", "s32[2]", [1, 2]),
    ("{ {1,2},{3,4} }", "f32[2,2]", [[1, 2], [3, 4]]),
    ("{ { /*i0=0*/ {1}, {2} } }", "f32[1,2,1]", [[[1], [2]]]),
    ("{1, 0}", "pred[2]", [True, False]),
    ("4294967295", "u32[]", 4294967295),
    ("3.14159274", "f32[]", np.float32(3.14159274)),
])
def test_reads_both_eras(payload, shape, expected):
    arr = read_literal(payload, parse_shape(shape))
    assert arr is not None
    np.testing.assert_array_equal(arr, np.asarray(expected, dtype=arr.dtype))


def test_reads_nan():
    assert np.isnan(read_literal("nan", parse_shape("f32[]")))
    assert np.isnan(read_literal("-nan(0x7fffff)", parse_shape("f32[]")))


@pytest.mark.parametrize("payload,shape", [
    ("{...}", "f32[4]"), ("{1, 2}", "f32[3]"), ("(1, 2)", "c64[]"), ("300", "u8[]"), ("x", "f32[]"),
])
def test_unreadable_literals_give_none(payload, shape):
    assert read_literal(payload, parse_shape(shape)) is None


@pytest.mark.parametrize("dtype,np_type", [("f32", np.float32), ("f64", np.float64), ("f16", np.float16),
                                           ("bf16", ml_dtypes.bfloat16)])
def test_float_round_trip_is_bit_exact(dtype, np_type):
    rng = np.random.default_rng(0)
    with np.errstate(over="ignore"):
        values = np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-30, 30, 200),
                                 [0.0, -0.0, np.inf, -np.inf, 0.1, 1 / 3, 65504.0]]).astype(np_type)
    text = format_literal(values, dtype)
    back = read_literal(text, parse_shape(f"{dtype}[{values.size}]"))
    assert back is not None
    assert back.tobytes() == values.tobytes()


def test_prints_special_values_and_nesting():
    assert format_literal(np.array([np.nan, np.inf, -np.inf, 1.0], np.float32), "f32") == "{nan, inf, -inf, 1}"
    assert format_literal(np.array([[1, 2], [3, 4]], np.int32), "s32") == "{ {1, 2}, {3, 4} }"
    assert format_literal(np.array(True), "pred") == "true"
    assert format_literal(np.array(np.iinfo(np.int64).min), "s64") == str(np.iinfo(np.int64).min)


def test_numpy_types_resolve_bf16_through_ml_dtypes():
    from hloenv.passes.algsimp.literals import NUMPY_TYPES
    assert "bf16" in NUMPY_TYPES and "c64" not in NUMPY_TYPES and NUMPY_TYPES.get("c64") is None
    assert NUMPY_TYPES["bf16"] == np.dtype(ml_dtypes.bfloat16) and NUMPY_TYPES["f32"] == np.dtype(np.float32)
    assert set(NUMPY_TYPES) == {"pred", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64",
                                "f16", "bf16", "f32", "f64"}
