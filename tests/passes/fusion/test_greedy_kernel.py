"""The compiled greedy CPU fusion kernel (`_greedy_kernel.pyx`) makes exactly the fusions of its
Python reference (`greedy.run_greedy` with `cpu_should_fuse`): the same clusters, in the same
order, with the same members in the same order, on the first round (instructions only) and on
later rounds (consumers that are fusions already, in-place fusions, reductions inside fusions)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import hloenv
from hloenv.altgraph.alternatives import alternatives_nodes, prune, select
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import fusibility as fz, greedy_kernel
from hloenv.passes.fusion.fuse import ClusterGraph, fusion_computations
from hloenv.passes.fusion.instruction_fusion import xla_clusters
from tests.conftest import REPO, bundled_modules, corpus_params
from tests.passes.random_hlo import random_module

needs_kernel = pytest.mark.skipif(
    not greedy_kernel.available(),
    reason="the greedy fusion kernel is not built here (no C++ compiler at install, or HLOENV_NATIVE=0)")


def _clusters(module: hloenv.Module, kernel: bool) -> list[tuple[str, str, list[str]]]:
    out = []
    for comp in fusion_computations(module):
        plan = xla_clusters(comp, "cpu", kernel=kernel)
        out += [(comp.name, c.root.name, [m.name for m in c.members]) for c in plan.clusters]
    return out


def _legal_slots(module: hloenv.Module, kernel: bool) -> list[tuple[str, int, bool]]:
    """What dry mode asks of every fusible instruction's operands: legal_to_fuse in the unfused graph."""
    out = []
    for comp in fusion_computations(module):
        plan, unfused = xla_clusters(comp, "cpu", kernel=kernel), ClusterGraph(comp)
        assert (plan.kernel is not None) == kernel
        out += [(inst.name, i, plan.legal_operand(inst, i, unfused)) for inst in comp.instructions
                if fz.is_fusible(inst, unfused) for i in range(len(inst.operands))]
    return out


def _rounds(module: hloenv.Module, seed: int, rounds: int = 2) -> list[hloenv.Module]:
    """The canonical module, then the module after each of `rounds` random fusion choices."""
    module = module.clone()
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(module)
    out = [module]
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        module = module.clone()
        get_pass("fusion")(module, dry=True)
        nodes = alternatives_nodes(module)
        if not nodes:
            break
        select(module, [int(rng.integers(len(n.operands))) for n in nodes], nodes=nodes)
        prune(module)
        out.append(module)
    return out


def _dry_graph(module: hloenv.Module, kernel: bool) -> str:
    """The alternative graph a dry `fusion` run makes of `module`, as text (options built)."""
    graph = module.clone()
    saved = greedy_kernel._kernel
    if not kernel:
        greedy_kernel._kernel = None
    try:
        get_pass("fusion")(graph, dry=True)
    finally:
        greedy_kernel._kernel = saved
    return graph.to_text()


def _assert_same_fusions(module: hloenv.Module, seed: int = 0) -> int:
    made = 0
    for k, round_module in enumerate(_rounds(module, seed)):
        compiled, reference = _clusters(round_module, True), _clusters(round_module, False)
        assert compiled == reference, f"round {k}: the kernel's fusions differ from the reference's"
        legal = _legal_slots(round_module, False)
        assert _legal_slots(round_module, True) == legal, f"round {k}: legal_to_fuse differs"
        # end to end: the same options, named alike (legality was once read mid-recording, where
        # the options recorded so far count as users: scan_rnn's matrix-vector dot then lost one)
        assert _dry_graph(round_module, True) == _dry_graph(round_module, False), f"round {k}: dry graphs differ"
        made += len(reference)
    return made


@needs_kernel
@pytest.mark.parametrize("path", bundled_modules(), ids=lambda p: p.name)
def test_kernel_fuses_the_bundled_modules_as_the_reference(path):
    assert _assert_same_fusions(hloenv.load_hlo(path)) > 0


@needs_kernel
@pytest.mark.parametrize("seed", range(40))
def test_kernel_fuses_random_modules_as_the_reference(seed):
    _assert_same_fusions(hloenv.parse_hlo(random_module(seed, 24)).verify(), seed)


@needs_kernel
@pytest.mark.parametrize("path", corpus_params())
def test_kernel_fuses_corpus_modules_as_the_reference(path):
    module = hloenv.load_hlo(path, allow_elided=True)
    _assert_same_fusions(module)


