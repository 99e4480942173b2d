"""RecordingRewriter: options recorded as alternatives, cycle checks on a rank map kept up to date."""

from __future__ import annotations

import pytest

from hloenv import parse_hlo
from hloenv.altgraph.opcodes import ALTERNATIVES
from hloenv.altgraph.shape import parse_shape
from hloenv.passes.rewriter import RecordingRewriter, Rewriter

TWO_CHAINS = """HloModule m

ENTRY e {
  p = f32[8] parameter(0)
  q = f32[8] parameter(1)
  a = f32[8] negate(p)
  b = f32[8] exponential(a)
  u = f32[8] add(a, p)
  q1 = f32[8] negate(q)
  q2 = f32[8] exponential(q1)
  q3 = f32[8] negate(q2)
  q4 = f32[8] exponential(q3)
  ROOT r = (f32[8], f32[8], f32[8]) tuple(b, u, q4)
}
"""


def test_a_reroute_through_a_deeper_option_raises_user_ranks_instead_of_dropping_the_map():
    module = parse_hlo(TWO_CHAINS)
    comp = module.entry
    rw = RecordingRewriter(module)
    a, b, u, q4 = (comp.instruction(n) for n in ("a", "b", "u", "q4"))
    assert not rw._depends_on_any(comp, a, [u])  # builds the rank map
    position = rw._position[id(comp)]
    assert position[b] < position[q4]
    # an option for `a` as deep as the other chain: the alternatives node ranks above b and u
    option = rw.create(comp, "add", a.shape, [p := comp.instruction("p"), q4])
    assert p is not None and rw.replace(a, option, "test")
    assert id(comp) in rw._position  # repaired, not dropped (dropping meant an O(N) rebuild)
    position = rw._position[id(comp)]
    assert all(position[op] <= position[i] for i in comp.instructions for op in i.operands)
    alt = next(i for i in comp.instructions if i.opcode == ALTERNATIVES)
    assert position[b] >= position[alt] and position[u] >= position[alt]
    assert rw._depends_on_any(comp, comp.root, [alt])  # the answers stay exact
    assert rw._depends_on_any(comp, b, [q4])
    assert not rw._depends_on_any(comp, q4, [alt])


@pytest.mark.parametrize("rewriter", [Rewriter, RecordingRewriter])
def test_a_replacement_of_another_shape_is_refused_naming_the_rule(rewriter):
    """(a user's rule replaced an f32[8] value by an f32[] constant: accepted, and the cost reward
    then rewarded a module XLA cannot compile)"""
    module = parse_hlo(TWO_CHAINS)
    comp = module.entry
    rw = rewriter(module)
    a = comp.instruction("a")
    scalar = rw.constant(comp, parse_shape("f32[]"), "2")
    with pytest.raises(ValueError, match=r"rule 'wrong-shape' replaced 'a' \(negate, f32\[8\]\) in computation "
                                         r"'e' by 'constant(\.\d+)?' \(constant, f32\[\]\): a replacement must "
                                         r"have its site's shape"):
        rw.replace(a, scalar, "wrong-shape")
    transposed = rw.create(comp, "negate", parse_shape("s32[8]"), [comp.instruction("p")])
    with pytest.raises(ValueError, match=r"by 'negate(\.\d+)?' \(negate, s32\[8\]\)"):
        rw.replace(a, transposed, "wrong-type")
    assert [u.name for u in a.users] == ["b", "u"]  # nothing rerouted
    laid_out = rw.create(comp, "negate", parse_shape("f32[8]{0}"), [comp.instruction("p")])
    assert rw.replace(a, laid_out, "layout-only")  # (a layout is not a different value)


def test_create_needs_a_shape():
    module = parse_hlo(TWO_CHAINS)
    with pytest.raises(TypeError, match="shape must be a Shape .* not None"):
        Rewriter(module).create(module.entry, "add", None, [])
