"""Harvesting a JAX program through `hloenv harvest` (a subprocess with XLA's dump flags)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

from hloenv.altgraph import load_hlo
from hloenv.dataset import load
from hloenv.dataset.harvest import dump_env, function_name, program_name

SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np

    TABLE = np.arange(3000, dtype=np.float32)

    @jax.jit
    def affine(x, w):
        return jnp.tanh(x @ w) * 2.0 + TABLE[:4]  # (11 instructions: above the default size floor)

    @jax.jit
    def scaled(x):
        return x * 3.0

    x = jnp.ones((2, 4)); w = jnp.ones((4, 4))
    affine(x, w); affine(x + 1, w)          # same shapes: compiled once
    scaled(x)
    print("done")
""")


def _harvest(out, script, *options):
    return subprocess.run([sys.executable, "-m", "hloenv", "harvest", str(out), "--quiet", *options, "--",
                           sys.executable, str(script)], capture_output=True, text=True, timeout=300)


def test_harvest_collects_named_deduplicated_unoptimized_modules(tmp_path):
    script = tmp_path / "tiny_model.py"
    script.write_text(SCRIPT)
    out = tmp_path / "harvested"
    proc = _harvest(out, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in out.glob("*.hlo"))
    # scaled (4 instructions) is below the default size floor, as are JAX's one-op eager modules
    assert "tiny_model__affine.hlo" in names and "tiny_model__scaled.hlo" not in names
    assert re.search(r"[1-9]\d* below the size floor \(under 10 instructions; --min-instructions 1 keeps them\)",
                     proc.stdout), proc.stdout
    affine = load_hlo(out / "tiny_model__affine.hlo")
    ops = affine.opcode_histogram()
    assert ops.get("tanh") == 1 and ops.get("dot") == 1 and "fusion" not in ops  # before optimizations
    assert "{...}" not in (out / "tiny_model__affine.hlo").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tiny_model__affine"]["fingerprint"] == affine.fingerprint()
    assert len({m["fingerprint"] for m in manifest.values()}) == len(manifest) == len(names)
    assert "done" in (out / "harvest.log").read_text()
    assert "new written" in proc.stdout
    ds = load(out)
    assert len(ds) == len(names) and not ds.problems

    again = _harvest(out, script)  # the same program again: nothing new
    assert again.returncode == 0
    assert sorted(p.name for p in out.glob("*.hlo")) == names
    assert "0 new written" in again.stdout and f"{len(names)} duplicates" in again.stdout
    (out / "manifest.json").unlink()  # the files are still there: they are not written again
    third = _harvest(out, script)
    assert sorted(p.name for p in out.glob("*.hlo")) == names and "0 new written" in third.stdout, third.stdout


def test_harvest_keeps_small_modules_when_asked(tmp_path):
    script = tmp_path / "tiny_model.py"
    script.write_text(SCRIPT)
    proc = _harvest(tmp_path / "all", script, "--min-instructions", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "all" / "tiny_model__scaled.hlo").is_file()
    assert " 0 below the size floor" in proc.stdout


def test_harvest_without_a_command_is_an_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hloenv", "harvest", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "after '--'" in proc.stderr


