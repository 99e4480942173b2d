"""Your own inputs instead of seeded ones: evaluate, compare, verify, paired_timing, has_equal_output."""

from __future__ import annotations

import numpy as np
import pytest

import hloenv
from hloenv.xla import compare, evaluate, paired_timing, verify
from hloenv.xla.inputs import checked_inputs, parameter_specs

from .conftest import MLP

# x <- x / 2 until x < 1: it never ends on a negative x (seeded floats are N(0, 1)).
HALVE_UNTIL_SMALL = """HloModule halve

cond {
  c = f32[] parameter(0)
  one = f32[] constant(1)
  ROOT big = pred[] compare(c, one), direction=GE
}

body {
  b = f32[] parameter(0)
  two = f32[] constant(2)
  ROOT h = f32[] divide(b, two)
}

ENTRY main {
  x = f32[] parameter(0)
  ROOT w = f32[] while(x), condition=cond, body=body
}
"""


def test_evaluate_runs_on_the_given_inputs_and_does_not_cache_them(tmp_path):
    x = np.arange(32, dtype=np.float32).reshape(4, 8) / 10
    w, b = np.ones((8, 3), np.float32), np.array([1, -100, 0], np.float32)
    ev = evaluate(MLP, inputs=[x, w, b], repeats=1, return_outputs=True, cache_dir=tmp_path)
    np.testing.assert_allclose(ev.outputs[0], np.maximum(x @ w + b, 0), rtol=1e-6)
    assert not ev.cached and not list(tmp_path.rglob("*.json"))
    seeded = evaluate(MLP, repeats=1, return_outputs=True, cache=False)
    assert not np.allclose(seeded.outputs[0], ev.outputs[0])


def test_a_data_dependent_loop_ends_on_the_users_inputs():
    ev = evaluate(HALVE_UNTIL_SMALL, inputs=[np.float32(40)], repeats=1, return_outputs=True, cache=False)
    assert float(ev.outputs[0]) == 0.625
    assert compare(HALVE_UNTIL_SMALL, HALVE_UNTIL_SMALL, inputs=[3.0]).equal  # (a Python float, made f32)
    assert verify(HALVE_UNTIL_SMALL, HALVE_UNTIL_SMALL, inputs=[7.5]) == "equal"
    timing = paired_timing(HALVE_UNTIL_SMALL, HALVE_UNTIL_SMALL, inputs=[1e6], pairs=2, min_pairs=2)
    assert timing.pairs == 2


def test_the_env_checks_its_module_on_the_users_inputs():
    env = hloenv.HloEnv(HALVE_UNTIL_SMALL)
    env.reset(seed=0)
    assert env.has_equal_output(inputs=[np.float32(12)], timeout=60)
    assert env.has_equal_output(inputs=[np.float32(12)], rtol=0, atol=0)


@pytest.mark.parametrize("values,message", [
    ([np.ones((4, 8))], "1 input for 3 parameters"),
    ([np.ones((4, 9)), np.ones((8, 3)), np.ones(3)], r"input 0 has shape \(4, 9\), the parameter f32\[4, 8\]"),
    ([np.ones((4, 8)), np.ones((8, 3)), np.ones(3, np.complex64)], "input 2 holds complex64, the parameter f32"),
    (np.ones(3), "one value per parameter"),
])
def test_inputs_that_do_not_fit_say_which_and_why(values, message):
    with pytest.raises(ValueError, match=message):
        checked_inputs(values, parameter_specs(hloenv.parse_hlo(MLP)))
    with pytest.raises(ValueError, match=message):
        evaluate(MLP, inputs=values)


def test_integers_and_bools_convert_where_numpy_keeps_their_kind():
    specs = [("array", "s32", (2,)), ("array", "f32", (2,)), ("tuple", (("array", "pred", ()),))]
    a, b, (c,) = checked_inputs([[1, 2], np.array([1, 2], np.int64), (True,)], specs)
    assert a.dtype == np.int32 and b.dtype == np.float32 and c.dtype == np.bool_
    with pytest.raises(ValueError, match="input 0 holds float64, the parameter s32"):
        checked_inputs([[1.5, 2.0], [0, 0], (True,)], specs)
