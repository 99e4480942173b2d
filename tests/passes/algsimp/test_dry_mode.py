"""algsimp in dry mode: alternatives are recorded, operands that are alternatives stay opaque,
and every choice computes the same outputs."""

from __future__ import annotations

from hloenv import compare, parse_hlo
from hloenv.altgraph.alternatives import alternatives_nodes, option_rules, select
from hloenv.passes.algsimp import AlgebraicSimplifier

TEXT = """HloModule dry

ENTRY e {
  x = f32[4,1] parameter(0)
  w = f32[1,3] parameter(1)
  zc = f32[] constant(0)
  z = f32[4,3] broadcast(zc), dimensions={}
  d = f32[4,3] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  s = f32[4,3] add(d, z)
  two = f32[] constant(2)
  t = f32[4,3] broadcast(two), dimensions={}
  p = f32[4,3] power(s, t)
  n1 = f32[4,3] negate(p)
  n2 = f32[4,3] negate(n1)
  ROOT r = f32[4,3] subtract(n2, z)
}
"""


def test_dry_run_records_alternatives_and_keeps_the_original():
    module = parse_hlo(TEXT)
    before = module.fingerprint()
    result = AlgebraicSimplifier()(module, dry=True)
    nodes = alternatives_nodes(module)
    rules = sorted(rule for node in nodes for rule in option_rules(node)[1:])
    assert rules == ["add-zero", "dot-to-multiply", "negate-negate", "power-two", "subtract-zero"]
    assert result.dry and result.rewrites == 5
    module.verify()
    again = parse_hlo(module.to_text())  # alternatives print and parse
    assert len(alternatives_nodes(again)) == 5
    select(module, [0] * len(nodes))
    assert module.fingerprint() == before


def test_alternatives_operands_are_opaque():
    # n2 = negate(negate(x)) is offered; n3 then reads an alternatives node, which no rule looks into.
    module = parse_hlo("""HloModule m
ENTRY e {
  x = f32[4] parameter(0)
  n1 = f32[4] negate(x)
  n2 = f32[4] negate(n1)
  ROOT n3 = f32[4] negate(n2)
}
""")
    AlgebraicSimplifier()(module, dry=True)
    nodes = alternatives_nodes(module)
    assert len(nodes) == 1 and nodes[0].operands[0].name == "n2"


def test_every_choice_computes_the_same():
    original = parse_hlo(TEXT)
    rewritten = parse_hlo(TEXT)
    AlgebraicSimplifier()(rewritten, dry=True)
    select(rewritten, [len(n.operands) - 1 for n in alternatives_nodes(rewritten)])
    text = rewritten.to_text()
    assert "dot(" not in text and "power(" not in text and "negate(" not in text
    assert compare(original, rewritten).equal
