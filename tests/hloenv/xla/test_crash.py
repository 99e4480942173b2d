"""A worker killed mid-run (abort, out of memory, timeout) must not take the caller down."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hloenv.xla import EvaluationError, evaluate
from hloenv.xla.pool import get_pool

from .conftest import ABORTS, MLP, MULTI_OUTPUT_FUSION, RUNS_FOREVER, TOO_BIG


def _still_works(**kw):
    ev = evaluate(MLP, repeats=1, return_outputs=True, cache=False, **kw)
    assert ev.outputs[0].shape == (4, 3) and np.isfinite(ev.outputs[0]).all()


def test_xla_abort_becomes_evaluation_error_and_worker_restarts():
    pool = get_pool()
    pool.warm()
    before = pool._workers[0].proc.pid
    with pytest.raises(EvaluationError) as info:
        evaluate(ABORTS, cache=False)
    assert info.value.status == "abort"
    assert "Check failed" in info.value.stderr_tail
    _still_works()
    assert pool._workers[0].proc.pid != before


def test_multi_output_fusion_is_protected_from_layout_assignment():
    ev = evaluate(MULTI_OUTPUT_FUSION, repeats=1, return_outputs=True, cache=False)
    assert "layout-assignment" in ev.options["xla_options"]["xla_disable_hlo_passes"]
    assert ev.outputs[0].shape == (8, 4)


def test_exceeding_the_memory_cap_is_oom_and_next_call_works():
    cap = 2 << 30
    with pytest.raises(EvaluationError) as info:
        evaluate(TOO_BIG, memory_limit=cap, cache=False)
    assert info.value.status == "oom"
    _still_works(memory_limit=cap)


def test_timeout_kills_the_worker_and_next_call_works():
    t0 = time.monotonic()
    with pytest.raises(EvaluationError) as info:
        evaluate(RUNS_FOREVER, timeout=2.0, cache=False)
    assert info.value.status == "timeout"
    assert time.monotonic() - t0 < 10
    _still_works()
