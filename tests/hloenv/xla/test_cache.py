from __future__ import annotations

import json

import hloenv
from hloenv.xla import evaluate
from hloenv.xla.cache import EvaluationCache

from .conftest import MLP


class _NoCalls:
    """A worker pool that fails the test if it is asked to compile or run anything."""

    def __init__(self, pool):
        self._pool = pool

    def info(self):
        return self._pool.info()

    def call(self, request, timeout=None):
        raise AssertionError(f"a cache hit asked the worker for {request['op']!r}")


def test_second_evaluate_is_a_cache_hit_that_asks_no_worker(private_cache, monkeypatch):
    first = evaluate(MLP)
    pool = hloenv.xla.api.get_pool
    monkeypatch.setattr(hloenv.xla.api, "get_pool", lambda *a, **k: _NoCalls(pool(*a, **k)))
    second = evaluate(MLP)
    assert not first.cached and second.cached
    assert second.samples == first.samples and second.key == first.key
    assert EvaluationCache(private_cache).path(first.key).is_file()


def test_renamed_module_hits_the_same_entry_other_options_do_not():
    first = evaluate(MLP)
    renamed = MLP.replace("bb", "bias_b").replace("HloModule mlp", "HloModule mlp2")
    assert evaluate(renamed).cached
    assert not evaluate(MLP, pipeline="env").cached
    assert not evaluate(MLP, seed=1).cached
    assert first.key != evaluate(MLP, disable_passes=["cse"]).key


def test_corrupt_entry_is_detected_and_recomputed(private_cache):
    first = evaluate(MLP)
    path = EvaluationCache(private_cache).path(first.key)
    path.write_text(path.read_text()[: len(path.read_text()) // 2])  # truncated file
    again = evaluate(MLP)
    assert not again.cached
    assert json.loads(path.read_text())["key"] == first.key  # rewritten whole
    entry = json.loads(path.read_text())
    entry["payload"]["median"] = 123.0  # checksum no longer matches
    path.write_text(json.dumps(entry))
    third = evaluate(MLP)
    assert not third.cached and third.median != 123.0
    assert evaluate(MLP).cached


def test_no_temp_files_left_behind(private_cache):
    evaluate(hloenv.parse_hlo(MLP))
    leftovers = [p for p in private_cache.rglob(".tmp-*")]
    assert leftovers == []