@needs_kernel
def test_the_env_pipeline_uses_the_kernel_on_cpu(monkeypatch):
    calls = []
    real = greedy_kernel.cpu_fusion
    monkeypatch.setattr(greedy_kernel, "cpu_fusion", lambda comp: calls.append(comp) or real(comp))
    env = hloenv.HloEnv(bundled_modules()[0], reward="cost")
    env.reset(seed=0)
    assert calls


def test_without_the_kernel_the_reference_runs(monkeypatch):
    module = _rounds(hloenv.load_hlo(bundled_modules()[0]), 0, rounds=0)[0]
    reference = _clusters(module, False)
    monkeypatch.setattr(greedy_kernel, "_kernel", None)
    assert not greedy_kernel.available() and greedy_kernel.cpu_fusion(module.entry) is None
    assert _clusters(module, True) == reference and reference


def test_switched_off_builds_mean_no_kernel():
    code = "import hloenv.passes.fusion.greedy_kernel as k; print(k.available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=REPO, env={**__import__("os").environ, "HLOENV_NATIVE": "0"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@needs_kernel
def test_the_kernel_reads_a_dry_graph_with_unbuilt_options():
    # (the pass builds every lazy option first; a direct caller may not: the kernel's flags read
    # every fusion's body, and it raised IndexError on an unbuilt one)
    module = hloenv.load_hlo(bundled_modules()[0])
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(module)
    get_pass("fusion")(module, dry=True)
    assert any(i.lazy is not None and not i.lazy.built for i in module.entry.instructions)
    assert _clusters(module, True) == _clusters(module, False)


def _ungated_flags(inst, graph) -> int:
    """`instruction_flags` with every rule asked of every instruction: `instruction_flags` asks
    each only of the opcodes it can hold for (an `elif` chain and opcode sets), for speed."""
    from hloenv.altgraph.opcodes import ELEMENTWISE
    from hloenv.passes.fusion.greedy import screened_for_duplication
    gk = greedy_kernel
    checks = [
        (gk.F_FUSIBLE, fz.is_fusible(inst, graph)),
        (gk.F_LOOP_FUSIBLE, fz.cpu_can_be_loop_fused(inst)),
        (gk.F_ELEMENTWISE, inst.opcode in ELEMENTWISE),
        (gk.F_EXPENSIVE, fz.cpu_is_expensive(inst, graph)),
        (gk.F_LARGE_CONSTANT, not fz.no_large_constant(inst)),
        (gk.F_MV_DOT, fz.is_matrix_vector_dot(inst)),
        (gk.F_SMALL_DOT, inst.opcode == "dot" and inst.shape.rank <= 1),
        (gk.F_BAD_CONCATENATE, not fz.cpu_concatenate_ok(inst, inst, graph)),
        (gk.F_ALWAYS_DUPLICABLE, fz.is_always_duplicable(inst, graph)),
        (gk.F_LOOP_FUSION, fz.is_loop_fusion(inst, graph)),
        (gk.F_SCREENED, screened_for_duplication(inst, graph)),
    ]
    return gk._OPCODE_FLAGS.get(inst.opcode, 0) | sum(flag for flag, holds in checks if holds)


def _assert_flags_need_no_gates(module: hloenv.Module, seed: int = 0) -> int:
    seen = 0
    for k, round_module in enumerate(_rounds(module, seed)):
        for comp in fusion_computations(round_module):
            graph = ClusterGraph(comp)
            for inst in comp.instructions:
                gated = greedy_kernel.instruction_flags(inst, graph)
                assert gated == _ungated_flags(inst, graph), (
                    f"round {k}: {inst.name} ({inst.opcode}): a rule holds for an opcode "
                    "instruction_flags does not ask it of (its gates in greedy_kernel.py)")
                seen += 1
    return seen


# (the flags are Python: these run with or without the kernel)
@pytest.mark.parametrize("path", bundled_modules(), ids=lambda p: p.name)
def test_instruction_flags_gates_skip_only_rules_that_cannot_hold_bundled(path):
    assert _assert_flags_need_no_gates(hloenv.load_hlo(path)) > 0


@pytest.mark.parametrize("seed", range(40))
def test_instruction_flags_gates_skip_only_rules_that_cannot_hold_random(seed):
    _assert_flags_need_no_gates(hloenv.parse_hlo(random_module(seed, 24)).verify(), seed)


@pytest.mark.parametrize("path", corpus_params())
def test_instruction_flags_gates_skip_only_rules_that_cannot_hold_corpus(path):
    _assert_flags_need_no_gates(hloenv.load_hlo(path, allow_elided=True))
