"""`paired_timing`: two modules timed in turn in one worker, fresh, with a 90% interval."""

from __future__ import annotations

import pytest

import hloenv
from hloenv.xla import PairedTiming, paired_timing

from .conftest import MLP

HEAVY = """HloModule heavy

ENTRY main {
  x = f32[192,192] parameter(0)
  a = f32[192,192] dot(x, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  b = f32[192,192] dot(a, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT c = f32[192,192] dot(b, a), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""
LIGHT = """HloModule light

ENTRY main {
  x = f32[192,192] parameter(0)
  ROOT n = f32[192,192] negate(x)
}
"""


def test_the_slower_module_over_the_faster_is_a_speedup_above_one_with_its_interval():
    timing = paired_timing(HEAVY, LIGHT, min_pairs=6, pairs=6)
    assert isinstance(timing, PairedTiming) and timing.pairs == 6
    assert len(timing.a.samples) == len(timing.b.samples) == 6
    assert timing.a.median > timing.b.median > 0 and not timing.a.cached and not timing.b.cached
    assert 1 < timing.speedup_low <= timing.speedup_high  # (three 192^3 dots against one negate)
    assert timing.speedup_low <= timing.speedup <= timing.speedup_high  # (the median of the pairs' ratios)
    ratios = sorted(a / b for a, b in zip(timing.a.samples, timing.b.samples))
    assert timing.speedup == pytest.approx((ratios[2] + ratios[3]) / 2)  # (not the ratio of medians)
    reverse = paired_timing(LIGHT, HEAVY, min_pairs=4, pairs=4)
    assert reverse.speedup_high < 1
    record = timing.to_dict()
    assert record["pairs"] == 6 and record["speedup_low"] == timing.speedup_low
    assert record["a"]["options"]["paired"] is True


def test_the_interval_is_the_same_for_the_same_samples():
    timing = paired_timing(MLP, MLP, pairs=5, min_pairs=5, pipeline_b="env")
    again = PairedTiming(timing.a, timing.b)
    assert again.speedup_low == timing.speedup_low and again.speedup_high == timing.speedup_high


def test_it_refuses_modules_with_other_parameters_or_a_target_the_backend_lacks():
    with pytest.raises(ValueError, match="modules take different parameters"):
        paired_timing(MLP, LIGHT)
    broken = LIGHT.replace("negate(x)", "custom-call(x), custom_call_target=\"no_such_target_anywhere\"")
    with pytest.raises(hloenv.UnsupportedOnBackend, match="no_such_target_anywhere"):
        paired_timing(LIGHT, broken, pairs=1, min_pairs=1)
    with pytest.raises(ValueError, match="pairs"):
        paired_timing(LIGHT, LIGHT, pairs=-1)
