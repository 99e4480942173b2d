"""Worker pool: a request sent now and collected later (`submit`), alone or among other calls."""

from __future__ import annotations

import sys

import pytest

from hloenv import parse_hlo
from hloenv.xla import EvaluationError
from hloenv.xla.pool import WorkerConfig, WorkerPool, default_memory_limit

from .conftest import ABORTS, MLP
from .test_crash import _raw_request

SMALLER = MLP.replace("f32[4,8]", "f32[2,8]").replace("f32[4,3]", "f32[2,3]")


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(WorkerConfig("cpu", default_memory_limit()), size=1)
    yield pool
    pool.close()


def _flops(reply: dict) -> float:
    assert reply["ok"], reply
    return reply["cost"]["flops"]


def test_submitted_request_gives_what_call_gives(pool):
    receive = pool.submit({"op": "cost", "text": MLP}, 60.0)
    assert _flops(receive()) == _flops(pool.call({"op": "cost", "text": MLP}, 60.0)[0])


def test_a_call_that_needs_the_busy_worker_keeps_the_unread_reply_for_its_owner(pool):
    receive = pool.submit({"op": "cost", "text": MLP}, 60.0)
    smaller = _flops(pool.call({"op": "cost", "text": SMALLER}, 60.0)[0])  # one worker: it reads MLP's reply first
    assert _flops(receive()) > smaller > 0
    assert _flops(receive()) > smaller  # collecting twice gives the same reply


def test_a_submitted_request_that_kills_the_worker_raises_when_collected(pool):
    receive = pool.submit(_raw_request(ABORTS), 60.0)
    with pytest.raises(EvaluationError) as info:
        receive()
    assert info.value.status == "abort"
    assert _flops(pool.call({"op": "cost", "text": MLP}, 60.0)[0]) > 0


def test_a_started_pool_is_not_ready_at_once_and_a_cost_prefetch_does_not_wait_for_it(monkeypatch):
    from hloenv.rewards import CostReward
    from hloenv.xla import pool as pool_module
    fresh = WorkerPool(WorkerConfig("cpu", default_memory_limit()), size=1)
    try:
        fresh.start()  # spawns, does not wait: the worker imports jax for seconds
        assert not fresh.ready()
        monkeypatch.setattr(pool_module, "get_pool", lambda *a, **k: fresh)
        reward = CostReward()
        module = parse_hlo(MLP)
        assert reward.prefetch(module)  # not ready: printed (the module may change), not sent
        assert reward._pending is None and reward._printed[0] == (module, module.to_text())
        fresh.warm()
        assert fresh.ready()
    finally:
        fresh.close()


def _worker_environment(pool: WorkerPool) -> dict[str, str]:
    pid = pool.info()["pid"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_workers_keep_freed_memory_so_a_run_does_not_depend_on_what_ran_before(monkeypatch):
    pool = WorkerPool(WorkerConfig("cpu", default_memory_limit()), size=1)
    try:
        env = _worker_environment(pool)
    finally:
        pool.close()
    assert env["MALLOC_MMAP_MAX_"] == "0" and int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 40
    monkeypatch.setenv("MALLOC_MMAP_MAX_", "65536")  # a user's own setting wins
    pool = WorkerPool(WorkerConfig("cpu", default_memory_limit()), size=1)
    try:
        assert _worker_environment(pool)["MALLOC_MMAP_MAX_"] == "65536"
    finally:
        pool.close()
