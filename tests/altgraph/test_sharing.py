"""Fused computations shared between a step's program and the graph it was chosen from."""

from __future__ import annotations

import numpy as np
import pytest

from hloenv import load_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, dismantle, prune
from hloenv.altgraph.selected import selected_copy
from hloenv.altgraph.sharing import FUSED, FUSED_AND_CALLEES, shareable
from hloenv.altgraph.verifier import verify_module
from hloenv.passes import get_pass, parse_pipeline
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from tests.conftest import DATA


def _dry_round(module):
    get_pass("fusion")(module, dry=True)
    prune(module)
    return alternatives_nodes(module)


def _step_modules(name: str, share: str, seed: int = 0):
    """Two rounds as the env runs them: the first copy's fusions get bodies, the second copy is
    chosen from a graph made in the first copy itself (where sharing starts)."""
    module = load_hlo(DATA / name)
    parse_pipeline(DEFAULT_ENV_PIPELINE.canonicalize)(module)
    rng = np.random.default_rng(seed)
    graph = module.clone()
    nodes = _dry_round(graph)
    first = selected_copy(graph, [len(n.operands) - 1 for n in nodes], nodes=nodes, share=share)
    nodes = _dry_round(first)  # in place, like the env's rounds
    second = selected_copy(first, [int(rng.integers(len(n.operands))) for n in nodes], nodes=nodes, share=share)
    return first, second


@pytest.mark.parametrize("share", [FUSED, FUSED_AND_CALLEES])
@pytest.mark.parametrize("name", ["transformer_block.hlo", "convnet_forward.hlo", "mlp_train_step.hlo"])
def test_shared_copies_print_like_plain_copies_and_outlive_their_source(name, share):
    _, plain = _step_modules(name, "")
    first, second = _step_modules(name, share)
    shared = [c for c in second.computations if any(c is d for d in first.computations)]
    assert shared, "the second copy shares no fused computation with the graph it came from"
    assert all(c.holders >= 2 for c in shared)
    assert second.to_text() == plain.to_text()
    assert second.fingerprint() == second.fingerprint() == plain.fingerprint()  # (digests kept)
    text = second.to_text()
    dismantle(first)  # the env drops the old graph: what the new module shares stays intact
    assert second.to_text() == text
    verify_module(second)
    assert all(c.holders == 1 for c in shared)
    dismantle(second)  # the last holder goes: now the shared computations are dismantled too
    assert all(not c.instructions and c.root is None for c in shared)


def test_a_body_that_calls_a_reducer_is_shared_only_with_its_callees():
    first, second = _step_modules("transformer_block.hlo", FUSED_AND_CALLEES)
    # (holders == 1: a chosen option's new body, frozen at birth; its callees are shared with it
    # by the next copy)
    callers = [c for c in second.computations if c.holders >= 2 and any(i.called for i in c.instructions)]
    assert callers, "no shared fused computation calls a reducer in this module"
    for comp in callers:
        for inst in comp.instructions:
            for callee in inst.called_computations:
                assert callee.holders and any(callee is c for c in second.computations)
        assert not shareable(_fresh_copy_of(comp), FUSED)  # calling something: not in FUSED mode


def _fresh_copy_of(comp):
    """A copy (not frozen) of `comp`, with what it calls."""
    from hloenv.altgraph.module import Module
    from hloenv.altgraph.sharing import callees_closure
    module = Module("m", callees_closure(comp)[::-1], comp).clone()
    return next(c for c in module.computations if c.name == comp.name)


def test_a_body_with_an_unused_instruction_is_not_shareable():
    first, _ = _step_modules("mlp_train_step.hlo", "")
    body = next(c for c in first.computations if not c.is_entry and len(c.instructions) > 2
                and not any(i.called for i in c.instructions))
    copy = _fresh_copy_of(body)
    assert shareable(copy)
    from hloenv.altgraph.instruction import Instruction
    extra = Instruction("unused.1", "negate", copy.root.shape, [copy.root])
    copy.add(extra, before=None)
    assert not shareable(copy)


def test_frozen_computations_are_printed_once():
    _, second = _step_modules("transformer_block.hlo", FUSED_AND_CALLEES)
    frozen = next(c for c in second.computations if c.holders)
    second.to_text()
    assert frozen.memo["text"].startswith(frozen.name)
    frozen.memo["text"] = "STALE\n"  # (proves the text is reused, not printed again)
    assert "STALE" in second.to_text()


def test_an_unknown_share_mode_is_a_value_error():
    module = load_hlo(DATA / "transformer_block.hlo")
    with pytest.raises(ValueError, match="share='everything'"):
        selected_copy(module, [], share="everything")
