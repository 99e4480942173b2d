"""A worker killed mid-run (abort, out of memory, timeout) must not take the caller down."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hloenv.altgraph import parse_hlo
from hloenv.xla import EvaluationError, evaluate
from hloenv.xla.inputs import make_inputs, parameter_specs
from hloenv.xla.pool import get_pool

from .conftest import ABORTS, MLP, MULTI_OUTPUT_FUSION, RUNS_FOREVER, TOO_BIG


def _still_works(**kw):
    ev = evaluate(MLP, repeats=1, return_outputs=True, cache=False, **kw)
    assert ev.outputs[0].shape == (4, 3) and np.isfinite(ev.outputs[0]).all()


def _raw_request(text: str) -> dict:
    """An evaluate request that hands ``text`` to XLA as it is (``evaluate`` would lower its
    fusions to regions first, and XLA would not abort)."""
    return {"op": "evaluate", "text": text, "specs": parameter_specs(parse_hlo(text)), "seed": 0,
            "overrides": [], "return_outputs": False, "warmup": 1, "repeats": 1,
            "min_repeats": 1, "time_budget": 0.0}


def test_xla_abort_becomes_evaluation_error_and_worker_restarts():
    pool = get_pool()
    pool.warm()
    before = pool._workers[0].proc.pid
    with pytest.raises(EvaluationError) as info:
        pool.call(_raw_request(ABORTS), 60.0)
    assert info.value.status == "abort"
    assert "Check failed" in info.value.stderr_tail
    _still_works()
    assert pool._workers[0].proc.pid != before


def test_prebuilt_fusions_reach_xla_as_regions_and_compute_the_right_values():
    # Handed to XLA as they are, both modules abort the process (kOutput dot+add; a multi-output
    # fusion after layout assignment). Lowered to fenced regions they compile with XLA's whole
    # pipeline, layout assignment included.
    ev = evaluate(ABORTS, repeats=1, return_outputs=True, cache=False)
    assert "layout-assignment" not in ev.options["xla_options"].get("xla_disable_hlo_passes", "")
    p, q, r = make_inputs(ABORTS, 0)
    np.testing.assert_allclose(ev.outputs[0], p @ q + r, rtol=1e-5, atol=1e-5)
    ev = evaluate(MULTI_OUTPUT_FUSION, pipeline="env", repeats=1, return_outputs=True, cache=False)
    (x,) = make_inputs(MULTI_OUTPUT_FUSION, 0)
    np.testing.assert_allclose(ev.outputs[0], np.exp(x) - x, rtol=1e-5, atol=1e-6)


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


def _processes_marked(mark: str) -> list[int]:
    """Live (not zombie) processes of ours whose environment holds `mark`."""
    from pathlib import Path
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if mark.encode() not in (proc / "environ").read_bytes():
                continue
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if "Z" not in state.split()[1]:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_worker_running_forever_ends_when_the_process_that_started_it_dies():
    """A worker busy in a run that never ends outlived its killed parent at full load (found by a
    user probe: timed-out scripts left orphans spinning for hours)."""
    import os
    import signal
    import subprocess
    import sys
    import uuid
    mark = f"HLOENV_TEST_MARK={uuid.uuid4().hex}"
    script = ("import hloenv, sys\nprint('started', flush=True)\n"
              f"hloenv.evaluate({RUNS_FOREVER!r}, cache=False, timeout=None)\n")
    env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "started"
        deadline = time.time() + 60
        while len(_processes_marked(mark)) < 2 and time.time() < deadline:  # the script and its worker
            time.sleep(0.2)
        assert len(_processes_marked(mark)) >= 2, "the worker did not start"
        time.sleep(3)  # (compiled and running by now)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.time() + 15
    while _processes_marked(mark) and time.time() < deadline:
        time.sleep(0.2)
    left = _processes_marked(mark)
    for pid in left:  # (do not leave it spinning if the test fails)
        os.kill(pid, signal.SIGKILL)
    assert not left, "the worker outlived the process that started it"


def test_a_memory_cap_too_small_for_jax_is_named_when_the_worker_cannot_start():
    """memory_limit=1 GiB: "worker failed to start (ChannelClosed)", and nothing said the cap was
    the cause (found by a user probe)."""
    with pytest.raises(EvaluationError, match="memory cap is 1 GiB .*memory_limit=1073741824.*too small for jax"):
        evaluate(MLP, memory_limit=1 << 30, cache=False)
