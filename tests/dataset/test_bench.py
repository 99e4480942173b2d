"""`hloenv bench`: tables, plots, failures as rows, resume, and Ray giving the same table."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hloenv
from hloenv.dataset.bench import TABLE_COLUMNS, BenchJob, run_job
from hloenv.dataset.pipeline_check import available_pipeline, drop_passes
from hloenv.dataset.tables import AGENTS_CSV, AGENTS_MD, RESULTS, TABLE_CSV, TABLE_JSON
from hloenv.passes.env_pipeline import EnvPipeline
from tests.conftest import DATA
from tests.dataset.helpers import GPU_ONLY, NEG

BUNDLED = ("convnet_forward.hlo", "scan_rnn.hlo")  # the two smallest bundled modules


@pytest.fixture(scope="module")
def bench_setup(tmp_path_factory):
    """A dataset of 2 bundled modules, a GPU-only module and a broken file; a private cache."""
    root = tmp_path_factory.mktemp("bench")
    ds = root / "ds"
    ds.mkdir()
    for name in BUNDLED:
        shutil.copy(DATA / name, ds / name)
    (ds / "gpu_only.hlo").write_text(GPU_ONLY)
    (ds / "broken.hlo").write_text("HloModule m\nENTRY e {\n  ROOT r = f32[4] frobnicate()\n}\n")
    env = dict(os.environ, HLOENV_CACHE_DIR=str(root / "cache"))
    return ds, root, env


def _bench(ds: Path, out: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "hloenv", "bench", str(ds), "--agent", "xla", "--out", str(out),
                           *extra], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def local_run(bench_setup):
    """`hloenv bench --limit 1` (a run killed after its first module), then the full run resuming
    it (in this process, to save a second start-up)."""
    from hloenv.dataset.runner import run_bench
    ds, root, env = bench_setup
    out = root / "out"
    first = _bench(ds, out, env, "--limit", "1")
    first_lines = (out / RESULTS).read_text().splitlines()
    lines: list[str] = []
    report = run_bench(ds, "xla", out, cache_dir=root / "cache", log=lines.append)
    return out, first, first_lines, "\n".join(lines), report


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_bench_writes_complete_tables_and_plots(local_run):
    out, _, _, second, report = local_run
    assert report.computed == 2 and report.reused == 1
    rows = _csv(out / TABLE_CSV)
    assert list(rows[0]) == list(TABLE_COLUMNS)
    by_module = {r["module"]: r for r in rows}
    assert set(by_module) == {"convnet_forward", "scan_rnn", "gpu_only", "broken.hlo"}
    for name in ("convnet_forward", "scan_rnn"):
        r = by_module[name]
        assert r["status"] == "ok", r
        xla, mine, speedup = float(r["xla_default_runtime"]), float(r["agent_runtime"]), float(r["speedup"])
        low, high = float(r["speedup_low"]), float(r["speedup_high"])  # (the paired timing's 90% interval)
        assert xla > 0 and mine > 0 and 0 < low <= speedup <= high  # (the median of the pairs' ratios)
        assert int(r["instructions"]) > 0 and int(r["agent_instructions"]) > 0
    results = {r["module"]: r for r in map(json.loads, (out / RESULTS).read_text().splitlines())}
    for name in ("convnet_forward", "scan_rnn"):  # the agent's module is kept beside the tables
        saved = hloenv.load_hlo(out / results[name]["module_file"])
        assert results[name]["module_file"] == f"modules/{name}.xla.s0.hlo" and "_module_text" not in results[name]
        assert saved.instruction_count == int(by_module[name]["agent_instructions"])
    assert by_module["gpu_only"]["status"] == "unsupported"
    assert "cuda_threefry2x32" in by_module["gpu_only"]["error"]
    assert by_module["broken.hlo"]["status"] == "parse_error"
    table = json.loads((out / TABLE_JSON).read_text())
    assert [list(r) for r in table["rows"]] == [list(TABLE_COLUMNS)] * 4
    assert [r["module"] for r in table["rows"]] == [r["module"] for r in rows]
    assert table["summary"]["statuses"] == {"ok": 2, "parse_error": 1, "unsupported": 1}
    assert (table["summary"]["exact"], table["summary"]["judged_exact"]) == (2, 2)
    assert "exact (defused) 2 of 2" in second
    assert table["meta"]["agent"] == "xla" and table["meta"]["backend"] == "cpu"
    if importlib.util.find_spec("matplotlib") is None:  # the `plot` extra
        assert "plots skipped" in second
    else:
        for png in ("speedup_per_module.png", "speedup_vs_size.png"):
            data = (out / png).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert "summary: 4 modules: 2 ok, 1 parse_error, 1 unsupported" in second
    assert "beyond the timing's 90% interval" in second
    assert "ETA" in second and "failures 1" in second


def test_resume_does_not_recompute_finished_modules(local_run, bench_setup):
    from hloenv.dataset.runner import run_bench
    out, first, first_lines, second, _ = local_run
    assert len(first_lines) == 1 and "[1/1]" in first.stdout
    assert json.loads(first_lines[0])["module"] == "convnet_forward"
    lines = (out / RESULTS).read_text().splitlines()
    assert lines[0] == first_lines[0]  # kept as written by the first run, not rewritten
    assert [json.loads(line)["module"] for line in lines] == ["convnet_forward", "gpu_only", "scan_rnn"]
    assert "1 already in" in second and "2 to run" in second
    assert "convnet_forward" not in second.split("2 to run", 1)[1].split("summary:")[0]
    ds, root, _ = bench_setup
    log: list[str] = []
    report = run_bench(ds, "xla", out, cache_dir=root / "cache", plots=False, log=log.append)
    assert report.computed == 0 and report.reused == 3 and "0 to run" in log[0]
    assert (out / RESULTS).read_text().splitlines() == lines


def test_a_second_agent_in_the_same_folder_is_compared_with_the_first(local_run, bench_setup, tmp_path):
    from hloenv.dataset.runner import run_bench
    ds, root, _ = bench_setup
    out = tmp_path / "out"
    shutil.copytree(local_run[0], out)  # (the xla rows; other tests read the fixture's folder)
    log: list[str] = []
    report = run_bench(ds, "random", out, cache_dir=root / "cache", plots=False, log=log.append)
    assert report.computed == 3 and out / AGENTS_MD in report.files
    table = _csv(out / AGENTS_CSV)
    assert [r["module"] for r in table] == ["convnet_forward", "gpu_only", "scan_rnn"]  # (broken.hlo has no rows)
    convnet = next(r for r in table if r["module"] == "convnet_forward")
    assert float(convnet["xla"]) > 0 and float(convnet["random"]) > 0
    assert any(line.startswith("agents on the 2 modules all ran soundly") and "random" in line and "xla" in line
               and line.endswith("[backend cpu, seed 0, normal timing]") for line in log), log[-3:]
    assert "backend cpu, seed 0, normal timing" in (out / AGENTS_MD).read_text()
    # another seed has one agent so far: the folder's comparison (of seed 0) goes, as table.csv moves on
    run_bench(ds, "random", out, cache_dir=root / "cache", plots=False, seed=1, limit=1, log=log.append)
    assert not (out / AGENTS_MD).exists() and not (out / AGENTS_CSV).exists()


def test_unknown_agent_is_a_clean_error(bench_setup, tmp_path, capsys):
    from hloenv.cli import main
    ds, _, _ = bench_setup
    assert main(["bench", str(ds), "--agent", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown agent 'nope'" in capsys.readouterr().err
    assert not (tmp_path / RESULTS).exists()


@pytest.mark.parametrize("flags, message", [
    (["--limit", "0"], "limit must be at least 1, not 0"),  # (ran every module)
    (["--workers", "0"], "workers must be at least 1, not 0"),
    (["--timeout", "-1"], "timeout must be more than 0"),
    (["--agent-option", "max_expansions=-5"], "SearchAgent max_expansions must be at least 1, not -5"),
])
def test_bench_settings_it_cannot_use_are_clean_errors_before_any_work(tmp_path, capsys, flags, message):
    from hloenv.cli import main
    agent = "search" if "--agent-option" in flags else "xla"
    assert main(["bench", "default", "--agent", agent, "--out", str(tmp_path / "out"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bench_into_a_file_is_a_clean_error(tmp_path, capsys):
    from hloenv.cli import main
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    for out in (blocked, blocked / "sub"):  # (FileExistsError, NotADirectoryError tracebacks)
        assert main(["bench", "default", "--agent", "original", "--limit", "1", "--out", str(out)]) == 2
        assert f"error: cannot make the output folder {out}" in capsys.readouterr().err


def test_bench_on_ray_without_ray_says_so_before_any_work(tmp_path, capsys):
    if importlib.util.find_spec("ray") is not None:
        pytest.skip("Ray is installed here")
    from hloenv.cli import main
    assert main(["bench", "default", "--agent", "xla", "--ray", "local", "--out", str(tmp_path / "out")]) == 2
    assert "--ray needs Ray: pip install 'hloenv[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # (the folder was made and the modules read first)


def test_a_module_without_decisions_is_an_empty_episode(tmp_path):
    from hloenv.altgraph import parse_hlo
    no_decisions = EnvPipeline("dce", (), "dce").to_dict()  # nothing to decide: one empty step
    job = BenchJob("neg", NEG, parse_hlo(NEG).fingerprint(), "xla", pipeline=no_decisions,
                   cache_dir=str(tmp_path))
    row = run_job(job)
    assert row["status"] == "ok", row
    assert row["steps"] <= 1 and row["agent_instructions"] == 2
    assert row["outputs_equal"] is True and row["speedup"] > 0


BAD_SHAPE = ("HloModule bad_shape\nENTRY e {\n  a = f32[4] parameter(0)\n  b = f32[5] parameter(1)\n"
             "  ROOT n = f32[4] add(a, b)\n}\n")


def test_a_module_that_parses_but_does_not_verify_is_a_verify_error_row_naming_where(tmp_path):
    """(was an xla_error row: "'stablehlo.add' op requires the same shape", naming no line)"""
    job = BenchJob("bad_shape", BAD_SHAPE, "f" * 16, "xla", cache_dir=str(tmp_path))
    row = run_job(job)
    assert row["status"] == "verify_error", row
    assert "line 5, col 1: computation 'e', instruction 'n' (add): operands have different dimensions" in row["error"]


def test_low_noise_reaches_the_timings_and_the_agents_that_measure(tmp_path):
    from hloenv.agents.base import agent_factory
    from hloenv.altgraph import parse_hlo
    from hloenv.dataset.bench import _agent_options
    job = BenchJob("neg", NEG, parse_hlo(NEG).fingerprint(), "search", cache_dir=str(tmp_path), low_noise=True)
    assert _agent_options(agent_factory("search"), job) == {"low_noise": True, "seed": 0}
    assert _agent_options(agent_factory("random"), job) == {"seed": 0}  # (no low_noise option)
    assert _agent_options(agent_factory("original"), job) == {}  # (no options at all)
    quiet = BenchJob("neg", NEG, job.fingerprint, "search", cache_dir=str(tmp_path))
    assert _agent_options(agent_factory("search"), quiet) == {"seed": 0}
    row = run_job(BenchJob("neg", NEG, job.fingerprint, "xla", cache_dir=str(tmp_path), low_noise=True))
    assert row["status"] == "ok" and row["speedup"] > 0, row


def test_agent_options_reach_the_agent(tmp_path, monkeypatch):
    from hloenv.agents.base import AGENTS, agent_factory
    from hloenv.altgraph import parse_hlo
    from hloenv.dataset.bench import _agent_options
    job = BenchJob("neg", NEG, parse_hlo(NEG).fingerprint(), "search", cache_dir=str(tmp_path),
                   low_noise=True, agent_options={"max_expansions": 3, "low_noise": False})
    assert _agent_options(agent_factory("search"), job) == {"max_expansions": 3, "low_noise": False, "seed": 0}
    seen = []

    def spy(seed: int = 0):
        seen.append(seed)
        return AGENTS["original"]()
    monkeypatch.setitem(AGENTS, "spy", spy)
    row = run_job(BenchJob("neg", NEG, job.fingerprint, "spy", cache_dir=str(tmp_path),
                           agent_options={"seed": 7}))
    assert seen == [7] and row["status"] == "ok", row


def test_the_bench_seed_reaches_agents_that_take_one(tmp_path):
    # (`random` drew the same choices for every --seed: only the inputs changed)
    from hloenv.agents.base import agent_factory
    from hloenv.altgraph import parse_hlo
    from hloenv.dataset.bench import _agent_options
    job = BenchJob("neg", NEG, parse_hlo(NEG).fingerprint(), "random", cache_dir=str(tmp_path), seed=3)
    assert _agent_options(agent_factory("random"), job) == {"seed": 3}
    own = BenchJob("neg", NEG, job.fingerprint, "random", cache_dir=str(tmp_path), seed=3, agent_options={"seed": 9})
    assert _agent_options(agent_factory("random"), own) == {"seed": 9}  # (the agent's own option wins)
    from hloenv.agents import get_agent, run_episode
    from hloenv.env import HloEnv
    picks = {run_episode(HloEnv(DATA / "scan_rnn.hlo"), get_agent("random", **_agent_options(
        agent_factory("random"), BenchJob("s", "", "", "random", seed=s))), seed=s).module.fingerprint()
        for s in range(3)}
    assert len(picks) > 1


def test_failed_agent_rows_run_again_and_rerun_redoes_every_row(tmp_path, monkeypatch, capsys):
    import numpy as np

    from hloenv.agents.base import AGENTS
    from hloenv.cli import main
    broken = [True]

    class Flaky:
        def act(self, obs, info):
            if broken[0]:
                raise RuntimeError("agent bug here")
            return np.zeros(info["action_mask"].shape[0], dtype=np.int64)
    monkeypatch.setitem(AGENTS, "flaky", Flaky)
    monkeypatch.setenv("HLOENV_CACHE_DIR", str(tmp_path / "cache"))
    ds, out = tmp_path / "ds", tmp_path / "out"
    ds.mkdir()
    shutil.copy(DATA / "scan_rnn.hlo", ds / "scan_rnn.hlo")
    command = ["bench", str(ds), "--agent", "flaky", "--out", str(out), "--no-plots"]
    assert main(command) == 1  # every row failed: not a success
    captured = capsys.readouterr()
    assert "no module ended with a sound result" in captured.err
    assert "agent bug here" in captured.out  # (the row's error under its progress line, not only in the tables)
    (row,) = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert row["status"] == "agent_error" and "agent bug here" in row["error"]
    assert "in act" in row["traceback"] and "agent bug here" in row["traceback"]
    broken[0] = False  # the author fixes the agent and runs the same command again
    assert main(command) == 0
    assert "0 already in" in capsys.readouterr().out
    assert json.loads((out / RESULTS).read_text().splitlines()[-1])["status"] == "ok"
    assert main(command) == 0 and "1 already in" in capsys.readouterr().out
    assert main([*command, "--rerun"]) == 0 and "0 already in" in capsys.readouterr().out


def test_a_sound_row_says_so_before_the_difference_it_explains(tmp_path, monkeypatch):
    # (a `rounding` row counted as sound, but its error column read only "outputs [0] differ")
    from hloenv.altgraph import parse_hlo
    from hloenv.dataset import bench
    verdicts = iter([(False, "outputs [0] differ"), (False, "outputs [0] differ"), (True, "")])
    monkeypatch.setattr(bench, "_compare", lambda *args: next(verdicts))  # default, env, then f64 equal
    row = run_job(BenchJob("neg", NEG, parse_hlo(NEG).fingerprint(), "xla", cache_dir=str(tmp_path)))
    assert row["status"] == "rounding", row
    # (and which side rounding moved: "outputs differ" read as the agent's fault where XLA's own
    # f32 result was the one far off the f64 one; here, a negate, neither is)
    assert row["error"] == ("sound (equal once both run in f64; in f32, off the f64 result by 0 (agent's module) "
                            "and 0 (the original under XLA's default pipeline), largest difference over largest "
                            "value); under XLA's default pipeline: outputs [0] differ")
    assert row["xla_default_f32_error"] == 0 and row["agent_f32_error"] == 0
    verdicts = iter([(False, "outputs [0] differ"), (False, "outputs [0] differ"), (True, "")])
    half = NEG.replace("f32", "bf16")  # (its note said "in f32" of a bf16 program)
    row = run_job(BenchJob("neg", half, parse_hlo(half).fingerprint(), "xla", cache_dir=str(tmp_path)))
    assert row["status"] == "rounding" and "in bf16, off the f64 result by 0" in row["error"], row


def test_exact_is_judged_for_fusion_decisions_only():
    from hloenv.altgraph import parse_hlo
    from hloenv.dataset.bench import _exact
    from hloenv.passes import get_pass
    module = parse_hlo((DATA / "scan_rnn.hlo").read_text())
    fused = module.clone()
    EnvPipeline().canonicalize_pipeline()(fused)
    get_pass("fusion")(fused)
    job = BenchJob("m", "", "0" * 32, "xla")
    assert _exact(module, fused, job) is True
    other = fused.clone()  # another program: its root is a parameter
    other.entry.root = next(i for i in other.entry.instructions if i.opcode == "parameter")
    assert _exact(module, other, job) is False
    algsimp = BenchJob("m", "", "0" * 32, "xla", pipeline=EnvPipeline(decisions=("algsimp",)).to_dict())
    assert _exact(module, fused, algsimp) is None


def test_job_failures_are_rows(tmp_path):
    row = run_job(BenchJob("bad", "HloModule x\nENTRY e {", "f" * 32, "xla", cache_dir=str(tmp_path)))
    assert row["status"] == "parse_error" and row["error"]
    row = run_job(BenchJob("agent", NEG, "0" * 32, "no-such-agent", cache_dir=str(tmp_path)))
    assert row["status"] == "agent_error" and "no-such-agent" in row["error"]


def test_pipeline_without_unregistered_passes():
    assert drop_passes("call-inliner,(algsimp,cse{x=1},dce)*,fusion", {"cse", "fusion"}) == "call-inliner,(algsimp,dce)*"
    assert drop_passes("(algsimp)*,dce", {"algsimp"}) == "dce"
    reduced, missing = available_pipeline(EnvPipeline("call-inliner,(no-such-pass,dce)*", ("fusion", "not-a-pass"), "dce"))
    assert missing == ["no-such-pass", "not-a-pass"]
    assert reduced.canonicalize == "call-inliner,(dce)*" and "not-a-pass" not in reduced.decisions


@pytest.mark.slow
def test_ray_gives_the_same_table_as_the_local_run(local_run, bench_setup, tmp_path):
    pytest.importorskip("ray")
    from hloenv.dataset.runner import run_bench
    out = local_run[0]
    ds, root, _ = bench_setup
    report = run_bench(ds, "xla", tmp_path / "ray", ray="local", workers=2, cache_dir=root / "cache",
                       plots=False, log=lambda line: None)
    assert report.computed == 3
    assert _csv(tmp_path / "ray" / TABLE_CSV) == _csv(out / TABLE_CSV)


def test_a_rerun_with_other_settings_does_not_reuse_rows(local_run, bench_setup):
    """Another seed draws other inputs: its rows are its own (the re-run reused seed 0's rows
    and wrote seed 0's figures into the tables, saying nothing)."""
    from hloenv.dataset.runner import run_bench
    out, *_ = local_run
    ds, root, _ = bench_setup
    report = run_bench(ds, "xla", out, cache_dir=root / "cache", plots=False, limit=1, seed=5,
                       log=lambda line: None)
    assert report.computed == 1 and report.reused == 0
    meta = json.loads((out / "table.json").read_text())["meta"]
    assert meta["seed"] == 5 and meta["timeout"] == 900.0
    rows = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [(r["module"], r["seed"]) for r in rows][-1] == ("convnet_forward", 5)
    report = run_bench(ds, "xla", out, cache_dir=root / "cache", plots=False, log=lambda line: None)
    assert report.computed == 0 and report.reused == 3  # seed 0's rows are still there


def test_rows_are_keyed_by_their_settings_and_old_rows_count_as_the_defaults():
    from hloenv.dataset.tables import row_key, run_key
    old = {"module": "a", "fingerprint": "f", "agent": "search", "backend": "cpu"}  # (written before)
    assert row_key(old) == run_key("f", "search", "cpu")
    assert row_key({**old, "seed": 1}) != row_key(old)
    assert row_key({**old, "low_noise": True}) != row_key(old)
    assert row_key({**old, "agent_options": {"max_expansions": 8}}) != row_key(old)
    assert row_key({**old, "agent_options": {"b": 1, "a": 2}}) == row_key({**old, "agent_options": {"a": 2, "b": 1}})


def test_results_log_survives_a_line_cut_short(tmp_path):
    from hloenv.dataset.tables import append_result, read_results
    append_result(tmp_path, {"module": "a", "fingerprint": "1", "agent": "x", "backend": "cpu", "status": "ok"})
    with open(tmp_path / RESULTS, "a") as f:
        f.write('{"module": "b", "fingerp')  # killed mid-write
    append_result(tmp_path, {"module": "c", "fingerprint": "3", "agent": "x", "backend": "cpu", "status": "ok"})
    assert sorted(r["module"] for r in read_results(tmp_path).values()) == ["a", "c"]


def test_rows_edited_into_nonsense_are_run_again(tmp_path):
    """A speedup of "fast" ended the bench with "must be real number, not str", -1 with "math
    domain error"; 0 was left out of the summary without a word."""
    from hloenv.dataset.tables import append_result, read_results
    base = {"fingerprint": "f", "agent": "x", "backend": "cpu", "status": "ok"}
    for k, speedup in enumerate(["fast", -1, 0.0, True, float("inf")]):
        append_result(tmp_path, {**base, "module": f"bad{k}", "fingerprint": f"b{k}", "speedup": speedup})
    append_result(tmp_path, {**base, "module": "bad_exact", "fingerprint": "e", "exact": "yes"})
    append_result(tmp_path, {**base, "module": "bad_status", "fingerprint": "s", "status": None})
    append_result(tmp_path, {**base, "module": "good", "speedup": 1.25, "exact": True})
    assert [r["module"] for r in read_results(tmp_path).values()] == ["good"]


def test_bench_on_a_dataset_with_nothing_to_run_says_why(tmp_path):
    from hloenv.dataset import DatasetError
    from hloenv.dataset.runner import run_bench
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("no modules here")
    with pytest.raises(DatasetError, match="empty: no HLO files \\(by ending"):
        run_bench(empty, "random", tmp_path / "out1", plots=False)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.hlo").write_text("HloModule broken\n")
    with pytest.raises(DatasetError, match="none of its 1 HLO files could be read .*a.hlo: parse_error"):
        run_bench(broken, "random", tmp_path / "out2", plots=False)
    proc = subprocess.run([sys.executable, "-m", "hloenv", "bench", str(empty), "--agent", "random",
                           "--no-plots", "--out", str(tmp_path / "out3")], capture_output=True, text=True)
    assert proc.returncode == 2 and "no HLO files" in proc.stderr


def test_a_row_times_the_agent_module_afresh_not_from_the_cache_or_the_agent(tmp_path, monkeypatch):
    """An agent that times candidates (search) fills the evaluation cache with its measurements;
    the row used to read the winner's cached median, its luckiest draw. Now `evaluate` only checks
    that XLA runs the original (no timed runs) and the speedup is one paired measurement."""
    import hloenv.xla
    calls = []
    real = hloenv.xla.evaluate

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(hloenv.xla, "evaluate", spy)
    row = run_job(BenchJob("convnet", (DATA / "convnet_forward.hlo").read_text(), "fp", "xla",
                           cache_dir=str(tmp_path)))
    assert row["status"] == "ok", row
    assert calls and all(c.get("repeats") == 0 for c in calls)
    assert row["timing_pairs"] >= 5 and row["speedup_low"] <= row["speedup_high"]


def test_a_timed_out_row_says_timeout_and_a_resumed_bench_runs_it_again(tmp_path):
    """(it was an agent_xla_error or xla_error row, kept on resume: only --rerun redid it)"""
    from hloenv.dataset.runner import run_bench
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "neg.hlo").write_text(NEG)
    out = tmp_path / "out"
    common = dict(cache_dir=tmp_path / "cache", plots=False, log=lambda line: None)
    first = run_bench(ds, "xla", out, timeout=1e-4, **common)
    (row,) = first.rows
    assert row["status"] == "timeout" and "[timeout]" in row["error"], row
    again = run_bench(ds, "xla", out, **common)  # the same command with room to finish
    assert again.computed == 1 and again.rows[-1]["status"] == "ok"


def test_an_agent_given_as_a_file_path_names_its_module_files_safely(tmp_path):
    # (`--agent sub/agent.py:mine` made a module_file path through a folder that does not exist)
    from hloenv.dataset.bench import MODULE_TEXT
    from hloenv.dataset.runner import save_module
    row = {"module": "dir/m", "agent": "../sub/agent.py:mine", "seed": 0, MODULE_TEXT: "HloModule m\n"}
    save_module(tmp_path, row)
    saved = tmp_path / row["module_file"]
    assert saved.parent == tmp_path / "modules" and saved.read_text() == "HloModule m\n"
    assert row["module_file"] == "modules/dir__m._sub_agent.py_mine.s0.hlo"


def test_an_agent_file_spelled_two_ways_is_one_agent():
    from hloenv.dataset.runner import agent_spec
    assert agent_spec("./agents/../mine.py:a") == agent_spec("mine.py:a") == "mine.py:a"
    assert agent_spec("xla") == "xla" and agent_spec("pkg.mod:name") == "pkg.mod:name"
