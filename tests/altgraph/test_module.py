"""Module-level API: clone, call graph, edits through instructions, networkx, .pb loading."""

from __future__ import annotations

from jaxlib import _hlo

from hloenv import load_hlo, parse_hlo
from tests.altgraph.test_parser import OLD_STYLE
from tests.conftest import DATA


def test_clone_shares_nothing_mutable():
    m = parse_hlo(OLD_STYLE)
    c = m.clone()
    assert c.to_text() == m.to_text()
    red = c.entry.instruction("reduce.8")
    assert red is not m.entry.instruction("reduce.8")
    assert red.called["to_apply"][0] is c.computation("add_computation.3")
    assert red.operands[0] is c.entry.instruction("parameter.1")
    assert c.entry.instruction("parameter.1").users == [red]
    red.set_attr("dimensions", "{0}")
    assert m.entry.instruction("reduce.8").attrs["dimensions"] == "{1}"


def test_replace_all_uses_keeps_users_consistent():
    m = parse_hlo("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n  a = f32[4] negate(p)\n"
                  "  b = f32[4] abs(p)\n  ROOT r = f32[4] add(a, a)\n}\n")
    a, b, r = (m.entry.instruction(n) for n in "abr")
    a.replace_all_uses_with(b)
    assert r.operands == [b, b] and a.users == [] and b.users == [r]
    m.entry.remove(a)
    assert "negate" not in m.to_text()
    assert m.entry.post_order()[-1] is r


def test_networkx_view():
    m = parse_hlo(OLD_STYLE)
    g = m.to_networkx()
    assert g.number_of_nodes() == m.instruction_count
    assert g.number_of_edges() == sum(len(i.operands) for i in m.instructions())
    node = g.nodes["jit_f.9/reduce.8"]
    assert node["opcode"] == "reduce" and node["called"] == ["add_computation.3"]
    assert {d["operand"] for _, _, d in g.in_edges("jit_f.9/reduce.8", data=True)} == {0, 1}


def test_load_hlo_module_proto(tmp_path):
    text = (DATA / "mlp_train_step.hlo").read_text()
    proto = _hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()
    path = tmp_path / "mlp.pb"
    path.write_bytes(proto)
    from_proto = load_hlo(path)
    assert from_proto.instruction_count == parse_hlo(text).instruction_count
    assert from_proto.fingerprint() == parse_hlo(text).fingerprint()


def test_opcode_histogram_and_callers():
    m = parse_hlo(OLD_STYLE)
    assert m.opcode_histogram()["parameter"] == 4
    assert [i.name for i in m.callers()["add_computation.3"]] == ["reduce.8"]


def test_modules_pickle_and_deepcopy_through_their_text():
    import copy
    import pickle
    from hloenv.altgraph.alternatives import alternatives_nodes
    from hloenv.passes import get_pass
    module = load_hlo(DATA / "transformer_block.hlo")
    graph = module.clone()
    get_pass("fusion")(graph, dry=True)  # alternatives nodes and lazy options travel too
    for original in (module, graph):
        for copied in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original)):
            assert copied is not original
            assert copied.to_text() == original.to_text()
            assert copied.fingerprint() == original.fingerprint()
    assert len(alternatives_nodes(pickle.loads(pickle.dumps(graph)))) == len(alternatives_nodes(graph)) > 0
