from __future__ import annotations

import pytest

from hloenv.xla import ENV_DISABLED_PASSES, evaluate
from hloenv.xla.api import xla_overrides
from hloenv.xla.passes import known_pass_names, pass_table, validate_pass_names
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
    assert xla_overrides(fused, "env", None, None, False) == []
    with pytest.raises(ValueError, match="pipeline"):
        xla_overrides(plain, "fast", None, None, False)
