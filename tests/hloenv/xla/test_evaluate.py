from __future__ import annotations

import numpy as np
import pytest

import hloenv
from hloenv.xla import (BackendUnavailable, EvaluationError, UnsupportedOnBackend,
                        XlaBackendError, compare, cost, cost_async, evaluate, make_inputs)

from .conftest import GPU_ONLY, MIXED, MLP, MLP_WRONG, MULTI_OUTPUT_FUSION


def test_evaluate_reports_statistics_and_correct_outputs():
    ev = evaluate(MLP, repeats=7, min_repeats=7, return_outputs=True, cache=False)
    assert ev.sample_count == 7 and ev.warmup_runs == 2
    assert ev.min <= ev.median and ev.iqr >= 0 and ev.compile_time > 0
    assert ev.device.startswith("cpu") and ev.jaxlib_version
    x, w, b = make_inputs(MLP)
    np.testing.assert_allclose(ev.outputs[0], np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_time_budget_stops_repeats_early():
    ev = evaluate(MLP, repeats=10_000, min_repeats=2, time_budget=0.05, cache=False)
    assert 2 <= ev.sample_count < 10_000


def test_module_text_and_path_inputs_agree(tmp_path):
    path = tmp_path / "mlp.hlo"
    path.write_text(MLP)
    outs = [evaluate(src, repeats=1, return_outputs=True, cache=False).outputs[0]
            for src in (MLP, hloenv.parse_hlo(MLP), str(path), path)]
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])


