"""The compiled builds (hloenv/native.py): which modules, the guard against stale builds, and that
compiled and pure-Python runs give the same episodes."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hloenv
from hloenv import native

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = Path(native.__file__).parent / native.MANIFEST


def _built() -> dict[str, str]:
    try:
        return json.loads(MANIFEST.read_text())["modules"]
    except OSError:
        pytest.skip("no compiled build here (a pure-Python install: no C compiler, or HLOENV_NATIVE=0 "
                    "at install time)")


def test_compiled_modules_are_the_graph_modules():
    modules = native.compiled_modules(ROOT)
    assert "hloenv.passes.fusion.greedy" in modules and "hloenv.altgraph.parser" in modules
    assert "hloenv.observation" in modules
    assert not any(name.endswith(("__init__", ".gcpause", ".errors")) for name in modules)
    for name, source in modules.items():
        assert source.is_file()
        assert Path(importlib.import_module(name).__file__).parent.resolve() == source.parent.resolve()


def _fake_package(tmp_path: Path, body: str) -> tuple[str, Path]:
    package = tmp_path / "nativefake"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(body)
    return "nativefake.mod", package


def test_finder_imports_the_source_when_the_build_is_of_another_source(tmp_path):
    name, package = _fake_package(tmp_path, "VALUE = 2\n")
    stale = native._SourceWhenStale({name: native.source_hash(package / "mod.py")[::-1]}, use_builds=True)
    with pytest.warns(UserWarning, match="changed since it was compiled"):
        spec = stale.find_spec(name, [str(package)])
    assert spec is not None and spec.origin == str(package / "mod.py") and stale.stale == [name]


def test_finder_leaves_a_current_build_to_the_regular_finders(tmp_path):
    name, package = _fake_package(tmp_path, "VALUE = 2\n")
    current = native._SourceWhenStale({name: native.source_hash(package / "mod.py")}, use_builds=True)
    assert current.find_spec(name, [str(package)]) is None
    assert current.find_spec("nativefake.other", [str(package)]) is None  # not a compiled module


def test_finder_imports_every_source_when_builds_are_off(tmp_path, recwarn):
    name, package = _fake_package(tmp_path, "VALUE = 2\n")
    off = native._SourceWhenStale({name: native.source_hash(package / "mod.py")}, use_builds=False)
    spec = off.find_spec(name, [str(package)])
    assert spec is not None and spec.origin == str(package / "mod.py") and not recwarn.list


def test_finder_refuses_a_kernel_that_is_stale_or_switched_off(tmp_path):
    # a kernel has no Python source to import instead: its caller runs its Python reference
    package = tmp_path / "nativefake"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kern.pyx").write_text("def f(): return 1\n")
    name, digest = "nativefake.kern", native.source_hash(package / "kern.pyx")
    assert native._SourceWhenStale({name: digest}, use_builds=True).find_spec(name, [str(package)]) is None
    stale = native._SourceWhenStale({name: digest[::-1]}, use_builds=True)
    with pytest.warns(UserWarning, match="changed since it was compiled"), pytest.raises(ImportError):
        stale.find_spec(name, [str(package)])
    assert stale.stale == [name]
    with pytest.raises(ImportError, match="HLOENV_NATIVE=0"):
        native._SourceWhenStale({name: digest}, use_builds=False).find_spec(name, [str(package)])


def test_the_kernels_are_built_with_the_modules():
    built = _built()
    for path, name in native.KERNELS:
        assert (ROOT / path).is_file() and name in built
        assert built[name] == native.source_hash(ROOT / path)  # (else the reference runs, slower)


def _run(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env}, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


_IN_USE = ("import hloenv, hloenv.env, hloenv.passes.fusion.greedy, hloenv.native as n; "
           "print(' '.join(n.in_use()))")


def test_the_build_is_in_use_and_the_switch_turns_it_off():
    built = _built()
    in_use = _run(_IN_USE).split()
    assert "hloenv.passes.fusion.greedy" in in_use and set(in_use) <= set(built)
    assert _run(_IN_USE, HLOENV_NATIVE="0").split() == []


# a seeded random-policy episode over the shipped fixture: its modules' fingerprints, step by step
_EPISODE = """
import hloenv
from tests.conftest import DATA
env = hloenv.HloEnv(DATA / "transformer_block.hlo", reward="cost", max_steps=6)
obs, info = env.reset(seed=0)
env.action_space.seed(0)
out = [env.module.fingerprint()]
while True:
    obs, reward, term, trunc, info = env.step(env.action_space.sample())
    out.append(f"{env.module.fingerprint()} {reward:.6g} {obs['x'].sum():.6g} {obs['edge_index'].shape}")
    if term or trunc:
        break
print("\\n".join(out))
"""


def test_compiled_and_pure_python_episodes_are_the_same():
    _built()
    compiled, pure = _run(_EPISODE), _run(_EPISODE, HLOENV_NATIVE="0")
    assert compiled == pure and len(compiled.splitlines()) > 2


def test_import_hloenv_installs_the_finder_once():
    before = sum(isinstance(f, native._SourceWhenStale) for f in sys.meta_path)
    native.install()
    importlib.reload(hloenv)
    assert sum(isinstance(f, native._SourceWhenStale) for f in sys.meta_path) == before <= 1


def test_every_extension_is_optional_so_a_missing_compiler_means_pure_python(tmp_path):
    pytest.importorskip("Cython", reason="Cython is a build requirement only; not installed here")
    spec = importlib.util.spec_from_file_location("hloenv_setup", ROOT / "setup.py")
    setup_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_py)  # (defines; `setup()` runs only as __main__)
    extensions = setup_py.extensions(["hloenv.altgraph.names", "hloenv.passes.dce"], build_dir=tmp_path,
                                     nthreads=0)  # (two small ones, in this process: no fork beside jax)
    assert sorted(e.name for e in extensions) == ["hloenv.altgraph.names", "hloenv.passes.dce"]
    assert all(e.optional for e in extensions)  # cythonize's copies dropped it once
