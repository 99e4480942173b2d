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
from tests.conftest import DATA, corpus_params


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


KEPT_FUSION_READS_ONE_OF_TWO = """HloModule kept_fusion_reads_one_of_two
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


def test_selected_copy_prunes_a_kept_fusions_unused_parameter_like_select():
    graph = parse_hlo(KEPT_FUSION_READS_ONE_OF_TWO)
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


def env_rounds(path, rounds: int = 3):
    """The env's dry graphs of the module at `path`, as a step sees them (options still lazy,
    unbuilt): canonicalised, then each round a fusion dry run on a random choice's program."""
    from hloenv.altgraph.alternatives import merge_identical_options
    module = load_hlo(path, allow_elided=True)  # (printing is all this reads: elided constants do)
    parse_pipeline(DEFAULT_ENV_PIPELINE.canonicalize)(module)
    fusion = DEFAULT_ENV_PIPELINE.decision_passes()[0]
    rng = np.random.default_rng(0)
    for round_ in range(rounds):
        graph = module.clone()
        fusion(graph, dry=True)
        merge_identical_options(graph)
        prune(graph, merge=False)  # (as the env: chosen options are built by the copy)
        nodes = alternatives_nodes(graph)
        if not nodes:
            break
        yield f"{path.name}:round {round_}", graph
        module = selected_copy(graph, [int(rng.integers(len(n.operands))) for n in nodes])


def unpruned_dry_graphs():
    for name in ("transformer_block.hlo", "convnet_forward.hlo", "scan_rnn.hlo", "mlp_train_step.hlo"):
        yield from env_rounds(DATA / name)


def check_selection_texts(graphs, share: str) -> tuple[int, int]:
    """`selection_text` against the copy's text, for three choice vectors per graph, with the
    graph's options unbuilt and then built: (selections checked, new bodies printed)."""
    from hloenv.altgraph.selected import Selection, copy_selection, selection_text
    seen = bodies = 0
    for label, graph in graphs:
        nodes = alternatives_nodes(graph)
        rng = np.random.default_rng(len(nodes))
        for choices in ([0] * len(nodes), [len(n.operands) - 1 for n in nodes],
                        [int(rng.integers(len(n.operands))) for n in nodes]):
            unbuilt = [i for i in graph.instructions() if i.lazy is not None and not i.lazy.built]
            selection = Selection.of(graph, choices, nodes, share)
            text = selection_text(selection)
            copy, edited = copy_selection(selection)
            assert edited or text == copy.to_text(), label
            assert all(not i.lazy.built for i in unbuilt), label  # (the copy built its own bodies)
            bodies += len(selection.bodies)
            seen += not edited
        graph.to_text()  # (builds every option: the checks below then read a whole graph)
        for choices in ([0] * len(nodes), [int(rng.integers(len(n.operands))) for n in nodes]):
            selection = Selection.of(graph, choices, nodes, share)
            text = selection_text(selection)
            copy, edited = copy_selection(selection)
            assert edited or text == copy.to_text(), label
    return seen, bodies


@pytest.mark.parametrize("share", ["", "fused", "fused+callees"])
def test_selection_text_is_what_the_copy_prints(share):
    seen, bodies = check_selection_texts(unpruned_dry_graphs(), share)
    assert seen >= 12 and bodies > 0  # (chosen lazy options were printed as their new bodies)


@pytest.mark.parametrize("path", corpus_params())
def test_selection_text_is_what_the_copy_prints_on_the_corpus(path):
    from hloenv.altgraph.sharing import FUSED_AND_CALLEES
    seen, _ = check_selection_texts(env_rounds(path, rounds=2), FUSED_AND_CALLEES)  # (the env's sharing)
    if not seen:
        pytest.skip(f"{path.name}: no selection to print (no alternatives, or every copy dropped a dead parameter)")


def test_copy_selection_fills_the_module_it_is_given_and_reports_a_dead_parameter_edit():
    from hloenv.altgraph.module import Module
    from hloenv.altgraph.selected import Selection, copy_selection, selection_text
    graph = parse_hlo(KEPT_FUSION_READS_ONE_OF_TWO)
    selection = Selection.of(graph, [0])
    text = selection_text(selection)
    shell = Module("anything")
    copy, edited = copy_selection(selection, into=shell)
    assert copy is shell and all(c.module is shell for c in shell.computations)
    assert edited and "exponential" in text and "exponential" not in copy.to_text()
    verify_module(copy)
    selection = Selection.of(graph, [1])
    text = selection_text(selection)
    copy, edited = copy_selection(selection)
    assert not edited and text == copy.to_text()
