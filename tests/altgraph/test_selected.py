"""selected_copy: the module select+prune would leave, without copying the dropped options."""

from __future__ import annotations

import numpy as np
import pytest

from hloenv import load_hlo, parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, prune, select
from hloenv.altgraph.selected import selected_copy
from hloenv.altgraph.verifier import verify_module
from hloenv.passes import parse_pipeline
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from tests.conftest import DATA


def dry_graphs():
    """Alternative graphs of the bundled modules: each decision pass of the env pipeline, dry."""
    for name in ("transformer_block.hlo", "convnet_forward.hlo", "scan_rnn.hlo"):
        module = load_hlo(DATA / name)
        parse_pipeline(DEFAULT_ENV_PIPELINE.canonicalize)(module)
        for decision in DEFAULT_ENV_PIPELINE.decision_passes():
            graph = module.clone()
            decision(graph, dry=True)
            prune(graph)
            if alternatives_nodes(graph):
                yield f"{name}:{decision.name}", graph


@pytest.mark.parametrize("vector", ["original", "all", "random"])
def test_selected_copy_prints_what_select_leaves_and_leaves_the_graph_alone(vector):
    seen = 0
    for label, graph in dry_graphs():
        nodes = alternatives_nodes(graph)
        rng = np.random.default_rng(len(nodes))
        choices = {"original": [0] * len(nodes), "all": [len(n.operands) - 1 for n in nodes],
                   "random": [int(rng.integers(len(n.operands))) for n in nodes]}[vector]
        before = graph.to_text()
        in_place = graph.clone()
        select(in_place, choices)
        copy = selected_copy(graph, choices)
        assert copy.to_text() == in_place.to_text(), label
        assert graph.to_text() == before, label
        verify_module(copy)
        assert not alternatives_nodes(copy)
        seen += 1
    assert seen >= 3


def test_selected_copy_copies_fewer_instructions_than_the_graph_holds():
    label, graph = next(iter(dry_graphs()))
    copy = selected_copy(graph, [0] * len(alternatives_nodes(graph)))
    assert copy.instruction_count < graph.instruction_count, label


def test_selected_copy_rejects_bad_choices():
    _, graph = next(iter(dry_graphs()))
    nodes = alternatives_nodes(graph)
    with pytest.raises(ValueError, match="expected"):
        selected_copy(graph, [0])
    with pytest.raises(ValueError, match="out of range for"):
        selected_copy(graph, [len(nodes[0].operands)] + [0] * (len(nodes) - 1))


def test_selected_copy_prunes_a_kept_fusions_unused_parameter_like_select():
    text = """HloModule kept_fusion_reads_one_of_two
body {
  a = f32[2,3] parameter(0)
  b = f32[2,3] parameter(1)
  ROOT s = f32[2,3] sine(a)
}
ENTRY e {
  p = f32[2,3] parameter(0)
  q = f32[2,3] parameter(1)
  e = f32[2,3] exponential(q)
  f = f32[2,3] fusion(p, e), kind=kLoop, calls=body
  n = f32[2,3] cosine(p)
  alt = f32[2,3] alternatives(f, n), hloenv_site="f", hloenv_rules="original;test:x"
  ROOT r = f32[2,3] abs(alt)
}
"""
    graph = parse_hlo(text)
    for choice in ([0], [1]):
        in_place = graph.clone()
        select(in_place, choice)
        copy = selected_copy(graph, choice)
        assert copy.to_text() == in_place.to_text()
        assert "exponential" not in copy.to_text()  # the unused parameter's operand went with it
        verify_module(copy)


def test_selected_copy_keeps_unused_calls_that_print():
    from tests.passes.test_small_passes import PRINTING_CALLS
    m = parse_hlo(PRINTING_CALLS)
    assert selected_copy(m, []).opcode_histogram()["call"] == 2  # (dropped as dead before)


def test_copies_of_one_graph_are_named_alike_and_leave_its_names_alone():
    """A copy's new bodies are named by a fork of the dry run's uniquer: the same choices give the
    same text each time, and the graph's uniquer keeps none of the copies' names (an env reuses its
    first round's graph in every episode: each episode's names, and memory, used to pile up there)."""
    seen = 0
    for label, graph in dry_graphs():
        nodes = alternatives_nodes(graph)
        unbuilt = [o.lazy for n in nodes for o in n.operands if o.lazy is not None and not o.lazy.built]
        if not unbuilt:
            continue
        uniquer = unbuilt[0].names
        taken = set(uniquer.used)
        choices = [len(n.operands) - 1 for n in nodes]
        first = selected_copy(graph, choices)
        assert selected_copy(graph, choices).to_text() == first.to_text(), label
        assert uniquer.used == taken, label
        verify_module(first)
        seen += 1
    assert seen
