from __future__ import annotations

import argparse
import json

from hloenv.xla.cli import EXIT_NOT_EQUAL, EXIT_OK, EXIT_UNSUPPORTED, add_commands

from .conftest import GPU_ONLY, MLP, MLP_WRONG


def _run(argv):
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_eval_json_then_cached(tmp_path, capsys):
    f = tmp_path / "mlp.hlo"
    f.write_text(MLP)
    assert _run(["eval", str(f), "--json", "--repeats", "3"]) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert first["sample_count"] == 3 and first["cached"] is False
    assert _run(["eval", str(f), "--json", "--repeats", "3"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["cached"] is True


def test_compare_exit_codes(tmp_path, capsys):
    a, b = tmp_path / "a.hlo", tmp_path / "b.hlo"
    a.write_text(MLP)
    b.write_text(MLP_WRONG)
    assert _run(["compare", str(a), str(a)]) == EXIT_OK
    assert capsys.readouterr().out.startswith("equal")
    assert _run(["compare", str(a), str(b), "--json"]) == EXIT_NOT_EQUAL
    assert json.loads(capsys.readouterr().out)["equal"] is False


def test_eval_unsupported_and_bad_pass_name(tmp_path, capsys):
    g = tmp_path / "gpu.hlo"
    g.write_text(GPU_ONLY)
    assert _run(["eval", str(g), "--json"]) == EXIT_UNSUPPORTED
    assert json.loads(capsys.readouterr().out)["error"] == "UnsupportedOnBackend"
    f = tmp_path / "mlp.hlo"
    f.write_text(MLP)
    assert _run(["eval", str(f), "--disable-passes", "fusoin"]) != EXIT_OK
    assert "fusion" in capsys.readouterr().err


def test_eval_passes_typed_xla_options(tmp_path, capsys):
    f = tmp_path / "mlp.hlo"
    f.write_text(MLP)
    argv = ["eval", str(f), "--json", "--no-cache", "--repeats", "2",
            "--xla-option", "xla_cpu_enable_fast_math=false", "--pipeline", "env"]
    assert _run(argv) == EXIT_OK
    opts = json.loads(capsys.readouterr().out)["options"]["xla_options"]
    assert opts["xla_cpu_enable_fast_math"] is False
    assert "fusion" in opts["xla_disable_hlo_passes"].split(",")