def test_a_folder_or_a_missing_path_says_which(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder: give one HLO file"):
        evaluate(tmp_path)
    with pytest.raises(FileNotFoundError, match="no HLO file at"):
        evaluate(str(tmp_path / "missing.hlo"))


def test_tuple_token_and_mixed_dtypes_run_and_return_flat_outputs():
    ev = evaluate(MIXED, repeats=1, return_outputs=True, cache=False)
    values = make_inputs(MIXED)
    assert [o.dtype.name for o in ev.outputs] == [
        "float32", "int32", "float64", "complex64", "bool", "bfloat16", "uint8", "bool"]
    np.testing.assert_array_equal(ev.outputs[2], values[2] * values[2])  # f64 stayed f64
    np.testing.assert_array_equal(ev.outputs[3], values[3] * values[3])
    np.testing.assert_array_equal(ev.outputs[4], ~values[4])


def test_compare_with_own_printed_text_is_equal_and_wrong_module_is_not():
    m = hloenv.parse_hlo(MLP)
    same = compare(m, m.to_text())
    assert same.equal and same.outputs[0].max_abs_error == 0.0
    diff = compare(MLP, MLP_WRONG)
    assert not diff.equal and diff.outputs[0].mismatches > 0
    assert diff.outputs[0].max_abs_error > 0.1


def test_compare_env_pipeline_against_default_on_prefused_module():
    c = compare(MULTI_OUTPUT_FUSION, MULTI_OUTPUT_FUSION, pipeline="env",
                pipeline_b="xla-default")
    assert c.equal


def test_compare_rejects_different_parameters():
    other = MLP.replace("b = f32[3] parameter(2)", "b2 = f32[3,1] parameter(2)\n  b = f32[3] reshape(b2)")
    with pytest.raises(ValueError, match=r"different parameters: parameter 2 is f32\[3\] in A, f32\[3,1\] in B"):
        compare(MLP, other)  # (the message listed both modules' parameters whole)


def test_cost_is_deterministic_and_counts_the_dot():
    c1 = cost(MLP)
    c2 = cost(hloenv.parse_hlo(MLP).to_text())
    assert c1 == c2
    assert c1.flops >= 2 * 4 * 8 * 3 and c1.bytes_accessed > 0


def test_cost_async_gives_costs_result_and_hands_over_worker_errors(monkeypatch):
    from hloenv.xla import api
    assert cost_async(MLP)() == cost(MLP)

    class FailingPool:
        def submit(self, request, timeout):
            def receive():
                raise EvaluationError("timeout", "no result within 1 s")
            return receive

    monkeypatch.setattr(api, "get_pool", lambda *a, **k: FailingPool())
    monkeypatch.setattr(api, "_COST_MEMO", type(api._COST_MEMO)())
    wait = cost_async(MLP)  # returns at once: the error waits for whoever collects the result
    with pytest.raises(EvaluationError, match="no result"):
        wait()


def test_gpu_without_plugin_is_backend_unavailable():
    with pytest.raises(BackendUnavailable, match="CUDA"):
        evaluate(MLP, backend="gpu")
    # cost() and the env's cost reward gave the CPU's analysis for any backend, "bogus" too
    with pytest.raises(BackendUnavailable, match="CUDA"):
        cost(MLP, "gpu")
    with pytest.raises(BackendUnavailable, match="CUDA"):
        hloenv.HloEnv(MLP, backend="gpu")
    for bad in ("bogus", None, 3):
        with pytest.raises(ValueError, match="unknown backend"):
            cost(MLP, bad)


def test_gpu_only_custom_call_is_unsupported_on_cpu():
    with pytest.raises(UnsupportedOnBackend) as info:
        evaluate(GPU_ONLY, cache=False)
    assert info.value.targets == ("cuda_threefry2x32",)
    assert issubclass(UnsupportedOnBackend, XlaBackendError)
    assert issubclass(EvaluationError, XlaBackendError)


def test_unknown_target_reported_by_xla_becomes_unsupported():
    text = GPU_ONLY.replace("cuda_threefry2x32", "my_vendor_kernel")
    with pytest.raises(UnsupportedOnBackend, match="my_vendor_kernel"):
        evaluate(text, cache=False)


def test_compile_error_is_an_evaluation_error_and_elided_constants_are_refused(tmp_path):
    bad = MLP.replace("f32[4,3] maximum(s, zb)", "f32[4,4] maximum(s, zb)")
    (tmp_path / "bad.hlo").write_text(bad)
    with pytest.raises(hloenv.HloVerifyError, match="bad.hlo: line "):
        compare(tmp_path / "bad.hlo", MLP)
    # text and files are verified first (a probe found `cost` giving figures for such a module)
    for call in (evaluate, cost):
        with pytest.raises(hloenv.HloVerifyError, match="line .*instruction 'r' \\(maximum\\): declared shape f32\\[4,4\\]"):
            call(bad)
    with pytest.raises(EvaluationError) as info:  # a Module is the caller's: XLA's error, led by the verifier's
        evaluate(hloenv.parse_hlo(bad), cache=False)
    assert info.value.status == "compile_error"
    # (XLA's own words named no line: "Failed to parse using StableHLO ..."; the verifier's lead)
    assert info.value.message.startswith("HloVerifyError: line ")
    assert "instruction 'r' (maximum): declared shape f32[4,4]" in info.value.message.splitlines()[0]
    assert "\n(XLA: " in info.value.message
    elided = MLP.replace("constant(0)", "constant({...})")
    with pytest.raises(ValueError, match="elided"):
        evaluate(elided, cache=False)
    line = 1 + elided[:elided.index("constant({...})")].count("\n")
    with pytest.raises(hloenv.HloParseError, match=f"line {line}, col .*elided constant"):  # (was an untyped
        evaluate(elided, cache=False)                                                       # error, no line)


def test_low_noise_mode_pins_one_core_and_single_threaded_eigen():
    ev = evaluate(MLP, low_noise=True, repeats=3, cache=False)
    assert ev.options["xla_options"]["xla_cpu_multi_thread_eigen"] is False
    assert "1 usable core)" in ev.device


def test_f64_precision_compares_raised_modules_and_still_catches_wrong_programs():
    r = compare(MLP, MLP, precision="f64")
    assert r.equal and all(o.dtype == "float64" for o in r.outputs if o.dtype.startswith("float"))
    assert not compare(MLP, MLP_WRONG, precision="f64").equal
    with pytest.raises(ValueError, match="precision"):
        compare(MLP, MLP, precision="f128")


def test_verify_names_the_check_that_passed():
    assert hloenv.xla.verify(MLP, MLP) == "equal"
    assert hloenv.xla.verify(MLP, MLP_WRONG) == ""


@pytest.mark.parametrize("call, error, message", [
    (lambda: hloenv.evaluate(MLP, repeats=-1), ValueError, "repeats must be at least 0, not -1"),  # (ran 0 times: nan ms)
    (lambda: hloenv.evaluate(MLP, warmup=-3), ValueError, "warmup must be at least 0, not -3"),  # (was silently 1)
    (lambda: hloenv.evaluate(MLP, time_budget=-1.0), ValueError, "time_budget must be at least 0"),
    (lambda: hloenv.evaluate(MLP, timeout=0), ValueError, "timeout must be more than 0, not 0"),
    (lambda: hloenv.evaluate(MLP, seed=1.5), TypeError, "seed must be an int, not 1.5"),
    (lambda: hloenv.evaluate(MLP, memory_limit=0), ValueError, "memory_limit must be at least 1"),
    (lambda: hloenv.compare(MLP, MLP, rtol=-1.0), ValueError, "rtol must be at least 0, not -1.0"),  # (all DIFF)
    (lambda: hloenv.compare(MLP, MLP, atol="1e-3"), TypeError, "atol must be a number or None, not '1e-3'"),
])
def test_settings_a_run_cannot_use_are_refused_before_any_work(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_numbers_are_fine_settings():
    ev = hloenv.evaluate(MLP, repeats=np.int64(2), min_repeats=np.int64(1), time_budget=np.float32(0.01), cache=False)
    assert 1 <= len(ev.samples) <= 2


def test_an_alternative_graph_is_refused_before_xla_saying_what_to_do():
    # (XLA's parser failed on it: "Unknown opcode: alternatives")
    from hloenv.altgraph.alternatives import alternatives_nodes
    from hloenv.passes import get_pass
    graph = hloenv.parse_hlo(MLP)
    get_pass("fusion")(graph, dry=True)
    assert alternatives_nodes(graph)
    message = "is an alternative graph .* alternatives nodes.*choose the options first"
    for call in (lambda: hloenv.evaluate(graph), lambda: hloenv.compare(MLP, graph),
                 lambda: hloenv.cost(graph), lambda: hloenv.evaluate(graph.to_text())):
        with pytest.raises(ValueError, match=message):
            call()


def test_files_the_bridge_cannot_read_say_what_they_are(tmp_path):
    from hloenv import HloParseError
    empty, binary, proto = tmp_path / "empty.hlo", tmp_path / "binary.hlo", tmp_path / "mlp.pb"
    empty.write_text("")
    binary.write_bytes(b"\xfb\x00\x01binary")
    from jaxlib import _hlo
    proto.write_bytes(_hlo.hlo_module_from_text(MLP).as_serialized_hlo_module_proto())
    with pytest.raises(HloParseError, match=f"{empty}: .*empty file"):  # (was "IsADirectoryError: . is a folder")
        evaluate(empty)
    with pytest.raises(HloParseError, match=f"{binary}: not UTF-8 text"):  # (was a bare UnicodeDecodeError)
        cost(binary)
    assert cost(proto) == cost(MLP)  # a .pb is an HloModuleProto, as load_hlo reads it


@pytest.mark.parametrize("dtype", ["f8e3m4", "f8e4m3", "f8e8m0fnu", "f4e2m1fn", "s2", "u2"])
def test_parameters_of_every_element_type_jax_makes_can_be_fed(dtype):
    """These six had no numpy type: a module taking one failed in the worker ("no numpy dtype")."""
    text = f"HloModule m\nENTRY e {{\n  p = {dtype}[2] parameter(0)\n  ROOT r = {dtype}[2] add(p, p)\n}}\n"
    assert compare(text, text).equal


def test_a_host_callback_is_refused_not_a_worker_crash():
    """jax.debug.print and pure_callback call a function of the process that traced the module:
    the worker died of SIGSEGV running one."""
    text = ("HloModule cb\nENTRY e {\n  p = f32[3] parameter(0)\n  ROOT cb = f32[3] custom-call(p), "
            'custom_call_target="xla_ffi_python_cpu_callback", api_version=API_VERSION_TYPED_FFI, '
            "backend_config={index = 0 : ui64}\n}\n")
    with pytest.raises(UnsupportedOnBackend, match="xla_ffi_python_cpu_callback .*Python host callback"):
        evaluate(text)


INFEED = """HloModule inf_m
ENTRY e {
  t = token[] after-all()
  i = ((f32[4]), token[]) infeed(t)
  v = (f32[4]) get-tuple-element(i), index=0
  x = f32[4] get-tuple-element(v), index=0
  ROOT n = f32[4] negate(x)
}
"""


def test_a_module_waiting_on_the_host_is_refused_not_left_to_time_out():
    """An infeed waits for data no worker sends: evaluate, compare and an env's has_equal_output
    blocked until the 15-minute timeout (found by a user probe)."""
    from hloenv.dataset.tags import module_tags
    for call in (lambda: evaluate(INFEED, cache=False), lambda: compare(INFEED, INFEED),
                 lambda: hloenv.HloEnv(INFEED).has_equal_output()):
        with pytest.raises(UnsupportedOnBackend, match="needs infeed .*no evaluation worker") as info:
            call()
        assert info.value.targets == ("infeed",)
    tags = module_tags(hloenv.parse_hlo(INFEED))
    assert tags["backends"] == () and tags["unsupported"]["cpu"] == ("infeed",)


def test_a_module_drawing_new_random_values_every_run_is_not_compared():
    """XLA's rng op draws anew on every run: such a module was 'unequal' to itself."""
    text = ("HloModule rng\nENTRY e {\n  lo = f32[] constant(0)\n  hi = f32[] constant(1)\n"
            "  ROOT r = f32[3] rng(lo, hi), distribution=rng_uniform\n}\n")
    with pytest.raises(ValueError, match="uses rng \\(r\\), whose values XLA draws anew on every run"):
        compare(text, text)


def test_a_module_calling_a_computation_defined_after_it_runs():
    """Our parser reads callees in any order, XLA's wants them first ("computation does not
    exist: add"): text in another order is compiled as we print it (found by a user probe)."""
    later = ("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n  r = f32[] constant(0)\n"
             "  ROOT s = f32[] reduce(p, r), dimensions={0}, to_apply=add\n}\n\n"
             "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] add(a, b)\n}\n")
    out = evaluate(later, cache=False, return_outputs=True, repeats=1, min_repeats=1)
    assert out.outputs is not None and compare(later, later).equal
    assert cost(later).flops > 0
