"""Lazy fusion options: built on demand, each exactly the fusion the eager dry run would have built."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import hloenv
from hloenv.altgraph.alternatives import alternatives_nodes, prune, select
from hloenv.altgraph.lazy import is_unbuilt, materialize_all
from hloenv.altgraph.selected import selected_copy
from hloenv.observation import EDGE_FEATURES, build_observation
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import instruction_fusion, xla_like_choices
from hloenv.passes.fusion.fuse import build_fusion
from tests.conftest import bundled_modules, corpus_params


def _dry(module: hloenv.Module, eager: bool, monkeypatch) -> hloenv.Module:
    graph = module.clone()
    with monkeypatch.context() as m:
        if eager:
            m.setattr(instruction_fusion, "lazy_fusion", build_fusion)
        get_pass("fusion")(graph, dry=True)
    prune(graph)
    return graph


def _canonical(path: Path) -> hloenv.Module:
    module = hloenv.load_hlo(path, allow_elided=True)
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(module)
    return module


def _vectors(graph: hloenv.Module) -> dict[str, list[int]]:
    nodes = alternatives_nodes(graph)
    rng = random.Random(0)
    return {"original": [0] * len(nodes), "last": [len(n.operands) - 1 for n in nodes],
            "xla": xla_like_choices(graph), "random": [rng.randrange(len(n.operands)) for n in nodes]}


def _sources() -> list:
    """The bundled modules, the corpus slice, and (marked slow) the rest of the corpus."""
    return [pytest.param(p, id=p.name) for p in bundled_modules()] + corpus_params()


@pytest.mark.parametrize("path", _sources())
def test_lazy_options_select_what_eager_options_select(path, monkeypatch):
    """Two rounds (the second extends the first round's fusions, inlining member fusions): every
    choice vector gives the same program from lazy options as from eager ones."""
    module = _canonical(path)
    for round_ in range(2):
        lazy, eager = _dry(module, False, monkeypatch), _dry(module, True, monkeypatch)
        nodes = alternatives_nodes(lazy)
        assert nodes or round_ == 1 or "corpus" in str(path)  # every bundled module has fusions to offer
        if not nodes:
            break
        assert [len(n.operands) for n in nodes] == [len(n.operands) for n in alternatives_nodes(eager)]
        vectors = _vectors(lazy)
        assert vectors == _vectors(eager)
        for name, choice in vectors.items():
            want = selected_copy(eager, choice).fingerprint()
            assert selected_copy(lazy, choice).fingerprint() == want, name
            in_place = _dry(module, False, monkeypatch)
            select(in_place, choice)
            assert in_place.fingerprint() == want, name
            assert not any(i.lazy is not None for i in in_place.instructions())
            in_place.verify()
        module = selected_copy(lazy, vectors["random"])


def test_lazy_graph_holds_no_option_bodies_until_asked(monkeypatch):
    module = _canonical(bundled_modules()[0])
    lazy, eager = _dry(module, False, monkeypatch), _dry(module, True, monkeypatch)
    assert lazy.instruction_count < eager.instruction_count
    assert len(lazy.computations) == len(module.computations)
    built = materialize_all(lazy)
    assert built > 0 and lazy.instruction_count == eager.instruction_count
    assert lazy.fingerprint() == eager.fingerprint()
    assert hloenv.parse_hlo(lazy.to_text()).fingerprint() == eager.fingerprint()


def test_observation_describes_options_by_members_whatever_was_built(monkeypatch):
    module = _canonical(bundled_modules()[0])
    graph = _dry(module, False, monkeypatch)
    before = build_observation(graph)
    option = next(o for n in alternatives_nodes(graph) for o in n.operands[1:] if o.lazy is not None)
    ids = {id(i): k for k, i in enumerate(graph.instructions())}
    member = before["edge_attr"][:, EDGE_FEATURES.index("is_member_edge")] == 1
    edges = before["edge_index"][:, member]
    assert set(edges[0][edges[1] == ids[id(option)]]) == {ids[id(m)] for m in option.lazy.members}
    graph.to_text()  # builds every body
    assert not any(is_unbuilt(i) for i in graph.instructions())
    for after in (build_observation(graph), build_observation(graph.clone())):
        assert before.keys() == after.keys()
        for key in before:
            np.testing.assert_array_equal(before[key], after[key], err_msg=key)


def test_selected_copy_builds_the_chosen_options_in_the_copy_and_leaves_the_graph_as_it_is(monkeypatch):
    module = _canonical(bundled_modules()[0])
    graph = _dry(module, False, monkeypatch)
    text_size, comps = graph.instruction_count, len(graph.computations)
    nodes = alternatives_nodes(graph)
    choice = [1 if k == 0 else 0 for k in range(len(nodes))]
    option = nodes[0].operands[1]
    copy = selected_copy(graph, choice)
    assert is_unbuilt(option) and graph.instruction_count == text_size and len(graph.computations) == comps
    fusion = next(i for i in copy.instructions() if i.name == option.name)
    assert fusion.called_computations and fusion.called_computations[0].module is copy
    assert not any(i.lazy is not None for i in copy.instructions())
    copy.verify()
    select(graph, choice)  # the same program, built in place
    assert graph.fingerprint() == copy.fingerprint()


@pytest.mark.parametrize("then", [("fusion", False), ("fusion", True), ("multi-output-fusion", True),
                                  ("fusion-merger", True), ("defuse", False)])
def test_fusion_passes_run_on_a_dry_fusion_graph(then):
    """The options a dry fusion run leaves unbuilt are built before the next fusion pass reads
    fusions' bodies: it failed with IndexError (fusion, multi-output-fusion) or KeyError (defuse)."""
    from hloenv import compare
    from tests.conftest import DATA
    module = hloenv.load_hlo(DATA / "mlp_train_step.hlo")
    graph = module.clone()
    get_pass("fusion")(graph, dry=True)
    assert any(is_unbuilt(i) for c in graph.computations for i in c.instructions)
    name, dry = then
    get_pass(name)(graph, dry=dry)
    prune(graph)
    nodes = alternatives_nodes(graph)
    select(graph, [len(n.operands) - 1 for n in nodes])
    graph.verify()
    assert compare(module, graph).equal
