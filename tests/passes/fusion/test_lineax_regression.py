"""Regression: fusion decisions that XLA used to mis-compile when handed pre-built fusions.

The lineax module's `squeeze.2` fusion (a dynamic-slice of while-loop state plus a reshape) changed
output 0 by ~2e-3 when the fused module was compiled with layout assignment off, and aborted XLA
with it on. The cause was the compile path, not the rewrite: decisions now reach XLA as fenced
regions (`hloenv.altgraph.lowering`). Run with `pytest -m slow tests/passes/fusion/test_known_issues.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hloenv
from hloenv.altgraph.alternatives import alternative_site, alternatives_nodes, select
from hloenv.passes import get_pass
from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
from hloenv.passes.fusion import xla_like_choices

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
LINEAX = CORPUS / "harvested" / "lineax__gmres_and_cg_solves.hlo.txt"


@pytest.mark.slow
@pytest.mark.skipif(not LINEAX.exists(), reason=f"corpus not found at {CORPUS}")
def test_lineax_single_xla_fusion_decision_keeps_outputs():
    base = hloenv.load_hlo(LINEAX)
    DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(base)
    reference = base.to_text()
    dry = base.clone()
    get_pass("fusion")(dry, dry=True)
    xla = xla_like_choices(dry)
    nodes = alternatives_nodes(dry)
    choices = [pick if alternative_site(node) == "squeeze.2" else 0 for node, pick in zip(nodes, xla)]
    assert any(choices)
    select(dry, choices)
    assert hloenv.compare(reference, dry.to_text(), pipeline="env", pipeline_b="env").equal
