"""`hloenv check` and `hloenv demo`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hloenv
from hloenv.altgraph import load_hlo
from hloenv.cli import main
from tests.conftest import DATA


def test_check_reports_each_file_and_fails_on_any_bad_one(tmp_path, capsys):
    bad = tmp_path / "bad.hlo"
    bad.write_text("HloModule m\nENTRY e {\n  ROOT r = f32[4] frobnicate()\n}\n")
    missing = tmp_path / "missing.hlo"
    good = DATA / "scan_rnn.hlo"
    assert main(["check", str(good)]) == 0
    assert main(["check", str(good), str(bad), str(missing)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"ok   {good}")
    assert any(line.startswith(f"FAIL {bad}: line 3, col 19: unknown opcode 'frobnicate'") for line in out)
    assert any(line.startswith(f"FAIL {missing}: FileNotFoundError") for line in out)
    assert out[-1] == "1 ok, 2 failed"


def test_check_reads_a_saved_alternative_graph(tmp_path, capsys):
    # (XLA's parser rejected its text, "Unknown opcode: alternatives": it reads the originals' program)
    from hloenv.passes import get_pass
    graph = load_hlo(DATA / "scan_rnn.hlo")
    get_pass("fusion")(graph, dry=True)
    saved = tmp_path / "graph.hlo"
    saved.write_text(graph.to_text())
    assert main(["check", str(saved)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"ok   {saved}") and "an alternative graph: " in line and "alternatives nodes" in line


def test_check_takes_folders(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.hlo").write_text((DATA / "scan_rnn.hlo").read_text())
    (tmp_path / "b.hlo.txt").write_text("HloModule m\nENTRY e {\n  ROOT r = f32[4] frobnicate()\n}\n")
    (tmp_path / "README.md").write_text("not HLO")
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:-1]] == [f"FAIL {tmp_path / 'b.hlo.txt'}", f"ok   {tmp_path / 'sub' / 'a.hlo'}"]
    assert out[-1] == "1 ok, 1 failed"
    assert main(["check", str(tmp_path / "empty")]) == 1
    assert "a folder with no HLO files in it" in capsys.readouterr().out
    import tarfile
    with tarfile.open(tmp_path / "sub.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "sub", arcname="sub")
    assert main(["check", str(tmp_path / "sub.tar.gz")]) == 1
    assert "an archive; check reads HLO files and folders" in capsys.readouterr().out  # (was "not UTF-8 text")
    # as installed, from elsewhere (only `hloenv.*` is importable there, not the repo's folders)
    proc = subprocess.run([sys.executable, "-m", "hloenv", "check", "sub"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith(f"ok   {Path('sub') / 'a.hlo'}"), proc.stderr


def test_check_as_a_console_command():
    proc = subprocess.run([sys.executable, "-m", "hloenv", "check", str(DATA / "mlp_train_step.hlo")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "162 instructions" in proc.stdout


def test_demo_round_trip_part(capsys):
    assert main(["demo", "--no-optimize"]) == 0
    out = capsys.readouterr().out
    assert "identical outputs" in out and "162 instructions" in out


@pytest.mark.parametrize("flags, message", [
    (["--agent", "nosuch"], "unknown agent 'nosuch'"),
    (["--budget", "-1"], "SearchAgent max_expansions must be at least 1, not -1"),
    (["--agent", "random", "--budget", "3"], "agent 'random' has no option 'budget'"),
    (["--agent", "gnn", "--agent-option", "checkpoint=missing.pt"], "GNN checkpoint missing.pt does not exist"),
])
def test_optimize_and_demo_refuse_a_bad_agent_before_any_work(flags, message, capsys):
    if "gnn" in flags:
        pytest.importorskip("torch_geometric")
    for command in (["optimize"], ["demo"]):
        if command == ["demo"] and "--agent-option" in flags:
            continue  # (demo takes no agent options)
        assert main(command + flags) == 2
        captured = capsys.readouterr()
        assert message in captured.err and captured.out == "", (command, captured)  # (out: no work done)


def test_demo_refuses_an_alternative_graph_without_a_traceback(tmp_path, capsys):
    from hloenv import load_hlo
    from hloenv.passes import get_pass
    graph = load_hlo(DATA / "scan_rnn.hlo")
    get_pass("fusion")(graph, dry=True)
    (tmp_path / "dry.hlo").write_text(graph.to_text())
    assert main(["demo", str(tmp_path / "dry.hlo"), "--no-optimize"]) == 1
    assert "dry.hlo: an alternative graph (" in capsys.readouterr().out


def test_demo_passes_its_budget_to_the_agent_it_runs(capsys):
    assert main(["demo", "--agent", "greedy", "--budget", "2"]) == 0
    out = capsys.readouterr().out
    assert "optimize    agent greedy, budget 2..." in out and "beam search" not in out


def test_optimize_passes_agent_options_and_rejects_unknown_ones(tmp_path, capsys):
    out = tmp_path / "out.hlo"
    assert main(["optimize", "--agent", "random", "--agent-option", "seed=3", "-o", str(out)]) == 0
    assert out.read_text().startswith("HloModule")
    assert "verified" in capsys.readouterr().out
    assert main(["optimize", "--agent", "original", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["low_noise"] is True  # (the default here)
    assert main(["optimize", "--agent", "original", "--json", "--no-low-noise"]) == 0
    assert json.loads(capsys.readouterr().out)["low_noise"] is False
    assert main(["optimize", "--agent", "random", "--budget", "3"]) == 2  # a usage error, not the file's
    captured = capsys.readouterr()
    assert "error: agent 'random' has no option 'budget'; it takes: seed" in captured.err
    assert "FAIL" not in captured.out
    nested = tmp_path / "new" / "folder" / "out.hlo"  # (the result is written, not lost at the end)
    assert main(["optimize", "--agent", "original", "-o", str(nested)]) == 0
    assert nested.read_text().startswith("HloModule")
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    assert main(["optimize", "--agent", "original", "-o", str(blocked / "out.hlo")]) == 1
    assert f"FAIL {blocked / 'out.hlo'}: cannot make its folder" in capsys.readouterr().out


def test_optimize_refuses_a_folder_as_its_output_before_any_work(tmp_path, capsys):
    assert main(["optimize", str(DATA / "mlp_train_step.hlo"), "--agent", "original", "-o", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert f"-o {tmp_path} is a folder" in captured.err and captured.out == ""  # (it did the work, then failed)


def test_optimize_writes_what_xla_compiles_unless_raw(tmp_path, capsys):
    """`-o` wrote hloenv's fusion instructions, which jaxlib's XLA aborts on (`has_layout()`);
    it now writes the lowered form `evaluate` itself hands XLA, and `--raw` the fusions."""
    from hloenv.xla import evaluate
    out, raw = tmp_path / "out.hlo", tmp_path / "raw.hlo"
    assert main(["optimize", "--agent", "xla", "-o", str(out)]) == 0
    assert "opt-barrier regions" in capsys.readouterr().out
    assert main(["optimize", "--agent", "xla", "-o", str(raw), "--raw"]) == 0
    text, raw_text = out.read_text(), raw.read_text()
    assert " fusion(" in raw_text and " fusion(" not in text and "opt-barrier(" in text
    assert hloenv.parse_hlo(text).verify() and evaluate(out, repeats=1, cache=False).median > 0


def test_check_skips_a_folders_readme_and_says_so(tmp_path, capsys):
    """A README.txt beside the modules was checked as HLO and failed (found by a user probe)."""
    (tmp_path / "README.txt").write_text("These modules come from ...\n")
    (tmp_path / "notes.hlo.txt").write_text("not a module\n")  # (named as HLO: checked, and fails)
    shutil.copy(DATA / "mlp_train_step.hlo", tmp_path / "mlp.txt")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "skip " in out and "README.txt: a .txt file that is not HLO text" in out
    assert "ok   " in out and "FAIL " in out and "notes.hlo.txt" in out and "1 ok, 1 failed" in out
    (tmp_path / "notes.hlo.txt").unlink()
    assert main(["check", str(tmp_path)]) == 0
