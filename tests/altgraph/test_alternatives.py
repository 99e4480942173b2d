"""The alternative graph: alternatives nodes print/parse, select reroutes, prune cleans up."""

from __future__ import annotations

import numpy as np
import pytest

from hloenv import load_hlo, parse_hlo
from hloenv.altgraph.alternatives import (alternative_id, alternatives_nodes, merge_identical_options, prune,
                                          select)
from hloenv.passes import get_pass

DUPLICATES = """HloModule m
ENTRY e {
  p = f32[4] parameter(0)
  a = f32[4] exponential(p)
  b = f32[4] exponential(p)
  c = f32[4] add(a, b)
  d = f32[4] add(a, b)
  ROOT r = f32[4] multiply(c, d)
}
"""


def dry_cse(text: str = DUPLICATES):
    m = parse_hlo(text)
    get_pass("cse")(m, dry=True)
    return m


def test_alternatives_print_parse_and_keep_identity():
    m = dry_cse()
    nodes = alternatives_nodes(m)
    assert [alternative_id(n) for n in nodes] == ["e/b:original;cse", "e/d:original;cse"]
    again = parse_hlo(m.to_text())
    assert [alternative_id(n) for n in alternatives_nodes(again)] == [alternative_id(n) for n in nodes]
    assert [alternative_id(n) for n in alternatives_nodes(m.clone())] == [alternative_id(n) for n in nodes]
    assert again.fingerprint() == m.fingerprint()


def test_select_original_restores_the_module():
    m = dry_cse()
    select(m, [0, 0])
    assert m.fingerprint() == parse_hlo(DUPLICATES).fingerprint()


def test_select_rewrites_and_prunes():
    m = dry_cse()
    select(m, [1, 1])
    text = m.to_text()
    assert "b = " not in text and "d = " not in text and "alternatives" not in text
    assert "c = f32[4] add(a, a)" in text and "ROOT r = f32[4] multiply(c, c)" in text
    m.verify()


def test_select_by_mapping_and_errors():
    m = dry_cse()
    select(m, {"e/d:original;cse": 1})
    assert "multiply(c, c)" in m.to_text() and "add(a, b)" in m.to_text()
    m = dry_cse()
    with pytest.raises(ValueError, match="expected 2 choices"):
        select(m, [1])
    with pytest.raises(ValueError, match="out of range for alternatives"):
        select(m, [0, 2])
    with pytest.raises(ValueError, match="choices name no alternatives node: 'e/d:orignal;cse'"):
        select(m, {"e/d:orignal;cse": 1})  # a typo was ignored silently (the original kept)
    for bad in ("1", None, True, 0.5):
        with pytest.raises(ValueError, match="is not an option index"):
            select(dry_cse(), [0, bad])
    select(dry_cse(), [np.int64(0), 1.0])  # numpy integers and whole floats are indices
    m = dry_cse()
    node = next(n for n in alternatives_nodes(m) if alternative_id(n) == "e/d:original;cse")
    with pytest.raises(ValueError, match=f"choices name alternatives node {node.name} twice, by name and as 'e/d"):
        select(m, {node.name: 1, "e/d:original;cse": 0})  # (the name's index won without a word)
    for bad in (None, "10", 3):  # (None and 3: "not iterable"; "10": two choices, '1' and '0')
        with pytest.raises(TypeError, match="choices must be a sequence of option indices .* or a mapping"):
            select(dry_cse(), bad)


def test_merge_identical_options_keeps_the_original_and_distinct_rewrites():
    m = dry_cse()
    node = alternatives_nodes(m)[0]
    node.operands.append(node.operands[1])  # the same option twice
    node.set_attr("hloenv_rules", '"original;cse;cse-again"')
    assert merge_identical_options(m) == 1
    # cse's option is structurally equal to the original, but choosing it changes the graph
    assert [len(n.operands) for n in alternatives_nodes(m)] == [2, 2]


TWINS = """HloModule m
fa {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}
fb {
  y = f32[4] parameter(0)
  ROOT m = f32[4] negate(y)
}
fc {
  z = f32[4] parameter(0)
  ROOT a = f32[4] abs(z)
}
ENTRY e {
  p = f32[4] parameter(0)
  e1 = f32[4] exponential(p)
  e2 = f32[4] exponential(p)
  orig = f32[4] negate(e1)
  t1 = f32[4] fusion(e1), kind=kLoop, calls=fa
  t2 = f32[4] fusion(e2), kind=kLoop, calls=fb
  t3 = f32[4] fusion(e1), kind=kLoop, calls=fc
  alt = f32[4] alternatives(orig, t1, t2, t3), hloenv_site="orig", hloenv_rules="original;r1;r2;r3"
  ROOT r = f32[4] add(alt, alt)
}
"""


