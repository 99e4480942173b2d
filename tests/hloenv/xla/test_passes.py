from __future__ import annotations

import pytest

from hloenv.xla import ENV_DISABLED_PASSES, evaluate
from hloenv.xla.api import xla_overrides
from hloenv.xla.passes import ENV_XLA_OPTIONS, known_pass_names, pass_table, validate_pass_names
from hloenv.altgraph import parse_hlo

from .conftest import MLP, MULTI_OUTPUT_FUSION


def test_table_records_the_pinned_jaxlib_and_core_passes():
    from importlib.metadata import version
    assert pass_table()["jaxlib"] == version("jaxlib")
    assert {"algsimp", "cse", "fusion", "layout-assignment", "dce"} <= known_pass_names()


def test_env_pipeline_names_exist_in_the_table():
    assert set(ENV_DISABLED_PASSES) <= known_pass_names()


def test_unknown_pass_name_is_a_value_error_with_close_matches():
    with pytest.raises(ValueError, match=r"'algsimpp'.*'algsimp'"):
        validate_pass_names(["algsimpp"])
    with pytest.raises(ValueError, match="constant-folding"):
        evaluate(MLP, disable_passes=["constant-folding"], cache=False)


def test_misspelled_name_inside_raw_xla_option_is_caught_too():
    with pytest.raises(ValueError, match="fusoin"):
        evaluate(MLP, xla_options={"xla_disable_hlo_passes": "cse,fusoin"}, cache=False)


def test_pipelines_and_fused_modules_choose_the_disabled_passes():
    plain, fused = parse_hlo(MLP), parse_hlo(MULTI_OUTPUT_FUSION)
    assert xla_overrides(plain, "xla-default", None, None, False) == []
    env = dict(xla_overrides(plain, "env", None, ["dce"], True))
    assert env["xla_disable_hlo_passes"].split(",") == sorted({*ENV_DISABLED_PASSES, "dce"})
    assert env["xla_cpu_multi_thread_eigen"] is False
    # A module with fusion decisions reaches XLA as fenced regions: XLA's own fusion pass must
    # stay on to build the kernels, and layout assignment is never switched off.
    assert xla_overrides(fused, "xla-default", None, None, False) == []
    assert ENV_DISABLED_PASSES == ("fusion",)
    # ...and the passes that would undo the fences stay off (see FUSED_MODULE_DISABLED_PASSES)
    assert dict(xla_overrides(fused, "env", None, None, False)) == {
        **ENV_XLA_OPTIONS, "xla_disable_hlo_passes": "cse_barrier_expander,small-while-loop-hoisting"}
    with pytest.raises(ValueError, match="pipeline"):
        xla_overrides(plain, "fast", None, None, False)


def test_env_pipeline_keeps_xla_library_fusions_of_single_instructions_only():
    """Fusions XLA's CPU library rewriter grows from reduces are decisions the agent does not make
    (and cut by fences they computed wrong values on haiku's mobilenet): off in "env", with and
    without fusion decisions; "xla-default" keeps XLA's own setting; a user's option wins."""
    plain, fused = parse_hlo(MLP), parse_hlo(MULTI_OUTPUT_FUSION)
    key = "xla_cpu_experimental_ynn_fusion_type"
    for module in (plain, fused):
        kinds = dict(xla_overrides(module, "env", None, None, False))[key].split(",")
        assert kinds == ["LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT", "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION"]
        assert key not in dict(xla_overrides(module, "xla-default", None, None, False))
    mine = {key: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}
    assert dict(xla_overrides(plain, "env", mine, None, False))[key] == "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"


FENCED = """HloModule fenced

fused_exp_mul {
  a = f32[1024] parameter(0)
  b = f32[1024] parameter(1)
  e = f32[1024] exponential(a)
  ROOT m = f32[1024] multiply(e, b)
}

ENTRY main {
  p = f32[1024] parameter(0)
  q = f32[1024] parameter(1)
  f = f32[1024] fusion(p, q), kind=kLoop, calls=fused_exp_mul
  ROOT t = f32[1024] tanh(f)
}
"""


def _xla_fusions(text: str, overrides: list) -> list[set[str]]:
    """The opcodes inside each fusion of XLA's optimized module (compiled in this process: a tiny
    module XLA is known to compile)."""
    import jax
    from hloenv.xla.worker import compile_on
    exe = compile_on(jax.devices("cpu")[0], text, overrides)
    optimized = parse_hlo(exe.hlo_modules()[0].to_string())
    return [{i.opcode for i in inst.called["calls"][0].instructions} for c in optimized.computations
            for inst in c.instructions if inst.opcode == "fusion"]


def test_xla_fuses_only_inside_the_fenced_regions_of_a_fused_module():
    # jaxlib 0.10.2's cse_barrier_expander deletes opt-barriers before XLA's fusion runs: left on,
    # `tanh` (outside the decided fusion) was fused with exp and multiply into one kernel
    from hloenv.altgraph.lowering import lower_fusions
    module = parse_hlo(FENCED)
    overrides = xla_overrides(module, "env", None, None, False)
    assert "cse_barrier_expander" in dict(overrides)["xla_disable_hlo_passes"].split(",")
    lowered = lower_fusions(module).to_text()
    fusions = _xla_fusions(lowered, overrides)
    assert any({"exponential", "multiply"} <= ops for ops in fusions)  # the decided fusion is built
    assert not any("tanh" in ops and "exponential" in ops for ops in fusions)
    # and what the barrier expander did: one fusion across the fence
    assert any({"exponential", "tanh"} <= ops for ops in _xla_fusions(lowered, []))
    assert float(evaluate(module, pipeline="env", cache=False).median) > 0
