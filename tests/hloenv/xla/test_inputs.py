from __future__ import annotations

import numpy as np
import pytest

from hloenv.xla import make_inputs
from hloenv.xla.inputs import INT_HIGH, flatten, inputs_from_specs, random_array

from .conftest import MIXED, MLP


def test_same_seed_same_inputs_other_seed_other_inputs():
    a, b, c = make_inputs(MLP, 0), make_inputs(MLP, 0), make_inputs(MLP, 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_float_inputs_look_standard_normal():
    x = random_array("f32", (200, 100), np.random.default_rng(0))
    assert x.dtype == np.float32
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05


def test_every_dtype_shape_and_range():
    values = make_inputs(MIXED, 3)
    assert isinstance(values[0], tuple) and values[0][0].dtype == np.float32
    ints = values[0][1]
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() < INT_HIGH
    assert values[1].shape == (0,) and values[1].dtype == np.bool_  # token
    assert values[2].dtype == np.float64
    assert values[3].dtype == np.complex64 and np.any(values[3].imag != 0)
    assert values[4].dtype == np.bool_
    assert values[5].dtype.name == "bfloat16"
    assert values[6].dtype == np.uint8
    assert [a.shape for a in flatten(values)] == [(4,), (3,), (0,), (3,), (2,), (5,), (2, 2), (6,)]


@pytest.mark.parametrize("dtype", ["pred", "s8", "u32", "s64", "f16", "bf16", "f32", "c128"])
def test_never_all_zeros_even_for_one_element(dtype):
    for seed in range(50):
        (x,) = inputs_from_specs([("array", dtype, (1,))], seed)
        assert x.any(), (dtype, seed)


def test_adding_a_parameter_keeps_the_others():
    one = inputs_from_specs([("array", "f32", (3,))], 7)
    two = inputs_from_specs([("array", "f32", (3,)), ("array", "s32", (2,))], 7)
    assert np.array_equal(one[0], two[0])


def test_every_ml_dtypes_type_resolves_on_first_use_and_unknown_types_are_value_errors():
    import ml_dtypes
    from hloenv.xla.inputs import ML_DTYPES, numpy_dtype
    for hlo_type, name in ML_DTYPES.items():
        assert numpy_dtype(hlo_type) == np.dtype(getattr(ml_dtypes, name))
    with pytest.raises(ValueError, match="no numpy dtype"):
        numpy_dtype("f7")
