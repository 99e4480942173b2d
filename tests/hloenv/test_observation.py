"""build_observation: every array checked against the module it describes, node by node."""

from __future__ import annotations

import numpy as np

from hloenv.altgraph import parse_hlo
from hloenv.altgraph.opcodes import OPCODE_IDS
from hloenv.observation import EDGE_FEATURES, NODE_FEATURES, OBSERVATION_KEYS, build_observation

GRAPH = """HloModule obs

fused_exp {
  a = f32[4]{0} parameter(0)
  ROOT e = f32[4]{0} exponential(a)
}

fused_neg_exp {
  b = f32[4]{0} parameter(0)
  x = f32[4]{0} exponential(b)
  ROOT n = f32[4]{0} negate(x)
}

ENTRY main {
  p = f32[4]{0} parameter(0)
  q = s32[2,3]{1,0} parameter(1)
  e1 = f32[4]{0} exponential(p)
  orig = f32[4]{0} negate(e1)
  t1 = f32[4]{0} fusion(p), kind=kLoop, calls=fused_neg_exp
  alt = f32[4]{0} alternatives(orig, t1), hloenv_site="orig", hloenv_rules="original;fusion:xla"
  f = f32[4]{0} fusion(alt), kind=kLoop, calls=fused_exp
  ROOT r = (f32[4]{0}, s32[2,3]{1,0}) tuple(f, q)
}
"""

COL = {name: k for k, name in enumerate(NODE_FEATURES)}
ECOL = {name: k for k, name in enumerate(EDGE_FEATURES)}


def test_nodes_edges_and_options_match_the_module():
    module = parse_hlo(GRAPH)
    obs = build_observation(module)
    assert set(obs) == set(OBSERVATION_KEYS)
    insts = [i for c in module.computations for i in c.instructions]
    ids = {id(i): k for k, i in enumerate(insts)}
    names = [i.name for i in insts]
    x = obs["x"]
    assert x.shape == (len(insts), len(NODE_FEATURES))
    assert obs["node_opcode"].tolist() == [OPCODE_IDS[i.opcode] for i in insts]
    comp_of = [c for c, comp in enumerate(module.computations) for _ in comp.instructions]
    assert obs["node_computation"].tolist() == comp_of
    for k, inst in enumerate(insts):
        assert x[k, COL["num_operands"]] == len(inst.operands)
        assert x[k, COL["num_users"]] == len(inst.users)
        assert x[k, COL["is_root"]] == (inst is inst.parent.root)
        assert x[k, COL["in_fusion"]] == (not inst.parent.is_entry)  # both sub-computations are fused
        assert x[k, COL["is_alternatives"]] == (inst.opcode == "alternatives")
        assert x[k, COL["is_parameter"]] == (inst.opcode == "parameter")
    q = names.index("q")
    assert x[q, COL["rank"]] == 2 and x[q, COL["dim0"]] == 2 and x[q, COL["dim1"]] == 3
    assert x[q, COL["log2_elements"]] == np.float32(np.log2(7))
    assert x[names.index("r"), COL["is_tuple"]] == 1

    # operand edges: producer -> user with the operand position; then call edges (root -> caller)
    edges = list(zip(obs["edge_index"][0].tolist(), obs["edge_index"][1].tolist(), obs["edge_attr"].tolist()))
    operand_edges = [(ids[id(op)], k, float(pos)) for k, inst in enumerate(insts)
                     for pos, op in enumerate(inst.operands)]
    assert [(s, d, a[ECOL["operand_position"]]) for s, d, a in edges[:len(operand_edges)]] == operand_edges
    calls = [(s, d) for s, d, a in edges[len(operand_edges):]]
    assert sorted(calls) == sorted([(names.index("n"), names.index("t1")), (names.index("e"), names.index("f"))])
    assert all(a[ECOL["is_call_edge"]] == 1 and a[ECOL["operand_position"]] == -1
               for _, _, a in edges[len(operand_edges):])
    for s, _, a in edges:
        assert a[ECOL["log2_bytes"]] == x[s, COL["log2_bytes"]] and a[ECOL["dtype"]] == x[s, COL["dtype"]]

    assert obs["alternative_index"].tolist() == [names.index("alt")]
    assert obs["option_count"].tolist() == [2]
    assert obs["option_index"].tolist() == [names.index("orig"), names.index("t1")]
    assert obs["option_alternative"].tolist() == [0, 0]
    assert obs["option_xla"].tolist() == [0.0, 1.0]


def test_a_module_without_alternatives_or_edges():
    obs = build_observation(parse_hlo("HloModule one\n\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n"))
    assert obs["x"].shape == (1, len(NODE_FEATURES)) and obs["edge_index"].shape == (2, 0)
    assert obs["alternative_index"].size == 0 and obs["option_xla"].size == 0


def test_frozen_computations_are_observed_like_any_other():
    """A step's program shares frozen fused computations (`hloenv.altgraph.sharing`), whose part
    of the observation is kept: the arrays equal those of a plain copy, every time."""
    from hloenv.altgraph.alternatives import alternatives_nodes, prune
    from hloenv.altgraph.selected import selected_copy
    from hloenv.altgraph.sharing import FUSED_AND_CALLEES
    from hloenv.passes import get_pass
    from tests.conftest import DATA
    from hloenv import load_hlo
    module = load_hlo(DATA / "transformer_block.hlo")
    graph = module.clone()
    checked = 0
    for round_ in range(3):  # each copy is chosen from a graph made in the last copy itself
        get_pass("fusion")(graph, dry=True)
        prune(graph)
        nodes = alternatives_nodes(graph)
        if round_ and any(c.memo is not None for c in graph.computations):
            plain = graph.clone()  # (a deep copy: nothing frozen in it)
            assert all(c.memo is None for c in plain.computations)
            want = build_observation(plain)
            for _ in range(2):  # the second time from the kept parts
                got = build_observation(graph)
                assert all(np.array_equal(got[k], want[k]) and got[k].dtype == want[k].dtype for k in want)
            checked += 1
        graph = selected_copy(graph, [len(n.operands) - 1 for n in nodes], nodes=nodes, share=FUSED_AND_CALLEES)
    assert checked == 2 and any(c.holders >= 2 for c in graph.computations)


def test_kept_blocks_are_renumbered_when_the_shape_table_is_replaced(monkeypatch):
    """The shape-feature table starts afresh when full; kept blocks numbered in the old one are
    renumbered, so the arrays do not change (a table of one row: replaced all the time)."""
    import hloenv.observation as observation
    monkeypatch.setattr(observation, "MAX_SHAPE_ROWS", 1)
    test_frozen_computations_are_observed_like_any_other()