def test_harvest_refuses_what_it_cannot_use_before_running_the_program(tmp_path):
    """Each was found only after the program ran (a damaged manifest: a JSONDecodeError traceback,
    and the dump, all the program compiled, was deleted) or not at all (a negative timeout)."""
    import pytest

    from hloenv.dataset import HarvestError, harvest
    ran = tmp_path / "ran"
    command = [sys.executable, "-c", f"open({str(ran)!r}, 'w')"]
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "manifest.json").write_text("{not json")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "manifest.json").write_text('{"a": {"file": "a.hlo"}}')
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [((damaged, command), {}, "manifest.json cannot be read"),
             ((listed, command), {}, "is not a harvest manifest"),
             ((a_file, command), {}, "cannot make the output folder"),
             ((tmp_path / "o", command), {"timeout": -1}, "timeout must be more than 0"),
             ((tmp_path / "o", command), {"min_instructions": -5}, "min_instructions must be at least 0")]
    for args, kwargs, message in cases:
        with pytest.raises(HarvestError, match=message):
            harvest(*args, **kwargs)
    assert not ran.exists()
    assert (damaged / "manifest.json").read_text() == "{not json"  # (left for the user to fix)
    proc = subprocess.run([sys.executable, "-m", "hloenv", "harvest", str(damaged), "--", *command],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_names_and_flags():
    assert function_name("module_0004.jit_train_step.before_optimizations.txt") == "train_step"
    assert function_name("module_0010.jit__lambda.before_optimizations.txt") == "lambda"
    assert function_name("module_0004.jit_f.cpu_after_optimizations.txt") is None
    assert program_name(["python", "dir/my_script.py", "--x"]) == "my_script"
    assert program_name(["python", "-m", "pkg.train"]) == "train"
    env = dump_env("/tmp/d", {"XLA_FLAGS": "--xla_foo=1"})
    assert env["XLA_FLAGS"].startswith("--xla_foo=1 --xla_dump_to=/tmp/d")
    assert "--xla_dump_large_constants" in env["XLA_FLAGS"] and "--xla_dump_hlo_as_text" in env["XLA_FLAGS"]


SLOW_SCRIPT = textwrap.dedent("""
    import time, jax, jax.numpy as jnp
    jax.jit(lambda x: jnp.tanh(x) * 2.0)(jnp.ones((4,)))
    print("compiled", flush=True)
    time.sleep(120)
""")


def test_a_harvest_that_times_out_or_is_interrupted_keeps_what_was_compiled(tmp_path):
    """(a timeout deleted the dump, every module with it; Ctrl-C too, with a raw traceback)"""
    import signal
    import time

    import pytest

    from hloenv.dataset import HarvestError, harvest
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SCRIPT)
    out = tmp_path / "timed_out"
    with pytest.raises(HarvestError, match="did not finish within 12.0 s; what it compiled until then is kept: "
                                           r"(\d+) modules dumped, \1 new written") as info:
        harvest(out, [sys.executable, str(script)], timeout=12.0, quiet=True, min_instructions=1)
    assert "slow__lambda" in [r["name"] for r in info.value.result.written]
    assert (out / "slow__lambda.hlo").is_file()
    interrupted = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-m", "hloenv", "harvest", str(interrupted), "--quiet",
                             "--min-instructions", "1", "--", sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = interrupted / "harvest.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and "compiled" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err
    assert re.search(r"interrupted: what the program compiled until then is kept: (\d+) modules dumped, \1 new "
                     "written", err), err
    assert (interrupted / "slow__lambda.hlo").is_file()


def test_a_command_string_or_a_program_name_that_is_not_a_file_name_is_refused(tmp_path):
    import pytest

    from hloenv.dataset import HarvestError, harvest
    with pytest.raises(TypeError, match=r"command is a list of arguments, e.g. \['python', 'train.py'\]"):
        harvest(tmp_path / "o", "python train.py")  # (was "cannot run 'p'")
    for bad in ("../escaped", "my prog/x", ".hidden"):  # (files landed outside the folder, or a traceback after the run)
        with pytest.raises(HarvestError, match="begins every file's name"):
            harvest(tmp_path / "o", [sys.executable, "-c", "pass"], program=bad)
    assert not list((tmp_path / "o").glob("*.hlo"))


def test_a_harvest_that_collects_nothing_is_not_a_success(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hloenv", "harvest", str(tmp_path / "o"), "--", sys.executable,
                           "-c", "print('no jax here')"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "0 modules dumped" in proc.stdout  # (was exit 0)
    assert "the program compiled nothing with XLA" in proc.stderr