def test_merge_finds_twins_built_separately_and_keeps_look_alikes():
    # t1 and t2 are different objects over different (but identical) operands, calling different
    # (but identical) computations: one is dropped. t3 looks alike at the top (a one-operand
    # fusion of the same shape) but computes abs: it stays.
    m = parse_hlo(TWINS)
    assert merge_identical_options(m) == 1
    node = alternatives_nodes(m)[0]
    assert [o.name for o in node.operands] == ["orig", "t1", "t3"]
    assert node.attrs["hloenv_rules"] == '"original;r1;r3"'
    stats = prune(m)
    assert stats.computations == 1 and "fb" not in m.to_text()


def test_look_alike_options_over_different_constants_are_told_apart_unbuilt():
    # fusing either constant into the shift: equal keys (a one-operand fusion reading a u32[]
    # constant, the same body opcodes), different literals a level down: distinct without
    # building (and hashing) the bodies
    from hloenv.altgraph.lazy import is_unbuilt
    m = parse_hlo("HloModule m\nENTRY e {\n  a = u32[] constant(7)\n  b = u32[] constant(3)\n"
                  "  ROOT s = u32[] shift-right-logical(a, b)\n}\n")
    get_pass("fusion")(m, dry=True)
    options = alternatives_nodes(m)[0].operands[1:]
    assert len(options) == 2 and all(is_unbuilt(o) for o in options)
    assert merge_identical_options(m) == 0
    assert all(is_unbuilt(o) for o in options)


def test_merge_resolves_a_node_whose_only_rewrite_is_the_original():
    m = dry_cse()
    node = alternatives_nodes(m)[0]
    node.operands[1].users.remove(node)
    node.operands[1] = node.operands[0]
    assert merge_identical_options(m) == 1
    assert len(alternatives_nodes(m)) == 1 and "alternatives(b" not in m.to_text()


def test_prune_removes_dead_code_fused_parameters_and_computations():
    text = """HloModule m
unused {
  ROOT q = f32[] parameter(0)
}
fused {
  x = f32[4] parameter(0)
  y = f32[4] parameter(1)
  ROOT n = f32[4] negate(y)
}
ENTRY e {
  p = f32[4] parameter(0)
  p1 = f32[4] parameter(1)
  dead = f32[4] abs(p)
  ROOT f = f32[4] fusion(p, p1), kind=kLoop, calls=fused
}
"""
    m = parse_hlo(text)
    stats = prune(m)
    assert (stats.instructions, stats.fused_parameters, stats.computations) == (1, 1, 1)
    out = m.to_text()
    assert "fusion(p1), kind=kLoop" in out and "y = f32[4] parameter(0)" in out and "unused" not in out
    m.verify()


def test_dead_code_found_from_the_unused_end_is_what_a_walk_from_the_root_leaves():
    """`remove_dead_instructions` follows dead code back from its unused ends; on every bundled
    module's dry fusion graph, with the last option selected and nothing pruned (the originals and
    what only they read are dead), it finds what a walk from the root, parameters and side effects
    leaves unreached."""
    from hloenv.altgraph.alternatives import _dead_by_cascade, _dead_by_walk
    from hloenv.passes.env_pipeline import DEFAULT_ENV_PIPELINE
    from tests.conftest import bundled_modules
    found = 0
    for path in bundled_modules():
        graph = load_hlo(path)
        DEFAULT_ENV_PIPELINE.canonicalize_pipeline()(graph)
        get_pass("fusion")(graph, dry=True)
        nodes = alternatives_nodes(graph)
        select(graph, [len(n.operands) - 1 for n in nodes], prune_after=False)  # originals left dead
        for comp in graph.computations:
            unused = [i for i in comp.instructions if not i.users and i is not comp.root and i.opcode != "parameter"]
            dead = _dead_by_walk(comp)
            assert _dead_by_cascade(comp, unused) == dead, (path.name, comp.name)
            found += len(dead)
    assert found > 0
